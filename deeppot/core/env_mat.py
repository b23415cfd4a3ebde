"""Smooth switching function and environment-matrix rows (SCIENCE.md §2.1–2.2).

For a pair vector ``r_ij`` with length r, DeePMD-kit's environment-matrix row is

.. math:: R_{ij} = w(r)\\,(1/r,\\; x/r^2,\\; y/r^2,\\; z/r^2),
          \\qquad w(r) = u^3(-6u^2 + 15u - 10) + 1,\\; u = \\mathrm{clip}\\Big(\\frac{r-r_s}{r_c-r_s},0,1\\Big),

which is C² at both ends of the taper and exactly zero from ``rcut`` on. A neighbour at or
beyond ``rcut`` therefore has the same row (zero) as an empty padded slot; models rely on
this to accept neighbour lists built with a skin.
"""

from __future__ import annotations

import torch


def smooth_weight(r: torch.Tensor, rcut_smth: float, rcut: float) -> torch.Tensor:
    """w(r): 1 below ``rcut_smth``, 0 from ``rcut``, quintic in between."""
    u = ((r - rcut_smth) / (rcut - rcut_smth)).clamp(0.0, 1.0)
    return u * u * u * (-6.0 * u * u + 15.0 * u - 10.0) + 1.0


def env_mat_rows(rij: torch.Tensor, rcut_smth: float, rcut: float, radial_only: bool = False,
                 protection: float = 0.0) -> torch.Tensor:
    """Un-normalised environment-matrix rows.

    Shapes: ``rij`` (E, 3) -> (E, 4), or (E, 1) with ``radial_only``.
    """
    r = torch.linalg.norm(rij, dim=-1, keepdim=True)
    weight = smooth_weight(r, rcut_smth, rcut)
    inv_r = 1.0 / (r + protection)
    radial = weight * inv_r
    if radial_only:
        return radial
    return torch.cat([radial, rij * (weight * inv_r * inv_r)], dim=-1)
