"""Model compression: embedding nets replaced by piecewise quintic tables (SCIENCE.md §3).

Each embedding net maps the normalised scalar ŝ to M channels. On each interval
[x_l, x_{l+1}) the table stores a quintic per channel fixed by Hermite matching of the value,
first and second derivative at both ends (DP Compress, Lu et al., JCTC 18, 5559 (2022)):

* [lower, upper) with stride ``step``; [upper, extrapolate·upper) with stride 10·step;
* beyond: C¹ linear extrapolation (value + slope·(x − edge)).

``lower`` is the normalised value of s = 0 (an empty slot or a neighbour at rcut);
``upper`` is that of the closest neighbour distance seen in training (``min_nbor_dist``).
The tables are arrays in the model file's top-level ``deeppot_compress`` section, so a
compressed model is still a plain, code-free ``.dp`` file, and DeePMD-kit (which ignores the
section) still reads it as the uncompressed model.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from deeppot.core.env_mat import smooth_weight
from deeppot.errors import ModelFileError


def _powers(x: torch.Tensor, knots: torch.Tensor, lower: float, stride0: float, n0: int, upper: float,
            stride1: float, n_last: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows ``6·k + p`` of each point's piece k (E, 6) and the weights dx^p (E, 6)."""
    xf = x.reshape(-1)
    idx0 = torch.floor((xf - lower) / stride0)
    idx1 = n0 + torch.floor((xf - upper) / stride1)
    idx = torch.where(xf < upper, idx0, idx1).clamp(0, n_last).long()
    dx = xf - knots[idx]
    powers = [torch.ones_like(dx)]
    for _ in range(5):
        powers.append(powers[-1] * dx)
    return idx.unsqueeze(1) * 6 + torch.arange(6, device=x.device), torch.stack(powers, dim=1)


def _evaluate(rows: torch.Tensor, weights: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """Σ_p weights[e, p] · table[rows[e, p]] for every point e: (E, columns of ``table``).

    ``embedding_bag`` is this weighted gather-sum, done by one multithreaded kernel: no (E, 6, M)
    intermediate (a gather of the coefficients) and no sparse-matrix set-up per call.
    """
    return torch.nn.functional.embedding_bag(rows, table, per_sample_weights=weights, mode="sum")


class _QuinticTable(torch.autograd.Function):
    """y(x) from the table; the backward uses the analytic slope dy/dx of the same pieces.

    Inference needs first derivatives only (forces), so no graph through the polynomial is kept.
    """

    @staticmethod
    def forward(ctx, x, module):
        rows, weights = module.locate(x)
        ctx.save_for_backward(rows, weights)
        ctx.module = module
        return _evaluate(rows, weights, module.table)

    @staticmethod
    def backward(ctx, grad_y):
        rows, weights = ctx.saved_tensors
        slope = _evaluate(rows, weights, ctx.module.slope_table)
        return (grad_y * slope).sum(dim=1, keepdim=True), None


class TabulatedEmbedding(nn.Module):
    """Drop-in replacement for an embedding :class:`~deeppot.core.network.MLP` (scalar → M)."""

    def __init__(self, knots: torch.Tensor, coef: torch.Tensor, lower: float, upper: float,
                 stride0: float, stride1: float):
        super().__init__()
        self.register_buffer("knots", knots)
        self.register_buffer("coef", coef)
        # (6·K, M) layout: row 6k+p holds the dx^p coefficient of piece k; the slope table holds
        # those of dy/dx = Σ p·c_p·dx^(p-1) in the same rows (row 6k+p: (p+1)·c_{p+1}), so value
        # and slope share one set of rows and weights
        powers_first = coef.flip(-1).permute(0, 2, 1)  # (K, 6, M), power p at [:, p]
        slope = torch.zeros_like(powers_first)
        slope[:, :5] = powers_first[:, 1:] * torch.arange(1, 6, dtype=coef.dtype).view(1, 5, 1)
        m = coef.shape[1]
        self.register_buffer("table", powers_first.reshape(-1, m).contiguous(), persistent=False)
        self.register_buffer("slope_table", slope.reshape(-1, m).contiguous(), persistent=False)
        self.lower, self.upper = float(lower), float(upper)
        self.stride0, self.stride1 = float(stride0), float(stride1)
        self.n0 = int(round((upper - lower) / stride0))

    @property
    def n_out(self) -> int:
        return self.coef.shape[1]

    def locate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Table rows and power weights of the points ``x`` (any shape, E values)."""
        return _powers(x, self.knots, self.lower, self.stride0, self.n0, self.upper, self.stride1,
                       self.knots.shape[0] - 1)

    def value_and_slope(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """G(x) and dG/dx (E, M) of the same pieces (the explicit-derivative path, no graph)."""
        rows, weights = self.locate(x)
        return _evaluate(rows, weights, self.table), _evaluate(rows, weights, self.slope_table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _QuinticTable.apply(x, self)

    def _grid(self) -> tuple:
        return (self.knots.numpy(), self.lower, self.stride0, self.n0, self.upper, self.stride1,
                self.knots.shape[0] - 1)

    def contract(self, rt: torch.Tensor) -> torch.Tensor:
        """Gᵀ R̃ per centre (n, M, 4) from contiguous rows R̃ (n, w, 4), G never formed (no graph)."""
        from deeppot.core.threads import run_split
        from deeppot.model.table_kernels import contract

        out = rt.new_empty((rt.shape[0], self.n_out, 4))
        run_split(contract, rt.shape[0], rt.numpy(), self.table.numpy(), *self._grid(), out.numpy(),
                  threads=torch.get_num_threads())
        return out

    def contract_backward(self, rt: torch.Tensor, g_s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """∂E/∂R̃ (n, w, 4) and ∂E/∂ŝ (n, w, 1) from ∂E/∂(Gᵀ R̃) ``g_s`` (n, M, 4) (see :meth:`contract`)."""
        from deeppot.core.threads import run_split
        from deeppot.model.table_kernels import contract_backward

        g_s = g_s.contiguous()
        g_rt = torch.empty_like(rt)
        g_hat = rt.new_empty(rt.shape[:2])
        run_split(contract_backward, rt.shape[0], rt.numpy(), g_s.numpy(), self.table.numpy(),
                  self.slope_table.numpy(), *self._grid(), g_rt.numpy(), g_hat.numpy(),
                  threads=torch.get_num_threads())
        return g_rt, g_hat.unsqueeze(-1)


def _derivatives(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """y, y', y'' of a scalar-input net at points x (K,), each (K, M), by forward-mode AD."""
    from torch.func import jvp

    x = x.unsqueeze(1)
    ones = torch.ones_like(x)

    def first(z):
        return jvp(net, (z,), (ones,))

    (y, dy), (_, d2y) = jvp(first, (x,), (ones,))
    return y, dy, d2y


def hermite_coefficients(x: torch.Tensor, y: torch.Tensor, dy: torch.Tensor, d2y: torch.Tensor) -> torch.Tensor:
    """Quintic coefficients (a..f) per interval and channel, (K-1, M, 6), in the local dx."""
    delta = (x[1:] - x[:-1]).unsqueeze(1)
    h = y[1:] - y[:-1]
    y0, y1, d0, d1, s0, s1 = y[:-1], y[1:], dy[:-1], dy[1:], d2y[:-1], d2y[1:]
    del y1
    a = (12 * h - 6 * (d1 + d0) * delta + (s1 - s0) * delta**2) / (2 * delta**5)
    b = (-30 * h + (14 * d1 + 16 * d0) * delta + (-2 * s1 + 3 * s0) * delta**2) / (2 * delta**4)
    c = (20 * h - (8 * d1 + 12 * d0) * delta + (s1 - 3 * s0) * delta**2) / (2 * delta**3)
    return torch.stack([a, b, c, s0 / 2, d0, y0], dim=-1)


@torch.no_grad()
def tabulate(net: nn.Module, lower: float, upper: float, step: float, extrapolate: float) -> TabulatedEmbedding:
    stride1 = 10 * step
    ext_upper = max(extrapolate * upper, upper + stride1)
    n0 = int(round((upper - lower) / step))
    n1 = int(math.ceil((ext_upper - upper) / stride1))
    dtype = net.layers[0].w.dtype
    x = torch.cat([lower + step * torch.arange(n0 + 1, dtype=dtype),
                   upper + stride1 * torch.arange(1, n1 + 1, dtype=dtype)])
    y, dy, d2y = _derivatives(net, x)
    coef = hermite_coefficients(x, y, dy, d2y)
    # final open interval: linear extrapolation from the last knot
    linear = torch.zeros_like(coef[:1])
    linear[0, :, 4] = dy[-1]
    linear[0, :, 5] = y[-1]
    return TabulatedEmbedding(x, torch.cat([coef, linear]), lower, upper, step, stride1)


def table_range(descriptor, min_nbor_dist: float) -> tuple[float, float]:
    """[lower, upper] of the normalised ŝ over all centre types (SCIENCE.md §3)."""
    davg = descriptor.davg[:, 0, 0]
    dstd = descriptor.dstd[:, 0, 0]
    r = torch.tensor(min_nbor_dist, dtype=davg.dtype)
    s_max = smooth_weight(r, descriptor.rcut_smth, descriptor.rcut) / r
    lower = math.floor(float(((0.0 - davg) / dstd).min()))
    upper = math.ceil(float(((s_max - davg) / dstd).max()))
    return float(lower), float(upper)


def compress_model(model, min_nbor_dist: float, step: float = 0.01, extrapolate: float = 5.0):
    """Replace the embedding nets of a se_e2_a / se_e2_r model by tables, in place."""
    desc = model.descriptor
    if not desc.compressible:
        raise ModelFileError(f"compression supports se_e2_a and se_e2_r, not {desc.type_name}")
    lower, upper = table_range(desc, min_nbor_dist)
    originals = list(desc.embeddings)
    desc.embeddings = nn.ModuleList(tabulate(net, lower, upper, step, extrapolate) for net in originals)
    model.compression = {"min_nbor_dist": float(min_nbor_dist), "step": step, "extrapolate": extrapolate,
                         "lower": lower, "upper": upper}
    model.uncompressed_embeddings = originals
    return model


def compress_section(model) -> dict:
    """The ``deeppot_compress`` section of a model file (tables as arrays)."""
    tables = model.descriptor.embeddings
    return {"info": model.compression,
            "@variables": {f"knots_{k}": t.knots.numpy() for k, t in enumerate(tables)} |
                          {f"coef_{k}": t.coef.numpy() for k, t in enumerate(tables)}}


def load_compress_section(model, section: dict) -> None:
    info = section["info"]
    var = section["@variables"]
    n = len(model.descriptor.embeddings)
    model.uncompressed_embeddings = list(model.descriptor.embeddings)
    model.descriptor.embeddings = nn.ModuleList(
        TabulatedEmbedding(torch.as_tensor(np.asarray(var[f"knots_{k}"])),
                           torch.as_tensor(np.asarray(var[f"coef_{k}"])), info["lower"], info["upper"],
                           info["step"], 10 * info["step"]) for k in range(n))
    model.compression = info


@torch.no_grad()
def tabulation_error(model, points: int = 20001) -> float:
    """Max |table − net| over the tabulated range, all nets and channels (the accuracy loss)."""
    info = model.compression
    worst = 0.0
    for table, net in zip(model.descriptor.embeddings, model.uncompressed_embeddings):
        hi = float(table.knots[-1])
        x = torch.linspace(info["lower"], hi, points, dtype=table.coef.dtype).unsqueeze(1)
        worst = max(worst, float((table(x) - net(x)).abs().max()))
    return worst
