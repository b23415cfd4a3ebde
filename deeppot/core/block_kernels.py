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


@njit(cache=True, nogil=True)
def scatter_edges(g_rt, g_hat, std, rij, rhat, d0, d1, q, lo, neighbor, frame, force, vir):
    """∂E/∂r_ij of every slot of centres lo.., from ∂E/∂R̃ (g_rt) and ∂E/∂ŝ (g_hat), into forces and virial.

    With g = ((g_rt₀ + g_hat), g_rt₁, g_rt₂, g_rt₃)/std (∂E/∂R, un-normalised) and the pieces of
    :func:`env_rows`: ∂E/∂r_ij = (g₀ d₀ + Σ_a g_a x_a d₁) r̂ + q (g₁, g₂, g₃); it is added to the
    centre's force, taken from the neighbour's, and −∂E/∂r_ij ⊗ r_ij is added to the frame's virial
    (``vir`` of zero frames: no virial).
    """
    for i in range(g_rt.shape[0]):
        c = lo + i
        f = frame[i]
        s0, s1, s2, s3 = std[i, 0, 0], std[i, 0, 1], std[i, 0, 2], std[i, 0, 3]
        for j in range(g_rt.shape[1]):
            x, y, z = rij[i, j, 0], rij[i, j, 1], rij[i, j, 2]
            g0 = (g_rt[i, j, 0] + g_hat[i, j, 0]) / s0
            g1, g2, g3 = g_rt[i, j, 1] / s1, g_rt[i, j, 2] / s2, g_rt[i, j, 3] / s3
            radial = g0 * d0[i, j, 0] + (g1 * x + g2 * y + g3 * z) * d1[i, j, 0]
            ex = radial * rhat[i, j, 0] + q[i, j, 0] * g1
            ey = radial * rhat[i, j, 1] + q[i, j, 0] * g2
            ez = radial * rhat[i, j, 2] + q[i, j, 0] * g3
            nb = neighbor[i, j]
            force[c, 0] += ex
            force[c, 1] += ey
            force[c, 2] += ez
            force[nb, 0] -= ex
            force[nb, 1] -= ey
            force[nb, 2] -= ez
            if vir.shape[0]:
                vir[f, 0, 0] -= ex * x
                vir[f, 0, 1] -= ex * y
                vir[f, 0, 2] -= ex * z
                vir[f, 1, 0] -= ey * x
                vir[f, 1, 1] -= ey * y
                vir[f, 1, 2] -= ey * z
                vir[f, 2, 0] -= ez * x
                vir[f, 2, 1] -= ez * y
                vir[f, 2, 2] -= ez * z


@njit(cache=True, nogil=True)
def gather_edges(g_force, g_vir, std, rij, rhat, d0, d1, q, lo, neighbor, frame, g_rt, g_hat):
    """The backward of :func:`scatter_edges`: from ∂L/∂force and ∂L/∂virial, ∂L/∂g_rt and ∂L/∂g_hat.

    Per slot ē = ∂L/∂(∂E/∂r_ij) = ∂L/∂F_centre − ∂L/∂F_neighbour − (∂L/∂W) r_ij; with
    e_r = ē·r̂: ∂L/∂g₀ = e_r d₀ and ∂L/∂g_a = ē_a q + e_r d₁ x_a, then divided by std.
    """
    for i in range(g_rt.shape[0]):
        c = lo + i
        f = frame[i]
        s0, s1, s2, s3 = std[i, 0, 0], std[i, 0, 1], std[i, 0, 2], std[i, 0, 3]
        for j in range(g_rt.shape[1]):
            x, y, z = rij[i, j, 0], rij[i, j, 1], rij[i, j, 2]
            nb = neighbor[i, j]
            bx = g_force[c, 0] - g_force[nb, 0]
            by = g_force[c, 1] - g_force[nb, 1]
            bz = g_force[c, 2] - g_force[nb, 2]
            if g_vir.shape[0]:
                bx -= g_vir[f, 0, 0] * x + g_vir[f, 0, 1] * y + g_vir[f, 0, 2] * z
                by -= g_vir[f, 1, 0] * x + g_vir[f, 1, 1] * y + g_vir[f, 1, 2] * z
                bz -= g_vir[f, 2, 0] * x + g_vir[f, 2, 1] * y + g_vir[f, 2, 2] * z
            er = bx * rhat[i, j, 0] + by * rhat[i, j, 1] + bz * rhat[i, j, 2]
            qq, dd = q[i, j, 0], d1[i, j, 0]
            g0 = er * d0[i, j, 0] / s0
            g_rt[i, j, 0] = g0
            g_hat[i, j, 0] = g0
            g_rt[i, j, 1] = (bx * qq + er * dd * x) / s1
            g_rt[i, j, 2] = (by * qq + er * dd * y) / s2
            g_rt[i, j, 3] = (bz * qq + er * dd * z) / s3
