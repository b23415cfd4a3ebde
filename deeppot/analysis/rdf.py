"""Radial distribution function g_ab(r), periodic triclinic cells.

.. math:: g_{ab}(r) = \\frac{V}{N_a N_b'}\\, \\frac{\\langle n_{ab}(r, r+\\Delta r)\\rangle}{4\\pi r^2 \\Delta r}

with n_ab the number of (a, b) pairs (a ≠ b) per bin and N_b' = N_b − 1 when a and b are the
same species (freud's ``finite_size`` normalisation, MDAnalysis with ``exclusion_block``), so
that an ideal gas gives exactly g = 1. Shells use the exact volume 4π/3 (r₂³ − r₁³).
"""

from __future__ import annotations

import numpy as np
import torch

from deeppot.analysis.frames import max_rmax, species_indices
from deeppot.core.neighbor import build_edges
from deeppot.errors import DataError


def rdf(frames: list, pair: tuple[str | None, str | None] = (None, None), rmax: float = 6.0, nbins: int = 300
        ) -> tuple[np.ndarray, np.ndarray]:
    """Returns bin centres r (Å) and g(r) averaged over frames."""
    edges_r = np.linspace(0.0, rmax, nbins + 1)
    hist = np.zeros(nbins)
    norm = 0.0
    for k, atoms in enumerate(frames):
        if atoms.pbc.all() and rmax > max_rmax(atoms) + 1e-9:
            raise DataError(f"frame {k}: rmax {rmax} Å exceeds half the cell height {max_rmax(atoms):.3f} Å "
                            "(cell too small)")
        a = species_indices(atoms, pair[0])
        b = species_indices(atoms, pair[1])
        is_a = np.zeros(len(atoms), bool)
        is_a[a] = True
        is_b = np.zeros(len(atoms), bool)
        is_b[b] = True
        e = build_edges(atoms.positions, np.asarray(atoms.cell) if atoms.pbc.all() else None, rmax)
        c, nb = e.center.numpy(), e.neighbor.numpy()
        keep = is_a[c] & is_b[nb]
        d = np.linalg.norm(e.vectors(torch.as_tensor(atoms.positions)).numpy()[keep], axis=1)
        hist += np.histogram(d, bins=edges_r)[0]
        same = pair[0] == pair[1]
        norm += len(a) * (len(b) - (1 if same else 0)) / atoms.get_volume()
    shell = 4.0 / 3.0 * np.pi * (edges_r[1:] ** 3 - edges_r[:-1] ** 3)
    r = 0.5 * (edges_r[1:] + edges_r[:-1])
    return r, hist / (shell * norm)
