"""Excess free-energy functionals as weighted densities: βF_ex[ρ] = ∫ Φ({n_α(z)}) dz.

Every functional here (Percus' hard rods, FMT hard spheres, mean-field attraction) has this
form: weighted densities ``n_α = w_α ⊛ ρ`` and a local free-energy density Φ. The one-body
direct correlation function then follows from the chain rule,

    c1(z) = -δβF_ex/δρ(z) = -Σ_α (∂Φ/∂n_α ⊛ w_α(-z)),

so a functional only declares its weights (by their Fourier transforms) and Φ with its partial
derivatives; the convolutions live in :mod:`deeppot.cdft.grid`. The bulk limit uses the same
declarations with ``n_α = ŵ_α(0) ρ``, so the bulk equation of state is exactly the one the
solver converges to far from walls.

Units: lengths in the user's length unit, energies in k_BT (β = 1), densities per length³
(per length for 1-D rods).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from deeppot.cdft.grid import PlanarGrid


@dataclass(frozen=True)
class Weight:
    """One weighted density: ``transform(k)`` is ŵ(k) (even) or W(k) with ŵ = -iW (odd).

    ``local`` marks the density itself (ŵ = 1, no convolution). ``tabulated`` weights compute
    their transform from the grid (a sampled kernel), without the Lanczos factor.
    """

    name: str
    parity: str = "even"
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    local: bool = False
    tabulated: Callable[[PlanarGrid], np.ndarray] | None = None


class WeightedDensityFunctional:
    """Base: subclasses define ``weights()``, ``phi(n)`` and ``dphi(n)`` (dicts keyed by weight name)."""

    name = "functional"

    def weights(self) -> list[Weight]:
        raise NotImplementedError

    def phi(self, n: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def dphi(self, n: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    #: the bulk density at which the functional diverges (close packing), in the fluid's units
    max_density = np.inf

    @property
    def range(self) -> float:
        """How far (length units) a density change at z reaches c1: the walls need this much padding."""
        raise NotImplementedError

    def prepare(self, grid: PlanarGrid) -> None:
        """Compute the weights' transforms on ``grid`` (sampled kernels also fix their bulk ∫w)."""
        self._transforms(grid)

    # ------------------------------------------------------------------------------------
    def _transforms(self, grid: PlanarGrid) -> dict[str, np.ndarray]:
        cache = self.__dict__.setdefault("_cache", {})
        key = (grid.n, grid.length, grid.boundary, grid.lanczos)
        if key not in cache:
            sigma = grid.sigma_factor()
            out = {}
            for w in self.weights():
                if w.local:
                    continue
                out[w.name] = w.tabulated(grid) if w.tabulated is not None else w.transform(grid.k) * sigma
            cache.clear()
            cache[key] = out
        return cache[key]

    def weighted_densities(self, grid: PlanarGrid, rho: np.ndarray) -> dict[str, np.ndarray]:
        transforms = self._transforms(grid)
        rho_hat = grid.forward(rho)
        n = {}
        for w in self.weights():
            n[w.name] = rho if w.local else grid.convolve(rho_hat, transforms[w.name], "even", w.parity)
        return n

    def excess(self, grid: PlanarGrid, rho: np.ndarray, energy: bool = True) -> tuple[float, np.ndarray]:
        """(βF_ex per area, c1(z)) for the profile ``rho`` on ``grid`` (βF_ex is NaN unless ``energy``)."""
        transforms = self._transforms(grid)
        n = self.weighted_densities(grid, rho)
        d = self.dphi(n)
        c1 = np.zeros(grid.n)
        for w in self.weights():
            if w.local:
                c1 -= d[w.name]
                continue
            # the derivative convolves with the mirrored weight w(-z): odd weights change sign
            sign = -1.0 if w.parity == "odd" else 1.0
            d_hat = grid.forward(d[w.name], odd=w.parity == "odd")
            c1 -= grid.convolve(d_hat, sign * transforms[w.name], w.parity, w.parity)
        return (grid.integrate(self.phi(n)) if energy else float("nan")), c1

    # ------------------------------------------------------------------------------------
    # bulk (homogeneous) limit
    def _bulk_n(self, rho: float) -> dict[str, np.ndarray]:
        n = {}
        for w in self.weights():
            if w.parity == "odd":
                n[w.name] = np.zeros(1)
            elif w.local:
                n[w.name] = np.array([rho])
            else:
                n[w.name] = np.array([self._w0(w) * rho])
        return n

    def _w0(self, w: Weight) -> float:
        if w.tabulated is not None:
            return float(self.bulk_w0[w.name])
        return float(w.transform(np.array([0.0]))[0])

    def bulk_free_energy_density(self, rho: float) -> float:
        """βf_ex = βF_ex/V of the homogeneous fluid."""
        return float(self.phi(self._bulk_n(rho))[0])

    def bulk_mu_ex(self, rho: float) -> float:
        """βμ_ex = ∂βf_ex/∂ρ (= -c1 in bulk)."""
        n = self._bulk_n(rho)
        d = self.dphi(n)
        return float(sum(d[w.name][0] * (1.0 if w.local else self._w0(w))
                         for w in self.weights() if w.parity == "even"))

    def bulk_pressure(self, rho: float) -> float:
        """βP = ρ + ρ βμ_ex − βf_ex (ideal part included)."""
        return rho + rho * self.bulk_mu_ex(rho) - self.bulk_free_energy_density(rho)


class SumFunctional(WeightedDensityFunctional):
    """F_ex = Σ F_ex,i (e.g. FMT hard spheres + mean-field attraction)."""

    def __init__(self, *parts: WeightedDensityFunctional):
        self.parts = parts
        self.name = " + ".join(p.name for p in parts)

    @property
    def range(self) -> float:
        return max(p.range for p in self.parts)

    @property
    def max_density(self) -> float:
        return min(p.max_density for p in self.parts)

    def prepare(self, grid):
        for p in self.parts:
            p.prepare(grid)

    def excess(self, grid, rho, energy=True):
        total, c1 = 0.0, np.zeros(grid.n)
        for p in self.parts:
            f, c = p.excess(grid, rho, energy)
            total += f
            c1 += c
        return total, c1

    def bulk_free_energy_density(self, rho):
        return sum(p.bulk_free_energy_density(rho) for p in self.parts)

    def bulk_mu_ex(self, rho):
        return sum(p.bulk_mu_ex(rho) for p in self.parts)


class IdealGas(WeightedDensityFunctional):
    """No excess free energy: ρ(z) = ρ_b exp(-βv(z)), the barometric law."""

    name = "ideal gas"
    range = 0.0

    def prepare(self, grid):
        pass

    def excess(self, grid, rho, energy=True):
        return 0.0, np.zeros(grid.n)

    def bulk_free_energy_density(self, rho):
        return 0.0

    def bulk_mu_ex(self, rho):
        return 0.0
