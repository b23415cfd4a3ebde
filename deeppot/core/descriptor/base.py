"""What all descriptors share: the edge batch they read, normalisation buffers, statistics.

Normalisation statistics follow DeePMD-kit's ``EnvMatStatSe`` (SCIENCE.md §2.2): for each
centre type, all neighbour slots of all atoms of that type are pooled, *empty slots included
as zeros*; the radial column gets its own mean and std, the three angular columns share one
std and have zero mean. Stds are floored at 1e-2.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from deeppot.core.env_mat import env_mat_rows

STD_FLOOR = 1e-2
DEFAULT_STD = 0.1


@dataclass
class EdgeBatch:
    """Edges of one or more frames flattened into one graph.

    Attributes
    ----------
    rij : Tensor (E, 3)          pair vectors r_j - r_i (Å); may require grad
    center : LongTensor (E,)     centre atom, indexing ``atype`` (0..N-1)
    neighbor : LongTensor (E,)   neighbour atom (its own index; used for tie-breaks and forces)
    atype : LongTensor (N,)      type of every centre atom
    neighbor_types : LongTensor (E,), optional
        type of each neighbour; defaults to ``atype[neighbor]`` (when neighbours are centres too).
        Set it when the batch holds a subset of centres (chunked evaluation).
    """

    rij: torch.Tensor
    center: torch.Tensor
    neighbor: torch.Tensor
    atype: torch.Tensor
    neighbor_types: torch.Tensor | None = None

    @property
    def natoms(self) -> int:
        return int(self.atype.shape[0])

    @property
    def neighbor_type(self) -> torch.Tensor:
        return self.atype[self.neighbor] if self.neighbor_types is None else self.neighbor_types

    @property
    def center_type(self) -> torch.Tensor:
        return self.atype[self.center]


class Descriptor(nn.Module):
    """Base class: geometry hyper-parameters and ``davg``/``dstd`` buffers.

    ``davg``/``dstd`` keep DeePMD-kit's shape ``(ntypes, nnei, ncol)`` so models round-trip
    through ``.dp`` files; the edge-based evaluation uses one row per (centre type, neighbour
    type block), which DeePMD-kit's statistics always make identical across slots.
    """

    ncol: int = 4  # columns of the environment matrix

    def __init__(self, rcut: float, rcut_smth: float, sel: list[int], ntypes: int,
                 dtype=torch.float64, env_protection: float = 0.0, set_davg_zero: bool = False):
        super().__init__()
        self.rcut = float(rcut)
        self.rcut_smth = float(rcut_smth)
        self.sel = [int(s) for s in sel]
        self.ntypes = int(ntypes)
        self.nnei = int(sum(self.sel))
        self.env_protection = float(env_protection)
        self.set_davg_zero = bool(set_davg_zero)
        self.register_buffer("davg", torch.zeros(ntypes, self.nnei, self.ncol, dtype=dtype))
        self.register_buffer("dstd", torch.ones(ntypes, self.nnei, self.ncol, dtype=dtype))

    # ----- normalisation -----------------------------------------------------------------
    def block_stats(self) -> tuple[torch.Tensor, torch.Tensor]:
        """davg, dstd per (centre type, neighbour type): Tensors (ntypes, ntypes, ncol)."""
        start = torch.tensor([0, *self.sel[:-1]]).cumsum(0)
        return self.davg[:, start, :], self.dstd[:, start, :]

    def check_uniform_stats(self, where: str = "") -> None:
        """Edge evaluation needs davg/dstd constant within each neighbour-type block."""
        from deeppot.errors import ModelFileError

        bounds = [0, *torch.tensor(self.sel).cumsum(0).tolist()]
        for a, b in zip(bounds[:-1], bounds[1:]):
            for buf in (self.davg, self.dstd):
                block = buf[:, a:b, :]
                if not torch.equal(block, block[:, :1, :].expand_as(block)):
                    raise ModelFileError(f"{where}: davg/dstd vary across neighbour slots; unsupported")

    def raw_env_mat(self, rij: torch.Tensor) -> torch.Tensor:
        return env_mat_rows(rij, self.rcut_smth, self.rcut, radial_only=self.ncol == 1,
                            protection=self.env_protection)

    @torch.no_grad()
    def compute_input_stats(self, batches: list[EdgeBatch]) -> None:
        """Set davg/dstd from sampled data, as DeePMD-kit's EnvMatStatSe."""
        dtype = self.davg.dtype
        n = torch.zeros(self.ntypes, dtype=dtype)
        s_r = torch.zeros(self.ntypes, dtype=dtype)
        s2_r = torch.zeros(self.ntypes, dtype=dtype)
        s_a = torch.zeros(self.ntypes, dtype=dtype)
        s2_a = torch.zeros(self.ntypes, dtype=dtype)
        for batch in batches:
            rows = self.raw_env_mat(batch.rij.to(dtype))
            ti = batch.center_type
            # slots per type: every atom owns nnei slots; empty ones contribute zeros
            n += torch.bincount(batch.atype, minlength=self.ntypes).to(dtype) * self.nnei
            s_r.index_add_(0, ti, rows[:, 0])
            s2_r.index_add_(0, ti, rows[:, 0] ** 2)
            if self.ncol > 1:
                s_a.index_add_(0, ti, rows[:, 1:].sum(dim=1))
                s2_a.index_add_(0, ti, (rows[:, 1:] ** 2).sum(dim=1))
        davg = torch.zeros(self.ntypes, self.ncol, dtype=dtype)
        dstd = torch.full((self.ntypes, self.ncol), DEFAULT_STD, dtype=dtype)
        has = n > 0
        mean_r = torch.where(has, s_r / n.clamp(min=1), torch.zeros_like(n))
        std_r = torch.sqrt((s2_r / n.clamp(min=1) - mean_r**2).clamp(min=0))
        davg[:, 0] = mean_r
        dstd[:, 0] = torch.where(has, std_r.clamp(min=STD_FLOOR), dstd[:, 0])
        if self.ncol > 1:
            na = 3 * n
            mean_a = s_a / na.clamp(min=1)
            std_a = torch.sqrt((s2_a / na.clamp(min=1) - mean_a**2).clamp(min=0))
            dstd[:, 1:] = torch.where(has, std_a.clamp(min=STD_FLOOR), dstd[:, 1])[:, None]
        if self.set_davg_zero:
            davg.zero_()
        self.davg.copy_(davg[:, None, :].expand_as(self.davg))
        self.dstd.copy_(dstd[:, None, :].expand_as(self.dstd))

    def normalized_rows(self, batch: EdgeBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """R̃ for every edge, and for an empty slot per (centre type, neighbour type).

        Returns (rows (E, ncol), pad_rows (ntypes, ntypes, ncol), neighbour counts (N, ntypes)).
        """
        davg, dstd = self.block_stats()
        ti, tj = batch.center_type, batch.neighbor_type
        rows = (self.raw_env_mat(batch.rij) - davg[ti, tj]) / dstd[ti, tj]
        pad_rows = -davg / dstd
        key = batch.center * self.ntypes + tj
        counts = torch.bincount(key, minlength=batch.natoms * self.ntypes).view(batch.natoms, self.ntypes)
        return rows, pad_rows, counts

    def forward(self, batch: EdgeBatch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def dim_out(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

