"""Build and run a classical-DFT calculation from a validated input (the CLI's engine, also a Python API)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeppot.cdft import external as ext
from deeppot.cdft.functionals import HardRods, HardSpheres, IdealGas, lj_fluid
from deeppot.cdft.grid import PlanarGrid
from deeppot.cdft.solver import Profile, solve
from deeppot.errors import ConfigError
from deeppot.schema.base import validate_section
from deeppot.schema.cdft import CdftInput


def build_functional(section):
    if section.type == "hard_rods":
        return HardRods(section.sigma)
    if section.type in ("white_bear", "rosenfeld"):
        return HardSpheres(section.sigma, section.type)
    if section.type == "ideal_gas":
        return IdealGas()
    return lj_fluid(section.epsilon_kT, section.sigma, section.rcut, section.shift)


def read_table(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        text = path.read_text().replace(",", " ")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror})") from None
    rows = [line.split() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    try:
        table = np.array([[float(x) for x in row[:2]] for row in rows if len(row) >= 2])
    except ValueError:
        raise ConfigError(f"{path}: expected two numeric columns z, beta*v") from None
    if table.ndim != 2 or table.shape[0] < 2:
        raise ConfigError(f"{path}: expected at least two rows of z, beta*v")
    return table[:, 0], table[:, 1]


def build_external(sections, grid: PlanarGrid, base: Path) -> np.ndarray:
    v = np.zeros(grid.n)
    for s in sections:
        if s.type == "hard_wall":
            v = v + ext.hard_wall(grid, s.contact, s.side)
        elif s.type == "lj93_wall":
            v = v + ext.lj93_wall(grid, s.position, s.epsilon_kT, s.sigma, s.side, s.cutoff)
        else:
            z, table = read_table(base / s.file)
            v = v + ext.tabulated(grid, z, table)
    return v


def run_input(cfg: dict, where: str = "cdft input", base: Path = Path(".")) -> tuple[Profile, CdftInput]:
    """Validate ``cfg`` and solve; returns the profile and the validated input."""
    inp = validate_section(CdftInput, cfg, where)
    grid = PlanarGrid(inp.grid.points, inp.grid.length, inp.grid.boundary, inp.grid.lanczos)
    functional = build_functional(inp.functional)
    v = build_external(inp.external, grid, base)
    s = inp.solver
    profile = solve(functional, grid, v, rho_bulk=inp.rho_bulk, mu_kT=inp.mu_kT, n_per_area=inp.n_per_area,
                    solver=s.method, tol=s.tol, max_iter=s.max_iter, damping=s.damping, history=s.history)
    return profile, inp
