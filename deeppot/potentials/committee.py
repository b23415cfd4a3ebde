"""A committee of models: MD follows the first; the force deviation is measured every step.

As in DP-GEN exploration (SCIENCE.md §4): ε_F,max = max_i ‖std_k F_i^(k)‖ (population std).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import torch
from pydantic import Field, model_validator

from deeppot.potentials.base import Potential
from deeppot.potentials.registry import register_potential
from deeppot.schema.base import Section, fail


class CommitteeConfig(Section):
    type: Literal["committee"] = Field(description="several models: mean forces, deviation logged")
    models: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=2)] = Field(
        description="model files (.dp), at least two")
    max_devi_f_stop: Annotated[float, Field(gt=0)] | None = Field(
        None, description="stop when the force deviation exceeds this, eV/Å")
    trust_lo: Annotated[float, Field(ge=0)] | None = Field(
        None, description="frames with force deviation ≥ this are appended to candidates_file as they happen, eV/Å")
    candidates_file: str = Field("candidates.extxyz", min_length=1, description="candidate frames, in output_dir")
    stop_above_hi: bool = Field(True, description="false: frames above max_devi_f_stop go to candidates_file "
                                "(category=failed) and the run continues")

    @model_validator(mode="after")
    def _trust_levels(self):
        if self.trust_lo is not None and self.max_devi_f_stop is not None and self.trust_lo >= self.max_devi_f_stop:
            raise fail("trust_lo", f"{self.trust_lo:g} must be < max_devi_f_stop {self.max_devi_f_stop:g}")
        return self


@register_potential
class CommitteePotential(Potential):
    type_name = "committee"
    Config = CommitteeConfig

    @classmethod
    def from_config(cls, spec: dict, base: Path, type_map_hint=None) -> CommitteePotential:
        from deeppot.model.potential import ModelPotential

        return cls([ModelPotential(base / m) for m in spec["models"]])

    @classmethod
    def input_identity(cls, spec: dict, base: Path, potential) -> tuple[dict, str]:
        from deeppot.fileio import file_sha256

        digests = [file_sha256(base / m) for m in spec["models"]]
        describe = "committee of " + ", ".join(f"{m} (sha256 {d[:12]})" for m, d in zip(spec["models"], digests))
        return {"type": "committee", "models": digests}, describe

    def __init__(self, members: list[Potential]):
        if len(members) < 2:
            raise ValueError("a committee needs at least two models")
        self.members = members
        self.rcut = max(m.rcut for m in members)
        self.takes_edges = all(m.takes_edges for m in members)  # engine pairs go to every member
        self.type_map = members[0].type_map

    def identity(self) -> dict:
        return {"committee": [m.identity() for m in self.members]}

    def compute(self, positions, cell, atype, edges=None):
        results = [m.compute(positions, cell, atype, edges=edges) if edges is not None and m.takes_edges else
                   m.compute(positions, cell, atype) for m in self.members]
        forces = torch.stack([r["force"] for r in results])
        devi = torch.linalg.norm(forces.std(dim=0, unbiased=False), dim=1)
        energies = torch.stack([r["energy"] for r in results])
        out = dict(results[0])
        out["max_devi_f"] = devi.max()
        out["devi_e"] = energies.std(unbiased=False) / positions.shape[0]
        return out
