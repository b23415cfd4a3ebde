"""Any ASE calculator as a :class:`~deeppot.potentials.base.Potential` (e.g. EMT, or a DFT code)."""

from __future__ import annotations

import importlib

import numpy as np
import torch

from deeppot.errors import ConfigError
from deeppot.potentials.base import Potential


def make_calculator(spec: str, kwargs: dict | None = None):
    """``"emt"``, ``"lj"`` or ``"package.module:Class"``."""
    kwargs = kwargs or {}
    named = {"emt": "ase.calculators.emt:EMT", "lj": "ase.calculators.lj:LennardJones",
             "morse": "ase.calculators.morse:MorsePotential"}
    target = named.get(spec.lower(), spec)
    if ":" not in target:
        raise ConfigError(f"ASE calculator {spec!r}: use emt, lj, morse or 'module:Class'")
    module, name = target.split(":")
    try:
        return getattr(importlib.import_module(module), name)(**kwargs)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"ASE calculator {spec!r}: {err}") from None


class AseCalculatorPotential(Potential):
    def __init__(self, calc, type_map: list[str], rcut: float = 0.0):
        self.calc = calc
        self.type_map = list(type_map)
        self.rcut = rcut

    def compute(self, positions, cell, atype):
        from ase import Atoms

        atoms = Atoms(symbols=[self.type_map[t] for t in atype.tolist()], positions=positions.detach().numpy(),
                      cell=None if cell is None else cell.detach().numpy(), pbc=cell is not None)
        atoms.calc = self.calc
        energy = atoms.get_potential_energy()
        forces = atoms.get_forces()
        virial = np.zeros((3, 3))
        if cell is not None:
            stress = atoms.get_stress(voigt=False)
            virial = -stress * atoms.get_volume()
        return {"energy": torch.tensor(energy, dtype=torch.float64), "forces": torch.as_tensor(forces),
                "virial": torch.as_tensor(virial)}
