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
    their transform from the grid (a sampled kernel), without the Lanczos factor. ``base`` and
    ``factor`` declare ŵ = factor · ŵ_base (FMT's n0, n1 are scaled n2), so it costs no transform.
    """

    name: str
    parity: str = "even"
    transform: Callable[[np.ndarray], np.ndarray] | None = None
    local: bool = False
    tabulated: Callable[[PlanarGrid], np.ndarray] | None = None
    base: str | None = None
    factor: float = 1.0


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
    def _transforms(self, grid: PlanarGrid) -> dict:
        """Stacks of the distinct even and odd weight transforms on ``grid`` (cached per grid)."""
        cache = self.__dict__.setdefault("_cache", {})
        key = (grid.n, grid.length, grid.boundary, grid.lanczos)
        if key not in cache:
            sigma = grid.sigma_factor()
            even, odd = [], []
            for w in self.weights():
                if w.local or w.base is not None:
                    continue
                arr = w.tabulated(grid) if w.tabulated is not None else w.transform(grid.k) * sigma
                (odd if w.parity == "odd" else even).append((w.name, arr))
            cache.clear()
            cache[key] = {"weights": self.weights(),
                          "even_names": [n for n, _ in even], "odd_names": [n for n, _ in odd],
                          "even": np.array([a for _, a in even]).reshape(len(even), grid.k.size),
                          "odd": np.array([a for _, a in odd]).reshape(len(odd), grid.k.size)}
        return cache[key]

    def weighted_densities(self, grid: PlanarGrid, rho: np.ndarray) -> dict[str, np.ndarray]:
        t = self._transforms(grid)
        even, odd = grid.weighted(rho, t["even"], t["odd"])
        n = dict(zip(t["even_names"], even))
        n.update(zip(t["odd_names"], odd))
        for w in t["weights"]:
            if w.local:
                n[w.name] = rho
            elif w.base is not None:
                n[w.name] = w.factor * n[w.base]
        return n

    def excess(self, grid: PlanarGrid, rho: np.ndarray, energy: bool = True) -> tuple[float, np.ndarray]:
        """(βF_ex per area, c1(z)) for the profile ``rho`` on ``grid`` (βF_ex is NaN unless ``energy``)."""
        t = self._transforms(grid)
        n = self.weighted_densities(grid, rho)
        d = self.dphi(n)
        c1 = np.zeros(grid.n)
        partial = {name: d[name] for name in t["even_names"] + t["odd_names"]}
        for w in t["weights"]:
            if w.local:
                c1 -= d[w.name]
            elif w.base is not None:
                partial[w.base] = partial[w.base] + w.factor * d[w.name]
        d_even = np.array([partial[k] for k in t["even_names"]]).reshape(-1, grid.n)
        d_odd = np.array([partial[k] for k in t["odd_names"]]).reshape(-1, grid.n)
        c1 -= grid.adjoint(d_even, d_odd, t["even"], t["odd"])
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
        if w.base is not None:
            return w.factor * self._w0(next(b for b in self.weights() if b.name == w.base))
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
