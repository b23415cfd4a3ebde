"""Any ASE calculator as a :class:`~deeppot.potentials.base.Potential` (e.g. EMT, or a DFT code)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field

from deeppot.errors import ConfigError
from deeppot.potentials.base import Potential
from deeppot.potentials.registry import register_potential
from deeppot.schema.base import Section


def make_calculator(spec: str, kwargs: dict | None = None):
    """An ASE calculator from ``"emt"``, ``"lj"``, ``"morse"`` or ``"package.module:Class"``.

    An md input must not be able to run arbitrary code: the named object is imported and then
    checked to be a class derived from ``ase.calculators.calculator.BaseCalculator`` *before*
    it is called, so ``"os:system"`` or ``"builtins:eval"`` are refused. Importing the module
    itself cannot be avoided (that is how the class is found), so name only modules you trust;
    any module-level code in them runs, as with every Python import.
    """
    from ase.calculators.calculator import BaseCalculator

    kwargs = kwargs or {}
    if not isinstance(spec, str) or not isinstance(kwargs, dict):
        raise ConfigError("potential.calculator must be a string and potential.kwargs a mapping")
    named = {"emt": "ase.calculators.emt:EMT", "lj": "ase.calculators.lj:LennardJones",
             "morse": "ase.calculators.morse:MorsePotential"}
    target = named.get(spec.lower(), spec)
    module, _, name = target.partition(":")
    if not module or not name or ":" in name:
        raise ConfigError(f"ASE calculator {spec!r}: use emt, lj, morse or 'module:Class'")
    try:
        obj = importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"ASE calculator {spec!r}: {err}") from None
    if not (isinstance(obj, type) and issubclass(obj, BaseCalculator)):
        raise ConfigError(f"ASE calculator {spec!r} is not an ASE calculator class (a subclass of "
                          "ase.calculators.calculator.BaseCalculator); refusing to call it")
    try:
        return obj(**kwargs)
    except TypeError as err:
        raise ConfigError(f"ASE calculator {spec!r}: {err}") from None


class AseConfig(Section):
    type: Literal["ase"] = Field(description="an ASE calculator")
    calculator: str = Field(min_length=1, description="emt | lj | morse | \"package.module:Class\"")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="keyword arguments of the calculator")


@register_potential
class AseCalculatorPotential(Potential):
    type_name = "ase"
    Config = AseConfig

    @classmethod
    def from_config(cls, spec: dict, base: Path, type_map_hint=None) -> AseCalculatorPotential:
        return cls(make_calculator(spec["calculator"], spec.get("kwargs")), type_map_hint)

    def __init__(self, calc, type_map: list[str], rcut: float = 0.0):
        self.calc = calc
        self.type_map = list(type_map)
        self.rcut = rcut

    def identity(self) -> dict:
        calc = type(self.calc)
        return {"calculator": f"{calc.__module__}.{calc.__qualname__}",
                "parameters": dict(getattr(self.calc, "parameters", {}) or {}), "type_map": self.type_map}

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
        return {"energy": torch.tensor(energy, dtype=torch.float64), "force": torch.as_tensor(forces),
                "virial": torch.as_tensor(virial)}
