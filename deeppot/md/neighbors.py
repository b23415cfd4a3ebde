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

    def restore(self, ref_positions: torch.Tensor, ref_cell: torch.Tensor | None) -> None:
        """Rebuild the list a restart file recorded (from the positions it was built at).

        The list is a deterministic function of those positions, so a resumed run sums forces
        over the very same pairs in the same order as the run that wrote the restart.
        """
        self.edges = build_edges(ref_positions, ref_cell, self.rcut + self.skin)
        self.ref_positions = ref_positions.clone()
        self.ref_cell = None if ref_cell is None else ref_cell.clone()
        self.builds += 1

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
