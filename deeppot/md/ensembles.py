"""Integrators built from small steps, and the ensembles made of them.

Every ensemble advances an :class:`~deeppot.md.state.MDState` by one step given a callable
that recomputes forces, and reports a conserved quantity (eV) whose drift measures the
integration error:

=============== ====================================================== ===========================
name            scheme                                                 conserved quantity
=============== ====================================================== ===========================
nve             velocity Verlet (B A·A B)                              K + U
nvt-langevin    BAOAB (Leimkuhler & Matthews 2013), friction γ         K + U − Σ ΔK(O steps)
nvt-bussi       Verlet + stochastic velocity rescaling (Bussi 2007)    K + U − Σ ΔK(thermostat)
nvt-nhc         Verlet inside a Nosé–Hoover chain (Martyna 1996)       K + U + Σ p_ξ²/2Q + N_f kT ξ₁ + kT Σ ξ_j
nvt-berendsen   Verlet + weak coupling (equilibration only)            K + U − Σ ΔK(thermostat)
npt-csr         Verlet + Bussi thermostat + stochastic cell rescaling  K + U + P₀V − Σ heat − Σ cell work
                (Bernetti & Bussi, JCP 153, 114107 (2020))
=============== ====================================================== ===========================

Symbols ↔ code: p ``state.momenta``, m ``state.masses``, F ``state.forces``, dt ``self.dt``
(ASE time units), kT ``self.kT`` (eV), τ ``tau`` (ASE time units).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from ase import units

from deeppot.md.state import MDState
from deeppot.units import BAR_EV_PER_A3, KB_EV_PER_K


def kick(state: MDState, dt: float) -> None:
    state.momenta += dt * state.forces


def drift(state: MDState, dt: float) -> None:
    state.positions += dt * state.momenta / state.masses[:, None]


class Ensemble:
    name = "nve"
    fix_com = True

    def __init__(self, timestep_fs: float, temperature_K: float | None = None, seed: int = 0,
                 fix_com: bool | None = None, **_):
        """``fix_com``: whether total momentum is conserved (3N − 3 degrees of freedom); defaults to
        the ensemble's own property, but a potential that is not translation invariant (walls,
        tethers) needs False."""
        if fix_com is not None:
            self.fix_com = fix_com
        self.dt = timestep_fs * units.fs
        self.kT = None if temperature_K is None else temperature_K * KB_EV_PER_K
        self.rng = np.random.default_rng(seed)

    def init(self, state: MDState) -> None:
        state.extra.setdefault("heat", 0.0)
        state.extra["fix_com"] = self.fix_com

    def step(self, state: MDState, compute) -> None:
        kick(state, 0.5 * self.dt)
        drift(state, self.dt)
        compute(state)
        kick(state, 0.5 * self.dt)

    def conserved(self, state: MDState) -> float:
        return state.kinetic_eV + state.energy - state.extra.get("heat", 0.0)

    # thermostat helpers
    def _rescale(self, state: MDState, alpha: float) -> None:
        before = state.kinetic_eV
        state.momenta *= alpha
        state.extra["heat"] += state.kinetic_eV - before

    def rng_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_rng_state(self, s: dict) -> None:
        self.rng.bit_generator.state = s


class Langevin(Ensemble):
    name = "nvt-langevin"
    fix_com = False

    def __init__(self, timestep_fs, temperature_K, seed=0, friction_per_fs=0.01, **kw):
        super().__init__(timestep_fs, temperature_K, seed, **kw)
        self.gamma = friction_per_fs / units.fs

    def step(self, state, compute):
        kick(state, 0.5 * self.dt)
        drift(state, 0.5 * self.dt)
        c1 = math.exp(-self.gamma * self.dt)
        noise = torch.as_tensor(self.rng.standard_normal(state.momenta.shape))
        before = state.kinetic_eV
        state.momenta = c1 * state.momenta + math.sqrt((1 - c1 * c1) * self.kT) * torch.sqrt(
            state.masses)[:, None] * noise
        state.extra["heat"] += state.kinetic_eV - before
        drift(state, 0.5 * self.dt)
        compute(state)
        kick(state, 0.5 * self.dt)


def bussi_alpha(kinetic: float, target: float, dof: int, c: float, rng: np.random.Generator) -> float:
    """Velocity scaling factor of the stochastic velocity-rescaling thermostat (Bussi 2007)."""
    r1 = rng.standard_normal()
    chi = 2.0 * rng.standard_gamma(0.5 * (dof - 1)) if dof > 1 else 0.0
    new = (kinetic + (1 - c) * (target * (r1 * r1 + chi) / dof - kinetic)
           + 2 * r1 * math.sqrt(c * (1 - c) * kinetic * target / dof))
    alpha = math.sqrt(max(new, 0.0) / kinetic)
    if r1 + math.sqrt(c * dof * kinetic / ((1 - c) * target)) < 0:
        alpha = -alpha
    return alpha


class Bussi(Ensemble):
    name = "nvt-bussi"

    def __init__(self, timestep_fs, temperature_K, seed=0, tau_t_fs=100.0, **kw):
        super().__init__(timestep_fs, temperature_K, seed, **kw)
        self.c = math.exp(-timestep_fs / tau_t_fs)

    def thermostat(self, state):
        target = 0.5 * state.dof * self.kT
        self._rescale(state, bussi_alpha(state.kinetic_eV, target, state.dof, self.c, self.rng))

    def step(self, state, compute):
        super().step(state, compute)
        self.thermostat(state)


class Berendsen(Ensemble):
    name = "nvt-berendsen"

    def __init__(self, timestep_fs, temperature_K, seed=0, tau_t_fs=100.0, **kw):
        super().__init__(timestep_fs, temperature_K, seed, **kw)
        self.ratio = timestep_fs / tau_t_fs
        self.target_K = temperature_K

    def step(self, state, compute):
        super().step(state, compute)
        lam = math.sqrt(max(1 + self.ratio * (self.target_K / max(state.temperature_K, 1e-10) - 1), 0.0))
        self._rescale(state, lam)


class NoseHooverChain(Ensemble):
    name = "nvt-nhc"

    def __init__(self, timestep_fs, temperature_K, seed=0, tau_t_fs=100.0, chain_length=3, **kw):
        super().__init__(timestep_fs, temperature_K, seed, **kw)
        self.tau = tau_t_fs * units.fs
        self.m = chain_length

    def init(self, state):
        super().init(state)
        state.extra.setdefault("xi", np.zeros(self.m))
        state.extra.setdefault("v_xi", np.zeros(self.m))
        q = np.full(self.m, self.kT * self.tau**2)
        q[0] *= state.dof
        self.q = q

    def _chain(self, state, dt):
        """Propagate the chain and scale momenta over ``dt`` (Martyna–Tuckerman–Klein, one sweep)."""
        xi, v, q, kT = state.extra["xi"], state.extra["v_xi"], self.q, self.kT
        k2 = 2.0 * state.kinetic_eV
        m = self.m

        def force(j, k2):
            return (k2 - state.dof * kT) / q[0] if j == 0 else (q[j - 1] * v[j - 1] ** 2 - kT) / q[j]

        v[m - 1] += 0.5 * dt * force(m - 1, k2)
        for j in range(m - 2, -1, -1):
            v[j] *= math.exp(-0.25 * dt * v[j + 1])
            v[j] += 0.5 * dt * force(j, k2)
            v[j] *= math.exp(-0.25 * dt * v[j + 1])
        scale = math.exp(-dt * v[0])
        state.momenta *= scale
        k2 *= scale * scale
        xi += dt * v
        for j in range(m - 1):
            v[j] *= math.exp(-0.25 * dt * v[j + 1])
            v[j] += 0.5 * dt * force(j, k2)
            v[j] *= math.exp(-0.25 * dt * v[j + 1])
        v[m - 1] += 0.5 * dt * force(m - 1, k2)

    def step(self, state, compute):
        self._chain(state, 0.5 * self.dt)
        super().step(state, compute)
        self._chain(state, 0.5 * self.dt)

    def conserved(self, state):
        xi, v = state.extra["xi"], state.extra["v_xi"]
        return (state.kinetic_eV + state.energy + float(0.5 * (self.q * v * v).sum())
                + state.dof * self.kT * xi[0] + self.kT * float(xi[1:].sum()))


class StochasticCellRescaling(Bussi):
    """NPT: Bussi thermostat + stochastic cell rescaling, isotropic or per axis."""

    name = "npt-csr"

    def __init__(self, timestep_fs, temperature_K, seed=0, tau_t_fs=100.0, pressure_bar=1.0, tau_p_fs=1000.0,
                 compressibility_per_bar=4.5e-5, anisotropic=False, **kw):
        super().__init__(timestep_fs, temperature_K, seed, tau_t_fs, **kw)
        self.p0 = pressure_bar * BAR_EV_PER_A3
        self.beta = compressibility_per_bar / BAR_EV_PER_A3  # Å^3/eV
        self.tau_p = tau_p_fs * units.fs
        self.anisotropic = anisotropic

    def _barostat(self, state):
        vol = state.volume_A3
        kin = state.kinetic_tensor()
        dt, beta, tau, kT = self.dt, self.beta, self.tau_p, self.kT
        if self.anisotropic:
            p_int = torch.diagonal(kin + state.virial).numpy() / vol
            noise = self.rng.standard_normal(3)
            deps = (-(beta / tau) * (self.p0 - p_int - kT / vol) * dt
                    + math.sqrt(2 * kT * beta * dt / (vol * tau)) * noise)
        else:
            p_int = float(torch.trace(kin + state.virial)) / (3 * vol)
            noise = self.rng.standard_normal()
            deps = np.full(3, ((-(beta / tau) * (self.p0 - p_int - kT / vol) * dt
                                + math.sqrt(2 * kT * beta * dt / (vol * tau)) * noise) / 3.0))
        scale = torch.as_tensor(np.exp(deps))
        k_before = state.kinetic_eV
        state.positions *= scale
        state.cell = state.cell * scale
        state.momenta /= scale
        # first-order work of the rescaling on U, plus the exact change of K and of P0 V
        du = -float((torch.diagonal(state.virial) * torch.as_tensor(deps)).sum())
        state.extra["heat"] += state.kinetic_eV - k_before + du + self.p0 * (state.volume_A3 - vol)

    def step(self, state, compute):
        kick(state, 0.5 * self.dt)
        drift(state, self.dt)
        self._barostat(state)
        compute(state)
        kick(state, 0.5 * self.dt)
        self.thermostat(state)

    def conserved(self, state):
        return state.kinetic_eV + state.energy + self.p0 * state.volume_A3 - state.extra["heat"]


ENSEMBLES = {cls.name: cls for cls in (Ensemble, Langevin, Bussi, Berendsen, NoseHooverChain,
                                       StochasticCellRescaling)}
