"""Lennard-Jones, cut and shifted, with optional per-species-pair parameters.

.. math:: V(r) = 4\\varepsilon[(\\sigma/r)^{12} - (\\sigma/r)^6] - V(r_c) \\quad (r < r_c)

Evaluated on the same edges as the deep models, with forces and virial from
:mod:`deeppot.core.grad`; the seed paper's empirical baseline and the reference potential
of the MD tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import torch
from pydantic import Field, field_validator, model_validator

from deeppot.core.neighbor import Edges
from deeppot.errors import ConfigError
from deeppot.potentials.base import Potential, pair_sum
from deeppot.potentials.registry import register_potential
from deeppot.schema.base import Section, fail, show

Positive = Annotated[float, Field(gt=0)]


class PairLJ(Section):
    epsilon_eV: Positive = Field(description="well depth of this pair, eV")
    sigma_A: Positive = Field(description="zero-crossing distance of this pair, Å")


class LJConfig(Section):
    type: Literal["lj"] = Field(description="Lennard-Jones")
    epsilon_eV: Positive = Field(0.0104, description="well depth, eV")
    sigma_A: Positive = Field(3.4, description="zero-crossing distance, Å")
    rcut_A: Positive = Field(8.5, description="cutoff, Å")
    pairs: dict[str, PairLJ] | None = Field(None, description="per pair \"A-B\": {epsilon_eV, sigma_A}")
    shift: bool = Field(True, description="shift the energy to zero at rcut_A")
    type_map: Annotated[list[str], Field(min_length=1)] | None = Field(None, description="element of each type "
                                                                           "(default: the structure's elements)")

    @field_validator("pairs")
    @classmethod
    def _pair_names(cls, value):
        for name in value or {}:
            parts = name.split("-")
            if len(parts) != 2 or not all(parts):
                raise ValueError(f"pair {name!r}: write two element names joined by '-', e.g. \"O-H\"")
        return value

    @model_validator(mode="after")
    def _pairs_in_type_map(self):
        for name in self.pairs or {}:
            if self.type_map and not set(name.split("-")) <= set(self.type_map):
                raise fail("pairs", f"pair {name!r}: both elements must be in type_map {show(self.type_map)}")
        return self


@register_potential
class LennardJones(Potential):
    type_name = "lj"
    Config = LJConfig
    takes_edges = True

    @classmethod
    def from_config(cls, spec: dict, base: Path, type_map_hint=None) -> LennardJones:
        args = {k: spec[k] for k in ("epsilon_eV", "sigma_A", "rcut_A", "pairs", "shift") if k in spec}
        try:
            return cls(type_map=spec.get("type_map") or type_map_hint, **args)
        except ValueError as err:  # a pair of elements the structure does not have
            raise ConfigError(f"potential/pairs: {err}") from None

    def __init__(self, epsilon_eV: float = 0.0104, sigma_A: float = 3.4, rcut_A: float = 8.5,
                 pairs: dict | None = None, type_map: list[str] | None = None, shift: bool = True):
        """``pairs`` maps "A-B" (element names of ``type_map``) to {epsilon_eV, sigma_A}."""
        self.rcut = float(rcut_A)
        self.type_map = list(type_map) if type_map else None
        self.shift = shift
        ntypes = len(self.type_map) if self.type_map else 1
        self.eps = torch.full((ntypes, ntypes), float(epsilon_eV), dtype=torch.float64)
        self.sig = torch.full((ntypes, ntypes), float(sigma_A), dtype=torch.float64)
        for key, params in (pairs or {}).items():
            a, b = key.split("-")
            if not self.type_map or a not in self.type_map or b not in self.type_map:
                raise ValueError(f"LJ pair {key!r}: both elements must be in type_map {self.type_map}")
            i, j = self.type_map.index(a), self.type_map.index(b)
            for table, name in ((self.eps, "epsilon_eV"), (self.sig, "sigma_A")):
                if name in params:
                    table[i, j] = table[j, i] = float(params[name])

    def identity(self) -> dict:
        return {"class": "LennardJones", "epsilon_eV": self.eps.tolist(), "sigma_A": self.sig.tolist(),
                "rcut_A": self.rcut, "shift": self.shift, "type_map": self.type_map}

    def pair_energy(self, r: torch.Tensor, eps: torch.Tensor, sig: torch.Tensor) -> torch.Tensor:
        def v(x):
            s6 = (sig / x) ** 6
            return 4 * eps * (s6 * s6 - s6)

        e = v(r)
        if self.shift:
            e = e - v(torch.full_like(r, self.rcut))
        return torch.where(r < self.rcut, e, torch.zeros_like(e))

    def compute(self, positions, cell, atype, edges: Edges | None = None):
        n = positions.shape[0]
        atype = (atype.to(torch.long) if self.type_map
                 else torch.zeros(n, dtype=torch.long, device=positions.device))

        def edge_energy(r, i, j):
            ti, tj = atype[i], atype[j]
            return self.pair_energy(r, self.eps[ti, tj], self.sig[ti, tj])

        return pair_sum(positions, cell, self.rcut, edge_energy, edges)
