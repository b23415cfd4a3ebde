"""Simulation: the loop that drives an ensemble, with observers, safety checks and outputs.

Observers are attached at intervals (ASE ``Dynamics.attach`` style) instead of growing
``run()`` arguments; thermo lines, trajectory frames and restart files are observers too.
A step that produces NaN, an exploding force or two atoms closer than ``min_distance_A``
stops the run with a one-line :class:`~deeppot.errors.SimulationError` naming the atoms, after
writing the last good frame. The initial structure goes through the same checks (distances
before the potential is ever called, so overlapping atoms are named rather than turned into NaN).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np
import torch

from deeppot.core.neighbor import build_edges, check_positions
from deeppot.data.type_map import resolve_type_map, types_of
from deeppot.errors import DataError, SimulationError
from deeppot.md.ensembles import ENSEMBLES
from deeppot.md.neighbors import VerletList
from deeppot.md.state import MDState
from deeppot.potentials.base import Potential
from deeppot.progress import Progress
from deeppot.units import KB_EV_PER_K

log = logging.getLogger("deeppot.md")


def maxwell_boltzmann(masses: torch.Tensor, temperature_K: float, rng: np.random.Generator) -> torch.Tensor:
    """Momenta drawn at temperature_K with zero total momentum (amu·Å/ASE-time)."""
    kT = temperature_K * KB_EV_PER_K
    p = torch.as_tensor(rng.standard_normal((len(masses), 3))) * torch.sqrt(masses * kT)[:, None]
    return p - masses[:, None] * (p.sum(0) / masses.sum())


class Simulation:
    def __init__(self, state: MDState, potential: Potential, ensemble: str = "nve", timestep_fs: float = 0.5,
                 temperature_K: float | None = None, seed: int = 0, skin_A: float = 1.0,
                 max_force_eV_A: float = 100.0, min_distance_A: float = 0.5, max_devi_f_stop: float | None = None,
                 resume: bool = False, **ensemble_options):
        """``resume``: the state comes from a restart file, so observers already saw its step."""
        if ensemble not in ENSEMBLES:
            from deeppot.errors import ConfigError

            raise ConfigError(f"unknown ensemble {ensemble!r}; choose from {', '.join(ENSEMBLES)}")
        if ensemble != "nve" and temperature_K is None:
            from deeppot.errors import ConfigError

            raise ConfigError(f"ensemble {ensemble} needs temperature_K")
        if ensemble.startswith("npt") and state.cell is None:
            from deeppot.errors import ConfigError

            raise ConfigError("NPT needs a periodic cell")
        self.state = state
        self.potential = potential
        self.ensemble = ENSEMBLES[ensemble](timestep_fs=timestep_fs, temperature_K=temperature_K, seed=seed,
                                            **ensemble_options)
        self.timestep_fs = timestep_fs
        self.max_force = max_force_eV_A
        self.min_distance = min_distance_A
        self.max_devi_f_stop = max_devi_f_stop
        self.observers: list[tuple[Callable, int]] = []
        self.failure_hooks: list[Callable] = []
        self.verlet = VerletList(potential.rcut, skin_A) if potential.takes_edges and potential.rcut > 0 else None
        self.ensemble.init(state)
        self.force_time = 0.0
        self._started = resume
        if state.forces is None:
            self.compute(state, where="initial structure")

    @classmethod
    def from_atoms(cls, atoms, potential: Potential, temperature_K: float | None = None,
                   initial_temperature_K: float | None = None, seed: int = 0, **kw) -> Simulation:
        """Start from an ``ase.Atoms``; momenta from the atoms or drawn at the (initial) temperature."""
        symbols = atoms.get_chemical_symbols()
        type_map = resolve_type_map(potential.type_map, symbols)
        atype = torch.as_tensor(types_of(symbols, type_map, whose="the potential's"))
        masses = torch.as_tensor(atoms.get_masses(), dtype=torch.float64)
        momenta = torch.as_tensor(atoms.get_momenta(), dtype=torch.float64)
        t0 = initial_temperature_K if initial_temperature_K is not None else temperature_K
        if not momenta.abs().sum() and t0:
            momenta = maxwell_boltzmann(masses, t0, np.random.default_rng(seed + 7919))
        state = MDState(torch.as_tensor(atoms.get_positions(), dtype=torch.float64), momenta, masses,
                        atype,
                        torch.as_tensor(np.asarray(atoms.cell), dtype=torch.float64) if atoms.pbc.all() else None,
                        symbols)
        return cls(state, potential, temperature_K=temperature_K, seed=seed, **kw)

    def attach(self, fn: Callable[[Simulation], None], interval: int = 1) -> None:
        self.observers.append((fn, interval))

    # ----- forces and safety -------------------------------------------------------------
    def compute(self, state: MDState, where: str | None = None) -> None:
        where = where or f"step {state.step + 1}"
        t0 = time.perf_counter()
        try:
            check_positions(state.positions.numpy())
            edges = self.verlet.get(state.positions, state.cell) if self.verlet is not None else None
        except DataError as err:
            raise SimulationError(f"{where}: {err}") from None
        if self.min_distance > 0 and state.natoms > 1:
            self._check_distance(state, edges, where)
        if edges is not None:
            out = self.potential.compute(state.positions, state.cell, state.atype, edges=edges)
        else:
            out = self.potential.compute(state.positions, state.cell, state.atype)
        self.force_time += time.perf_counter() - t0
        self._check(out, where)
        state.forces = out["force"].to(torch.float64)
        state.energy = float(out["energy"])
        state.virial = out["virial"].to(torch.float64)
        state.extra["max_devi_f"] = float(out["max_devi_f"]) if "max_devi_f" in out else None

    def _check(self, out, where: str) -> None:
        finite = torch.isfinite(out["force"]).all(dim=1)
        if not (finite.all() and np.isfinite(float(out["energy"]))):
            bad = (~finite).nonzero().squeeze(1).tolist()
            shown = ", ".join(map(str, bad[:5])) + (" ..." if len(bad) > 5 else "")
            atoms = f" (forces on atom(s) {shown})" if bad else ""
            raise SimulationError(f"{where}: NaN or inf in energy/forces{atoms}")
        norms = torch.linalg.norm(out["force"], dim=1)
        k = int(torch.argmax(norms)) if len(norms) else 0
        if len(norms) and float(norms[k]) > self.max_force:
            raise SimulationError(f"{where}: force {float(norms[k]):.3g} eV/Å on atom {k} exceeds max_force_eV_A "
                                  f"{self.max_force:g}")
        devi = out.get("max_devi_f")
        if devi is not None and self.max_devi_f_stop is not None and float(devi) > self.max_devi_f_stop:
            raise SimulationError(f"{where}: model deviation {float(devi):.3g} eV/Å exceeds "
                                  f"max_devi_f_stop {self.max_devi_f_stop:g}")

    def _check_distance(self, state, edges, where: str) -> None:
        # reuse the Verlet list when there is one (it holds every pair within rcut + skin)
        if edges is None or self.verlet.rcut + self.verlet.skin < self.min_distance:
            edges = build_edges(state.positions, state.cell, self.min_distance)
        if not len(edges):
            return
        dist = torch.linalg.norm(edges.vectors(state.positions), dim=1)
        k = int(torch.argmin(dist))
        if float(dist[k]) < self.min_distance:
            i, j = int(edges.center[k]), int(edges.neighbor[k])
            raise SimulationError(f"{where}: atoms {i} and {j} are {float(dist[k]):.3f} Å apart "
                                  f"(< min_distance_A {self.min_distance:g})")

    # ----- loop ---------------------------------------------------------------------------
    def conserved_eV(self) -> float:
        return self.ensemble.conserved(self.state)

    def _snapshot(self) -> MDState:
        s = self.state
        return MDState(s.positions.clone(), s.momenta.clone(), s.masses, s.atype,
                       None if s.cell is None else s.cell.clone(), s.symbols, s.forces, s.energy, s.virial, s.step,
                       s.time_fs, dict(s.extra))

    def run(self, steps: int, progress: bool = False, stop: Callable[[], bool] | None = None) -> int:
        """Advance ``steps`` steps; return how many were done.

        ``stop`` is asked after every completed step (observers included); when it returns True
        the run ends there (a SIGTERM handler's flag, see :mod:`deeppot.interrupt`).
        """
        if not self._started and self.state.step == 0:
            self._notify()
        self._started = True
        with Progress(steps, "md", enabled=progress, logger=log) as bar:
            for k in range(steps):
                good = self._snapshot()
                try:
                    self.ensemble.step(self.state, self.compute)
                except SimulationError:
                    for hook in self.failure_hooks:
                        hook(good)
                    raise
                self.state.step += 1
                self.state.time_fs += self.timestep_fs
                self._notify()
                if progress and ((k + 1) % 50 == 0 or (k + 1) % bar.log_every == 0):
                    ns_day = (k + 1) * self.timestep_fs * 1e-6 / (bar.elapsed_s / 86400)
                    bar.show(T=f"{self.state.temperature_K:.0f}K", ns_day=f"{ns_day:.3f}")
                bar.update(1)
                if stop is not None and stop():
                    return k + 1
        return steps

    def _notify(self) -> None:
        for fn, interval in self.observers:
            if self.state.step % interval == 0:
                fn(self)
