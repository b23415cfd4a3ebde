"""se_e2_a energy, forces and virial with a hand-written first derivative (DeePMD-kit's prod_force idea).

Training minimises a force loss, so the gradient of the loss needs second derivatives of the
energy. Letting autograd differentiate its own backward graph (``create_graph=True``) works but
is slow: the double-backward graph is large and full of small elementwise nodes. Here the
first derivative is written out as ordinary tensor operations, so the whole
energy → force → loss computation is a *first-order* graph that autograd differentiates once:

* embedding nets are evaluated together with their derivative in the scalar input
  (forward-mode tangent ``G' = dG/dŝ``), once per distinct ŝ of a block, as one autograd node
  with a hand-written backward (embed_tangent.py); the contractions below read those rows
  directly, with their own hand-written backward (contract.py);
* fitting nets run forward, then backward by hand to ``∂E/∂D`` (no weight gradients);
* ``∂E/∂T = ∂E/∂D · T<`` (+ the transposed term on the first ``axis_neuron`` rows), then per
  neighbour slot ``∂E/∂R̃ = G·∂E/∂T`` and ``∂E/∂ŝ = R̃·(G'·∂E/∂T)`` (two batched products);
* the environment-matrix Jacobian ``∂R/∂r_ij`` is analytic, contracted per slot into
  ``g_ij = ∂E/∂r_ij``, from which forces and virial follow as in grad.py (one compiled scatter
  per block, with its gather as the backward).

Neighbours are held in a padded layout per (centre type, neighbour type) block, left-aligned,
centres sorted by neighbour count; each chunk of centres is trimmed to its largest count, not
``sel``. Filler slots sit at distance ``rcut``, where the environment-matrix row and its Jacobian
are exactly zero: they are empty slots in DeePMD-kit's sense, and each chunk adds its
``sel - width`` remaining empty slots as a constant (the same bookkeeping as se_e2_a.py).
The layout, the environment rows and the scatter are loops compiled by numba
(block_kernels.py): as tensor operations they were some 200 small calls per evaluation.
Compressed models (tabulated embeddings) use the table's own value and slope.
The neighbour structure of a frame never changes
during training, so :class:`FrameCache` builds it once per frame.

Shapes: ``N`` atoms of all frames (sorted by type), per block ``n`` centres × ``w`` slots.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import torch

from deeppot.core import block_kernels, contract, embed_tangent
from deeppot.core.neighbor import build_edges, check_sel, neighbor_counts
from deeppot.core.network import MLP, tanh_affine

#: embedding/fitting activations the hand-written derivative covers (others use autograd)
_ACT_OK = ("tanh",)
_LINEAR = ("none", "linear")


def supported(model) -> bool:
    """True if ``model`` can use the explicit path (se_e2_a with tanh networks)."""
    from deeppot.core.descriptor.se_e2_a import DescriptorSeA

    desc = getattr(model, "descriptor", None)
    if type(desc) is not DescriptorSeA:
        return False
    # tabulated (compressed) embeddings provide value and slope themselves (inference only)
    nets = [net for net in desc.embeddings if not hasattr(net, "value_and_slope")] + list(model.fitting.nets)
    if not all(isinstance(net, MLP) for net in nets):
        return False
    for net in nets:
        hidden = net.layers if net in desc.embeddings else net.layers[:-1]
        if any(layer.activation not in _ACT_OK or layer.b is None for layer in hidden):
            return False
    return all(net.layers[-1].activation in _LINEAR for net in model.fitting.nets)


@dataclass
class Block:
    """Neighbours of type ``tj`` of the centres ``rows`` (centre type ``ti``, or all when None)."""

    net: int
    ti: int | None
    tj: int
    rows: slice             # centres: rows of the type-sorted atoms
    rij: torch.Tensor       # (n, w, 3) pair vectors, left-aligned; filler slots at (rcut, 0, 0)
    neighbor: torch.Tensor  # (n, w) type-sorted index of the neighbour (the centre for fillers)
    count: list[int]        # real slots of each centre (a chunk is trimmed to its own widest)

    @property
    def width(self) -> int:
        return int(self.rij.shape[1])


@dataclass
class PaddedFrames:
    """Frames of one system in the padded per-block layout (atoms sorted by type)."""

    nframes: int
    natoms: int                 # all frames
    atype: torch.Tensor         # (N,) sorted types
    frame_of_atom: torch.Tensor  # (N,) of the sorted atoms
    type_rows: list[slice]      # per type, its rows
    original: torch.Tensor      # (N,) sorted row of every original (frame-major) atom
    blocks: list[Block]
    #: atoms 0..n_centers-1 are centres; the rest are neighbours only (LAMMPS ghost atoms) and
    #: sort after all centres; None: every atom is a centre
    n_centers: int | None = None


def frame_edges(model, coord: np.ndarray, box: np.ndarray | None, atype: np.ndarray, where: str = ""):
    """(center, neighbor, rij float64) of one frame, checked against ``sel``."""
    coord_t = torch.as_tensor(coord, dtype=torch.float64).reshape(-1, 3)
    edges = build_edges(coord_t, None if box is None else torch.as_tensor(box, dtype=torch.float64).reshape(3, 3),
                        model.rcut)
    at = torch.as_tensor(atype, dtype=torch.long)
    n = at.shape[0]
    counts = neighbor_counts(edges.center, at[edges.neighbor], n, model.ntypes)
    check_sel(counts, model.sel, model.type_map, where=where)
    return edges.center, edges.neighbor, edges.vectors(coord_t)


def pad_frames(model, frames: list[tuple], atype: np.ndarray) -> PaddedFrames:
    """Build :class:`PaddedFrames` from per-frame ``(center, neighbor, rij)`` of equal-size frames."""
    n = len(atype)
    nf = len(frames)
    at = torch.as_tensor(np.tile(atype, nf), dtype=torch.long)
    offset = torch.arange(nf).repeat_interleave(torch.tensor([len(f[0]) for f in frames])) * n
    center = torch.cat([f[0] for f in frames]) + offset
    neighbor = torch.cat([f[1] for f in frames]) + offset
    rij = torch.cat([f[2] for f in frames])
    return pad_edges(model, center, neighbor, rij, at, torch.arange(nf).repeat_interleave(n), nf)


def pad_edges(model, center: torch.Tensor, neighbor: torch.Tensor, rij: torch.Tensor, at: torch.Tensor,
              frame_of_atom: torch.Tensor, nf: int, n_centers: int | None = None) -> PaddedFrames:
    """:class:`PaddedFrames` from flat edges (E,) over atoms ``at`` (N,) of ``nf`` frames.

    Edges at or beyond ``rcut`` (a skin list) are kept: their rows are exactly empty slots.
    With ``n_centers``, only the first ``n_centers`` atoms are centres (all ``center`` < n_centers);
    the others (ghost atoms of a domain decomposition) only receive forces.
    """
    desc = model.descriptor
    ntypes = model.ntypes
    center_np, neighbor_np, at_np = center.numpy(), neighbor.numpy(), at.numpy()
    rij_np = np.ascontiguousarray(rij.detach().to(torch.float64).numpy())
    natoms = at_np.shape[0]
    # type-major order; within a type by decreasing neighbour count, so that chunks of centres
    # have similar counts and trimming each chunk to its widest centre wastes few slots
    nbr_count = np.bincount(center_np, minlength=natoms)
    key = at_np * (int(nbr_count.max()) + 1 if nbr_count.size else 1) - nbr_count
    ncen = natoms if n_centers is None else int(n_centers)
    if ncen < natoms:  # neighbour-only atoms after every centre
        key = key + (np.arange(natoms) >= ncen) * (int(key.max()) - int(key.min()) + 1)
    order = np.argsort(key, kind="stable")
    row_of = np.empty_like(order)
    row_of[order] = np.arange(natoms)
    atype_s = at_np[order]
    starts = np.concatenate([[0], np.cumsum(np.bincount(atype_s[:ncen], minlength=ntypes))])
    type_rows = [slice(int(starts[t]), int(starts[t + 1])) for t in range(ntypes)]
    c_s = row_of[center_np]
    tj = at_np[neighbor_np]
    if desc.type_one_side:  # one block per neighbour type over all centres
        groups = [(None, t, slice(0, ncen)) for t in range(ntypes)]
        block, local = tj, c_s
    else:  # one block per (centre type, neighbour type)
        groups = [(ti, t, type_rows[ti]) for ti in range(ntypes) for t in range(ntypes)]
        block = atype_s[c_s] * ntypes + tj
        local = c_s - starts[atype_s[c_s]]
    width_rows = max(ncen, 1)  # edges per (block, centre row within the block), as neighbor_counts
    counts = np.bincount(block * width_rows + local, minlength=len(groups) * width_rows).reshape(len(groups), -1)
    nrows = np.array([g[2].stop - g[2].start for g in groups], dtype=np.int64)
    width = np.where(nrows > 0, counts.max(axis=1), 0)
    offset = np.concatenate([[0], np.cumsum(nrows * width)])
    rij_pad = np.empty((int(offset[-1]), 3))
    nb_pad = np.empty(int(offset[-1]), dtype=np.int64)
    block_kernels.fill_blocks(block, local, rij_np, row_of[neighbor_np], offset[:-1], width,
                              np.array([g[2].start for g in groups], dtype=np.int64), nrows, float(model.rcut),
                              rij_pad, nb_pad)
    rij_pad, nb_pad = torch.from_numpy(rij_pad), torch.from_numpy(nb_pad)
    blocks = []
    for b, (ti, t, rows) in enumerate(groups):
        n, w = int(nrows[b]), int(width[b])
        if w == 0:
            continue
        span = slice(int(offset[b]), int(offset[b + 1]))
        net = int(desc.net_index(torch.tensor(ti if ti is not None else 0), torch.tensor(t)))
        blocks.append(Block(net, ti, t, rows, rij_pad[span].view(n, w, 3), nb_pad[span].view(n, w),
                            counts[b, :n].tolist()))
    order_t = torch.from_numpy(order)
    return PaddedFrames(nf, natoms, torch.from_numpy(atype_s), frame_of_atom[order_t], type_rows,
                        torch.from_numpy(row_of), blocks, n_centers)


class FrameCache:
    """Neighbour structures of a system's frames, built on first use and kept (frames never change)."""

    def __init__(self, model, system, max_padded: int = 4096):
        self.model = model
        self.system = system
        self.edges: dict[int, tuple] = {}
        self.padded: dict[tuple, PaddedFrames] = {}
        self.max_padded = max_padded

    def get(self, frames) -> PaddedFrames:
        key = tuple(int(f) for f in frames)
        hit = self.padded.get(key)
        if hit is not None:
            return hit
        s = self.system
        parts = []
        for f in key:
            if f not in self.edges:
                box = None if s.box is None else s.box[f]
                self.edges[f] = frame_edges(self.model, s.coord[f], box, s.atype, where=f"{s.path}: frame {f}")
            parts.append(self.edges[f])
        pf = pad_frames(self.model, parts, s.atype)
        if len(key) == 1 and len(self.padded) < self.max_padded:
            self.padded[key] = pf
        return pf


# ----- networks with their derivatives ------------------------------------------------------
def _skip(layer, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if layer.skip == 1:
        return y + x
    if layer.skip == 2:  # y + [x, x] without materialising the concatenation
        return (y.unflatten(-1, (2, x.shape[-1])) + x.unsqueeze(-2)).flatten(-2)
    return y


_tanh_backward = torch.ops.aten.tanh_backward  # g·(1 − t²) in one pass, itself differentiable


def fit_with_gradient(net, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fitting-net output (n,) and its gradient in the input (n, d), by a hand-written backward."""
    saved = []
    h = x
    for layer in net.layers[:-1]:
        t = tanh_affine(layer.b, h, layer.w)
        y = t * layer.idt if layer.idt is not None else t
        saved.append((layer, t))
        h = _skip(layer, y, h)
    out = net.layers[-1]
    e = torch.addmm(out.b, h, out.w) if out.b is not None else h @ out.w
    g = out.w[:, 0].expand(h.shape[0], -1)
    for layer, t in reversed(saved):
        gt = g * layer.idt if layer.idt is not None else g
        gx = _tanh_backward(gt, t) @ layer.w.t()
        if layer.skip == 1:
            gx = gx + g
        elif layer.skip == 2:
            gx = gx + g[:, : layer.n_in] + g[:, layer.n_in:]
        g = gx
    return e[:, 0], g


# ----- the model ------------------------------------------------------------------------------
def evaluate(model, pf: PaddedFrames, virial: bool = True, chunk_atoms: int = 0) -> dict[str, torch.Tensor]:
    """Energies (nf,) and atom energies (N,) in float64, forces (N, 3), virial (nf, 3, 3).

    Atoms in the caller's (frame-major) order. Forces and virial come in the descriptor precision.
    Differentiable (first order) in the
    model parameters when grad mode is on. Centres are processed in chunks of at most
    ``chunk_atoms`` (0: one chunk per type) that never cross a type boundary, so each chunk
    has one fitting net and, for two-side embeddings, one centre type; E_i depends only on the
    slots of centre i, so chunking is exact and keeps the working set in cache.
    """
    desc = model.descriptor
    dtype = model.dtype
    davg, dstd = desc.block_stats()
    empty = _empty_slots(desc)
    geometry = [_block_geometry(desc, blk, pf.atype, davg, dstd, dtype) for blk in pf.blocks]
    force = torch.zeros((pf.natoms, 3), dtype=dtype)
    vir = torch.zeros((pf.nframes, 3, 3), dtype=dtype) if virial else None
    energies = []
    for t, rows in enumerate(pf.type_rows):
        step = chunk_atoms if chunk_atoms > 0 else max(1, rows.stop - rows.start)
        for lo in range(rows.start, rows.stop, step):
            hi = min(rows.stop, lo + step)
            parts = [(blk, geo) for blk, geo in zip(pf.blocks, geometry) if blk.ti in (None, t)]
            e, force, vir = _chunk(model, t, lo, hi, parts, empty[t], force, vir, pf)
            energies.append(e)
    atom_energy = torch.cat(energies)
    energy = torch.zeros(pf.nframes, dtype=torch.float64).index_add(0, pf.frame_of_atom[:atom_energy.shape[0]],
                                                                     atom_energy)
    centers = pf.original if pf.n_centers is None else pf.original[:pf.n_centers]
    out = {"energy": energy, "atom_energy": atom_energy[centers], "force": force[pf.original]}
    if virial:
        out["virial"] = vir
    return out


def _block_geometry(desc, blk: Block, atype, davg, dstd, dtype):
    """Per-slot normalised rows R̃ and the Jacobian pieces of a block (all centres of the block)."""
    ti_rows = atype[blk.rows]
    mean = davg[ti_rows, blk.tj].to(torch.float64).contiguous()
    std = dstd[ti_rows, blk.tj]
    n, w = blk.rij.shape[:2]
    rt, rhat = blk.rij.new_empty((n, w, 4), dtype=dtype), blk.rij.new_empty((n, w, 3), dtype=dtype)
    d0, d1, q = (blk.rij.new_empty((n, w, 1), dtype=dtype) for _ in range(3))
    block_kernels.env_rows(blk.rij.numpy(), mean.numpy(), std.to(torch.float64).contiguous().numpy(),
                           float(desc.rcut_smth), float(desc.rcut), float(desc.env_protection),
                           rt.numpy(), rhat.numpy(), d0.numpy(), d1.numpy(), q.numpy())
    return blk.rij.to(dtype), rt, rhat, d0, d1, q, std.unsqueeze(1).to(dtype)


def _chunk(model, t: int, lo: int, hi: int, parts, empty_t, force, vir, pf):
    """Atom energies (float64) of centres lo..hi (all of type t); forces and virial accumulated."""
    desc, fit = model.descriptor, model.fitting
    dtype, fdtype = model.dtype, fit.dtype
    m, axis, nnei = desc.neuron[-1], desc.axis_neuron, desc.nnei
    n = hi - lo
    # empty slots: sel minus the chunk's width for each neighbour type, each G(ŝ_e) ⊗ R̃_e
    n_empty = torch.tensor(desc.sel, dtype=empty_t.dtype)
    saved = []
    s_mat = None
    for blk, (rij, rt, rhat, d0, d1, q, std) in parts:
        a, b = lo - blk.rows.start, hi - blk.rows.start
        w = max(blk.count[a:b])
        n_empty[blk.tj] -= w
        if w == 0:
            continue
        rij, rt, rhat, d0, d1, q = (x[a:b, :w] for x in (rij, rt, rhat, d0, d1, q))
        std = std[a:b]
        contrib, backward = _embed_and_contract(desc.embeddings[blk.net], rt, n, w)
        s_mat = contrib if s_mat is None else s_mat + contrib
        saved.append((blk.neighbor[a:b, :w], rij, rhat, d0, d1, q, std, backward))
    s_mat = (torch.einsum("j,jmc->mc", n_empty, empty_t) + s_mat) if s_mat is not None else \
        torch.einsum("j,jmc->mc", n_empty, empty_t).expand(n, m, 4)
    t_mat = s_mat / nnei
    a_mat = t_mat[:, :axis]
    d_mat = torch.bmm(t_mat, a_mat.transpose(1, 2)).reshape(n, m * axis)
    # fitting net in its own precision; atomic energies in float64 (as DeePMD-kit)
    e, g_d = fit_with_gradient(fit.nets[t], d_mat.to(fdtype))
    e = (e + fit.bias_atom_e[t, 0].to(fdtype)).to(torch.float64) + model.out_bias[t]
    g_d = g_d.to(dtype).view(n, m, axis)
    g_t = torch.bmm(g_d, a_mat) + torch.nn.functional.pad(torch.bmm(g_d.transpose(1, 2), t_mat),
                                                          (0, 0, 0, m - axis))
    g_s = g_t / nnei
    frames = pf.frame_of_atom[lo:hi]
    for neighbor, rij, rhat, d0, d1, q, std, backward in saved:
        g_rt, g_hat = backward(g_s)  # ∂E/∂R̃ through T, ∂E/∂ŝ through G
        f_blk, v_blk = _EdgeForces.apply(g_rt, g_hat, (std, rij, rhat, d0, d1, q, neighbor, frames), lo,
                                         pf.natoms, 0 if vir is None else pf.nframes)
        force = force + f_blk
        if vir is not None:
            vir = vir + v_blk
    return e, force, vir


class _EdgeForces(torch.autograd.Function):
    """Forces (N, 3) and virial (nf, 3, 3) from one block's ∂E/∂R̃ and ∂E/∂ŝ, through ∂E/∂r_ij.

    One compiled loop each way (block_kernels.scatter_edges / gather_edges) instead of a dozen
    small tensor operations per block; the backward is first order (training needs no more).
    """

    @staticmethod
    def forward(ctx, g_rt, g_hat, geometry, lo, natoms, nframes):
        std, rij, rhat, d0, d1, q, neighbor, frames = geometry
        force = g_rt.new_zeros((natoms, 3))
        vir = g_rt.new_zeros((nframes, 3, 3))
        arrays = [x.detach().numpy() for x in (std, rij, rhat, d0, d1, q)]
        block_kernels.scatter_edges(g_rt.detach().numpy(), g_hat.detach().numpy(), *arrays, lo, neighbor.numpy(),
                                    frames.numpy(), force.numpy(), vir.numpy())
        ctx.geometry, ctx.lo = geometry, lo
        ctx.shape = (g_rt.shape, g_hat.shape, g_rt.dtype)
        return force, vir

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g_force, g_vir):
        std, rij, rhat, d0, d1, q, neighbor, frames = ctx.geometry
        shape_rt, shape_hat, dtype = ctx.shape
        g_rt, g_hat = torch.empty(shape_rt, dtype=dtype), torch.empty(shape_hat, dtype=dtype)
        block_kernels.gather_edges(g_force.contiguous().numpy(), g_vir.contiguous().numpy(),
                                   *[x.detach().numpy() for x in (std, rij, rhat, d0, d1, q)], ctx.lo,
                                   neighbor.numpy(), frames.numpy(), g_rt.numpy(), g_hat.numpy())
        return g_rt, g_hat, None, None, None, None


def _embed_and_contract(net, rt: torch.Tensor, n: int, w: int):
    """Gᵀ R̃ of one block (n, M, 4), and a function of ∂E/∂(Gᵀ R̃) giving ∂E/∂R̃ (n, w, 4), ∂E/∂ŝ (n, w, 1)."""
    if hasattr(net, "contract") and not torch.is_grad_enabled():  # compressed: fused table kernels
        rt = rt.contiguous()
        return net.contract(rt), lambda g_s: net.contract_backward(rt, g_s)
    # G and G' once per distinct ŝ (same-type pairs appear twice, fillers all alike), gathered in the kernels
    values, slot = contract.distinct(rt[..., 0])
    if hasattr(net, "value_and_slope"):  # compressed, differentiable: the table's own slope
        both = torch.cat(net.value_and_slope(values))
    else:
        both = embed_tangent.value_and_tangent(net, values)
    return contract.contract_t(both, slot, rt), lambda g_s: contract.contract_force(both, slot, rt, g_s)


#: inference: the empty-slot table of each descriptor with the versions of the tensors it came from
_EMPTY_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _empty_slots(desc) -> torch.Tensor:
    """:func:`_empty_slot_table`, kept between evaluations without gradients while the weights and
    statistics are unchanged (their tensors and in-place versions); in training it is rebuilt
    every step, as part of the graph."""
    if torch.is_grad_enabled():
        return _empty_slot_table(desc)
    key = tuple((t.data_ptr(), t._version) for t in (*desc.parameters(), *desc.buffers()))
    hit = _EMPTY_TABLES.get(desc)
    if hit is None or hit[0] != key:
        hit = _EMPTY_TABLES[desc] = (key, _empty_slot_table(desc))
    return hit[1]


def _empty_slot_table(desc) -> torch.Tensor:
    """(ntypes, ntypes, M, 4): G(ŝ_empty) ⊗ R̃_empty per (centre type, neighbour type)."""
    davg, dstd = desc.block_stats()
    nt = desc.ntypes
    pad_rows = -davg / dstd  # (nt, nt, 4)
    types = torch.arange(nt)
    tc, tn = torch.meshgrid(types, types, indexing="ij")
    g_pad = desc.embed(pad_rows[..., :1].reshape(-1, 1), desc.net_index(tc, tn).reshape(-1)).view(nt, nt, -1)
    return g_pad.unsqueeze(-1) * pad_rows.unsqueeze(-2)
