"""Fundamental measure theory of 3-D hard spheres in planar geometry (Rosenfeld; White Bear).

Weights of a sphere of radius R, by their exact Fourier transforms along z (the planar case
of the 3-D transforms, as in feos' convolver):

    ŵ3 = 4π (sin kR − kR cos kR)/k³      ŵ2 = 4π R sin(kR)/k     ŵ1 = ŵ2/(4πR)   ŵ0 = ŵ2/(4πR²)
    ŵ2v = -i k ŵ3                          ŵ1v = ŵ2v/(4πR)

Φ = −n0 ln(1−n3) + (n1 n2 − n1v·n2v)/(1−n3) + (n2³ − 3 n2 n2v·n2v) g(n3), with
g = 1/(24π(1−n3)²) for Rosenfeld (bulk: Percus–Yevick compressibility EOS) and
g = [n3 + (1−n3)² ln(1−n3)]/(36π n3² (1−n3)²) for White Bear (bulk: Carnahan–Starling).
feos has White Bear but no Rosenfeld (LIBRARIES.md §1), so Rosenfeld is checked by its EOS
and the contact theorem only.
"""

from __future__ import annotations

import numpy as np

from deeppot.cdft.functionals.base import Weight, WeightedDensityFunctional
from deeppot.errors import ConfigError

VERSIONS = ("white_bear", "rosenfeld")
# h(η)/η² = 3/2 − Σ_{k≥3} 2 η^{k−2}/(k(k−1)(k−2)): White Bear's g without the 0/0 at small η
_SERIES_K = np.arange(3, 17)  # η < 0.03: the omitted terms are < 1e-23
_SERIES_C = 2.0 / (_SERIES_K * (_SERIES_K - 1) * (_SERIES_K - 2))
_SMALL = 0.03
_SERIES_DC = (_SERIES_K - 2) * _SERIES_C  # q = 3/2 − Σ c_k η^(k−2): dq/dη = −Σ (k−2) c_k η^(k−3)


def _wb_q(n3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q = [n3 + (1−n3)² ln(1−n3)]/n3² and dq/dn3, stable for n3 → 0 (series below η = 0.03).

    The closed form is evaluated on the whole array (clipped into its range); the series only on
    the few points below the threshold (the empty side of a wall), by one power matrix and two
    products: the solver calls this every iteration, and on ~1000-point grids the cost is the
    number of NumPy calls, not their length.
    """
    y = np.maximum(n3, _SMALL)
    a = 1.0 - y
    log_a = np.log(a)
    h = y + a * a * log_a
    dh = y - 2.0 * a * log_a
    inv_y = 1.0 / y
    q = h * inv_y * inv_y
    dq = (dh - 2.0 * h * inv_y) * inv_y * inv_y
    small = np.flatnonzero(n3 < _SMALL)  # n3 ≥ 0 up to rounding (a convolution of ρ ≥ 0)
    if small.size:
        x = n3[small]
        powers = np.vander(x, len(_SERIES_K), increasing=True)  # η^(k−3), k = 3..16
        q[small] = 1.5 - x * (powers @ _SERIES_C)
        dq[small] = -(powers @ _SERIES_DC)
    return q, dq


class HardSpheres(WeightedDensityFunctional):
    """FMT hard spheres of diameter ``sigma``; ``version`` is 'white_bear' or 'rosenfeld'."""

    def __init__(self, sigma: float = 1.0, version: str = "white_bear"):
        if version not in VERSIONS:
            raise ConfigError(f"FMT version {version!r}: choose from {', '.join(VERSIONS)}")
        if not sigma > 0:
            raise ConfigError(f"hard spheres: sigma {sigma!r} must be > 0")
        self.sigma = float(sigma)
        self.version = version
        self.name = f"FMT {version.replace('_', ' ')}"

    @property
    def range(self) -> float:
        return self.sigma

    @property
    def max_density(self) -> float:
        return (1 - 1e-12) * 6 / (np.pi * self.sigma**3)

    def weights(self):
        r = 0.5 * self.sigma

        def w3(k):
            k = np.asarray(k, dtype=float)
            x = k * r
            out = np.empty_like(k)
            small = x < 1e-3
            out[small] = 4 * np.pi * r**3 * (1.0 / 3.0 - x[small] ** 2 / 30.0 + x[small] ** 4 / 840.0)
            xs, ks = x[~small], k[~small]
            out[~small] = 4 * np.pi * (np.sin(xs) - xs * np.cos(xs)) / ks**3
            return out

        def w2(k):
            return 4 * np.pi * r * r * np.sinc(np.asarray(k) * r / np.pi)

        return [Weight("n2", transform=w2),
                Weight("n3", transform=w3),
                Weight("n2v", "odd", transform=lambda k: np.asarray(k) * w3(k)),
                Weight("n0", base="n2", factor=1 / (4 * np.pi * r * r)),
                Weight("n1", base="n2", factor=1 / (4 * np.pi * r)),
                Weight("n1v", "odd", base="n2v", factor=1 / (4 * np.pi * r))]

    def _g(self, n3, inv_a=None):
        """g(n3) of the cubic term and dg/dn3 (written out with shared factors: called every iteration)."""
        inv_a = 1.0 / (1.0 - n3) if inv_a is None else inv_a
        if self.version == "rosenfeld":
            g = inv_a * inv_a / (24 * np.pi)
            return g, 2.0 * g * inv_a
        q, dq = _wb_q(n3)
        base = inv_a * inv_a / (36 * np.pi)
        return q * base, (dq + 2.0 * q * inv_a) * base

    def phi(self, n):
        n0, n1, n2, n3, n1v, n2v = (n[k] for k in ("n0", "n1", "n2", "n3", "n1v", "n2v"))
        a = 1.0 - n3
        g, _ = self._g(n3)
        return -n0 * np.log(a) + (n1 * n2 - n1v * n2v) / a + (n2 * n2 * n2 - 3 * n2 * n2v * n2v) * g

    def dphi(self, n):
        n0, n1, n2, n3, n1v, n2v = (n[k] for k in ("n0", "n1", "n2", "n3", "n1v", "n2v"))
        inv_a = 1.0 / (1.0 - n3)
        g, dg = self._g(n3, inv_a)
        n2_sq, n2v_sq = n2 * n2, n2v * n2v
        return {"n0": np.log(inv_a),
                "n1": n2 * inv_a,
                "n2": n1 * inv_a + 3 * (n2_sq - n2v_sq) * g,
                "n3": (n0 + (n1 * n2 - n1v * n2v) * inv_a) * inv_a + n2 * (n2_sq - 3 * n2v_sq) * dg,
                "n1v": -n2v * inv_a,
                "n2v": -n1v * inv_a - 6 * n2 * n2v * g}


def packing_fraction(rho: float, sigma: float = 1.0) -> float:
    return np.pi / 6 * rho * sigma**3


def carnahan_starling_pressure(rho: float, sigma: float = 1.0) -> float:
    """βP of Carnahan–Starling (White Bear's bulk limit)."""
    eta = packing_fraction(rho, sigma)
    return rho * (1 + eta + eta**2 - eta**3) / (1 - eta) ** 3


def percus_yevick_pressure(rho: float, sigma: float = 1.0) -> float:
    """βP of the Percus–Yevick compressibility route (Rosenfeld's bulk limit)."""
    eta = packing_fraction(rho, sigma)
    return rho * (1 + eta + eta**2) / (1 - eta) ** 3
