"""Bond-angle distribution P(θ) of triplets j–i–k (SCIENCE.md §5.3).

For each centre i of species ``triplet[1]``, every unordered pair (j, k) of neighbours of
species ``triplet[0]`` and ``triplet[2]`` within ``rcut`` contributes θ_jik =
arccos(r̂_ij · r̂_ik). P is normalised so that ∫₀^180 P(θ) dθ = 1 (θ in degrees).
"""

from __future__ import annotations

import numpy as np
import torch

from deeppot.analysis.frames import species_indices
from deeppot.core.neighbor import build_edges


def adf(frames: list, triplet: tuple[str | None, str | None, str | None] = ("O", "O", "O"), rcut: float = 3.5,
        nbins: int = 180) -> tuple[np.ndarray, np.ndarray]:
    bins = np.linspace(0.0, 180.0, nbins + 1)
    hist = np.zeros(nbins)
    for atoms in frames:
        n = len(atoms)
        centre = np.zeros(n, bool)
        centre[species_indices(atoms, triplet[1])] = True
        is_j = np.zeros(n, bool)
        is_j[species_indices(atoms, triplet[0])] = True
        is_k = np.zeros(n, bool)
        is_k[species_indices(atoms, triplet[2])] = True
        pos = torch.as_tensor(atoms.positions)
        e = build_edges(pos, np.asarray(atoms.cell) if atoms.pbc.all() else None, rcut)
        c = e.center.numpy()
        nb = e.neighbor.numpy()
        vec = e.vectors(pos).numpy()
        keep = centre[c]
        c, nb, vec = c[keep], nb[keep], vec[keep]
        unit = vec / np.linalg.norm(vec, axis=1, keepdims=True)
        order = np.argsort(c, kind="stable")
        c, nb, unit = c[order], nb[order], unit[order]
        starts = np.searchsorted(c, np.unique(c))
        stops = np.append(starts[1:], len(c))
        for s, t in zip(starts, stops):
            if t - s < 2:
                continue
            u = unit[s:t]
            jj, kk = np.triu_indices(t - s, k=1)
            ok = (is_j[nb[s:t]][jj] & is_k[nb[s:t]][kk]) | (is_k[nb[s:t]][jj] & is_j[nb[s:t]][kk])
            cos = np.clip(np.einsum("ij,ij->i", u[jj[ok]], u[kk[ok]]), -1.0, 1.0)
            hist += np.histogram(np.degrees(np.arccos(cos)), bins=bins)[0]
    width = bins[1] - bins[0]
    total = hist.sum()
    return 0.5 * (bins[1:] + bins[:-1]), hist / (total * width) if total else hist
