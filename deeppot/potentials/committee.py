"""A committee of models: MD follows the first; the force deviation is measured every step.

As in DP-GEN exploration (SCIENCE.md §4): ε_F,max = max_i ‖std_k F_i^(k)‖ (population std).
"""

from __future__ import annotations

import torch

from deeppot.potentials.base import Potential


class CommitteePotential(Potential):
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
        forces = torch.stack([r["forces"] for r in results])
        devi = torch.linalg.norm(forces.std(dim=0, unbiased=False), dim=1)
        energies = torch.stack([r["energy"] for r in results])
        out = dict(results[0])
        out["max_devi_f"] = devi.max()
        out["devi_e"] = energies.std(unbiased=False) / positions.shape[0]
        return out
