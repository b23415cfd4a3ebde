"""Reusable physics checks for any energy model (finite differences, symmetries, smoothness).

Each check takes an ``energy_fn(positions (n,3), cell (3,3)|None) -> float`` or a model and
raises ``AssertionError`` with the measured discrepancy. Tests of every descriptor reuse them,
and downstream code can apply the same checks to its own models. float64 throughout.
"""

from __future__ import annotations

import numpy as np
import torch


def random_rotation(seed: int = 0) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.random(random_state=seed).as_matrix()


def water_cluster(n_molecules: int = 8, seed: int = 0, box_A: float = 7.0) -> tuple[np.ndarray, np.ndarray]:
    """Random, non-overlapping water molecules in a cube: positions (3m, 3) and types O=0, H=1."""
    rng = np.random.default_rng(seed)
    centers: list[np.ndarray] = []
    while len(centers) < n_molecules:
        c = rng.uniform(0.5, box_A - 0.5, size=3)
        if all(np.linalg.norm(c - o) > 2.6 for o in centers):
            centers.append(c)
    pos, types = [], []
    for c in centers:
        rot = random_rotation(int(rng.integers(1 << 30)))
        h1 = rot @ np.array([0.9572, 0.0, 0.0])
        h2 = rot @ np.array([0.9572 * np.cos(1.824), 0.9572 * np.sin(1.824), 0.0])
        pos += [c, c + h1, c + h2]
        types += [0, 1, 1]
    return np.array(pos), np.array(types)


def model_energy(model, pos, cell, atype) -> float:
    out = model(torch.as_tensor(pos)[None], torch.as_tensor(atype),
                None if cell is None else torch.as_tensor(cell)[None], forces=False)
    return float(out["energy"][0])


def model_outputs(model, pos, cell, atype, atomic=False) -> dict[str, np.ndarray]:
    out = model(torch.as_tensor(pos)[None], torch.as_tensor(atype),
                None if cell is None else torch.as_tensor(cell)[None], atomic=atomic)
    return {k: v[0].detach().numpy() for k, v in out.items()}


def fd_forces(model, pos, cell, atype, h: float = 1e-5) -> np.ndarray:
    """Central finite-difference forces −∂E/∂r (n, 3)."""
    forces = np.zeros_like(pos)
    for i in range(pos.shape[0]):
        for a in range(3):
            p, m = pos.copy(), pos.copy()
            p[i, a] += h
            m[i, a] -= h
            forces[i, a] = -(model_energy(model, p, cell, atype) - model_energy(model, m, cell, atype)) / (2 * h)
    return forces


def fd_virial(model, pos, cell, atype, h: float = 1e-5) -> np.ndarray:
    """Virial W = −∂E/∂ε by straining the box (and the atoms with it), central differences."""
    virial = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            energies = []
            for sign in (1, -1):
                strain = np.eye(3)
                strain[a, b] += sign * h
                energies.append(model_energy(model, pos @ strain, cell @ strain, atype))
            virial[a, b] = -(energies[0] - energies[1]) / (2 * h)
    return virial
