"""Fused kernels of a compressed se_e2_a block: table lookup and contraction in one pass (inference).

With the embedding net replaced by a quintic table (:mod:`deeppot.model.compress`), the
remaining cost of a model evaluation is memory traffic: forming G (E, M) and its slope G'
(E, M) for every neighbour slot, then contracting them with the environment rows R̃ (E, 4).
DeePMD-kit's ``tabulate_fusion_se_a`` never materialises G; these kernels do the same on the
CPU, compiled by numba:

* :func:`contract` gives Gᵀ R̃ per centre, (n, M, 4), evaluating each slot's quintic (Horner)
  and accumulating it at once;
* :func:`contract_backward` gives, from ∂E/∂(Gᵀ R̃) (n, M, 4), the gradients ∂E/∂R̃ through the
  contraction (n, w, 4) and ∂E/∂ŝ through G (n, w).

Both work on a range of centres and release the GIL; :func:`deeppot.core.threads.run_split` runs
one on as many threads as torch uses.

The polynomial of each slot is the one :class:`~deeppot.model.compress.TabulatedEmbedding`
evaluates (same pieces, same clamping); only the order of floating-point operations differs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: reductions over the M channels may be reordered (vectorised); nothing here meets NaN or inf
_FAST = {"reassoc", "contract", "nsz"}


@njit(cache=True, inline="always")
def _slot(rt, i, j, knots, lower, stride0, n0, upper, stride1, n_last):
    """First table row of the piece holding ŝ = rt[i, j, 0] (as TabulatedEmbedding.locate), and ŝ − knot."""
    x = rt[i, j, 0]
    if x < upper:
        k = math.floor((x - lower) / stride0)
    else:
        k = n0 + math.floor((x - upper) / stride1)
    k = int(min(max(k, 0), n_last))
    return 6 * k, x - knots[k]


@njit(cache=True, inline="always")
def _quintic(table, row, m, d):
    """Channel m of the piece starting at ``row`` (rows hold the d^0 ... d^5 coefficients), by Horner."""
    return table[row, m] + d * (table[row + 1, m] + d * (table[row + 2, m] + d * (
        table[row + 3, m] + d * (table[row + 4, m] + d * table[row + 5, m]))))


@njit(cache=True, fastmath=_FAST, nogil=True)
def contract(rt, table, knots, lower, stride0, n0, upper, stride1, n_last, out, lo, hi):
    """out[i, m, a] = Σ_j G_m(rt[i, j, 0]) rt[i, j, a] for centres lo <= i < hi
    (rt: (n, w, 4), table: (6K, M), out: (n, M, 4))."""
    w = rt.shape[1]
    m_out = table.shape[1]
    acc = np.empty((4, m_out), dtype=out.dtype)
    for i in range(lo, hi):
        acc[:] = 0.0
        for j in range(w):
            row, d = _slot(rt, i, j, knots, lower, stride0, n0, upper, stride1, n_last)
            r0, r1, r2, r3 = rt[i, j, 0], rt[i, j, 1], rt[i, j, 2], rt[i, j, 3]
            for m in range(m_out):
                g = _quintic(table, row, m, d)
                acc[0, m] += g * r0
                acc[1, m] += g * r1
                acc[2, m] += g * r2
                acc[3, m] += g * r3
        for m in range(m_out):
            for a in range(4):
                out[i, m, a] = acc[a, m]


@njit(cache=True, fastmath=_FAST, nogil=True)
def contract_backward(rt, gs, table, slope, knots, lower, stride0, n0, upper, stride1, n_last, g_rt, g_hat, lo, hi):
    """From gs = ∂E/∂(Gᵀ R̃) (n, M, 4), for centres lo <= i < hi: g_rt[i, j, a] = Σ_m G_m gs[i, m, a]
    and g_hat[i, j] = Σ_m G'_m Σ_a gs[i, m, a] rt[i, j, a] (G' from the ``slope`` table, whose
    d^5 row is zero)."""
    w = rt.shape[1]
    m_out = table.shape[1]
    gst = np.empty((4, m_out), dtype=gs.dtype)
    for i in range(lo, hi):
        for m in range(m_out):
            for a in range(4):
                gst[a, m] = gs[i, m, a]
        s0, s1, s2, s3 = gst[0], gst[1], gst[2], gst[3]
        for j in range(w):
            row, d = _slot(rt, i, j, knots, lower, stride0, n0, upper, stride1, n_last)
            r0, r1, r2, r3 = rt[i, j, 0], rt[i, j, 1], rt[i, j, 2], rt[i, j, 3]
            t0 = t1 = t2 = t3 = 0.0
            h = 0.0
            for m in range(m_out):
                g = _quintic(table, row, m, d)
                gp = _quintic(slope, row, m, d)
                t0 += g * s0[m]
                t1 += g * s1[m]
                t2 += g * s2[m]
                t3 += g * s3[m]
                h += gp * (r0 * s0[m] + r1 * s1[m] + r2 * s2[m] + r3 * s3[m])
            g_rt[i, j, 0] = t0
            g_rt[i, j, 1] = t1
            g_rt[i, j, 2] = t2
            g_rt[i, j, 3] = t3
            g_hat[i, j] = h
