"""Tetrahedral order parameter (Errington & Debenedetti, Nature 409, 318 (2001)).

.. math:: q_i = 1 - \\frac{3}{8}\\sum_{j=1}^{3}\\sum_{k=j+1}^{4}\\Big(\\cos\\psi_{jik} + \\frac13\\Big)^2

over the four nearest neighbours (of the chosen species) of each atom: 1 for a perfect
tetrahedron, 0 on average for an ideal gas.
"""

from __future__ import annotations

import numpy as np

from deeppot.analysis.frames import species_indices
from deeppot.analysis.steinhardt import _neighbours


def tetrahedral_order(frames: list, species: str | None = "O") -> np.ndarray:
    """Per-atom q for every frame: (n_frames, n_selected)."""
    out = []
    for atoms in frames:
        sel = species_indices(atoms, species)
        c, _, vec, n = _neighbours(atoms, sel, None, 4)
        unit = (vec / np.linalg.norm(vec, axis=1, keepdims=True)).reshape(n, 4, 3)
        cos = np.einsum("nja,nka->njk", unit, unit)
        jj, kk = np.triu_indices(4, k=1)
        out.append(1.0 - 3.0 / 8.0 * ((cos[:, jj, kk] + 1.0 / 3.0) ** 2).sum(axis=1))
    return np.array(out)
