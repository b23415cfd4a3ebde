"""A tabulated pair potential u_ab(r), in DeePMD-kit's pair-table file format.

The file (DeePMD-kit's ``pairtab`` / ``use_srtab`` table) is plain text: the first column is r (Å)
on a uniform grid, then one column of u (eV) per type pair in the order 00, 01, …, 0(n−1), 11,
12, …, (n−1)(n−1). u is a cubic spline through the points; beyond the last r it is zero, so a
table should end at 0 (the force-matched tables of :mod:`deeppot.cg.pair_fit` do, smoothly).

Why here: a coarse-grained model learns its many-body part far better on top of a pair prior
(the multiscale-CG pair potential fitted first, the network trained on what is left): force
matching on noisy forces otherwise leaves the short-range repulsion poorly determined and the
liquid can collapse. ``deeppot md`` adds the table to any potential with the input key
``pair_table``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from deeppot.core.neighbor import Edges
from deeppot.errors import ConfigError
from deeppot.potentials.base import Potential, pair_sum


def pair_columns(ntypes: int) -> list[tuple[int, int]]:
    """Type pairs (a ≤ b) in the table's column order."""
    return [(a, b) for a in range(ntypes) for b in range(a, ntypes)]


def ntypes_of_columns(ncol: int) -> int | None:
    """n with n(n+1)/2 == ncol, or None."""
    n = int(round((np.sqrt(8 * ncol + 1) - 1) / 2))
    return n if n * (n + 1) // 2 == ncol else None


def read_pair_table(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(r (m,), u (m, ncol)) from a table file, checked; :class:`ConfigError` naming the file otherwise."""
    path = Path(path)
    try:
        data = np.loadtxt(path, comments="#", ndmin=2)
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: cannot read the pair table ({err})") from None
    if data.shape[0] < 4 or data.shape[1] < 2:
        raise ConfigError(f"{path}: a pair table needs ≥ 4 rows of r and u columns, got shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise ConfigError(f"{path}: the pair table has non-finite values")
    r = data[:, 0]
    step = np.diff(r)
    if r[0] < 0 or np.any(step <= 0) or np.ptp(step) > 1e-6 * max(abs(step.mean()), 1e-12) + 1e-9:
        raise ConfigError(f"{path}: the first column (r, Å) must be a uniform increasing grid from r ≥ 0")
    if ntypes_of_columns(data.shape[1] - 1) is None:
        raise ConfigError(f"{path}: {data.shape[1] - 1} energy columns is not n(n+1)/2 for any number of types n")
    return r, data[:, 1:]


def write_pair_table(path: str | Path, r: np.ndarray, u: np.ndarray, header: str = "") -> None:
    """Write a table (atomically: a reader never sees half a file)."""
    from deeppot.fileio import atomic_path

    u = np.asarray(u).reshape(len(r), -1)
    with atomic_path(Path(path)) as tmp:
        np.savetxt(tmp, np.column_stack([r, u]), fmt="%.10e", header=header)


class PairTable(Potential):
    """Σ_{i<j} u_{t_i t_j}(r_ij) from a table, cubic-spline interpolated, zero beyond the last r."""

    #: the engine's Verlet pairs (within rcut + skin) will do: u is 0 beyond rcut
    takes_edges = True

    def __init__(self, r: np.ndarray, u: np.ndarray, type_map: list[str] | None = None, source: str = ""):
        from scipy.interpolate import CubicSpline

        u = np.asarray(u, dtype=np.float64).reshape(len(r), -1)
        ntypes = ntypes_of_columns(u.shape[1])
        if ntypes is None:
            raise ConfigError(f"{source or 'pair table'}: {u.shape[1]} columns is not n(n+1)/2")
        if type_map is not None and len(type_map) != ntypes:
            raise ConfigError(f"{source or 'pair table'}: {ntypes} types in the table, type_map {type_map} has "
                              f"{len(type_map)}")
        self.type_map = list(type_map) if type_map else None
        self.r0, self.dr, self.rcut = float(r[0]), float(r[1] - r[0]), float(r[-1])
        self.source = source
        # (columns, segments, 4) coefficients of u = c0 t^3 + c1 t^2 + c2 t + c3 on [r_k, r_k+1), t = r - r_k
        coef = np.stack([CubicSpline(r, u[:, c], bc_type="not-a-knot").c.T for c in range(u.shape[1])])
        self.coef = torch.as_tensor(coef, dtype=torch.float64)
        self.column = torch.zeros(ntypes, ntypes, dtype=torch.long)
        for k, (a, b) in enumerate(pair_columns(ntypes)):
            self.column[a, b] = self.column[b, a] = k
        self.digest = hashlib.sha256(np.ascontiguousarray(np.column_stack([r, u])).tobytes()).hexdigest()[:16]

    @classmethod
    def from_file(cls, path: str | Path, type_map: list[str] | None = None) -> PairTable:
        r, u = read_pair_table(path)
        return cls(r, u, type_map, source=str(path))

    def identity(self) -> dict:
        return {"class": "PairTable", "sha256_16": self.digest, "type_map": self.type_map}

    def pair_energy(self, r: torch.Tensor, column: torch.Tensor) -> torch.Tensor:
        """u(r) per pair; below the first grid point the first cubic is extended, beyond rcut 0."""
        nseg = self.coef.shape[1]
        k = torch.clamp(torch.floor((r - self.r0) / self.dr).long(), 0, nseg - 1)
        t = r - (self.r0 + k * self.dr)
        c = self.coef.to(r.device)[column, k]
        u = ((c[:, 0] * t + c[:, 1]) * t + c[:, 2]) * t + c[:, 3]
        return torch.where(r < self.rcut, u, torch.zeros_like(u))

    def compute(self, positions, cell, atype, edges: Edges | None = None):
        n = positions.shape[0]
        atype = (atype.to(torch.long) if atype is not None
                 else torch.zeros(n, dtype=torch.long, device=positions.device))
        if int(atype.max()) >= self.column.shape[0]:
            raise ConfigError(f"{self.source or 'pair table'}: atom type {int(atype.max())} has no column "
                              f"({self.column.shape[0]} types in the table)")
        return pair_sum(positions, cell, self.rcut,
                        lambda r, i, j: self.pair_energy(r, self.column[atype[i], atype[j]]), edges)
