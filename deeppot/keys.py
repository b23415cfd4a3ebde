"""Names of computed quantities, one vocabulary for models, potentials, engines and data.

DeePMD-kit's names (its model outputs and its data files ``force.npy``, ``virial.npy``):
every dict a model or a potential returns uses these keys, so code that reads forces never
has to know which kind of object produced them.
"""

ENERGY = "energy"            # eV (0-d per configuration, or (nframes,))
FORCE = "force"              # eV/Å, (natoms, 3)
VIRIAL = "virial"            # eV, (3, 3): W = -Σ_ij (∂E/∂r_ij) ⊗ r_ij; stress = -W / V
ATOM_ENERGY = "atom_energy"  # eV, (natoms,)
ATOM_VIRIAL = "atom_virial"  # eV, (natoms, 3, 3)
