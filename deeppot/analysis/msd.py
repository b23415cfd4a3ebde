"""Mean-squared displacement and the self-diffusion coefficient (Einstein relation).

Positions are unwrapped frame to frame with the minimum-image convention (valid while no atom
moves more than half a cell between stored frames); MSD(τ) averages over all time origins:

.. math:: \\mathrm{MSD}(\\tau) = \\langle |r_i(t+\\tau) - r_i(t)|^2 \\rangle_{i,t}, \\qquad
          D = \\lim \\frac{\\mathrm{MSD}}{6\\tau}
"""

from __future__ import annotations

import numpy as np

from deeppot.analysis.frames import check_same_atoms, species_indices


def unwrap(frames: list, sel: np.ndarray) -> np.ndarray:
    pos = np.array([a.positions[sel] for a in frames])
    if not frames[0].pbc.all():
        return pos
    out = pos.copy()
    for t in range(1, len(frames)):
        cell = np.asarray(frames[t].cell)
        d = pos[t] - pos[t - 1]
        frac = d @ np.linalg.inv(cell)
        d = (frac - np.round(frac)) @ cell
        out[t] = out[t - 1] + d
    return out


def msd(frames: list, timestep_ps: float, species: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Lag times (ps) and MSD (Å²), averaged over atoms and time origins (FFT-free, O(T²) in lags).

    Every frame must hold the same atoms in the same order (else :class:`~deeppot.errors.DataError`).
    """
    check_same_atoms(frames)
    sel = species_indices(frames[0], species)
    pos = unwrap(frames, sel)
    nt = len(frames)
    lags = np.arange(nt)
    values = np.array([np.mean(np.sum((pos[k:] - pos[: nt - k]) ** 2, axis=-1)) for k in lags])
    return lags * timestep_ps, values


def diffusion_coefficient(t_ps: np.ndarray, msd_A2: np.ndarray, fit_from: float = 0.2, fit_to: float = 0.8
                          ) -> float:
    """D in Å²/ps from a linear fit of MSD over the [fit_from, fit_to] fraction of lags (1 Å²/ps = 1e-4 cm²/s)."""
    n = len(t_ps)
    a, b = int(fit_from * n), max(int(fit_to * n), int(fit_from * n) + 2)
    slope = np.polyfit(t_ps[a:b], msd_A2[a:b], 1)[0]
    return slope / 6.0
