"""Minimise Ω_v[ρ] = F_id + F_ex + ∫ρ(v − μ) on a planar grid: the Euler–Lagrange equation

    ln ρ(z) = βμ − βv(z) + c1[ρ](z)        (thermal wavelength Λ = 1)

is solved for x = ln ρ where v is finite (ρ = 0 where v = ∞) by Picard iteration with Anderson
mixing (the default, as feos does), or by scipy's Newton–Krylov. Grand canonical: μ is given
(directly, or through the bulk density ρ_b with βμ = ln ρ_b + βμ_ex(ρ_b)). Canonical: N per area
is given and μ is the Lagrange multiplier that normalises ρ.

Convergence is ‖G(x) − x‖_∞ < tol (the largest relative change of ρ a Picard step would make).
A run that does not get there raises :class:`ConvergenceError` with the residual it reached.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from deeppot.cdft.functionals.base import WeightedDensityFunctional
from deeppot.cdft.grid import PlanarGrid
from deeppot.errors import ConfigError, DeeppotError

log = logging.getLogger("deeppot.cdft")
SOLVERS = ("anderson", "picard", "newton_krylov")


class ConvergenceError(DeeppotError):
    """The DFT solver did not reach its tolerance."""


@dataclass
class Profile:
    """A converged density profile and what was needed to get it."""

    grid: PlanarGrid
    functional: WeightedDensityFunctional
    v_kT: np.ndarray
    rho: np.ndarray
    mu_kT: float
    rho_bulk: float | None
    ensemble: str
    iterations: int
    residuals: list[float] = field(default_factory=list)
    seconds: float = 0.0
    f_ex: float = 0.0

    @property
    def accessible(self) -> np.ndarray:
        return np.isfinite(self.v_kT)


def bulk_mu(functional: WeightedDensityFunctional, rho: float) -> float:
    """βμ of the homogeneous fluid at density ρ (Λ = 1)."""
    return float(np.log(rho) + functional.bulk_mu_ex(rho))


def bulk_density(functional: WeightedDensityFunctional, mu_kT: float, rho_max: float) -> float:
    """The bulk density with chemical potential μ (the lowest root below ``rho_max``)."""
    grid_rho = np.geomspace(1e-12, rho_max, 400)
    f = np.array([bulk_mu(functional, r) - mu_kT for r in grid_rho])
    roots = np.nonzero(np.sign(f[:-1]) != np.sign(f[1:]))[0]
    if roots.size == 0:
        raise ConfigError(f"no bulk density below {rho_max:g} has βμ = {mu_kT:g}")
    i = roots[0]
    return float(brentq(lambda r: bulk_mu(functional, r) - mu_kT, grid_rho[i], grid_rho[i + 1], xtol=1e-15,
                        rtol=4 * np.finfo(float).eps))


def solve(functional: WeightedDensityFunctional, grid: PlanarGrid, v_kT: np.ndarray, *,
          rho_bulk: float | None = None, mu_kT: float | None = None, n_per_area: float | None = None,
          solver: str = "anderson", tol: float = 1e-10, max_iter: int = 5000, damping: float = 0.3,
          history: int = 20, initial: np.ndarray | None = None, log_every: int = 100,
          rho_max: float | None = None, v_max_kT: float = 100.0) -> Profile:
    """Equilibrium profile in the external potential ``v_kT`` (βv on the grid, ``inf`` allowed).

    Give exactly one of ``rho_bulk`` / ``mu_kT`` (grand canonical) or ``n_per_area`` (canonical).
    Where βv ≥ ``v_max_kT`` the density is set to zero (e^{-100} is below any tolerance, and the
    soft-wall values near the wall plane, up to 1e30, would swamp the residual).
    """
    given = [name for name, val in (("rho_bulk", rho_bulk), ("mu_kT", mu_kT), ("n_per_area", n_per_area))
             if val is not None]
    if len(given) != 1:
        raise ConfigError(f"cdft: give exactly one of rho_bulk, mu_kT, n_per_area (got {given or 'none'})")
    if solver not in SOLVERS:
        raise ConfigError(f"cdft: solver {solver!r}: choose from {', '.join(SOLVERS)}")
    v_kT = np.asarray(v_kT, dtype=float)
    if v_kT.shape != (grid.n,):
        raise ConfigError(f"cdft: external potential has shape {v_kT.shape}, the grid {grid.n} points")
    if np.any(np.isnan(v_kT)) or np.any(v_kT == -np.inf):
        raise ConfigError("cdft: the external potential has NaN or -inf values")
    v_kT = np.where(v_kT >= v_max_kT, np.inf, v_kT)
    mask = np.isfinite(v_kT)
    if not mask.any():
        raise ConfigError("cdft: the external potential is infinite everywhere")
    functional.prepare(grid)
    ensemble = "canonical" if n_per_area is not None else "grand canonical"
    if rho_bulk is not None:
        if not rho_bulk > 0:
            raise ConfigError(f"cdft: rho_bulk {rho_bulk!r} must be > 0")
        mu_kT = bulk_mu(functional, rho_bulk)
    elif mu_kT is not None:
        rho_max = rho_max or functional.max_density
        if np.isfinite(rho_max):
            rho_bulk = bulk_density(functional, mu_kT, rho_max)
    if n_per_area is not None and not n_per_area > 0:
        raise ConfigError(f"cdft: n_per_area {n_per_area!r} must be > 0")

    v = v_kT[mask]
    rho = np.zeros(grid.n)

    def picard(x: np.ndarray) -> tuple[np.ndarray, float, float]:
        rho[:] = 0.0
        rho[mask] = np.exp(x)
        f_ex, c1 = functional.excess(grid, rho, energy=False)
        x_new = c1[mask] - v
        if n_per_area is None:
            return x_new + mu_kT, mu_kT, f_ex
        shift_mu = np.log(n_per_area) - _logsumexp(x_new) - np.log(grid.dz)
        return x_new + shift_mu, shift_mu, f_ex

    if initial is not None:
        x = np.log(np.maximum(np.asarray(initial, float)[mask], 1e-300))
    else:
        base = rho_bulk if rho_bulk is not None else (
            n_per_area / (mask.sum() * grid.dz) if n_per_area is not None else np.exp(mu_kT))
        x = np.log(base) - np.clip(v, -5.0, 50.0)
    start = time.perf_counter()
    residuals: list[float] = []
    if solver == "newton_krylov":
        x, mu_now, f_ex, it = _newton_krylov(picard, x, tol, max_iter, residuals)
    else:
        x, mu_now, f_ex, it = _anderson(picard, x, tol, max_iter, damping, history if solver == "anderson" else 0,
                                        residuals, log_every)
    rho_final = np.zeros(grid.n)
    rho_final[mask] = np.exp(x)
    f_ex, _ = functional.excess(grid, rho_final)
    seconds = time.perf_counter() - start
    log.info("cdft: %s converged in %d iterations (%.3g s), residual %.2e", solver, it, seconds, residuals[-1])
    return Profile(grid, functional, v_kT, rho_final, float(mu_now), rho_bulk, ensemble, it, residuals, seconds, f_ex)


def _logsumexp(x):
    top = np.max(x)
    return top + np.log(np.sum(np.exp(x - top)))


def _anderson(picard, x, tol, max_iter, damping, history, residuals, log_every):
    """Anderson mixing (Walker & Ni 2011, type II) of damped Picard steps; history 0 is plain Picard.

    The last ``history`` differences Δx, Δr live in ring buffers with their Gram matrix, which is
    updated by one row per iteration (O(m·n)) instead of rebuilt (O(m²·n)): on grids of ~1000
    points the mixing, not the functional, would otherwise dominate an iteration.
    """
    n = x.shape[0]
    dxs, drs = np.empty((history, n)), np.empty((history, n))
    gram = np.empty((history, history))
    count = slot = 0
    x_prev = r_prev = None
    step_limit = 2.0
    for it in range(1, max_iter + 1):
        x, g, mu_now, f_ex = _evaluate(picard, x, x_prev)
        r = g - x
        norm = float(np.max(np.abs(r)))
        residuals.append(norm)
        if not np.isfinite(norm):
            raise ConvergenceError("cdft: the iteration produced non-finite densities (try a smaller damping)")
        if norm < tol:
            return x, mu_now, f_ex, it
        if log_every and it % log_every == 0:
            log.info("cdft: iteration %d, residual %.2e (tolerance %.0e)", it, norm, tol)
        if history and x_prev is not None:
            np.subtract(x, x_prev, out=dxs[slot])
            np.subtract(r, r_prev, out=drs[slot])
            count = min(count + 1, history)
            row = drs[:count] @ drs[slot]
            gram[slot, :count] = row
            gram[:count, slot] = row
            slot = (slot + 1) % history
        x_prev, r_prev = x, r
        step = damping * r
        if count:
            dr, dx = drs[:count], dxs[:count]
            lhs = gram[:count, :count].copy()
            lhs[np.diag_indices_from(lhs)] *= 1.0 + 1e-12
            try:
                gamma = np.linalg.solve(lhs, dr @ r)
            except np.linalg.LinAlgError:
                gamma, *_ = np.linalg.lstsq(dr.T, r, rcond=None)
            step = step - gamma @ dx - damping * (gamma @ dr)
        big = np.max(np.abs(step))
        if big > step_limit:
            step *= step_limit / big
        x = x + step
    raise ConvergenceError(f"cdft: not converged after {max_iter} iterations (residual {residuals[-1]:.2e}, "
                           f"tolerance {tol:.0e}); raise max_iter or lower the damping")


def _evaluate(picard, x, x_prev):
    """G(x), backing off towards the last good iterate if the functional is undefined (n3 ≥ 1)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for _ in range(40):
            g, mu_now, f_ex = picard(x)
            if np.all(np.isfinite(g)):
                return x, g, mu_now, f_ex
            # too dense (n3 ≥ 1 somewhere): thin the start out, or go back towards the last iterate
            x = x - 0.5 if x_prev is None else 0.5 * (x + x_prev)
    raise ConvergenceError("cdft: the functional is undefined for the current density (packing fraction ≥ 1)")


def _newton_krylov(picard, x, tol, max_iter, residuals):
    from scipy.optimize import NoConvergence, newton_krylov

    state = {}

    def residual(y):
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            g, mu_now, f_ex = picard(y)
        r = g - y
        state.update(mu=mu_now, f=f_ex)
        residuals.append(float(np.max(np.abs(r))))
        return r

    try:
        x = newton_krylov(residual, x, f_tol=tol, maxiter=max_iter, method="lgmres")
    except (NoConvergence, ValueError) as err:
        raise ConvergenceError(f"cdft: Newton–Krylov did not converge (residual {residuals[-1]:.2e}, "
                               f"tolerance {tol:.0e}): {str(err)[:80]}") from None
    residual(x)
    return x, state["mu"], state["f"], len(residuals)
