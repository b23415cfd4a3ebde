"""Behler–Parrinello atom-centred symmetry functions (Behler & Parrinello, PRL 98, 146401 (2007);
Behler, JCP 134, 074106 (2011)): descriptor ``bp``.

With the cosine cutoff f_c(r) = ½[cos(πr/r_c) + 1] for r < r_c (0 beyond), for a centre i
and neighbours j, k (all periodic images within the cutoff):

* radial   G2 = Σ_j exp(−η (r_ij − R_s)²) f_c(r_ij)
* angular  G4 = Σ_{j<k} 2^(1−ζ) (1 + λ cos θ_ijk)^ζ exp(−η (r_ij² + r_ik² + r_jk²)) f_c(r_ij) f_c(r_ik) f_c(r_jk)
* angular  G5 = Σ_{j<k} 2^(1−ζ) (1 + λ cos θ_ijk)^ζ exp(−η (r_ij² + r_ik²)) f_c(r_ij) f_c(r_ik)

Each unordered neighbour pair counts once, as in DScribe's ACSF (a j ≠ k double sum is 2×).
The angular sums may use a shorter cutoff ``rcut_ang`` (f_c of all three distances then uses
it), as ANI does (5.2 Å radial, 3.5 Å angular), because the triplet count grows as r_c⁶. An
input section without ``rcut_ang`` gets min(rcut, 4 Å) (:data:`DEFAULT_RCUT_ANG`); the class
itself defaults to ``rcut`` (Behler's and DScribe's single cutoff).

Parameters are *per element pair*: a radial row belongs to (centre type, neighbour type), an
angular row to (centre type, neighbour types a ≤ b). Per centre type the columns are: G2 rows
grouped by neighbour type, then per pair block (a ≤ b) its G4 rows then its G5 rows, each in
the order given. Centre types with fewer functions are zero-padded to the widest one (the
padding stays 0 after normalisation), so every type feeds a fitting net of the same width.

The descriptor is normalised per centre type and per column by data statistics (mean, std
floored at 1e-2, as ``loc_frame`` and DeePMD-kit's ``data_stat_protect``): the raw symmetry
functions differ by orders of magnitude and would otherwise saturate the tanh fitting net.
Everything is written with differentiable torch operations, so forces and virials come from
autograd like for the other descriptors. f_c has zero value and slope at r_c, so energies and
forces are continuous when a neighbour crosses the cutoff (the curvature is not).

:func:`default_parameters` builds the set used when none is given: a *shifted* radial grid
(Gaussians of equal width centred on a uniform grid of R_s; Gastegger et al., JCP 148, 241709
(2018); Imbalzano et al., JCP 148, 241730 (2018)) or a *centred* one (R_s = 0, widths on a
grid), and G4 with ζ ∈ {1, 4}, λ = ±1 and two widths, the same for every element pair.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import Field, field_validator, model_validator
from torch import nn

from deeppot.core.descriptor.base import STD_FLOOR, Descriptor, EdgeBatch
from deeppot.core.descriptor.registry import register
from deeppot.core.network_io import as_numpy, dtype_of, precision_name
from deeppot.errors import ConfigError
from deeppot.model.limits import MAX_RCUT, Checker, check_sel
from deeppot.schema.base import fail, show, validate_section
from deeppot.schema.descriptor import Cutoff, DescriptorSection, check_sel_value

#: default radial grid: ``n_radial`` functions per element pair from ``r_min`` to ``rcut``
DEFAULT_N_RADIAL = 8
DEFAULT_R_MIN = 0.5
DEFAULT_ZETAS = (1.0, 4.0)
DEFAULT_LAMBDAS = (-1.0, 1.0)
#: angular cutoff of an input section that gives none (Å): the triplet count grows as r_c⁶ and one
#: training step on 192 water atoms took 7.7 s with 6 Å, 0.27 s with 4 Å (se_e2_a: 0.31 s), same run
DEFAULT_RCUT_ANG = 4.0


def cosine_cutoff(r: torch.Tensor, rcut: float) -> torch.Tensor:
    """f_c(r) = ½[cos(πr/r_c) + 1] for r < r_c, else 0."""
    inside = r < rcut
    return torch.where(inside, 0.5 * (torch.cos(math.pi * r.clamp(max=rcut) / rcut) + 1.0), torch.zeros_like(r))


def radial_grid(rcut: float, n: int = DEFAULT_N_RADIAL, r_min: float = DEFAULT_R_MIN,
                kind: str = "shifted") -> list[list[float]]:
    """(η Å⁻², R_s Å) rows of a radial grid between ``r_min`` and ``rcut``.

    ``shifted``: R_s = r_min + kΔ (k = 0..n−1), Δ = (r_c − r_min)/n, η = 1/(2Δ²), so
    neighbouring Gaussians cross at half height and the last one ends before f_c vanishes.
    ``centred``: R_s = 0 and widths σ on a uniform grid from max(r_min, 0.5 Å) to r_c,
    η = 1/(2σ²): nested Gaussians, each reaching further out.
    """
    if n < 1:
        raise ValueError(f"bp: n_radial must be ≥ 1, got {n}")
    if not 0 <= r_min < rcut:
        raise ValueError(f"bp: r_min must be in [0, rcut), got {r_min}")
    if kind == "shifted":
        step = (rcut - r_min) / n
        return [[1.0 / (2.0 * step**2), r_min + k * step] for k in range(n)]
    if kind == "centred":
        sigmas = np.linspace(max(r_min, 0.5), rcut, n) if n > 1 else np.array([rcut / 2])
        return [[1.0 / (2.0 * s**2), 0.0] for s in sigmas.tolist()]
    raise ValueError(f"bp: radial_grid must be 'shifted' or 'centred', got {kind!r}")


def angular_set(rcut_ang: float) -> list[list[float]]:
    """(η Å⁻², ζ, λ) rows: ζ ∈ {1, 4}, λ = ±1, widths σ ∈ {r_c/2, r_c} (η = 1/(2σ²))."""
    etas = [1.0 / (2.0 * (rcut_ang / 2) ** 2), 1.0 / (2.0 * rcut_ang**2)]
    return [[eta, zeta, lam] for eta in etas for zeta in DEFAULT_ZETAS for lam in DEFAULT_LAMBDAS]


def default_parameters(rcut: float, rcut_ang: float | None = None, n_radial: int = DEFAULT_N_RADIAL,
                       r_min: float = DEFAULT_R_MIN, kind: str = "shifted") -> dict[str, list[list[float]]]:
    """The automatic set (same rows for every element pair): ``{"g2": ..., "g4": ..., "g5": []}``."""
    return {"g2": radial_grid(rcut, n_radial, r_min, kind), "g4": angular_set(rcut_ang or rcut), "g5": []}


def expand_rows(spec, ntypes: int, type_map: list[str] | None, angular: bool, name: str) -> list[list[float]]:
    """Per-pair parameter table from a list (same for every pair) or a dict keyed by element pair.

    Radial keys are ``"A-B"`` (centre A, neighbour B), angular keys ``"A-B-C"`` (centre A,
    neighbours B and C, in either order). Element names come from ``type_map`` (indices work
    too). Returns rows ``[ti, tj, η, R_s]`` or ``[ti, a, b, η, ζ, λ]`` with a ≤ b.
    """
    width = 3 if angular else 2
    nkey = 3 if angular else 2

    def check(row, where):
        if not isinstance(row, (list, tuple)) or len(row) != width or \
                not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in row):
            form = "[eta, zeta, lambda]" if angular else "[eta, r_s]"
            raise ValueError(f"bp: {where} must be a list of {form} rows, got {row!r}")
        row = [float(x) for x in row]
        if row[0] < 0 or not math.isfinite(row[0]):
            raise ValueError(f"bp: {where}: eta must be ≥ 0, got {row[0]}")
        if angular and (row[1] < 1 or row[2] not in (-1.0, 1.0)):
            raise ValueError(f"bp: {where}: need zeta ≥ 1 and lambda = ±1, got {row}")
        return row

    def pairs():
        for ti in range(ntypes):
            if angular:
                for a in range(ntypes):
                    for b in range(a, ntypes):
                        yield (ti, a, b)
            else:
                for tj in range(ntypes):
                    yield (ti, tj)

    if spec is None:
        return []
    if isinstance(spec, (list, tuple)):
        rows = [check(r, name) for r in spec]
        return [[*key, *r] for key in pairs() for r in rows]
    if not isinstance(spec, dict):
        raise ValueError(f"bp: {name} must be a list of rows or a dict keyed by element pair, got {spec!r}")
    names = list(type_map) if type_map else [str(t) for t in range(ntypes)]
    table: dict[tuple, list] = {}
    for key, rows in spec.items():
        parts = str(key).split("-")
        if len(parts) != nkey:
            form = "'O-H-H'" if angular else "'O-H'"
            raise ValueError(f"bp: {name} key {key!r} must name {nkey} elements like {form}")
        idx = []
        for p in parts:
            if p in names:
                idx.append(names.index(p))
            elif p.isdigit() and int(p) < ntypes:
                idx.append(int(p))
            else:
                raise ValueError(f"bp: {name} key {key!r}: {p!r} is not in type_map {names}")
        if angular:
            idx = [idx[0], *sorted(idx[1:])]
        if not isinstance(rows, (list, tuple)):
            raise ValueError(f"bp: {name}[{key!r}] must be a list of rows")
        table.setdefault(tuple(idx), []).extend(check(r, f"{name}[{key!r}]") for r in rows)
    return [[*k, *r] for k in pairs() for r in table.get(k, [])]


class BPConfig(DescriptorSection):
    """Behler–Parrinello symmetry functions (deeppot only; DeePMD-kit cannot read these models)."""

    NOT_YET: ClassVar[dict[str, tuple]] = {"exclude_types": ([],)}
    PER_TYPE: ClassVar[dict[str, int]] = {"sel": 1}
    SEL_FROM_DATA: ClassVar[bool] = True
    type: Literal["bp"] = Field(description="descriptor type")
    rcut: Cutoff = Field(6.0, description="cutoff radius of all symmetry functions, Å")
    rcut_ang: Cutoff | None = Field(None, description="cutoff of the angular functions G4/G5, Å "
                                    "(default: min(rcut, 4))")
    sel: Any = Field("auto", description="max neighbours per type within rcut (sizes engine neighbour lists), "
                     "or \"auto\" / \"auto:F\"", json_schema_extra={"type_text": 'list[int] | "auto" | "auto:F"'})
    g2: Any = Field(None, description="radial rows [eta 1/Å², r_s Å], the same for every element pair, or a "
                    "dict {\"O-H\": rows} (centre-neighbour); default: a radial grid",
                    json_schema_extra={"type_text": "list | dict | null"})
    g4: Any = Field(None, description="angular rows [eta 1/Å², zeta ≥ 1, lambda ±1], or a dict {\"O-H-H\": rows}; "
                    "default: zeta 1, 4; lambda ±1; two widths", json_schema_extra={"type_text": "list | dict | null"})
    g5: Any = Field(None, description="G5 rows like g4 (no r_jk term); default none",
                    json_schema_extra={"type_text": "list | dict | null"})
    n_radial: int = Field(DEFAULT_N_RADIAL, ge=1, le=1024,
                          description="radial functions per element pair of the default grid")
    r_min: float = Field(DEFAULT_R_MIN, ge=0,
                         description="innermost centre (shifted) or width (centred) of the grid, Å")
    radial_grid: Literal["shifted", "centred"] = Field("shifted", description="default radial grid kind")
    seed: int | None = Field(None, ge=0, description="random seed (no trainable descriptor weights)")
    trainable: bool = Field(True, description="ignored (no trainable descriptor weights)")

    _sel = field_validator("sel", mode="before")(lambda cls, v: check_sel_value(v))

    @model_validator(mode="after")
    def _relations(self):
        if self.rcut_ang is not None and self.rcut_ang > self.rcut:
            raise fail("rcut_ang", f"{show(self.rcut_ang)} must be ≤ rcut {show(self.rcut)}")
        if self.r_min >= self.rcut:
            raise fail("r_min", f"{show(self.r_min)} must be < rcut {show(self.rcut)}")
        return self

    def check_type_map(self, type_map: list[str]) -> None:
        super().check_type_map(type_map)
        try:
            parameter_tables(self.model_dump(), list(type_map))
        except ParameterError as err:
            raise fail(f"descriptor/{err.key}", str(err).removeprefix("bp: ")) from None


@register
class DescriptorBP(Descriptor):
    """Behler–Parrinello symmetry functions, normalised per centre type (see module doc).

    ``g2`` rows are ``[ti, tj, η, R_s]``, ``g4``/``g5`` rows ``[ti, a, b, η, ζ, λ]`` (a ≤ b),
    as returned by :func:`expand_rows`. ``sel`` is not used by the functions themselves (they
    sum over all neighbours); it sizes the padded neighbour lists that engines (LAMMPS, the
    lower entry point) hand over, and guards against unexpectedly dense inputs as for se_*.
    """

    type_name = "bp"
    Config = BPConfig
    ncol = 1

    def __init__(self, rcut: float, sel: list[int], ntypes: int, g2: list, g4: list, g5: list | None = None,
                 rcut_ang: float | None = None, dtype=torch.float64):
        super().__init__()
        self.rcut = float(rcut)
        self.sel = [int(s) for s in sel]
        self.ntypes = int(ntypes)
        self.nnei = sum(self.sel)
        self.embeddings = nn.ModuleList()
        self.rcut_ang = float(rcut_ang) if rcut_ang is not None else self.rcut
        if not 0 < self.rcut_ang <= self.rcut:
            raise ValueError(f"bp: rcut_ang must be in (0, rcut = {self.rcut}], got {self.rcut_ang}")
        self.g2 = [[int(r[0]), int(r[1]), float(r[2]), float(r[3])] for r in g2]
        self.g4 = [[int(r[0]), int(r[1]), int(r[2]), *map(float, r[3:6])] for r in g4]
        self.g5 = [[int(r[0]), int(r[1]), int(r[2]), *map(float, r[3:6])] for r in (g5 or [])]
        for row in self.g2 + self.g4 + self.g5:
            types = row[:2] if len(row) == 4 else row[:3]
            if not all(0 <= t < ntypes for t in types):
                raise ValueError(f"bp: parameter row {row} names a type outside 0..{ntypes - 1}")
            if len(row) == 6 and row[1] > row[2]:
                raise ValueError(f"bp: angular row {row} needs neighbour types a ≤ b")
        self._build_tables()
        if self.dim_out == 0:
            raise ValueError("bp: no symmetry functions (g2, g4 and g5 are all empty)")
        self.register_buffer("davg", torch.zeros(ntypes, self.dim_out, dtype=dtype))
        self.register_buffer("dstd", torch.ones(ntypes, self.dim_out, dtype=dtype))

    # ----- parameter tables -----------------------------------------------------------------
    def _build_tables(self) -> None:
        """Column of every function and padded per-block parameter tensors."""
        nt = self.ntypes
        npair = nt * (nt + 1) // 2
        self._pair_id = {}
        for a in range(nt):
            for b in range(a, nt):
                self._pair_id[(a, b)] = len(self._pair_id)
        columns = [0] * nt
        radial: dict[tuple, list] = {}
        for ti in range(nt):  # canonical column order: radial by neighbour type, then pair blocks
            for tj in range(nt):
                for row in self.g2:
                    if row[0] == ti and row[1] == tj:
                        radial.setdefault((ti, tj), []).append((columns[ti], row[2], row[3]))
                        columns[ti] += 1
        angular: dict[tuple, list] = {}
        for ti in range(nt):
            for (a, b) in self._pair_id:
                for kind, rows in ((0, self.g4), (1, self.g5)):
                    for row in rows:
                        if row[0] == ti and row[1] == a and row[2] == b:
                            angular.setdefault((ti, a, b), []).append((columns[ti], kind, *row[3:6]))
                            columns[ti] += 1
        self.columns_per_type = columns
        nr = max((len(v) for v in radial.values()), default=0)
        na = max((len(v) for v in angular.values()), default=0)
        # radial tables (ti, tj, nr); column −1 marks padding
        r_col = torch.full((nt, nt, nr), -1, dtype=torch.long)
        r_eta = torch.zeros(nt, nt, nr, dtype=torch.float64)
        r_rs = torch.zeros(nt, nt, nr, dtype=torch.float64)
        for (ti, tj), rows in radial.items():
            for k, (col, eta, rs) in enumerate(rows):
                r_col[ti, tj, k], r_eta[ti, tj, k], r_rs[ti, tj, k] = col, eta, rs
        # angular tables (ti, pair, na)
        a_col = torch.full((nt, npair, na), -1, dtype=torch.long)
        a_g5 = torch.zeros(nt, npair, na, dtype=torch.bool)
        a_eta = torch.zeros(nt, npair, na, dtype=torch.float64)
        a_zeta = torch.ones(nt, npair, na, dtype=torch.float64)
        a_lam = torch.ones(nt, npair, na, dtype=torch.float64)
        for (ti, a, b), rows in angular.items():
            p = self._pair_id[(a, b)]
            for k, (col, kind, eta, zeta, lam) in enumerate(rows):
                a_col[ti, p, k], a_g5[ti, p, k] = col, bool(kind)
                a_eta[ti, p, k], a_zeta[ti, p, k], a_lam[ti, p, k] = eta, zeta, lam
        pair_of = torch.zeros(nt, nt, dtype=torch.long)
        for (a, b), p in self._pair_id.items():
            pair_of[a, b] = pair_of[b, a] = p
        for name, value in (("r_col", r_col), ("r_eta", r_eta), ("r_rs", r_rs), ("a_col", a_col), ("a_g5", a_g5),
                            ("a_eta", a_eta), ("a_zeta", a_zeta), ("a_lam", a_lam), ("pair_of", pair_of)):
            self.register_buffer("_" + name, value, persistent=False)

    @property
    def dim_out(self) -> int:
        return max(self.columns_per_type)

    # ----- the symmetry functions -----------------------------------------------------------
    def raw(self, batch: EdgeBatch) -> torch.Tensor:
        """Un-normalised symmetry functions (N, dim_out); padding columns are 0."""
        natoms, dim = batch.natoms, self.dim_out
        out = batch.rij.new_zeros(natoms * dim)
        r = torch.linalg.norm(batch.rij, dim=1)
        ti, tj = batch.atype[batch.center], batch.neighbor_type
        if self._r_col.shape[-1] and r.shape[0]:
            inside = (r.detach() < self.rcut).nonzero().squeeze(1)
            re, ce = r[inside], batch.center[inside]
            col = self._r_col[ti[inside], tj[inside]]                      # (e, nr)
            eta = self._r_eta[ti[inside], tj[inside]].to(re.dtype)
            rs = self._r_rs[ti[inside], tj[inside]].to(re.dtype)
            value = torch.exp(-eta * (re[:, None] - rs) ** 2) * cosine_cutoff(re, self.rcut)[:, None]
            keep = col >= 0
            flat = (ce[:, None] * dim + col)[keep]
            out = out.index_add(0, flat, value[keep])
        if self._a_col.shape[-1] and r.shape[0]:
            out = out + self._angular(batch, r, ti, tj).reshape(-1)
        return out.view(natoms, dim)

    def _angular(self, batch: EdgeBatch, r: torch.Tensor, ti: torch.Tensor, tj: torch.Tensor) -> torch.Tensor:
        natoms, dim = batch.natoms, self.dim_out
        out = batch.rij.new_zeros(natoms * dim)
        e_j, e_k = self.triplets(batch.center, r.detach())
        if e_j.numel() == 0:
            return out
        rc = self.rcut_ang
        r_ij, r_ik = r[e_j], r[e_k]
        v_ij, v_ik = batch.rij[e_j], batch.rij[e_k]
        cos = (v_ij * v_ik).sum(1) / (r_ij * r_ik)
        r_jk = torch.linalg.norm(v_ik - v_ij, dim=1)
        centre = batch.center[e_j]
        block = self._pair_of[tj[e_j], tj[e_k]]
        col = self._a_col[ti[e_j], block]                                  # (t, na)
        eta = self._a_eta[ti[e_j], block].to(r.dtype)
        zeta = self._a_zeta[ti[e_j], block].to(r.dtype)
        lam = self._a_lam[ti[e_j], block].to(r.dtype)
        g5 = self._a_g5[ti[e_j], block]
        base = (1.0 + lam * cos[:, None]).clamp(min=0.0)
        angle = torch.exp2(1.0 - zeta) * base**zeta
        fc_ij_ik = cosine_cutoff(r_ij, rc) * cosine_cutoff(r_ik, rc)
        sq_ij_ik = (r_ij**2 + r_ik**2)[:, None]
        fc_jk = cosine_cutoff(r_jk, rc)[:, None]
        radial4 = torch.exp(-eta * (sq_ij_ik + (r_jk**2)[:, None])) * fc_jk
        radial5 = torch.exp(-eta * sq_ij_ik)
        value = angle * torch.where(g5, radial5, radial4) * fc_ij_ik[:, None]
        keep = col >= 0
        flat = (centre[:, None] * dim + col)[keep]
        return out.index_add(0, flat, value[keep])

    def triplets(self, center: torch.Tensor, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Edge pairs (j, k) with the same centre, both within ``rcut_ang``, each unordered pair once."""
        near = (r < self.rcut_ang).nonzero().squeeze(1)
        near = near[torch.argsort(center[near], stable=True)]
        sizes = torch.bincount(center[near])
        if not bool((sizes > 1).any()):
            empty = torch.zeros(0, dtype=torch.long, device=center.device)
            return empty, empty
        # within each centre's block of n edges, edge at local position a pairs with the n−1−a after it
        block_start = torch.cumsum(sizes, 0) - sizes
        local = torch.arange(near.numel(), device=center.device) - block_start[center[near]]
        later = sizes[center[near]] - 1 - local
        first = torch.repeat_interleave(torch.arange(near.numel(), device=center.device), later)
        offset = torch.cumsum(later, 0) - later
        step = torch.arange(first.numel(), device=center.device) - torch.repeat_interleave(offset, later) + 1
        return near[first], near[first + step]

    def forward(self, batch: EdgeBatch) -> torch.Tensor:
        return (self.raw(batch) - self.davg[batch.atype]) / self.dstd[batch.atype]

    # ----- statistics ------------------------------------------------------------------------
    @torch.no_grad()
    def compute_input_stats(self, batches: list[EdgeBatch]) -> None:
        """davg/dstd per centre type and column: mean and std over all atoms of that type."""
        data = torch.cat([self.raw(b) for b in batches]) if batches else self.davg.new_zeros(0, self.dim_out)
        types = torch.cat([b.atype for b in batches]) if batches else torch.zeros(0, dtype=torch.long)
        for t in range(self.ntypes):
            block = data[types == t].to(self.davg.dtype)
            if block.shape[0] == 0:
                continue
            mean = block.mean(0)
            std = torch.sqrt((block.pow(2).mean(0) - mean**2).clamp(min=0))
            pad = torch.arange(self.dim_out) >= self.columns_per_type[t]
            self.davg[t] = torch.where(pad, torch.zeros_like(mean), mean)
            self.dstd[t] = torch.where(pad, torch.ones_like(std), std.clamp(min=STD_FLOOR))

    # ----- building and model files ---------------------------------------------------------
    def parameters_dict(self) -> dict:
        return {"g2": [list(r) for r in self.g2], "g4": [list(r) for r in self.g4], "g5": [list(r) for r in self.g5]}

    @classmethod
    def from_config(cls, section: dict, type_map: list[str]) -> DescriptorBP:
        cfg = validate_section(cls.Config, {**section, "type": "bp"}, "model.descriptor")
        if not isinstance(cfg.sel, list):
            raise ConfigError(f"model.descriptor.sel {cfg.sel!r} must be resolved from data before building")
        try:
            return build(cfg.model_dump(), list(type_map), dtype=dtype_of(cfg.precision))
        except ValueError as err:
            raise ConfigError(f"model.descriptor: {err}") from None

    def serialize(self, type_map: list[str]) -> dict:
        return {"@class": "Descriptor", "type": "bp", "@version": 1, "rcut": self.rcut, "rcut_ang": self.rcut_ang,
                "sel": self.sel, **self.parameters_dict(), "precision": precision_name(self.davg.dtype),
                "type_map": type_map, "@variables": {"davg": as_numpy(self.davg), "dstd": as_numpy(self.dstd)}}

    @classmethod
    def deserialize(cls, d: dict, ntypes: int, where: str) -> DescriptorBP:
        dtype = dtype_of(d.get("precision"))
        desc = cls(d["rcut"], d["sel"], ntypes, d["g2"], d["g4"], d.get("g5", []), d.get("rcut_ang"), dtype=dtype)
        desc.load_stats(d["@variables"])
        return desc

    @classmethod
    def check_file_section(cls, c: Checker, desc: dict, ntypes: int, out: dict, params: list[int]) -> None:
        path = "model.descriptor"
        rcut = c.number(desc, "rcut", path, 1e-3, MAX_RCUT)
        check_sel(c, desc, path, ntypes, ("sel",))
        c.number(desc, "rcut_ang", path, 1e-3, rcut, default=rcut)
        width = _file_width(c, desc, ntypes, path)
        cls.stats_refs(c, desc, path, ntypes * width, out)

    @classmethod
    def check_arrays(cls, desc: dict, ntypes: int, where: str) -> int:
        per_type = [0] * ntypes
        for name in ("g2", "g4", "g5"):
            for row in desc.get(name, []):
                per_type[int(row[0])] += 1
        dim_out = max(per_type)
        cls.expect_stats(desc, ntypes, dim_out, where)
        return dim_out

    @classmethod
    def config_size(cls, c: Checker, desc: dict, type_map: list[str]) -> tuple[int, int]:
        path = "model.descriptor"
        check_sel(c, desc, path, len(type_map), ("sel",))
        try:
            tables = parameter_tables(desc, list(type_map))
        except ParameterError as err:
            raise c.fail(f"{path}.{err.key}", str(err)) from None
        width = max(sum(1 for rows in tables.values() for r in rows if r[0] == t) for t in range(len(type_map)))
        return width, 0


def _file_width(c: Checker, desc: dict, ntypes: int, path: str) -> int:
    """Symmetry functions per atom of a model file's resolved rows ``[ti, tj, ...]``, each row checked."""
    per_type = [0] * ntypes
    for name, width in (("g2", 4), ("g4", 6), ("g5", 6)):
        rows = desc.get(name, [])
        if not isinstance(rows, list) or len(rows) > MAX_FUNCTIONS * ntypes:
            raise c.fail(f"{path}.{name}", f"must be a list of at most {MAX_FUNCTIONS * ntypes} rows")
        ntyp = 3 if width == 6 else 2  # leading type indices of a row
        for k, row in enumerate(rows):
            if not (isinstance(row, list) and len(row) == width
                    and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in row)
                    and all(float(t).is_integer() and 0 <= t < ntypes for t in row[:ntyp])):
                raise c.fail(f"{path}.{name}[{k}]", f"must be {width} numbers, the first types 0..{ntypes - 1}")
            per_type[int(row[0])] += 1
    return max(per_type)


# ----- from an input section -----------------------------------------------------------------
#: most symmetry functions per centre type (a bound for model files and inputs)
MAX_FUNCTIONS = 8192


def parameter_tables(section: dict, type_map: list[str]) -> dict[str, list[list[float]]]:
    """Per-pair rows ``{"g2", "g4", "g5"}`` of an input section (``None`` entries → the default set).

    Raises ValueError with a one-line message naming the key.
    """
    ntypes = len(type_map)
    rcut = float(section.get("rcut", 6.0))
    rcut_ang = section_rcut_ang(section)
    try:
        defaults = default_parameters(rcut, rcut_ang, int(section.get("n_radial", DEFAULT_N_RADIAL)),
                                      float(section.get("r_min", DEFAULT_R_MIN)),
                                      section.get("radial_grid", "shifted"))
    except ValueError as err:
        raise ParameterError("r_min", str(err)) from None
    tables = {}
    for name, angular in (("g2", False), ("g4", True), ("g5", True)):
        spec = section.get(name)
        try:
            tables[name] = expand_rows(defaults[name] if spec is None else spec, ntypes, type_map, angular, name)
        except ValueError as err:
            raise ParameterError(name, str(err)) from None
    per_type = [sum(1 for rows in tables.values() for r in rows if r[0] == t) for t in range(ntypes)]
    if max(per_type, default=0) > MAX_FUNCTIONS:
        raise ParameterError("g2", f"bp: {max(per_type)} symmetry functions for one element (at most {MAX_FUNCTIONS})")
    if max(per_type, default=0) == 0:
        raise ParameterError("g2", "bp: no symmetry functions (g2, g4 and g5 are all empty)")
    return tables


class ParameterError(ValueError):
    """A bad parameter set; ``key`` is the section key (g2, g4, g5) it concerns."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def section_rcut_ang(section: dict) -> float:
    """``rcut_ang`` of an input section; min(rcut, 4 Å) when not given (see DEFAULT_RCUT_ANG)."""
    rcut = float(section.get("rcut", 6.0))
    value = section.get("rcut_ang")
    return min(rcut, DEFAULT_RCUT_ANG) if value is None else float(value)


def build(section: dict, type_map: list[str], dtype=torch.float64) -> DescriptorBP:
    """The descriptor of a ``{"type": "bp", ...}`` section with ``sel`` already resolved to a list."""
    tables = parameter_tables(section, type_map)
    return DescriptorBP(float(section.get("rcut", 6.0)), list(section["sel"]), len(type_map), tables["g2"],
                        tables["g4"], tables["g5"], rcut_ang=section_rcut_ang(section), dtype=dtype)
