"""External potentials βv(z) on a planar grid (energies in k_BT, lengths in the grid's unit).

A wall is described by the plane of its surface and the side the fluid is on. ``np.inf``
marks where the fluid cannot go; the solver keeps ρ = 0 there. Sum walls for a slit.
"""

from __future__ import annotations

import numpy as np

from deeppot.cdft.grid import PlanarGrid
from deeppot.errors import ConfigError


def _distance(grid: PlanarGrid, position: float, side: str) -> np.ndarray:
    """Distance of each grid point from the wall plane, positive on the fluid side."""
    if side == "left":  # wall at small z, fluid at z > position
        return grid.z - position
    if side == "right":
        return position - grid.z
    raise ConfigError(f"wall side {side!r}: choose 'left' (fluid at larger z) or 'right'")


def hard_wall(grid: PlanarGrid, contact: float, side: str = "left") -> np.ndarray:
    """βv = ∞ where particle centres would be closer to the wall than the contact plane."""
    d = _distance(grid, contact, side)
    return np.where(d > 0, 0.0, np.inf)


def lj93_wall(grid: PlanarGrid, position: float, epsilon_kT: float, sigma: float, side: str = "left",
              cutoff: float | None = None) -> np.ndarray:
    """βv = ε_w [(2/15)(σ_w/d)⁹ − (σ_w/d)³] at distance d > 0 from the wall plane (∞ behind it).

    (The 9-3 potential of a half-space of LJ sites integrated over the wall; ε_w absorbs
    2πρ_wσ_w³ε_sf/3.) ``cutoff`` truncates and shifts it to zero beyond that distance.
    """
    d = _distance(grid, position, side)
    with np.errstate(divide="ignore", invalid="ignore"):
        s3 = (sigma / np.where(d > 0, d, 1.0)) ** 3
        v = epsilon_kT * (2.0 / 15.0 * s3**3 - s3)
    if cutoff is not None:
        sc3 = (sigma / cutoff) ** 3
        v = np.where(d < cutoff, v - epsilon_kT * (2.0 / 15.0 * sc3**3 - sc3), 0.0)
    return np.where(d > 0, v, np.inf)


def tabulated(grid: PlanarGrid, z: np.ndarray, v_kT: np.ndarray) -> np.ndarray:
    """Linear interpolation of a table βv(z); the table must cover the grid (∞ allowed)."""
    z, v_kT = np.asarray(z, float), np.asarray(v_kT, float)
    if z.ndim != 1 or z.shape != v_kT.shape or z.size < 2 or np.any(np.diff(z) <= 0):
        raise ConfigError("tabulated potential: z must increase and match v in length (≥ 2 points)")
    if grid.z[0] < z[0] or grid.z[-1] > z[-1]:
        raise ConfigError(f"tabulated potential covers [{z[0]:g}, {z[-1]:g}], the grid needs "
                          f"[{grid.z[0]:g}, {grid.z[-1]:g}]")
    finite = np.isfinite(v_kT)
    out = np.interp(grid.z, z[finite], v_kT[finite])
    # a grid point next to an infinite table entry is excluded
    idx = np.clip(np.searchsorted(z, grid.z), 1, z.size - 1)
    blocked = ~finite[idx] | ~finite[idx - 1]
    return np.where(blocked, np.inf, out)
