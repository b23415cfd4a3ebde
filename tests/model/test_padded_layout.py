"""The padded per-block neighbour layout (explicit.pad_edges, compiled in core/block_kernels.py).

Every edge must sit in exactly one slot of its (centre type, neighbour type) block, left-aligned
in the order the edges came in, with its pair vector and neighbour; every other slot is an empty
slot at rcut pointing at its own centre; neighbour-only (ghost) atoms sort after every centre.
The environment rows of the kernel equal env_mat.env_mat_rows, normalised.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deeppot.core import explicit
from deeppot.core.env_mat import env_mat_rows
from deeppot.model.build import build_model
from deeppot.testing import water_cluster


def _model(type_one_side: bool):
    return build_model({"type_map": ["O", "H"], "descriptor": {
        "type": "se_e2_a", "rcut": 4.0, "rcut_smth": 0.5, "sel": [20, 40], "neuron": [4, 8],
        "type_one_side": type_one_side}, "fitting_net": {"neuron": [8]}})


def _edges(model):
    coord, atype = water_cluster(n_molecules=12, seed=0, box_A=7.0)
    center, neighbor, rij = explicit.frame_edges(model, coord, np.eye(3) * 7.0, atype)
    return center, neighbor, rij, torch.as_tensor(atype, dtype=torch.long)


@pytest.mark.parametrize("type_one_side", [True, False])
def test_every_edge_in_one_slot_in_order(type_one_side):
    model = _model(type_one_side)
    center, neighbor, rij, at = _edges(model)
    n = at.shape[0]
    pf = explicit.pad_edges(model, center, neighbor, rij, at, torch.zeros(n, dtype=torch.long), 1)
    row_of = pf.original
    assert torch.equal(pf.atype, at[torch.argsort(row_of)])
    seen = 0
    for blk in pf.blocks:
        for i, row in enumerate(range(blk.rows.start, blk.rows.stop)):
            atom = int(torch.nonzero(row_of == row))
            mine = (center == atom) & (at[neighbor] == blk.tj)
            k = int(mine.sum())
            assert blk.count[i] == k and (blk.ti is None or blk.ti == int(at[atom]))
            assert torch.equal(blk.rij[i, :k], rij[mine])  # left-aligned, in the edges' order
            assert torch.equal(blk.neighbor[i, :k], row_of[neighbor[mine]])
            assert torch.all(blk.rij[i, k:] == torch.tensor([model.rcut, 0.0, 0.0], dtype=torch.float64))
            assert torch.all(blk.neighbor[i, k:] == row)
            seen += k
    assert seen == center.shape[0]


def test_ghost_atoms_after_centres():
    model = _model(False)
    center, neighbor, rij, at = _edges(model)
    keep = center < 20  # the first 20 atoms are centres; the others only neighbours
    pf = explicit.pad_edges(model, center[keep], neighbor[keep], rij[keep], at,
                            torch.zeros(at.shape[0], dtype=torch.long), 1, n_centers=20)
    assert torch.all(pf.original[:20] < 20) and torch.all(pf.original[20:] >= 20)
    assert sum(sum(blk.count) for blk in pf.blocks) == int(keep.sum())


def test_environment_rows_equal_env_mat():
    model = _model(False)
    desc = model.descriptor
    desc.davg.normal_(0.0, 0.1)
    desc.dstd.uniform_(0.5, 1.5)
    desc.davg[:] = desc.davg[:, :1]  # uniform within the neighbour-type blocks (as data statistics are)
    desc.dstd[:] = desc.dstd[:, :1]
    center, neighbor, rij, at = _edges(model)
    pf = explicit.pad_edges(model, center, neighbor, rij, at, torch.zeros(at.shape[0], dtype=torch.long), 1)
    davg, dstd = desc.block_stats()
    for blk in pf.blocks:
        _, rt, rhat, *_ = explicit._block_geometry(desc, blk, pf.atype, davg, dstd, torch.float64)
        ti = pf.atype[blk.rows]
        expect = (env_mat_rows(blk.rij, desc.rcut_smth, desc.rcut) - davg[ti, blk.tj].unsqueeze(1)) \
            / dstd[ti, blk.tj].unsqueeze(1)
        torch.testing.assert_close(rt, expect, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(rhat, blk.rij / torch.linalg.norm(blk.rij, dim=-1, keepdim=True))
