"""Compiled kernels of the padded per-block neighbour layout of explicit.py.

A 192-atom evaluation lasts about 30 ms; building the layout and the environment rows of a frame
in torch took some 150 small operations (sorts, bincounts, masks, scatters, one pass per
elementwise step of the switching function). Their dispatch cost more than their arithmetic:
pad_edges 1.9 ms and the rows with their Jacobian 0.9 ms on 2 cores. Here each is one loop
(numba) over the edges or slots, giving the same layout and the same values.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def block_counts(block: np.ndarray, local: np.ndarray, nblocks: int, nrows: int) -> np.ndarray:
    """Edges per (block, centre row within its block): (nblocks, nrows)."""
    counts = np.zeros((nblocks, nrows), dtype=np.int64)
    for e in range(block.shape[0]):
        counts[block[e], local[e]] += 1
    return counts


@njit(cache=True)
def fill_blocks(block, local, rij, nb_row, offset, width, start, nrows, far, rij_out, nb_out):
    """Left-aligned slots of every block in flat buffers, edges in their given order within a centre.

    Block ``b`` holds ``nrows[b]`` centres × ``width[b]`` slots at ``offset[b]`` of ``rij_out``
    (S, 3) and ``nb_out`` (S,). Slots without an edge hold ``(far, 0, 0)`` and the centre's own
    row: exactly empty slots (see explicit.py).
    """
    for b in range(offset.shape[0]):
        for i in range(nrows[b]):
            for k in range(width[b]):
                s = offset[b] + i * width[b] + k
                rij_out[s, 0] = far
                rij_out[s, 1] = 0.0
                rij_out[s, 2] = 0.0
                nb_out[s] = start[b] + i
    rank = np.zeros(nb_out.shape[0], dtype=np.int64)  # next free slot of each (block, centre), by its first slot
    for e in range(block.shape[0]):
        b, i = block[e], local[e]
        first = offset[b] + i * width[b]
        s = first + rank[first]
        rank[first] += 1
        rij_out[s, 0] = rij[e, 0]
        rij_out[s, 1] = rij[e, 1]
        rij_out[s, 2] = rij[e, 2]
        nb_out[s] = nb_row[e]


@njit(cache=True, nogil=True)
def env_rows(rij, mean, std, rcut_smth, rcut, protection, rt, rhat, d0, d1, q):
    """Normalised environment rows R̃ = (R − mean)/std and the pieces of ∂R/∂r_ij.

    With s = w(r)/(r+p) and q = w(r)/(r+p)², R = (s, q·x, q·y, q·z) and

    .. math:: ∂R_0/∂r_b = d_0\\,\\hat r_b, \\qquad ∂R_{a}/∂r_b = q\\,δ_{ab} + x_a\\, d_1\\, \\hat r_b

    with d_0 = w'/(r+p) − w/(r+p)², d_1 = w'/(r+p)² − 2w/(r+p)³ (w: the switching function of
    env_mat.py). rij (n, w, 3) float64; mean, std (n, 4) of each centre's (type, neighbour type); outputs
    rt (n, w, 4), rhat (n, w, 3), d0, d1, q (n, w, 1) in their own precision (computed in float64).
    """
    width = rcut - rcut_smth
    for i in range(rij.shape[0]):
        for j in range(rij.shape[1]):
            x, y, z = rij[i, j, 0], rij[i, j, 1], rij[i, j, 2]
            r = np.sqrt(x * x + y * y + z * z)
            u = min(max((r - rcut_smth) / width, 0.0), 1.0)
            u2 = u * u
            w = u2 * u * (-6.0 * u2 + 15.0 * u - 10.0) + 1.0
            dw = -30.0 * u2 * (u - 1.0) ** 2 / width
            inv = 1.0 / (r + protection)
            s = w * inv
            qq = s * inv
            d0[i, j, 0] = (dw - s) * inv
            d1[i, j, 0] = (dw * inv - 2.0 * s * inv) * inv
            q[i, j, 0] = qq
            rt[i, j, 0] = (s - mean[i, 0]) / std[i, 0]
            rt[i, j, 1] = (qq * x - mean[i, 1]) / std[i, 1]
            rt[i, j, 2] = (qq * y - mean[i, 2]) / std[i, 2]
            rt[i, j, 3] = (qq * z - mean[i, 3]) / std[i, 3]
            rhat[i, j, 0] = x / r
            rhat[i, j, 1] = y / r
            rhat[i, j, 2] = z / r
