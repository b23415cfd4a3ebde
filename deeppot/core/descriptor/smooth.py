"""The DeepPot-SE family's common part: smooth environment matrix, statistics, ``.dp`` layout.

Normalisation statistics follow DeePMD-kit's ``EnvMatStatSe`` (SCIENCE.md §2.2): for each
centre type, all neighbour slots of all atoms of that type are pooled, *empty slots included
as zeros*; the radial column gets its own mean and std, the three angular columns share one
std and have zero mean. Stds are floored at 1e-2.

The ``.dp`` section is DeePMD-kit's (``deepmd/dpmodel/descriptor/se_*.py`` ``serialize``), so
DeePMD-kit reads what deeppot writes and the other way round.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from deeppot.core.descriptor.base import DEFAULT_STD, STD_FLOOR, Descriptor, EdgeBatch
from deeppot.core.env_mat import env_mat_rows
from deeppot.core.neighbor import neighbor_counts
from deeppot.core.network_io import as_numpy, dtype_of, embedding_net_to_dict, load_nets, precision_name
from deeppot.errors import ConfigError
from deeppot.model.limits import (
    MAX_LAYERS,
    MAX_RCUT,
    MAX_WIDTH,
    Checker,
    check_collection,
    check_sel,
)
from deeppot.model.shape_check import check_network
from deeppot.schema.base import validate_section


class SeDescriptor(Descriptor):
    """Base of the DeepPot-SE family: geometry hyper-parameters, ``davg``/``dstd`` buffers, files.

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
        start = torch.tensor([0, *self.sel[:-1]], device=self.davg.device).cumsum(0)
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
        counts = neighbor_counts(batch.center, tj, batch.natoms, self.ntypes)
        return rows, pad_rows, counts

    # ----- building ---------------------------------------------------------------------------
    #: keys of the input section the constructor takes besides the geometry (neuron, axis_neuron, ...)
    NET_KEYS: ClassVar[tuple[str, ...]] = ("neuron", "resnet_dt", "activation_function")

    @classmethod
    def from_config(cls, section: dict, type_map: list[str]) -> SeDescriptor:
        cfg = validate_section(cls.Config, {**section, "type": cls.type_name}, "model")
        if not isinstance(cfg.sel, list):
            raise ConfigError(f"model.descriptor.sel {cfg.sel!r} must be resolved from data before building")
        return cls(rcut=cfg.rcut, rcut_smth=cfg.rcut_smth, sel=cfg.sel, ntypes=len(type_map),
                   dtype=dtype_of(cfg.precision), seed=cfg.seed, env_protection=cfg.env_protection,
                   set_davg_zero=cfg.set_davg_zero, **{k: getattr(cfg, k) for k in cls.NET_KEYS})

    # ----- model files (DeePMD-kit's field names) ---------------------------------------------
    def type_fields(self) -> dict:
        """The fields of the ``.dp`` section that are special to this type."""
        return {}

    def serialize(self, type_map: list[str], embeddings=None) -> dict:
        """DeePMD-kit's section; ``embeddings`` replaces the nets (the originals of a compressed model)."""
        nets = self.embeddings if embeddings is None else embeddings
        return {
            "type": self.type_name, "@version": 2, **self.type_fields(),
            "@class": "Descriptor", "rcut": self.rcut, "rcut_smth": self.rcut_smth, "sel": self.sel,
            "neuron": self.neuron, "resnet_dt": self.resnet_dt, "set_davg_zero": self.set_davg_zero,
            "activation_function": self.activation_function, "precision": precision_name(self.davg.dtype),
            "env_mat": {"rcut": self.rcut, "rcut_smth": self.rcut_smth, "protection": self.env_protection,
                        "use_exp_switch": False},
            "exclude_types": [], "env_protection": self.env_protection, "type_map": type_map,
            "trainable": True,
            "embeddings": {"@class": "NetworkCollection", "@version": 1, "ndim": self.embedding_ndim,
                           "ntypes": self.ntypes, "network_type": "embedding_network",
                           "networks": [embedding_net_to_dict(n, self.neuron, self.activation_function,
                                                              self.resnet_dt) for n in nets]},
            "@variables": {"davg": as_numpy(self.davg), "dstd": as_numpy(self.dstd)},
        }

    @classmethod
    def deserialize(cls, d: dict, ntypes: int, where: str) -> SeDescriptor:
        dtype = dtype_of(d.get("precision"))
        options = {k: d[k] for k in cls.NET_KEYS if k in d}
        desc = cls(rcut=d["rcut"], rcut_smth=d["rcut_smth"], sel=d["sel"], ntypes=ntypes, dtype=dtype,
                   env_protection=d.get("env_protection", 0.0), set_davg_zero=d.get("set_davg_zero", False),
                   **options)
        load_nets(d["embeddings"], desc.embeddings, dtype, where)
        desc.load_stats(d["@variables"])
        desc.check_uniform_stats(where)
        return desc

    @classmethod
    def file_dim_out(cls, desc: dict) -> int:
        """Row width declared by a section (``neuron`` etc. already checked)."""
        return desc["neuron"][-1]

    @classmethod
    def check_type_fields(cls, c: Checker, desc: dict, path: str, neuron: list[int]) -> None:
        """Checks of the fields special to this type."""

    @classmethod
    def check_file_section(cls, c: Checker, desc: dict, ntypes: int, out: dict, params: list[int]) -> None:
        path = "model.descriptor"
        rcut = c.number(desc, "rcut", path, 1e-3, MAX_RCUT)
        c.number(desc, "rcut_smth", path, 0.0, rcut)
        nnei = check_sel(c, desc, path, ntypes, ("sel",))
        neuron = c.int_list(desc, "neuron", path, 1, MAX_WIDTH, MAX_LAYERS)
        cls.check_type_fields(c, desc, path, neuron)
        for key in ("resnet_dt", "set_davg_zero", "type_one_side"):
            c.flag(desc, key, path)
        c.number(desc, "env_protection", path, 0.0, 1e3, default=0.0)
        c.text(desc, "activation_function", path, required=False)
        check_collection(c, desc, "embeddings", path, ntypes * ntypes, None, out, params)
        cls.stats_refs(c, desc, path, ntypes * nnei * cls.ncol, out)

    @classmethod
    def check_arrays(cls, desc: dict, ntypes: int, where: str) -> int:
        for k, net in enumerate(desc["embeddings"]["networks"]):
            check_network(where, f"model.descriptor.embeddings.networks[{k}]", net, [1, *desc["neuron"]])
        nnei = sum(desc["sel"])
        cls.expect_stats(desc, ntypes, nnei * cls.ncol, where)
        return cls.file_dim_out(desc)

    @classmethod
    def config_size(cls, c: Checker, desc: dict, type_map: list[str]) -> tuple[int, int]:
        path, ntypes = "model.descriptor", len(type_map)
        check_sel(c, desc, path, ntypes, ("sel",))
        neuron = [10, 20, 40]
        if "neuron" in desc:
            neuron = c.int_list(desc, "neuron", path, 1, MAX_WIDTH, MAX_LAYERS)
        dims = [1, *neuron]
        params = ntypes * ntypes * sum(a * b for a, b in zip(dims, dims[1:]))
        return cls.file_dim_out({**desc, "neuron": neuron}), params
