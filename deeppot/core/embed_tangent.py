"""A tanh embedding net with its tangent dG/dŝ, as one autograd node with a hand-written backward.

Training se_e2_a on forces needs, per neighbour slot, G(ŝ) and G'(ŝ) = dG/dŝ (explicit.py), and
then the gradient of the loss in the net's weights through both. Left to autograd, every layer
becomes a dozen small nodes (the tangent's ``tanh_backward`` and its own backward, residual sums,
their gradient accumulations), each one pass over (slots × width) values: on the water example
these elementwise passes were a third of a float64 training step. Here each layer is

* forward: one matrix product for value and tangent together (rows ``[x; dx]``), then the
  logistic function (torch's vectorised kernel, tanh z = 2σ(2z) − 1) and one fused pass
  (numba) that forms t, dt = (1 − t²)·dz and the residual sums;
* backward: one fused pass that turns the gradients of (y, dy) into those of (z, dz) (only
  polynomials: t̄ = ȳ, dt̄ = dȳ, dz̄ = (1 − t²)·dt̄, z̄ = (1 − t²)·(t̄ − 2 t·dz·dt̄)) and reduces
  the residual, then one product for W̄ = [x; dx]ᵀ[z̄; dz̄] and one for the input gradient.

The input is a column of scalars, so the first layer's rows are ``[ŝ; 1]``: every layer is the
same code. The output is one tensor ``[G; G']`` (2E, M), so that contractions with both halves
are one pass (contract.py).
The kernels release the GIL and can run over row ranges on several threads
(:data:`deeppot.core.threads.KERNEL_THREADS`, one by default).
"""

from __future__ import annotations

import numpy as np
import torch
from numba import njit

from deeppot.core import threads

_FAST = {"reassoc", "contract", "nsz"}


@njit(cache=True, fastmath=_FAST, nogil=True)
def _forward_rows(z, xd_prev, idt, skip, xd, one, nrows, lo, hi):
    """z (2n, m): top σ(2z) → t (in place), bottom 2·dz (kept); xd (2n, m) = [idt·t; idt·dt] + skip.

    ``one`` is 1 in the arrays' precision, so that float32 arrays are computed in float32.
    """
    two = one + one
    half = one / two
    m = z.shape[1]
    mp = xd_prev.shape[1]
    for i in range(lo, hi):
        j = nrows + i
        for c in range(m):
            t = two * z[i, c] - one
            z[i, c] = t
            dt = (one - t * t) * (half * z[j, c])
            xd[i, c] = t * idt[c]
            xd[j, c] = dt * idt[c]
        if skip != 0:  # + x, or + [x, x] (separate loops: no index arithmetic in the vector loop)
            for c in range(mp):
                xd[i, c] += xd_prev[i, c]
                xd[j, c] += xd_prev[j, c]
            if skip == 2:
                for c in range(mp):
                    xd[i, mp + c] += xd_prev[i, c]
                    xd[j, mp + c] += xd_prev[j, c]


@njit(cache=True, fastmath=_FAST, nogil=True)
def _backward_rows(z, grad, idt, skip, reduced, one, nrows, lo, hi):
    """grad (2n, m) of (y, dy) → of (z, dz), in place; ``reduced`` (2n, m_prev) = residual part."""
    m = z.shape[1]
    mp = reduced.shape[1]
    for i in range(lo, hi):
        j = nrows + i
        if skip == 1:
            for c in range(m):
                reduced[i, c] = grad[i, c]
                reduced[j, c] = grad[j, c]
        elif skip == 2:
            for c in range(mp):
                reduced[i, c] = grad[i, c] + grad[i, c + mp]
                reduced[j, c] = grad[j, c] + grad[j, c + mp]
        for c in range(m):
            t = z[i, c]
            half_dz2 = z[j, c]  # 2·dz
            u = one - t * t
            tb = grad[i, c] * idt[c]
            dtb = grad[j, c] * idt[c]
            grad[j, c] = dtb * u
            grad[i, c] = (tb - t * half_dz2 * dtb) * u


def _one(t: torch.Tensor):
    """1 as a NumPy scalar of the tensor's precision (numba then keeps float32 kernels in float32)."""
    return t.numpy().dtype.type(1)


class _EmbedTangent(torch.autograd.Function):
    @staticmethod
    def forward(ctx, net, s, *params):
        layers = list(net.layers)
        n = s.shape[0]
        xd = torch.cat([s, torch.ones_like(s)])  # rows [x; dx] of the layer input
        keep = any(ctx.needs_input_grad)  # inference: no layer is kept for a backward
        saved_xd, saved_z = [xd], []
        last = len(layers) - 1
        for k, layer in enumerate(layers):
            w2 = 2.0 * layer.w
            z = xd.new_empty((2 * n, layer.n_out))
            top = z[:n]
            torch.addmm(2.0 * layer.b, xd[:n], w2, out=top)  # the bias in the product: no extra pass
            torch.mm(xd[n:], w2, out=z[n:])
            torch.sigmoid(top, out=top)
            out = torch.empty_like(z)
            idt = layer.idt.detach() if layer.idt is not None else torch.ones(layer.n_out, dtype=z.dtype)
            skip = layer.skip
            threads.run_split(_forward_rows, n, z.numpy(), xd.numpy(), idt.numpy(), skip, out.numpy(), _one(z), n,
                              threads=threads.KERNEL_THREADS)
            if keep:
                saved_z.append(z)
                if k < last:
                    saved_xd.append(out)
            xd = out
        ctx.net = net
        ctx.nrows = n
        if keep:
            ctx.save_for_backward(*saved_xd, *saved_z)
        return xd

    @staticmethod
    def backward(ctx, grad):
        net, n = ctx.net, ctx.nrows
        layers = list(net.layers)
        nl = len(layers)
        saved = ctx.saved_tensors
        saved_xd, saved_z = saved[:nl], saved[nl:]
        dtype = saved_z[0].dtype

        grad = grad.contiguous().clone()  # overwritten in place below
        none = np.empty((0, 1), dtype=saved_z[0].numpy().dtype)
        grads = []
        for k in range(nl - 1, -1, -1):
            layer = layers[k]
            z, xd_in = saved_z[k], saved_xd[k]
            has_idt = layer.idt is not None
            g_idt = None
            if has_idt:  # d/d idt of idt·t, idt·dt (before grad is overwritten)
                t = z[:n]
                dt = (1.0 - t * t) * (0.5 * z[n:])
                g_idt = (grad[:n] * t).sum(0) + (grad[n:] * dt).sum(0)
            idt = layer.idt.detach() if has_idt else torch.ones(layer.n_out, dtype=dtype)
            skip = layer.skip
            extra = torch.empty((2 * n, layer.n_in), dtype=dtype) if skip else None
            threads.run_split(_backward_rows, n, z.numpy(), grad.numpy(), idt.numpy(), skip,
                              extra.numpy() if skip else none, _one(z), n, threads=threads.KERNEL_THREADS)
            grads.append((xd_in.t() @ grad, grad[:n].sum(0), g_idt))
            if k > 0 or ctx.needs_input_grad[1]:
                w_t = layer.w.detach().t()
                grad = torch.addmm(extra, grad, w_t) if extra is not None else grad @ w_t
        grads.reverse()
        flat = []
        for layer, (g_w, g_b, g_idt) in zip(layers, grads):
            flat += [g_w, g_b] + ([g_idt] if layer.idt is not None else [])
        g_s = grad[:n] if ctx.needs_input_grad[1] else None
        return (None, g_s, *flat)


def params(net) -> list[torch.Tensor]:
    """The tensors :func:`value_and_tangent` differentiates, in the order its backward returns them."""
    out = []
    for layer in net.layers:
        out += [layer.w, layer.b] + ([layer.idt] if layer.idt is not None else [])
    return out


def value_and_tangent(net, s: torch.Tensor) -> torch.Tensor:
    """Rows ``[G; G']`` (2E, M) of the embedding net at the scalars ``s`` (E, 1): G(ŝ) and dG/dŝ.

    ``net`` a tanh MLP whose layers all have biases. One tensor, so that products with both
    halves (forces need G·a and G'·a for the same a) are one batched product.
    """
    return _EmbedTangent.apply(net, s.contiguous(), *params(net))
