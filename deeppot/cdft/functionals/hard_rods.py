"""Percus' exact excess functional of 1-D hard rods (J. K. Percus, J. Stat. Phys. 15, 505 (1976)).

With R = σ/2 (SCIENCE.md §8.2):

    n1(x) = ∫_{x-R}^{x+R} ρ        (local packing fraction; ŵ1 = 2 sin(kR)/k)
    n0(x) = ½[ρ(x-R) + ρ(x+R)]     (ŵ0 = cos(kR))
    βF_ex = -∫ n0 ln(1 - n1) dx

It is exact for rods in any external potential, so it is the reference for the learned
functional and for our hard-rod Monte Carlo. Bulk: βμ_ex = -ln(1-η) + η/(1-η), βP = ρ/(1-η)
(Tonks) with η = ρσ.
"""

from __future__ import annotations

import numpy as np

from deeppot.cdft.functionals.base import Weight, WeightedDensityFunctional
from deeppot.errors import ConfigError


class HardRods(WeightedDensityFunctional):
    name = "Percus hard rods"

    def __init__(self, sigma: float = 1.0):
        if not sigma > 0:
            raise ConfigError(f"hard rods: sigma {sigma!r} must be > 0")
        self.sigma = float(sigma)

    @property
    def range(self) -> float:
        return self.sigma

    @property
    def max_density(self) -> float:
        return (1 - 1e-12) / self.sigma

    def weights(self):
        r = 0.5 * self.sigma
        return [Weight("n0", transform=lambda k: np.cos(k * r)),
                Weight("n1", transform=lambda k: self.sigma * np.sinc(k * r / np.pi))]

    def phi(self, n):
        return -n["n0"] * np.log1p(-n["n1"])

    def dphi(self, n):
        return {"n0": -np.log1p(-n["n1"]), "n1": n["n0"] / (1.0 - n["n1"])}


def tonks_pressure(rho: float, sigma: float = 1.0) -> float:
    """Exact βP of the hard-rod fluid."""
    return rho / (1.0 - rho * sigma)


def tonks_mu_ex(rho: float, sigma: float = 1.0) -> float:
    """Exact βμ_ex of the hard-rod fluid."""
    eta = rho * sigma
    return -np.log1p(-eta) + eta / (1.0 - eta)


def hard_wall_profile(x: np.ndarray, rho_bulk: float, sigma: float = 1.0, kmax: int | None = None) -> np.ndarray:
    """Exact density of rods at a hard wall; x is the distance of rod centres from contact.

    The gaps between rods are i.i.d. exponential with rate a = βP, so the k-th rod sits at
    x = (k-1)σ + Gamma(k, a): ρ(x) = Σ_k a^k y^{k-1} e^{-a y}/(k-1)!, y = x - (k-1)σ > 0.
    (Also ρ_b g(r) of the bulk fluid with x = r - σ.)
    """
    from scipy.stats import gamma

    a = tonks_pressure(rho_bulk, sigma)
    x = np.asarray(x, dtype=float)
    kmax = kmax or int(np.max(x) / sigma) + 2
    out = np.zeros_like(x)
    for k in range(1, kmax + 1):
        y = x - (k - 1) * sigma
        out += np.where(y > 0, gamma.pdf(np.maximum(y, 0.0), k, scale=1.0 / a), 0.0)
    return out
