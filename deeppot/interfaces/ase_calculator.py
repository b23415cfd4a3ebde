"""ASE calculator for deeppot models: ``atoms.calc = DP(model="model.dp")``.

Provides ``energy``, ``free_energy``, ``forces``, ``stress`` (ASE's sign and Voigt order
xx yy zz yz xz xy: σ = −W/V with W DeePMD-kit's virial) and per-atom ``energies``, so ASE's
MD integrators and optimisers (including cell filters) work unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
from ase.calculators.calculator import Calculator, all_changes

from deeppot.data.type_map import types_of
from deeppot.errors import DataError


class DP(Calculator):
    implemented_properties = ["energy", "free_energy", "forces", "stress", "energies"]

    def __init__(self, model, type_map: dict[str, int] | list[str] | None = None, **kwargs):
        super().__init__(**kwargs)
        from deeppot.model.potential import ModelPotential

        self.potential = model if isinstance(model, ModelPotential) else ModelPotential(model)
        names = self.potential.type_map if type_map is None else type_map
        self.type_dict = dict(names) if isinstance(names, dict) else {s: i for i, s in enumerate(names)}

    def _atype(self, atoms) -> torch.Tensor:
        return torch.as_tensor(types_of(atoms.get_chemical_symbols(), self.type_dict, whose="the model's"))

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        atoms = self.atoms
        pbc = atoms.get_pbc()
        if pbc.any() and not pbc.all():
            raise DataError("mixed periodicity (pbc partly True) is not supported; use all True or all False")
        cell = torch.as_tensor(np.asarray(atoms.cell), dtype=torch.float64) if pbc.all() else None
        out = self.potential.compute(torch.as_tensor(atoms.get_positions(), dtype=torch.float64), cell,
                                     self._atype(atoms))
        energy = float(out["energy"])
        self.results["energy"] = energy
        self.results["free_energy"] = energy
        self.results["forces"] = out["force"].numpy().copy()
        self.results["energies"] = out["atom_energy"].numpy().copy()
        if pbc.all():
            stress = -out["virial"].numpy() / atoms.get_volume()
            self.results["stress"] = stress.flat[[0, 4, 8, 5, 2, 1]].copy()
        elif "stress" in properties:
            from ase.calculators.calculator import PropertyNotImplementedError

            raise PropertyNotImplementedError("stress needs a periodic cell")
