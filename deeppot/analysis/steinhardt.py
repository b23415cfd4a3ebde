"""Steinhardt bond-orientational order q_l and the Lechner–Dellago average q̄_l.

.. math:: q_{lm}(i) = \\frac{1}{N_b(i)}\\sum_{j\\in N_b(i)} Y_{lm}(\\hat r_{ij}),\\qquad
          q_l(i) = \\sqrt{\\frac{4\\pi}{2l+1}\\sum_m |q_{lm}(i)|^2}

.. math:: \\bar q_{lm}(i) = \\frac{1}{N_b(i)+1}\\sum_{k\\in\\{i\\}\\cup N_b(i)} q_{lm}(k)

(Lechner & Dellago, J. Chem. Phys. 129, 114707 (2008)); neighbours are atoms of the chosen
species within ``rcut``, or the ``num_neighbors`` nearest. Complex Y_lm (scipy), so |q_lm|²
is rotation invariant.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import sph_harm_y

from deeppot.analysis.frames import species_indices
from deeppot.core.neighbor import build_edges


def _neighbours(atoms, sel: np.ndarray, rcut: float | None, num_neighbors: int | None):
    """Pairs (centre, neighbour) among ``sel`` atoms and the unit vectors between them."""
    sub = atoms[sel]
    pos = torch.as_tensor(sub.positions)
    cell = np.asarray(sub.cell) if sub.pbc.all() else None
    radius = rcut if rcut else 3.0
    while True:
        e = build_edges(pos, cell, radius)
        c, nb = e.center.numpy(), e.neighbor.numpy()
        vec = e.vectors(pos).numpy()
        if not num_neighbors:
            break
        counts = np.bincount(c, minlength=len(sub))
        if counts.min() >= num_neighbors:
            d = np.linalg.norm(vec, axis=1)
            order = np.lexsort((d, c))
            c, nb, vec = c[order], nb[order], vec[order]
            rank = np.arange(len(c)) - np.searchsorted(c, c)
            keep = rank < num_neighbors
            c, nb, vec = c[keep], nb[keep], vec[keep]
            break
        radius *= 1.3
    return c, nb, vec, len(sub)


def qlm(atoms, l: int, sel: np.ndarray, rcut: float | None, num_neighbors: int | None) -> tuple[np.ndarray, np.ndarray]:
    c, nb, vec, n = _neighbours(atoms, sel, rcut, num_neighbors)
    r = np.linalg.norm(vec, axis=1)
    theta = np.arccos(np.clip(vec[:, 2] / r, -1, 1))
    phi = np.arctan2(vec[:, 1], vec[:, 0])
    m = np.arange(-l, l + 1)
    y = sph_harm_y(l, m[None, :], theta[:, None], phi[:, None])  # (E, 2l+1)
    q = np.zeros((n, 2 * l + 1), dtype=complex)
    np.add.at(q, c, y)
    count = np.bincount(c, minlength=n)
    q /= np.maximum(count, 1)[:, None]
    return q, (c, nb, count)


def steinhardt(frames: list, l: int = 6, rcut: float | None = 3.5, species: str | None = None,
               average: bool = False, num_neighbors: int | None = None) -> np.ndarray:
    """Per-atom q_l (or q̄_l with ``average``) for every frame: array (n_frames, n_selected)."""
    out = []
    for atoms in frames:
        sel = species_indices(atoms, species)
        q, (c, nb, count) = qlm(atoms, l, sel, rcut, num_neighbors)
        if average:
            summed = q.copy()
            np.add.at(summed, c, q[nb])
            q = summed / (count + 1)[:, None]
        out.append(np.sqrt(4 * np.pi / (2 * l + 1) * (np.abs(q) ** 2).sum(axis=1)))
    return np.array(out)
