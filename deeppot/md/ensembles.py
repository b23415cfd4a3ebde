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

import difflib
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from ase import units

from deeppot.errors import ConfigError
from deeppot.md.state import MDState
from deeppot.units import BAR_EV_PER_A3, KB_EV_PER_K


@dataclass(frozen=True)
class Option:
    """An ensemble option: type, default, range and meaning (the md input and ``md --keys`` use it)."""

    kind: type
    default: Any
    doc: str
    gt: float | None = None  # value must be > gt
    ge: float | None = None  # value must be ≥ ge

    def check(self, name: str, value: Any) -> Any:
        numeric = self.kind in (int, float)
        ok = isinstance(value, self.kind) and not (numeric and isinstance(value, bool))
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise ConfigError(f"{name}: {value!r} is not {_KIND_TEXT[self.kind]}")
        if numeric and not math.isfinite(value):
            raise ConfigError(f"{name}: {value!r} is not a finite number")
        if self.gt is not None and not value > self.gt:
            raise ConfigError(f"{name}: {value!r} must be > {self.gt:g}")
        if self.ge is not None and not value >= self.ge:
            raise ConfigError(f"{name}: {value!r} must be ≥ {self.ge:g}")
        return value


_KIND_TEXT = {float: "a number", int: "an integer", bool: "true or false"}

#: every ensemble option; each ensemble declares which of them it takes (``Ensemble.options``)
OPTIONS: dict[str, Option] = {
    "tau_t_fs": Option(float, 100.0, "thermostat time constant, fs (Langevin: friction = 1/tau_t_fs)", gt=0),
    "friction_per_fs": Option(float, None, "Langevin friction, 1/fs (instead of tau_t_fs)", gt=0),
    "chain_length": Option(int, 3, "Nosé–Hoover chain length", ge=1),
    "pressure_bar": Option(float, 1.0, "barostat target, bar"),
    "tau_p_fs": Option(float, 1000.0, "barostat time constant, fs", gt=0),
    "compressibility_per_bar": Option(float, 4.5e-5, "isothermal compressibility for the barostat, 1/bar", gt=0),
    "anisotropic": Option(bool, False, "rescale the three cell axes independently"),
}


def kick(state: MDState, dt: float) -> None:
    state.momenta += dt * state.forces


def drift(state: MDState, dt: float) -> None:
    state.positions += dt * state.momenta / state.masses[:, None]


class Ensemble:
    name = "nve"
    fix_com = True
    #: names of the :data:`OPTIONS` this ensemble takes; any other option is an error
    options: ClassVar[tuple[str, ...]] = ()
    needs_temperature: ClassVar[bool] = False

    def __init__(self, timestep_fs: float, temperature_K: float | None = None, seed: int = 0,
                 fix_com: bool | None = None, **options):
        """``fix_com``: whether total momentum is conserved (3N − 3 degrees of freedom); defaults to
        the ensemble's own property, but a potential that is not translation invariant (walls,
        tethers) needs False. ``options``: the ensemble's declared options (``None`` = default)."""
        if fix_com is not None:
            self.fix_com = fix_com
        Option(float, None, "", gt=0).check("timestep_fs", timestep_fs)
        if temperature_K is not None:
            Option(float, None, "", ge=0).check("temperature_K", temperature_K)
        elif self.needs_temperature:
            raise ConfigError(f"ensemble {self.name} needs temperature_K")
        self.opts = self.resolve_options(options)
        self.dt = timestep_fs * units.fs
        self.kT = None if temperature_K is None else temperature_K * KB_EV_PER_K
        self.rng = np.random.default_rng(seed)

    @classmethod
    def resolve_options(cls, given: dict) -> dict:
        """Declared options with defaults filled; an undeclared or invalid option is a ConfigError."""
        out = {name: OPTIONS[name].default for name in cls.options}
        for name, value in given.items():
            if value is None:
                continue
            if name not in cls.options:
                close = difflib.get_close_matches(name, list(cls.options), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                takes = ", ".join(cls.options) or "no options"
                raise ConfigError(f"{name}: not an option of ensemble {cls.name}{hint} (it takes: {takes})")
            out[name] = OPTIONS[name].check(name, value)
        return out

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
    options = ("tau_t_fs", "friction_per_fs")
    needs_temperature = True

    def __init__(self, timestep_fs, temperature_K=None, seed=0, fix_com=None, **options):
        super().__init__(timestep_fs, temperature_K, seed, fix_com, **options)
        if options.get("friction_per_fs") is not None and options.get("tau_t_fs") is not None:
            raise ConfigError("friction_per_fs: give tau_t_fs or friction_per_fs for nvt-langevin, not both")
        friction = self.opts["friction_per_fs"] or 1.0 / self.opts["tau_t_fs"]
        self.gamma = friction / units.fs

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
    options = ("tau_t_fs",)
    needs_temperature = True

    def __init__(self, timestep_fs, temperature_K=None, seed=0, fix_com=None, **options):
        super().__init__(timestep_fs, temperature_K, seed, fix_com, **options)
        self.c = math.exp(-timestep_fs / self.opts["tau_t_fs"])

    def thermostat(self, state):
        target = 0.5 * state.dof * self.kT
        self._rescale(state, bussi_alpha(state.kinetic_eV, target, state.dof, self.c, self.rng))

    def step(self, state, compute):
        super().step(state, compute)
        self.thermostat(state)


class Berendsen(Ensemble):
    name = "nvt-berendsen"
    options = ("tau_t_fs",)
    needs_temperature = True

    def __init__(self, timestep_fs, temperature_K=None, seed=0, fix_com=None, **options):
        super().__init__(timestep_fs, temperature_K, seed, fix_com, **options)
        self.ratio = timestep_fs / self.opts["tau_t_fs"]
        self.target_K = temperature_K

    def step(self, state, compute):
        super().step(state, compute)
        lam = math.sqrt(max(1 + self.ratio * (self.target_K / max(state.temperature_K, 1e-10) - 1), 0.0))
        self._rescale(state, lam)


class NoseHooverChain(Ensemble):
    name = "nvt-nhc"
    options = ("tau_t_fs", "chain_length")
    needs_temperature = True

    def __init__(self, timestep_fs, temperature_K=None, seed=0, fix_com=None, **options):
        super().__init__(timestep_fs, temperature_K, seed, fix_com, **options)
        self.tau = self.opts["tau_t_fs"] * units.fs
        self.m = self.opts["chain_length"]

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
    options = ("tau_t_fs", "pressure_bar", "tau_p_fs", "compressibility_per_bar", "anisotropic")

    def __init__(self, timestep_fs, temperature_K=None, seed=0, fix_com=None, **options):
        super().__init__(timestep_fs, temperature_K, seed, fix_com, **options)
        self.p0 = self.opts["pressure_bar"] * BAR_EV_PER_A3
        self.beta = self.opts["compressibility_per_bar"] / BAR_EV_PER_A3  # Å^3/eV
        self.tau_p = self.opts["tau_p_fs"] * units.fs
        self.anisotropic = self.opts["anisotropic"]

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
