"""Atomistic systems with known coarse-grained answers."""

from __future__ import annotations

import numpy as np
import torch

from deeppot.data.system import System
from deeppot.potentials.lj import LennardJones

KB_EV_K = 8.617333262e-5
ARGON = {"epsilon_eV": 0.0104, "sigma_A": 3.4, "rcut_A": 7.0}


def argon_lattice(rng: np.random.Generator, cells: int = 3, a: float = 5.4, jitter: float = 0.15):
    """fcc argon (4·cells³ atoms) with random displacements; positions, cubic box."""
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.array([[i, j, k] for i in range(cells) for j in range(cells) for k in range(cells)])
    pos = ((grid[:, None, :] + base[None]) * a).reshape(-1, 3)
    return pos + rng.normal(0, jitter, pos.shape), np.eye(3) * a * cells


def lj_forces(pos: np.ndarray, box: np.ndarray, lj: LennardJones | None = None) -> np.ndarray:
    lj = lj or LennardJones(**ARGON)
    out = lj.compute(torch.as_tensor(pos), torch.as_tensor(box), torch.zeros(len(pos), dtype=torch.long))
    return out["force"].numpy()


def argon_system(nframes: int = 3, seed: int = 0) -> System:
    """LJ argon frames labelled with their exact LJ forces."""
    rng = np.random.default_rng(seed)
    coord, box, force = [], [], []
    for _ in range(nframes):
        pos, cell = argon_lattice(rng)
        coord.append(pos)
        box.append(cell)
        force.append(lj_forces(pos, cell))
    n = len(coord[0])
    return System("argon", ["Ar"], np.zeros(n, dtype=np.int64), np.array(coord), np.array(box),
                  force=np.array(force))


def satellite_system(nframes: int, k_spring: float, temperature_K: float, seed: int = 0):
    """Argon atoms each carrying a He satellite on a harmonic spring (k, eV/Å²) that feels nothing else.

    Satellites are drawn from their exact Boltzmann distribution (Gaussian, variance kT/k per
    component) around the argon atom, so the mean force on argon at fixed argon positions is the
    LJ force and its noise k(r_s − r_Ar) has variance k·kT per component. Atoms are ordered
    Ar, He, Ar, He, ... Returns (system, exact LJ forces on the argon atoms).
    """
    rng = np.random.default_rng(seed)
    kT = KB_EV_K * temperature_K
    coord, box, force, exact = [], [], [], []
    for _ in range(nframes):
        ar, cell = argon_lattice(rng)
        stretch = rng.normal(0, np.sqrt(kT / k_spring), ar.shape)
        f_lj = lj_forces(ar, cell)
        pos = np.empty((2 * len(ar), 3))
        f = np.empty_like(pos)
        pos[0::2], pos[1::2] = ar, ar + stretch
        f[0::2], f[1::2] = f_lj + k_spring * stretch, -k_spring * stretch
        coord.append(pos)
        box.append(cell)
        force.append(f)
        exact.append(f_lj)
    n = len(coord[0])
    atype = np.tile([0, 1], n // 2)
    system = System("satellites", ["Ar", "He"], atype, np.array(coord), np.array(box), force=np.array(force))
    return system, np.array(exact)
