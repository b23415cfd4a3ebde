"""The pair prior of a CG model: multiscale coarse-graining (MS-CG) pair forces by linear least squares.

Force matching restricted to pair forces is linear (Izvekov & Voth, J. Chem. Phys. 123, 134105
(2005); Noid et al., J. Chem. Phys. 128, 244114 (2008)): with the pair force f_ab(r) = −u'_ab(r)
piecewise linear on a grid (hat functions), the force on site i,

    F_i = −Σ_j f_{t_i t_j}(r_ij) r̂_ij     (r̂_ij from i to j),

is a linear function of the node values, so the best pair forces in the force-matching sense
(SCIENCE.md §5.2) solve one least-squares problem; a small second-difference penalty keeps f
smooth where pairs are rare. f is pinned to 0 at the cutoff and u(r) = ∫_r^rc f is exact for the
piecewise-linear f. Below the closest pair the data saw (no information: g = 0 there) the table
continues with a stiff repulsion, so MD that strays there is pushed back instead of collapsing.

:func:`subtract_pair_forces` then gives the residual forces the network is trained on; at MD time
the table is added back (``deeppot md`` key ``pair_table``), so the CG potential is u_pair + E_DP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from deeppot.cg.noise import predicted_forces
from deeppot.core.neighbor import build_edges
from deeppot.data.system import System
from deeppot.errors import DataError
from deeppot.potentials.pair_table import PairTable, pair_columns, write_pair_table

log = logging.getLogger("deeppot.cg")


@dataclass
class PairFit:
    """The fitted pair forces and their table."""

    type_map: list[str]
    nodes: np.ndarray  # (K,) Å: grid of the piecewise-linear force, last node = rcut
    force: np.ndarray  # (pairs, K) eV/Å: f = −u' at the nodes (positive: repulsive)
    r_min_data: np.ndarray  # (pairs,) closest distance seen in the data, Å (inf: pair never seen)
    table_r: np.ndarray  # (m,) Å
    table_u: np.ndarray  # (m, pairs) eV
    loss_before: float  # ⟨|F|²⟩ per component, eV²/Å²
    loss_after: float  # ⟨|F − F_pair|²⟩ per component
    frames: int

    def potential(self) -> PairTable:
        return PairTable(self.table_r, self.table_u, self.type_map, source="fitted pair table")

    def write(self, path: str | Path) -> None:
        pairs = " ".join(f"{self.type_map[a]}-{self.type_map[b]}" for a, b in pair_columns(len(self.type_map)))
        header = (f"deeppot cg pair-fit: MS-CG pair table, types {' '.join(self.type_map)}; columns r/A then u/eV "
                  f"for pairs {pairs}; "
                  f"force-matching loss per component {self.loss_before:.6g} -> {self.loss_after:.6g} eV^2/A^2 "
                  f"over {self.frames} frames")
        write_pair_table(path, self.table_r, self.table_u, header)


def _hat(r: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left node index k and weights (1 − s, s) of r in [nodes[k], nodes[k+1])."""
    h = nodes[1] - nodes[0]
    x = (r - nodes[0]) / h
    k = np.clip(np.floor(x).astype(np.int64), 0, len(nodes) - 2)
    s = np.clip(x - k, 0.0, 1.0)
    return k, 1.0 - s, s


def fit_pair_forces(systems: list[System], rcut: float, *, dr: float = 0.05, smoothing: float = 1e-3,
                    wall_stiffness_eV_A2: float = 20.0, table_dr: float = 0.002, table_r_min: float = 0.5,
                    every: int = 1) -> PairFit:
    """MS-CG pair forces of CG systems with forces (all with the same type map)."""
    if not systems:
        raise DataError("pair fit: no systems")
    type_map = list(systems[0].type_map)
    for s in systems:
        if list(s.type_map) != type_map:
            raise DataError(f"{s.path}: type map {s.type_map} differs from {systems[0].path}'s {type_map}")
        if s.force is None:
            raise DataError(f"{s.path}: no forces (force.npy) to fit the pair forces to")
    ntypes = len(type_map)
    columns = pair_columns(ntypes)
    col = np.zeros((ntypes, ntypes), dtype=np.int64)
    for c, (a, b) in enumerate(columns):
        col[a, b] = col[b, a] = c
    nodes = np.arange(0.0, rcut + 1e-9, dr)
    nodes[-1] = rcut
    K = len(nodes)
    nparam = len(columns) * K
    ata = np.zeros((nparam, nparam))
    atb = np.zeros(nparam)
    ftf, ncomp, frames = 0.0, 0, 0
    r_min = np.full(len(columns), np.inf)
    for s in systems:
        for f in range(0, s.nframes, every):
            cell = None if s.box is None else s.box[f]
            edges = build_edges(s.coord[f], cell, rcut)
            vec = edges.vectors(torch.as_tensor(s.coord[f], dtype=torch.float64)).numpy()
            ci, nj = edges.center.numpy(), edges.neighbor.numpy()
            r = np.linalg.norm(vec, axis=1)
            unit = vec / r[:, None]
            c = col[s.atype[ci], s.atype[nj]]
            np.minimum.at(r_min, c, r)
            k, w0, w1 = _hat(r, nodes)
            rows = (ci[:, None] * 3 + np.arange(3)[None, :]) * nparam  # (E, 3): row of (site, component)
            flat = np.concatenate([(rows + (c * K + k)[:, None]).ravel(), (rows + (c * K + k + 1)[:, None]).ravel()])
            vals = np.concatenate([(-(w0[:, None] * unit)).ravel(), (-(w1[:, None] * unit)).ravel()])
            a = np.bincount(flat, vals, minlength=s.natoms * 3 * nparam).reshape(s.natoms * 3, nparam)
            y = s.force[f].reshape(-1)
            ata += a.T @ a
            atb += a.T @ y
            ftf += float(y @ y)
            ncomp += y.size
            frames += 1
    # f(rcut) = 0 and f only where pairs were seen (from the closest distance on): the rest is fixed
    free = np.zeros(nparam, dtype=bool)
    for c in range(len(columns)):
        if np.isfinite(r_min[c]):
            first = int(np.floor(r_min[c] / dr))
            free[c * K + first: c * K + K - 1] = True
    # second-difference smoothing, scaled to the data's curvature of the normal matrix
    second = np.diff(np.eye(K), 2, axis=0)  # (K-2, K): f[k-1] - 2 f[k] + f[k+1]
    d2 = np.kron(np.eye(len(columns)), second.T @ second)
    scale = np.mean(np.diag(ata)[free]) if free.any() else 1.0
    m = ata + smoothing * scale * d2
    coef = np.zeros(nparam)
    coef[free] = np.linalg.solve(m[np.ix_(free, free)], atb[free])
    loss_after = (ftf - 2 * coef @ atb + coef @ ata @ coef) / ncomp
    force = coef.reshape(len(columns), K)
    # the table: u(r) = ∫_r^rc f, f piecewise linear on the nodes; below the first free node a stiff wall
    table_r = np.arange(table_r_min, rcut + 1e-9, table_dr)
    table_r[-1] = rcut
    table_u = np.zeros((len(table_r), len(columns)))
    for c in range(len(columns)):
        f_nodes = force[c].copy()
        if np.isfinite(r_min[c]):
            first = int(np.floor(r_min[c] / dr))
            r0, f0 = nodes[first], f_nodes[first]
            below = nodes < r0
            f_nodes[below] = max(f0, 0.0) + wall_stiffness_eV_A2 * (r0 - nodes[below])
        f_table = np.interp(table_r, nodes, f_nodes)
        # cumulative trapezoid from rcut inwards (exact for piecewise-linear f on a grid refining the nodes)
        seg = 0.5 * (f_table[1:] + f_table[:-1]) * np.diff(table_r)
        table_u[:, c] = np.concatenate([np.cumsum(seg[::-1])[::-1], [0.0]])
    log.info("pair fit: %d frames, force-matching loss per component %.4g -> %.4g eV²/Å²", frames, ftf / ncomp,
             loss_after)
    return PairFit(type_map, nodes, force, r_min, table_r, table_u, ftf / ncomp, float(loss_after), frames)


def subtract_pair_forces(system: System, table: PairTable) -> System:
    """The system with the table's pair forces taken off its forces (what the network then learns)."""
    from dataclasses import replace

    if system.force is None:
        raise DataError(f"{system.path}: no forces to subtract the pair forces from")
    return replace(system, force=system.force - predicted_forces(system, table))
