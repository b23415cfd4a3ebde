"""Neighbour lists: periodic (any triclinic cell, including cells smaller than 2·rcut) and open.

The search itself is vesin's (cell lists, C++). This module turns its pairs into the two
forms the models consume:

* **edges** (``center``, ``neighbor``, ``shift``): one row per ordered pair within the cutoff,
  ``r_ij = pos[neighbor] - pos[center] + shift``. Every model evaluates on edges; padded
  neighbour slots never go through a network (their contribution is a constant).
* **padded, per-type-sorted neighbour lists** ``[nloc, sum(sel)]`` with ``-1`` pads, the
  DeePMD-kit layout: per-type blocks of ``sel[t]`` slots sorted by distance. Needed where
  the order matters (``loc_frame`` axes, ``se_e3`` pairs) and by the "lower" entry point
  (extended coordinates with ghost atoms and a ``mapping`` back to local atoms, as LAMMPS
  provides them).

More neighbours than ``sel`` are never dropped silently: :func:`check_sel` raises
:class:`~deeppot.errors.NeighborOverflowError` with the counts.

Shapes: ``n`` atoms, ``E`` edges, ``nsel = sum(sel)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import vesin

from deeppot.errors import DataError, NeighborOverflowError


@dataclass
class Edges:
    """Directed pairs within a cutoff.

    Attributes
    ----------
    center, neighbor : LongTensor (E,)
        Atom indices (local, i.e. ``0..n-1``; periodic images are folded in ``shift``).
    shift : Tensor (E, 3)
        Cartesian image shift in Å: ``r_ij = pos[neighbor] - pos[center] + shift``.
    """

    center: torch.Tensor
    neighbor: torch.Tensor
    shift: torch.Tensor

    def vectors(self, positions: torch.Tensor) -> torch.Tensor:
        """Pair vectors ``r_ij`` (E, 3) for these edges, differentiable in ``positions``."""
        return positions[self.neighbor] - positions[self.center] + self.shift

    def __len__(self) -> int:
        return int(self.center.shape[0])


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def check_cell(cell: np.ndarray, where: str = "cell") -> None:
    """Raise DataError for a non-finite or singular cell (rows are lattice vectors, Å)."""
    cell = np.asarray(cell, dtype=np.float64).reshape(3, 3)
    if not np.all(np.isfinite(cell)):
        raise DataError(f"{where}: cell contains NaN or inf")
    volume = abs(np.linalg.det(cell))
    scale = max(np.prod(np.linalg.norm(cell, axis=1)), 1e-300)
    if volume < 1e-10 * scale or volume < 1e-12:
        raise DataError(f"{where}: singular cell (volume {volume:.3g} Å^3)")


# Open-boundary hazards. vesin 0.6 sizes its cell list from the bounding box and dies with SIGFPE
# (no Python exception) when open-boundary atoms span a few thousand Å in two directions; a
# 50-cutoff-wide box was safe in every shape tried, so wider open systems (an evaporated atom,
# fragments flying apart) go through scipy's k-d tree, whose cost does not depend on the extent.
OPEN_EXTENT_CELLS = 50
# |x| beyond this leaves float64 positions ~1e-7 Å of resolution: distances, and the forces
# derived from them, are no longer meaningful, so such coordinates are refused by name.
MAX_COORDINATE_A = 1e9


def check_positions(pos: np.ndarray, where: str = "") -> None:
    """Raise DataError naming the atoms whose coordinates are NaN/inf or beyond ±MAX_COORDINATE_A."""
    bad = ~np.isfinite(pos).all(axis=1)
    prefix = f"{where}: " if where else ""
    if bad.any():
        atoms = np.nonzero(bad)[0]
        raise DataError(f"{prefix}non-finite coordinates for atom(s) {_atom_list(atoms)}")
    far = np.abs(pos).max(axis=1) > MAX_COORDINATE_A if len(pos) else np.zeros(0, bool)
    if far.any():
        atoms = np.nonzero(far)[0]
        raise DataError(f"{prefix}atom(s) {_atom_list(atoms)} at {np.abs(pos[atoms[0]]).max():.3g} Å from the "
                        f"origin (beyond ±{MAX_COORDINATE_A:.0e} Å, where float64 distances lose precision)")


def _atom_list(atoms: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(int(a)) for a in atoms[:limit])
    return shown + (f" and {len(atoms) - limit} more" if len(atoms) > limit else "")


def _open_pairs_kdtree(pos: np.ndarray, cutoff: float) -> tuple[np.ndarray, np.ndarray]:
    """Ordered pairs (i, j), i != j, |r_ij| < cutoff, open boundaries, sorted by (i, j)."""
    from scipy.spatial import cKDTree

    pairs = cKDTree(pos).query_pairs(cutoff, output_type="ndarray")
    if len(pairs):  # query_pairs uses <= cutoff; keep vesin's strict inequality
        keep = np.linalg.norm(pos[pairs[:, 1]] - pos[pairs[:, 0]], axis=1) < cutoff
        pairs = pairs[keep]
    i = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
    j = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)
    order = np.lexsort((j, i))
    return i[order], j[order]


def build_edges(
    positions,
    cell=None,
    cutoff: float = 6.0,
    pbc: bool | tuple[bool, bool, bool] = True,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> Edges:
    """All ordered pairs (i, j, image) with |r_ij| < cutoff.

    Parameters
    ----------
    positions : array (n, 3), Å
    cell : array (3, 3) with lattice vectors as rows, Å, or None for an open system.
    cutoff : float, Å
    pbc : periodicity per direction; ignored (False) when ``cell`` is None.
    """
    pos = np.ascontiguousarray(_as_numpy(positions), dtype=np.float64).reshape(-1, 3)
    check_positions(pos)
    if cell is None:
        box = np.zeros((3, 3))
        periodic: bool | list[bool] = False
    else:
        box = np.ascontiguousarray(_as_numpy(cell), dtype=np.float64).reshape(3, 3)
        periodic = list(pbc) if isinstance(pbc, (tuple, list)) else bool(pbc)
        if np.any(periodic):
            check_cell(box)
    if len(pos) == 0:
        empty = torch.zeros(0, dtype=torch.long, device=device)
        return Edges(empty, empty.clone(), torch.zeros(0, 3, dtype=dtype, device=device))
    if not np.any(periodic) and np.ptp(pos, axis=0).max() > OPEN_EXTENT_CELLS * cutoff:
        i, j = _open_pairs_kdtree(pos, float(cutoff))
        shifts = np.zeros((len(i), 3))
    else:
        nl = vesin.NeighborList(cutoff=float(cutoff), full_list=True)
        i, j, shifts = nl.compute(pos, box, periodic=periodic, quantities="ijS")
    shift_cart = shifts.astype(np.float64) @ box
    return Edges(
        torch.as_tensor(i.astype(np.int64), device=device),
        torch.as_tensor(j.astype(np.int64), device=device),
        torch.as_tensor(shift_cart, dtype=dtype, device=device),
    )


def count_neighbors(edges: Edges, atype: torch.Tensor, natoms: int, ntypes: int) -> torch.Tensor:
    """Neighbour counts per centre atom and neighbour type, LongTensor (n, ntypes)."""
    counts = torch.zeros(natoms * ntypes, dtype=torch.long, device=atype.device)
    key = edges.center * ntypes + atype[edges.neighbor]
    counts.index_add_(0, key, torch.ones_like(key))
    return counts.view(natoms, ntypes)


def neighbor_counts(center: torch.Tensor, neighbor_type: torch.Tensor, natoms: int, ntypes: int) -> torch.Tensor:
    """Neighbours of each type per centre atom: LongTensor (natoms, ntypes).

    The one count behind ``sel`` checks, ``neighbor-stat``/``sel: auto`` and the empty-slot
    bookkeeping of the descriptors (an atom's empty slots of type t are ``sel[t] - count``).
    """
    key = center * ntypes + neighbor_type
    return torch.bincount(key, minlength=natoms * ntypes).view(natoms, ntypes)


def check_sel(counts: torch.Tensor, sel: list[int], type_map: list[str] | None = None,
              where: str = "") -> None:
    """Raise NeighborOverflowError if any atom has more type-t neighbours than ``sel[t]``."""
    limit = torch.as_tensor(sel, dtype=counts.dtype, device=counts.device)
    excess = counts > limit
    if bool(excess.any()):
        worst = counts.max(dim=0).values.tolist()
        names = type_map or [str(t) for t in range(len(sel))]
        detail = ", ".join(
            f"{names[t]}: max {worst[t]} > sel {sel[t]}" for t in range(len(sel)) if worst[t] > sel[t]
        )
        n_bad = int(excess.any(dim=1).sum())
        prefix = f"{where}: " if where else ""
        raise NeighborOverflowError(
            f"{prefix}neighbour overflow in {n_bad} atom(s) ({detail}); increase sel"
        )


def slot_index(center: torch.Tensor, neighbor: torch.Tensor, neighbor_type: torch.Tensor,
               distance: torch.Tensor, sel: list[int]) -> torch.Tensor:
    """Slot (0..nsel-1) of every edge in DeePMD-kit's padded layout, or -1 beyond ``sel``.

    Slots are per-type blocks of ``sel[t]`` entries, each sorted by (distance, neighbour
    index) as in DeePMD-kit's ``fmt_nlist``. Returns LongTensor (E,) aligned with the input.
    """
    ntypes = len(sel)
    # lexsort via stable sorts from the least significant key up
    order = torch.argsort(neighbor, stable=True)
    order = order[torch.argsort(distance.detach()[order], stable=True)]
    order = order[torch.argsort(neighbor_type[order], stable=True)]
    order = order[torch.argsort(center[order], stable=True)]
    ntype_j = neighbor_type[order]
    group = center[order] * ntypes + ntype_j
    n = group.shape[0]
    idx = torch.arange(n, device=group.device)
    is_start = torch.ones(n, dtype=torch.bool, device=group.device)
    if n > 1:
        is_start[1:] = group[1:] != group[:-1]
    start_pos = torch.cummax(torch.where(is_start, idx, torch.zeros_like(idx)), dim=0).values
    rank = idx - start_pos
    sel_t = torch.as_tensor(sel, device=group.device)
    offset = torch.cumsum(torch.cat([sel_t.new_zeros(1), sel_t[:-1]]), 0)
    slot_sorted = torch.where(rank < sel_t[ntype_j], offset[ntype_j] + rank, torch.full_like(rank, -1))
    slot = torch.empty_like(slot_sorted)
    slot[order] = slot_sorted
    return slot


def padded_slots(edges: Edges, atype: torch.Tensor, distance: torch.Tensor, natoms: int,
                 sel: list[int]) -> torch.Tensor:
    """:func:`slot_index` for an :class:`Edges` object."""
    return slot_index(edges.center, edges.neighbor, atype[edges.neighbor], distance, sel)


def padded_nlist(edges: Edges, atype: torch.Tensor, distance: torch.Tensor, natoms: int,
                 sel: list[int]) -> torch.Tensor:
    """Padded neighbour list LongTensor (n, nsel): edge index in each slot, -1 for pads."""
    slot = padded_slots(edges, atype, distance, natoms, sel)
    nsel = int(sum(sel))
    out = torch.full((natoms * nsel,), -1, dtype=torch.long, device=atype.device)
    keep = slot >= 0
    edge_id = torch.arange(len(edges), device=atype.device)[keep]
    out[edges.center[keep] * nsel + slot[keep]] = edge_id
    return out.view(natoms, nsel)


@dataclass
class Extended:
    """Extended system for the "lower" entry point: local atoms first, then ghost images.

    Attributes
    ----------
    coord : Tensor (nall, 3)        local atoms (0..nloc-1) then ghosts, Å
    atype : LongTensor (nall,)
    mapping : LongTensor (nall,)    index of the local atom each extended atom images
    nlist : LongTensor (nloc, nsel) extended-atom index per slot (DeePMD-kit order), -1 pads
    """

    coord: torch.Tensor
    atype: torch.Tensor
    mapping: torch.Tensor
    nlist: torch.Tensor


def build_extended(positions: torch.Tensor, cell, atype: torch.Tensor, rcut: float,
                   sel: list[int]) -> Extended:
    """Ghost atoms and a padded neighbour list, as LAMMPS or DeePMD-kit's ``forward_lower`` use.

    Every periodic image that is a neighbour of some local atom becomes one ghost atom.
    """
    natoms = positions.shape[0]
    edges = build_edges(positions, cell, rcut, dtype=positions.dtype, device=positions.device)
    # unique (neighbor, shift) images that are not the zero-shift local atom
    is_ghost = edges.shift.abs().sum(dim=1) > 0
    key = torch.cat([edges.neighbor[:, None].to(positions.dtype), edges.shift], dim=1)
    ghost_key, inverse = torch.unique(key[is_ghost], dim=0, return_inverse=True)
    ghost_index = ghost_key[:, 0].long()
    ext_coord = torch.cat([positions, positions[ghost_index] + ghost_key[:, 1:]], dim=0)
    mapping = torch.cat([torch.arange(natoms, device=positions.device), ghost_index])
    ext_neighbor = edges.neighbor.clone()
    ext_neighbor[is_ghost] = natoms + inverse
    distance = torch.linalg.norm(edges.vectors(positions), dim=1)
    nlist_edges = padded_nlist(edges, atype, distance, natoms, sel)
    nlist = torch.where(nlist_edges >= 0, ext_neighbor[nlist_edges.clamp(min=0)], nlist_edges)
    return Extended(ext_coord, atype[mapping], mapping, nlist)


def edges_from_extended(ext_coord: torch.Tensor, nlist: torch.Tensor, mapping: torch.Tensor
                        ) -> tuple[Edges, torch.Tensor]:
    """Edges (over local atoms) from an extended system and its padded nlist.

    Returns the edges and the pair vectors computed from the extended coordinates, so that
    a caller holding ``ext_coord`` with ``requires_grad`` gets derivatives on ghosts too.
    """
    nloc = nlist.shape[0]
    center = torch.arange(nloc, device=nlist.device)[:, None].expand_as(nlist)
    keep = nlist >= 0
    c = center[keep]
    j_ext = nlist[keep]
    vec = ext_coord[j_ext] - ext_coord[c]
    shift = (vec - (ext_coord[mapping[j_ext]] - ext_coord[c])).detach()
    return Edges(c, mapping[j_ext], shift), vec
