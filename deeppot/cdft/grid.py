"""Planar (1-D) grids and the Fourier convolutions that weighted-density functionals need.

A :class:`PlanarGrid` holds ``n`` cell-centred points ``z_i = (i + ½) dz`` on ``[0, length)``.
Two boundaries are supported, each with its own exact discrete transform:

* ``"periodic"``: a ring; convolutions by the real FFT, ``k_m = 2π m / length``.
* ``"reflecting"``: the profile is continued as an even function about both ends (DCT-II,
  ``k_m = π m / length``). This is how a slit between walls is solved: the density vanishes
  near the ends (behind the walls), so the mirror images never meet the fluid, and a symmetric
  slit can be solved on its half with the mirror plane at ``z = 0``. It is the transform feos
  uses for ``Pore1D`` in Cartesian geometry, which is why our profiles can equal feos' ones.

Odd (vector) weighted densities, e.g. FMT's ``n2v``, are sine series on a reflecting grid.
Weights are given by their analytic Fourier transforms ``ŵ(k)``; an optional Lanczos σ factor
(``j0(k·length/(n+2))``, feos' choice for pores) damps the Gibbs ringing of the hard-wall jump.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.fft

from deeppot.errors import ConfigError

BOUNDARIES = ("periodic", "reflecting")


@dataclass(frozen=True)
class PlanarGrid:
    """``n`` cell-centred points on ``[0, length)``; ``boundary`` is ``periodic`` or ``reflecting``."""

    n: int
    length: float
    boundary: str = "reflecting"
    lanczos: bool = True
    _k: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.boundary not in BOUNDARIES:
            raise ConfigError(f"grid boundary {self.boundary!r}: choose from {', '.join(BOUNDARIES)}")
        if int(self.n) != self.n or self.n < 8:
            raise ConfigError(f"grid points {self.n!r}: need an integer ≥ 8")
        if not self.length > 0:
            raise ConfigError(f"grid length {self.length!r}: must be > 0")
        if self.boundary == "periodic":
            k = 2 * np.pi * np.arange(self.n // 2 + 1) / self.length
        else:
            k = np.pi * np.arange(self.n + 1) / self.length  # m = 0..n; m = n only for sine series
        object.__setattr__(self, "_k", k)

    @property
    def dz(self) -> float:
        return self.length / self.n

    @property
    def z(self) -> np.ndarray:
        return (np.arange(self.n) + 0.5) * self.dz

    @property
    def k(self) -> np.ndarray:
        """Wave numbers of the transform (periodic: 0..n/2; reflecting: 0..n, the last for sine series)."""
        return self._k

    def sigma_factor(self) -> np.ndarray:
        """Lanczos σ factor at each ``k`` (ones if ``lanczos`` is off)."""
        if not self.lanczos:
            return np.ones_like(self._k)
        if self.boundary == "periodic":
            return np.sinc(2 * np.arange(self._k.size) / (self.n + 2))
        m2 = self.n + 2 if (self.n + 1) % 2 == 1 else self.n + 3
        return np.sinc(self._k * self.length / m2 / np.pi)

    def integrate(self, f: np.ndarray) -> float:
        """∫ f dz (midpoint rule, exact for the transforms used here)."""
        return float(np.sum(f) * self.dz)

    # ------------------------------------------------------------------------------------
    # convolutions: f ↦ w ⊛ f with the transform ŵ(k) of an even (scalar) or odd (vector) weight
    def forward(self, f: np.ndarray, odd: bool = False) -> np.ndarray:
        if self.boundary == "periodic":
            return np.fft.rfft(f)
        if odd:
            return scipy.fft.dst(f, type=2)  # frequencies m = 1..n
        return scipy.fft.dct(f, type=2)  # frequencies m = 0..n-1

    def convolve(self, f_hat: np.ndarray, w_hat: np.ndarray, parity_in: str, parity_w: str) -> np.ndarray:
        """Back-transform ``ŵ · f̂``.

        ``parity_in`` is the parity of the profile ``f`` ('even'/'odd'), ``parity_w`` that of the
        weight. An odd weight's ``w_hat`` is the real ``W(k)`` of ``ŵ(k) = -i W(k)`` (so that an
        odd weight turns cos(kz) into W(k) sin(kz)); convolving with the mirror weight ``w(-z)``
        (the functional derivative) is ``W → -W``, which the caller passes.
        """
        if self.boundary == "periodic":
            w = w_hat[: f_hat.size]
            if parity_w == "odd":
                return np.fft.irfft(f_hat * (-1j) * w, n=self.n)
            return np.fft.irfft(f_hat * w, n=self.n)
        n = self.n
        if parity_w == "even":
            if parity_in == "even":
                return scipy.fft.idct(f_hat * w_hat[:n], type=2)
            return scipy.fft.idst(f_hat * w_hat[1: n + 1], type=2)
        # odd weight: cos → +W sin ;  sin → -W cos (the Nyquist sine mode has cos(k_n z_j) = 0)
        if parity_in == "even":
            g = np.zeros(n)
            g[: n - 1] = f_hat[1:] * w_hat[1:n]
            return scipy.fft.idst(g, type=2)
        c = np.zeros(n)
        c[1:] = -f_hat[: n - 1] * w_hat[1:n]
        return scipy.fft.idct(c, type=2)

    # ------------------------------------------------------------------------------------
    # batched forms used by the functionals: few transform calls per iteration
    def weighted(self, rho: np.ndarray, w_even: np.ndarray, w_odd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted densities of ``rho`` for stacks of even (ŵ) and odd (W) weight transforms."""
        n = self.n
        if self.boundary == "periodic":
            f = np.fft.rfft(rho)
            m = f.size
            even = np.fft.irfft(f * w_even[:, :m], n=n) if len(w_even) else np.zeros((0, n))
            odd = np.fft.irfft(f * (-1j) * w_odd[:, :m], n=n) if len(w_odd) else np.zeros((0, n))
            return even, odd
        f = scipy.fft.dct(rho, type=2)
        even = scipy.fft.idct(f * w_even[:, :n], type=2, axis=-1) if len(w_even) else np.zeros((0, n))
        if len(w_odd):
            g = np.zeros((len(w_odd), n))
            g[:, : n - 1] = f[1:] * w_odd[:, 1:n]
            odd = scipy.fft.idst(g, type=2, axis=-1)
        else:
            odd = np.zeros((0, n))
        return even, odd

    def adjoint(self, d_even: np.ndarray, d_odd: np.ndarray, w_even: np.ndarray, w_odd: np.ndarray) -> np.ndarray:
        """Σ_α ∂Φ/∂n_α ⊛ w_α(−z): the functional derivative from the stacks of partial derivatives."""
        n = self.n
        if self.boundary == "periodic":
            m = n // 2 + 1
            total = np.zeros(m, dtype=complex)
            if len(d_even):
                total += np.sum(np.fft.rfft(d_even, axis=-1) * w_even[:, :m], axis=0)
            if len(d_odd):
                total += np.sum(np.fft.rfft(d_odd, axis=-1) * 1j * w_odd[:, :m], axis=0)
            return np.fft.irfft(total, n=n)
        total = np.zeros(n)
        if len(d_even):
            total += np.sum(scipy.fft.dct(d_even, type=2, axis=-1) * w_even[:, :n], axis=0)
        if len(d_odd):
            # sin → W cos for the mirrored (sign-flipped) odd weight; the Nyquist sine mode drops out
            total[1:] += np.sum(scipy.fft.dst(d_odd, type=2, axis=-1)[:, : n - 1] * w_odd[:, 1:n], axis=0)
        return scipy.fft.idct(total, type=2)
