"""Neighbour statistics of data (DeePMD-kit's ``dp neighbor-stat``): used to choose ``sel``."""

from __future__ import annotations

import math

import numpy as np
import torch

from deeppot.core.neighbor import build_edges, neighbor_counts
from deeppot.data.system import System


def neighbor_stat(systems: list[System], rcut: float, type_map: list[str], progress: bool = False
                  ) -> tuple[float, list[int]]:
    """Minimum pair distance (Å) and, per type, the maximum neighbour count within ``rcut``."""
    from deeppot.progress import Progress

    ntypes = len(type_map)
    min_dist = math.inf
    max_count = np.zeros(ntypes, dtype=np.int64)
    total = sum(s.nframes for s in systems)
    with Progress(total, "neighbor-stat", unit="frame", enabled=progress) as bar:
        for system in systems:
            system = system.remap(type_map)
            atype = torch.as_tensor(system.atype)
            for f in range(system.nframes):
                cell = None if system.box is None else system.box[f]
                pos = torch.as_tensor(system.coord[f])
                edges = build_edges(pos, cell, rcut)
                if len(edges):
                    dist = torch.linalg.norm(edges.vectors(pos), dim=1)
                    min_dist = min(min_dist, float(dist.min()))
                    counts = neighbor_counts(edges.center, atype[edges.neighbor], system.natoms, ntypes)
                    max_count = np.maximum(max_count, counts.max(dim=0).values.numpy())
                bar.update(1)
    return min_dist, max_count.tolist()


def auto_sel(max_count: list[int], factor: float = 1.1) -> list[int]:
    """DeePMD-kit's sel="auto": observed maximum x factor, rounded up to a multiple of 4."""
    return [int(math.ceil(c * factor / 4.0) * 4) for c in max_count]
