"""The original Deep Potential descriptor (Zhang et al., PRL 120, 143001 (2018)): ``loc_frame``.

Each atom gets a local frame from two *axis atoms* chosen by ``axis_rule`` (SCIENCE.md §1.2);
neighbours are expressed in that frame. Per neighbour type, the ``sel_a[t]`` nearest
neighbours carry full information and the next ``sel_r[t]`` radial information only
(DeePMD-kit ``descrpt.cc`` / ``ComputeDescriptor.h``, default build):

* full slot:   ``(1/r, z'/r², x'/r², y'/r²)`` (note the order z, x, y and the 1/r² scaling);
* radial slot: ``(1/r)``; empty slots are 0 before normalisation.

The descriptor is *not* smooth: it jumps when neighbours or axis atoms change order or
cross ``rcut``, which is why DeepPot-SE replaced it. Forces are still exact derivatives of
the piecewise-smooth energy. Normalisation is per centre type and per descriptor element
(mean, std floored at 1e-2; ``loc_frame.py::compute_input_stats``).

``axis_rule`` holds 6 integers per centre type: (class, type, index) for each axis, class 0
for the full list and 1 for the radial list, index the distance rank among same-class,
same-type neighbours. A negative type −(t+1) means "any type but t": the index-th nearest
among the first three candidates of every other type. If the two axes are antiparallel
(|cos θ + 1| < 1e-4) the next candidate is used for the second axis, as DeePMD-kit does.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import torch
from pydantic import Field
from torch import nn

from deeppot.core.descriptor.base import STD_FLOOR, Descriptor, EdgeBatch
from deeppot.core.descriptor.registry import register
from deeppot.core.neighbor import slot_index
from deeppot.core.network_io import as_numpy, dtype_of, precision_name
from deeppot.errors import ConfigError, DataError
from deeppot.model.limits import MAX_NNEI, MAX_NTYPES, MAX_RCUT, MAX_SEL, Checker, check_sel
from deeppot.schema.base import validate_section
from deeppot.schema.descriptor import Cutoff, DescriptorSection

PerType = list[Annotated[int, Field(ge=0, le=MAX_SEL)]]


class LocFrameConfig(DescriptorSection):
    NOT_YET: ClassVar[dict[str, tuple]] = {"exclude_types": ([],)}
    PER_TYPE: ClassVar[dict[str, int]] = {"sel_a": 1, "sel_r": 1, "axis_rule": 6}
    type: Literal["loc_frame"] = Field(description="descriptor type")
    rcut: Cutoff = Field(6.0, description="cutoff radius, Å")
    sel_a: PerType = Field(description="full-information neighbours per type")
    sel_r: PerType = Field(description="radial-only neighbours per type")
    axis_rule: list[int] = Field(description="6 integers per type choosing the two axis atoms")
    seed: int | None = Field(None, ge=0, description="random seed (no trainable descriptor weights)")


@register
class DescriptorLocFrame(Descriptor):
    type_name = "loc_frame"
    Config = LocFrameConfig

    def __init__(self, rcut: float, sel_a: list[int], sel_r: list[int], axis_rule: list[int], ntypes: int,
                 dtype=torch.float64):
        super().__init__()
        if len(sel_a) != ntypes or len(sel_r) != ntypes:
            raise ValueError(f"loc_frame: sel_a and sel_r need {ntypes} entries each")
        if len(axis_rule) != 6 * ntypes:
            raise ValueError(f"loc_frame: axis_rule needs 6 integers per type ({6 * ntypes}), got {len(axis_rule)}")
        self.rcut = float(rcut)
        self.sel_a = [int(s) for s in sel_a]
        self.sel_r = [int(s) for s in sel_r]
        self.axis_rule = [int(a) for a in axis_rule]
        self.ntypes = ntypes
        self.nnei_a = sum(self.sel_a)
        self.nnei_r = sum(self.sel_r)
        ndescrpt = 4 * self.nnei_a + self.nnei_r
        self.register_buffer("davg", torch.zeros(ntypes, ndescrpt, dtype=dtype))
        self.register_buffer("dstd", torch.ones(ntypes, ndescrpt, dtype=dtype))
        self.embeddings = nn.ModuleList()

    @property
    def sel(self) -> list[int]:
        """Neighbours used per type (full + radial); more within rcut is an overflow."""
        return [a + r for a, r in zip(self.sel_a, self.sel_r)]

    @property
    def dim_out(self) -> int:
        return 4 * self.nnei_a + self.nnei_r

    # ----- geometry ------------------------------------------------------------------------
    def _ranks(self, batch: EdgeBatch) -> torch.Tensor:
        """Distance rank of every edge among same-type neighbours of its centre (0-based)."""
        distance = torch.linalg.norm(batch.rij.detach(), dim=1)
        big = [10**9] * self.ntypes  # rank without truncation: slots are rank + block offset
        slot = slot_index(batch.center, batch.neighbor, batch.neighbor_type, distance, big)
        offset = torch.arange(self.ntypes, device=slot.device) * big[0]
        return slot - offset[batch.neighbor_type]

    def _axis_edge(self, batch: EdgeBatch, rank: torch.Tensor, cls: int, typ: int, index: int,
                   centers: torch.Tensor) -> torch.Tensor:
        """Edge index of the axis atom for each centre in ``centers`` (-1 where missing)."""
        natoms = batch.natoms
        tj = batch.neighbor_type
        if typ >= 0:
            class_rank = rank - (self.sel_a[typ] if cls == 1 else 0)
            limit = self.sel_a[typ] if cls == 0 else self.sel_r[typ]
            hit = (tj == typ) & (class_rank == index) & (class_rank < limit) & (class_rank >= 0)
            table = torch.full((natoms,), -1, dtype=torch.long, device=rank.device)
            table[batch.center[hit]] = torch.nonzero(hit).squeeze(1)
            return table[centers]
        excluded = -typ - 1
        # candidates: the first three of each other type in the class, then by distance
        out = torch.full((centers.shape[0],), -1, dtype=torch.long, device=rank.device)
        distance = torch.linalg.norm(batch.rij.detach(), dim=1)
        for k, c in enumerate(centers.tolist()):
            mask = (batch.center == c) & (tj != excluded)
            base = torch.as_tensor([0 if cls == 0 else self.sel_a[t] for t in range(self.ntypes)])[tj]
            cand = torch.nonzero(mask & (rank - base >= 0) & (rank - base < 3)).squeeze(1)
            if cand.numel() > index:
                out[k] = cand[torch.argsort(distance[cand], stable=True)][index]
        return out

    def frames(self, batch: EdgeBatch, rank: torch.Tensor) -> torch.Tensor:
        """Rotation matrices (N, 3, 3) with rows (e_x, e_y, e_z) from each atom's axis atoms."""
        natoms = batch.natoms
        rot = batch.rij.new_zeros((natoms, 3, 3))
        for t in range(self.ntypes):
            centers = torch.nonzero(batch.atype == t).squeeze(1)
            if centers.numel() == 0:
                continue
            c1, t1, i1, c2, t2, i2 = self.axis_rule[6 * t: 6 * t + 6]
            e1 = self._axis_edge(batch, rank, c1, t1, i1, centers)
            e2 = self._axis_edge(batch, rank, c2, t2, i2, centers)
            e2_next = self._axis_edge(batch, rank, c2, t2, i2 + 1, centers)
            if bool((e1 < 0).any()) or bool((e2 < 0).any()):
                raise DataError(f"loc_frame: an atom of type {t} has no axis atom within rcut "
                                f"(axis_rule {self.axis_rule[6 * t: 6 * t + 6]})")
            r1, r2 = batch.rij[e1], batch.rij[e2]
            cos = (r1 * r2).sum(1) / (torch.linalg.norm(r1, dim=1) * torch.linalg.norm(r2, dim=1))
            flip = (torch.abs(cos.detach() + 1.0) < 1e-4) & (e2_next >= 0)
            r2 = torch.where(flip[:, None], batch.rij[e2_next.clamp(min=0)], r2)
            ex = r1 / torch.linalg.norm(r1, dim=1, keepdim=True)
            y = r2 - (r2 * ex).sum(1, keepdim=True) * ex
            ey = y / torch.linalg.norm(y, dim=1, keepdim=True)
            ez = torch.cross(ex, ey, dim=1)
            rot = rot.index_put((centers,), torch.stack([ex, ey, ez], dim=1))
        return rot

    def raw(self, batch: EdgeBatch) -> torch.Tensor:
        """Un-normalised descriptor (N, 4·nnei_a + nnei_r), empty slots zero."""
        rank = self._ranks(batch)
        rot = self.frames(batch, rank)
        tj = batch.neighbor_type
        sel_a = torch.as_tensor(self.sel_a, device=rank.device)
        sel_r = torch.as_tensor(self.sel_r, device=rank.device)
        off_a = torch.cumsum(sel_a, 0) - sel_a
        off_r = torch.cumsum(sel_r, 0) - sel_r
        r = torch.linalg.norm(batch.rij, dim=1)
        inside = r < self.rcut
        is_a = inside & (rank < sel_a[tj])
        is_r = inside & ~is_a & (rank < sel_a[tj] + sel_r[tj])
        out = batch.rij.new_zeros((batch.natoms, self.dim_out))
        a = torch.nonzero(is_a).squeeze(1)
        local = torch.einsum("eij,ej->ei", rot[batch.center[a]], batch.rij[a])  # (x', y', z')
        inv_r2 = 1.0 / (r[a] ** 2)
        values = torch.stack([1.0 / r[a], local[:, 2] * inv_r2, local[:, 0] * inv_r2, local[:, 1] * inv_r2], 1)
        col_a = 4 * (off_a[tj[a]] + rank[a])
        rows = batch.center[a]
        for k in range(4):
            out = out.index_put((rows, col_a + k), values[:, k])
        rr = torch.nonzero(is_r).squeeze(1)
        col_r = 4 * self.nnei_a + off_r[tj[rr]] + rank[rr] - sel_a[tj[rr]]
        out = out.index_put((batch.center[rr], col_r), 1.0 / r[rr])
        return out

    def forward(self, batch: EdgeBatch) -> torch.Tensor:
        return (self.raw(batch) - self.davg[batch.atype]) / self.dstd[batch.atype]

    @torch.no_grad()
    def compute_input_stats(self, batches: list[EdgeBatch]) -> None:
        rows = [self.raw(b) for b in batches]
        types = torch.cat([b.atype for b in batches])
        data = torch.cat(rows)
        for t in range(self.ntypes):
            block = data[types == t]
            if block.shape[0] == 0:
                continue
            mean = block.mean(0)
            std = torch.sqrt((block.pow(2).mean(0) - mean**2).clamp(min=0))
            self.davg[t] = mean
            self.dstd[t] = std.clamp(min=STD_FLOOR)

    # ----- building and model files ---------------------------------------------------------
    @classmethod
    def from_config(cls, section: dict, type_map: list[str]) -> DescriptorLocFrame:
        cfg = validate_section(cls.Config, section, "model.descriptor")
        try:
            return cls(cfg.rcut, cfg.sel_a, cfg.sel_r, cfg.axis_rule, len(type_map), dtype=dtype_of(cfg.precision))
        except ValueError as err:
            raise ConfigError(f"model.descriptor: {err}") from None

    def serialize(self, type_map: list[str]) -> dict:
        return {"@class": "Descriptor", "type": "loc_frame", "@version": 1, "rcut": self.rcut,
                "sel_a": self.sel_a, "sel_r": self.sel_r, "axis_rule": self.axis_rule,
                "precision": precision_name(self.davg.dtype), "type_map": type_map,
                "@variables": {"davg": as_numpy(self.davg), "dstd": as_numpy(self.dstd)}}

    @classmethod
    def deserialize(cls, d: dict, ntypes: int, where: str) -> DescriptorLocFrame:
        dtype = dtype_of(d.get("precision"))
        desc = cls(d["rcut"], d["sel_a"], d["sel_r"], d["axis_rule"], ntypes, dtype=dtype)
        desc.load_stats(d["@variables"])
        return desc

    @classmethod
    def check_file_section(cls, c: Checker, desc: dict, ntypes: int, out: dict, params: list[int]) -> None:
        path = "model.descriptor"
        c.number(desc, "rcut", path, 1e-3, MAX_RCUT)
        check_sel(c, desc, path, ntypes, ("sel_a", "sel_r"))
        c.int_list(desc, "axis_rule", path, -1, MAX_NNEI, 6 * MAX_NTYPES, length=6 * ntypes)
        cls.stats_refs(c, desc, path, ntypes * (4 * sum(desc["sel_a"]) + sum(desc["sel_r"])), out)

    @classmethod
    def check_arrays(cls, desc: dict, ntypes: int, where: str) -> int:
        dim_out = 4 * sum(desc["sel_a"]) + sum(desc["sel_r"])
        cls.expect_stats(desc, ntypes, dim_out, where)
        return dim_out

    @classmethod
    def config_size(cls, c: Checker, desc: dict, type_map: list[str]) -> tuple[int, int]:
        path, ntypes = "model.descriptor", len(type_map)
        check_sel(c, desc, path, ntypes, ("sel_a", "sel_r"))
        c.int_list(desc, "axis_rule", path, -1, MAX_NNEI, 6 * MAX_NTYPES, length=6 * ntypes)
        return 4 * sum(desc["sel_a"]) + sum(desc["sel_r"]), 0
