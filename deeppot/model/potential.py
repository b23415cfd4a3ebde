"""A deeppot model as a :class:`~deeppot.potentials.base.Potential` for MD engines and interfaces.

``compute`` optionally takes precomputed :class:`~deeppot.core.neighbor.Edges` (e.g. a list
built at ``rcut + skin`` and reused across MD steps). Pairs beyond ``rcut`` in such a list are
dropped before evaluation (they would contribute exactly what an empty slot does), so results
equal those of a fresh list; only neighbours *within* rcut are checked against ``sel``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import torch
from pydantic import Field

from deeppot.core.descriptor import EdgeBatch
from deeppot.core.neighbor import Edges, build_edges, check_sel, neighbor_counts
from deeppot.fileio import file_sha256
from deeppot.model.energy_model import EnergyModel
from deeppot.potentials.base import Potential
from deeppot.potentials.registry import register_potential
from deeppot.schema.base import Section


class ModelPotentialConfig(Section):
    type: Literal["deeppot"] = Field(description="a deeppot / DeePMD-kit model file")
    model: str = Field(min_length=1, description="model file (.dp), relative to the md input")


@register_potential
class ModelPotential(Potential):
    type_name = "deeppot"
    Config = ModelPotentialConfig
    takes_edges = True

    @classmethod
    def from_config(cls, spec: dict, base: Path, type_map_hint=None) -> ModelPotential:
        return cls(base / spec["model"])

    @classmethod
    def input_identity(cls, spec: dict, base: Path, potential) -> tuple[dict, str]:
        digest = file_sha256(base / spec["model"])  # a renamed or moved copy is the same model
        return {"type": "deeppot", "model": digest}, f"deeppot model {spec['model']} (sha256 {digest[:12]})"

    def __init__(self, model: str | Path | EnergyModel):
        if not isinstance(model, EnergyModel):
            from deeppot.model.dp_format import load_model

            model = load_model(model)
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.rcut = model.rcut
        self.type_map = list(model.type_map)

    def compute(self, positions: torch.Tensor, cell: torch.Tensor | None, atype: torch.Tensor,
                edges: Edges | None = None, atomic: bool = False) -> dict[str, torch.Tensor]:
        model = self.model
        pos = positions.to(model.dtype)
        n = pos.shape[0]
        atype = atype.to(torch.long)
        if edges is None:
            edges = build_edges(pos.detach(), cell, model.rcut, dtype=model.dtype, device=pos.device)
        # a list built elsewhere (the MD skin list) may hold float64 shifts: cast to the model's precision
        rij = edges.vectors(pos.detach()).to(model.dtype)
        # a skin list holds pairs beyond rcut; they would contribute exactly an empty slot, so
        # drop them before the embedding net rather than pay for them
        inside = torch.linalg.norm(rij, dim=1) < model.rcut
        if not bool(inside.all()):
            keep = inside.nonzero().squeeze(1)
            rij, center, neighbor = rij[keep], edges.center[keep], edges.neighbor[keep]
        else:
            center, neighbor = edges.center, edges.neighbor
        counts = neighbor_counts(center, atype[neighbor], n, model.ntypes)
        check_sel(counts, model.sel, model.type_map)
        batch = EdgeBatch(rij, center, neighbor, atype)
        out = model.evaluate(batch, torch.zeros(n, dtype=torch.long, device=pos.device), 1, atomic=atomic)
        result = {"energy": out["energy"][0].detach(), "force": out["force"].detach(),
                  "virial": out["virial"][0].detach(), "atom_energy": out["atom_energy"].detach()}
        if atomic:
            result["virials"] = out["atom_virial"].detach()
        return result
