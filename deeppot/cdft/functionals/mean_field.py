"""Mean-field attraction of a Lennard-Jones fluid, and the hard-sphere diameter of its repulsion.

βF_att = ½ ∫∫ ρ(z) ρ(z') βφ(|z − z'|) dz dz', with φ the attraction integrated over a plane:
φ(z) = 2π ∫_{|z|}^{rc} r u_att(r) dr. The LJ potential is split at its minimum r_m = 2^{1/6}σ
(Weeks–Chandler–Andersen): u_att = u(r_m) for r < r_m, u(r) for r_m ≤ r < rc, 0 beyond; with
``shift`` the LJ is shifted to zero at rc first, as ``deeppot md``'s LJ potential does by
default, so DFT and MD describe the same fluid. The repulsion u_rep = u − u_att (r < r_m)
becomes hard spheres of the Barker–Henderson diameter d = ∫_0^{r_m} (1 − e^{−βu_rep}) dr.

The kernel is sampled on the grid and transformed exactly (a discrete even convolution), and
the bulk uses the same discrete ∫φ, so the bulk state is the solver's far-field state.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import quad

from deeppot.cdft.functionals.base import Weight, WeightedDensityFunctional
from deeppot.errors import ConfigError


def lj(r, epsilon: float, sigma: float):
    s6 = (sigma / r) ** 6
    return 4 * epsilon * (s6 * s6 - s6)


class LJAttraction(WeightedDensityFunctional):
    """Mean-field WCA attraction; ``epsilon_kT`` = ε/k_BT, lengths in the user's unit."""

    name = "mean-field LJ attraction"

    def __init__(self, epsilon_kT: float, sigma: float = 1.0, rcut: float = 2.5, shift: bool = True):
        if not epsilon_kT > 0 or not sigma > 0:
            raise ConfigError("LJ attraction: epsilon_kT and sigma must be > 0")
        self.epsilon, self.sigma, self.rcut, self.shift = float(epsilon_kT), float(sigma), float(rcut), shift
        self.r_min = 2 ** (1 / 6) * sigma
        if not self.rcut > self.r_min:
            raise ConfigError(f"LJ attraction: rcut {rcut!r} must exceed the LJ minimum {self.r_min:.4g}")
        self.u_cut = lj(self.rcut, self.epsilon, sigma) if shift else 0.0
        self.bulk_w0: dict[str, float] = {}

    @property
    def range(self) -> float:
        return self.rcut

    def u_att(self, r):
        r = np.asarray(r, dtype=float)
        u_min = lj(self.r_min, self.epsilon, self.sigma) - self.u_cut
        inner = np.where(r < self.r_min, u_min, lj(np.maximum(r, self.r_min), self.epsilon, self.sigma) - self.u_cut)
        return np.where(r < self.rcut, inner, 0.0)

    def planar_kernel(self, z):
        """βφ(z) = 2π ∫_{|z|}^{rc} r u_att(r) dr, in closed form."""
        z = np.abs(np.asarray(z, dtype=float))
        e, s, rm, rc, uc = self.epsilon, self.sigma, self.r_min, self.rcut, self.u_cut

        def prim(r):  # ∫ r (u_LJ(r) − u_c) dr
            return 4 * e * (-(s**12) / (10 * r**10) + s**6 / (4 * r**4)) - uc * r * r / 2

        u_min = lj(rm, e, s) - uc
        outer = prim(rc) - prim(np.clip(z, rm, rc))
        inner = np.where(z < rm, u_min * (rm * rm - z * z) / 2, 0.0)
        return np.where(z < rc, 2 * np.pi * (outer + inner), 0.0)

    def _kernel_transform(self, grid):
        """Exact transform of the sampled kernel Σ_j φ(j dz) cos(k j dz) dz (trapezoid, even)."""
        m = int(np.ceil(self.rcut / grid.dz))
        j = np.arange(-m, m + 1)
        phi = self.planar_kernel(j * grid.dz) * grid.dz
        k = grid.k[: (grid.n // 2 + 1) if grid.boundary == "periodic" else grid.n + 1]
        out = np.cos(np.outer(k, j * grid.dz)) @ phi
        self.bulk_w0["n_att"] = float(out[0])
        return out

    def weights(self):
        return [Weight("rho", local=True), Weight("n_att", tabulated=self._kernel_transform)]

    def _w0(self, w):
        if w.name == "n_att" and "n_att" not in self.bulk_w0:
            # continuum ∫φ dz = 4π ∫ r² u_att dr until a grid fixes the discrete value
            self.bulk_w0["n_att"] = 4 * np.pi * quad(lambda r: r * r * self.u_att(r), 0, self.rcut,
                                                     points=[self.r_min], limit=200)[0]
        return super()._w0(w)

    def phi(self, n):
        return 0.5 * n["rho"] * n["n_att"]

    def dphi(self, n):
        return {"rho": 0.5 * n["n_att"], "n_att": 0.5 * n["rho"]}


def barker_henderson_diameter(epsilon_kT: float, sigma: float = 1.0) -> float:
    """d = ∫_0^{r_m} (1 − exp(−β u_rep(r))) dr with the WCA repulsion u_rep = u_LJ + ε."""
    r_min = 2 ** (1 / 6) * sigma

    def integrand(r):
        u = lj(r, epsilon_kT, sigma) + epsilon_kT
        return -np.expm1(-u) if u < 700 else 1.0

    return quad(integrand, 1e-6 * sigma, r_min, limit=200)[0]
