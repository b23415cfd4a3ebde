"""Neighbour lists reused across steps with a skin (Verlet lists).

The list holds pairs within ``rcut + skin``; it is rebuilt when any atom has moved more than
half the skin since the last build (no pair can then have entered rcut unseen), or when the
cell changed. Deep Potential models give identical results with such a list, since a pair
beyond rcut contributes exactly as an empty slot.
"""

from __future__ import annotations

import torch

from deeppot.core.neighbor import Edges, build_edges


class VerletList:
    def __init__(self, rcut: float, skin: float = 1.0):
        self.rcut = rcut
        self.skin = skin
        self.edges: Edges | None = None
        self.ref_positions: torch.Tensor | None = None
        self.ref_cell: torch.Tensor | None = None
        self.builds = 0

    def invalidate(self) -> None:
        self.edges = None

    def get(self, positions: torch.Tensor, cell: torch.Tensor | None) -> Edges:
        stale = self.edges is None
        if not stale:
            moved = torch.linalg.norm(positions - self.ref_positions, dim=1).max()
            stale = bool(moved > 0.5 * self.skin)
            if cell is not None and not torch.equal(cell, self.ref_cell):
                stale = True
        if stale:
            self.edges = build_edges(positions, cell, self.rcut + self.skin)
            self.ref_positions = positions.clone()
            self.ref_cell = None if cell is None else cell.clone()
            self.builds += 1
        return self.edges
