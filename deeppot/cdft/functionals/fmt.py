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
_SERIES_DC = (_SERIES_K - 2) * _SERIES_C  # coefficients of dq/dn3


def _wb_q(n3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """q = [n3 + (1−n3)² ln(1−n3)]/n3² and dq/dn3, stable for n3 → 0 (series below η = 0.03).

    Both branches are evaluated on the whole array (clipped into their ranges) and merged with
    ``where``: cheaper than boolean indexing on the grids used here.
    """
    x = np.clip(n3, -_SMALL, _SMALL)
    acc = np.zeros_like(x)
    dacc = np.zeros_like(x)
    for c, dc in zip(_SERIES_C[::-1], _SERIES_DC[::-1]):
        acc = acc * x + c
        dacc = dacc * x + dc
    y = np.maximum(n3, _SMALL)
    a = 1.0 - y
    log_a = np.log(a)
    h = y + a * a * log_a
    dh = y - 2.0 * a * log_a
    small = np.abs(n3) < _SMALL
    q = np.where(small, 1.5 - acc * x, h / y**2)
    dq = np.where(small, -dacc, (dh * y - 2.0 * h) / y**3)
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

    def _g(self, n3):
        a = 1.0 - n3
        if self.version == "rosenfeld":
            return 1.0 / (24 * np.pi * a * a), 2.0 / (24 * np.pi * a**3)
        q, dq = _wb_q(n3)
        return q / (36 * np.pi * a * a), dq / (36 * np.pi * a * a) + 2 * q / (36 * np.pi * a**3)

    def phi(self, n):
        n0, n1, n2, n3, n1v, n2v = (n[k] for k in ("n0", "n1", "n2", "n3", "n1v", "n2v"))
        a = 1.0 - n3
        g, _ = self._g(n3)
        return -n0 * np.log(a) + (n1 * n2 - n1v * n2v) / a + (n2**3 - 3 * n2 * n2v**2) * g

    def dphi(self, n):
        n0, n1, n2, n3, n1v, n2v = (n[k] for k in ("n0", "n1", "n2", "n3", "n1v", "n2v"))
        a = 1.0 - n3
        g, dg = self._g(n3)
        cubic = n2**3 - 3 * n2 * n2v**2
        return {"n0": -np.log(a),
                "n1": n2 / a,
                "n2": n1 / a + 3 * (n2**2 - n2v**2) * g,
                "n3": n0 / a + (n1 * n2 - n1v * n2v) / a**2 + cubic * dg,
                "n1v": -n2v / a,
                "n2v": -n1v / a - 6 * n2 * n2v * g}


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
