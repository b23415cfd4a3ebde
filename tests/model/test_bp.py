"""The ``bp`` descriptor: Behler–Parrinello symmetry functions.

* the functions equal DScribe's ACSF (an independent C++ implementation) on water frames, periodic
  and open, to 1e-10 relative;
* per-element-pair parameter sets select exactly the columns of the shared set they name;
* the triplet enumeration visits every unordered neighbour pair once (brute force);
* the descriptor's Jacobian matches finite differences (torch.autograd.gradcheck);
* invariances and continuity at both cutoffs (radial, and the angular f_c(r_jk) factor).

The model-level physics (fd forces/virial, .dp round trip, CLI) comes from the contract
(``test_model_contract.py``), where ``bp`` is a registered kind.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from deeppot.core.descriptor import EdgeBatch
from deeppot.core.descriptor.bp import DescriptorBP, cosine_cutoff, default_parameters, expand_rows, radial_grid
from deeppot.core.neighbor import build_edges
from deeppot.testing import random_rotation, water_cluster

WATER = Path(__file__).resolve().parents[2] / "examples" / "water" / "data" / "data_0"
TYPE_MAP = ["O", "H"]
G2 = [[0.5, 0.0], [1.0, 2.0], [4.0, 1.0], [0.0, 0.0]]
G4 = [[0.01, 1.0, 1.0], [0.01, 4.0, -1.0], [0.3, 2.0, 1.0]]
G5 = [[0.01, 2.0, 1.0], [0.1, 1.0, -1.0]]


def descriptor(rcut=6.0, g2=G2, g4=G4, g5=G5, rcut_ang=None, sel=(200, 400)) -> DescriptorBP:
    return DescriptorBP(rcut, list(sel), 2, expand_rows(g2, 2, TYPE_MAP, False, "g2"),
                        expand_rows(g4, 2, TYPE_MAP, True, "g4"), expand_rows(g5, 2, TYPE_MAP, True, "g5"),
                        rcut_ang=rcut_ang)


def edge_batch(pos, cell, types, rcut) -> EdgeBatch:
    pos = torch.as_tensor(pos, dtype=torch.float64)
    edges = build_edges(pos, cell, rcut)
    return EdgeBatch(edges.vectors(pos), edges.center, edges.neighbor, torch.as_tensor(types))


def water_frames(n: int = 2):
    types = np.loadtxt(WATER / "type.raw", dtype=int)
    coord = np.load(WATER / "set.000" / "coord.npy").astype(np.float64)
    box = np.load(WATER / "set.000" / "box.npy").astype(np.float64)
    return [(coord[f].reshape(-1, 3), box[f].reshape(3, 3), types) for f in range(n)]


def dscribe_columns(n_g2: int, n_g4: int, n_g5: int) -> list[int]:
    """Indices into DScribe's ACSF vector in deeppot's column order (type_map O, H).

    DScribe: species sorted by Z (H, O), each ``[G1, G2…]`` (G1 = Σ f_c is always emitted), then
    pair blocks HH, HO, OO each ``[G4…, G5…]``. deeppot: G2 by neighbour type in type_map order
    (O, H), then pair blocks (O,O), (O,H), (H,H).
    """
    per_species = 1 + n_g2
    species_start = {"H": 0, "O": per_species}
    n_ang = n_g4 + n_g5
    pair_start = {("H", "H"): 2 * per_species, ("H", "O"): 2 * per_species + n_ang,
                  ("O", "O"): 2 * per_species + 2 * n_ang}
    cols = []
    for name in TYPE_MAP:
        cols += [species_start[name] + 1 + k for k in range(n_g2)]
    for a, b in ((0, 0), (0, 1), (1, 1)):
        key = tuple(sorted((TYPE_MAP[a], TYPE_MAP[b]), key=lambda s: {"H": 1, "O": 8}[s]))
        cols += [pair_start[key] + k for k in range(n_ang)]
    return cols


def reference_acsf(atoms, rcut, periodic: bool) -> np.ndarray:
    from dscribe.descriptors import ACSF

    acsf = ACSF(r_cut=rcut, g2_params=G2, g4_params=G4, g5_params=G5, species=["O", "H"], periodic=periodic)
    return acsf.create(atoms)[:, dscribe_columns(len(G2), len(G4), len(G5))]


def assert_equal_to_1e10(ours: np.ndarray, reference: np.ndarray) -> None:
    scale = np.abs(reference).max(axis=0)
    error = np.abs(ours - reference).max(axis=0) / np.where(scale > 0, scale, 1.0)
    assert error.max() < 1e-10, f"relative error per column {error}"
    assert np.abs(reference).max() > 1.0  # the comparison is not between empty descriptors


@pytest.mark.parametrize("rcut", [6.0, 3.5])
def test_equals_dscribe_acsf_periodic(rcut):
    pytest.importorskip("dscribe")
    from ase import Atoms

    desc = descriptor(rcut)
    for pos, cell, types in water_frames(2):
        atoms = Atoms([TYPE_MAP[t] for t in types], positions=pos, cell=cell, pbc=True)
        # DScribe 2.1.2 (periodic) is wrong for atoms far outside the cell, as these unwrapped frames
        # have (up to 1.5 L): measured 6.5 absolute error. The wrapped frame is the same structure.
        atoms.wrap()
        ours = desc.raw(edge_batch(pos, cell, types, rcut)).numpy()
        assert_equal_to_1e10(ours, reference_acsf(atoms, rcut, periodic=True))


def test_equals_dscribe_acsf_open_cluster():
    pytest.importorskip("dscribe")
    from ase import Atoms

    pos, cell, types = water_frames(1)[0]
    atoms = Atoms([TYPE_MAP[t] for t in types], positions=pos, cell=cell, pbc=True)
    atoms.wrap()
    # an open cluster: the 60 atoms nearest the centre of the box, no periodic images
    centre = atoms.cell.sum(axis=0) / 2
    keep = np.argsort(np.linalg.norm(atoms.positions - centre, axis=1))[:60]
    cluster = Atoms(atoms.get_chemical_symbols(), positions=atoms.positions)[keep]
    desc = descriptor(6.0)
    ours = desc.raw(edge_batch(cluster.positions, None, types[keep], 6.0)).numpy()
    assert_equal_to_1e10(ours, reference_acsf(cluster, 6.0, periodic=False))


def test_per_pair_parameters_select_columns_of_the_shared_set():
    """A dict keyed by element pair gives the functions of those pairs only, with the same values."""
    pos, cell, types = water_frames(1)[0]
    batch = edge_batch(pos, cell, types, 6.0)
    full = descriptor().raw(batch).numpy()
    # O centres: radial to H only; angular H-H only. H centres: radial to O and H; angular O-H only.
    g2 = {"O-H": G2, "H-O": G2, "H-H": G2}
    g4 = {"O-H-H": G4, "H-H-O": G4}  # neighbour order does not matter
    sub = DescriptorBP(6.0, [200, 400], 2, expand_rows(g2, 2, TYPE_MAP, False, "g2"),
                       expand_rows(g4, 2, TYPE_MAP, True, "g4"), [])
    part = sub.raw(batch).numpy()
    n2, n4, n5 = len(G2), len(G4), len(G5)
    na = n4 + n5
    # full layout per centre: G2 to O [0:n2], G2 to H [n2:2n2], blocks OO, OH, HH of n4+n5 each
    radial_h = list(range(n2, 2 * n2))
    block = {"OO": 2 * n2, "OH": 2 * n2 + na, "HH": 2 * n2 + 2 * na}
    o_cols = radial_h + list(range(block["HH"], block["HH"] + n4))
    h_cols = list(range(2 * n2)) + list(range(block["OH"], block["OH"] + n4))
    assert sub.columns_per_type == [len(o_cols), len(h_cols)]
    assert sub.dim_out == len(h_cols)
    o, h = types == 0, types == 1
    np.testing.assert_allclose(part[o][:, :len(o_cols)], full[o][:, o_cols], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(part[h], full[h][:, h_cols], rtol=1e-13, atol=1e-13)
    assert np.all(part[o][:, len(o_cols):] == 0.0)  # padding of the narrower centre type


def test_bad_parameter_rows_are_rejected():
    with pytest.raises(ValueError, match="zeta"):
        expand_rows([[0.1, 0.5, 1.0]], 2, TYPE_MAP, True, "g4")
    with pytest.raises(ValueError, match="lambda"):
        expand_rows([[0.1, 1.0, 0.5]], 2, TYPE_MAP, True, "g4")
    with pytest.raises(ValueError, match="not in type_map"):
        expand_rows({"O-C": G2}, 2, TYPE_MAP, False, "g2")
    with pytest.raises(ValueError, match="eta, r_s"):
        expand_rows([[0.1]], 2, TYPE_MAP, False, "g2")
    with pytest.raises(ValueError, match="rcut_ang"):
        descriptor(rcut=4.0, rcut_ang=5.0)


def test_default_set_is_a_shifted_grid_ending_before_the_cutoff():
    rows = radial_grid(6.0, 8, 0.5, "shifted")
    step = 5.5 / 8
    assert [r[1] for r in rows] == pytest.approx([0.5 + k * step for k in range(8)])
    assert all(r[0] == pytest.approx(1 / (2 * step**2)) for r in rows)
    centred = radial_grid(6.0, 4, 0.5, "centred")
    assert [r[1] for r in centred] == [0.0] * 4
    assert [1 / np.sqrt(2 * r[0]) for r in centred] == pytest.approx(np.linspace(0.5, 6.0, 4))
    params = default_parameters(6.0)
    desc = DescriptorBP(6.0, [10, 20], 2, expand_rows(params["g2"], 2, TYPE_MAP, False, "g2"),
                        expand_rows(params["g4"], 2, TYPE_MAP, True, "g4"), [])
    assert desc.dim_out == 2 * 8 + 3 * 8  # 8 radial per neighbour type, 8 angular per neighbour pair


def test_triplets_visit_each_unordered_pair_once():
    pos, types = water_cluster(4, seed=1)
    batch = edge_batch(pos, np.eye(3) * 7.0, types, 4.0)
    desc = descriptor(4.0, rcut_ang=3.5)
    r = torch.linalg.norm(batch.rij, dim=1)
    j, k = desc.triplets(batch.center, r)
    found = sorted(zip(j.tolist(), k.tolist()))
    expected = []
    for c in range(len(types)):
        near = [e for e in range(len(r)) if batch.center[e] == c and r[e] < 3.5]
        expected += list(itertools.combinations(sorted(near), 2))
    assert found == sorted(expected)
    assert len(found) > 100


@pytest.mark.parametrize("rcut_ang", [None, 3.0])
def test_jacobian_matches_finite_differences(rcut_ang):
    pos, types = water_cluster(3, seed=2)
    batch = edge_batch(pos, np.eye(3) * 5.0, types, 4.0)
    desc = descriptor(4.0, rcut_ang=rcut_ang)
    rij = batch.rij.clone().requires_grad_(True)

    def f(x):
        return desc.raw(EdgeBatch(x, batch.center, batch.neighbor, batch.atype))

    assert torch.autograd.gradcheck(f, (rij,), eps=1e-6, atol=1e-7, rtol=1e-6)


def test_normalised_by_data_statistics():
    frames = water_frames(2)
    batches = [edge_batch(p, c, t, 6.0) for p, c, t in frames]
    desc = descriptor(6.0)
    desc.compute_input_stats(batches)
    x = torch.cat([desc(b) for b in batches]).detach()
    types = torch.cat([b.atype for b in batches])
    for t in (0, 1):
        block = x[types == t]
        varying = desc.dstd[t] > 1e-2  # floored columns keep a std below one
        assert torch.allclose(block.mean(0), torch.zeros_like(block[0]), atol=1e-10)
        assert torch.allclose(block.std(0, unbiased=False)[varying], torch.ones(int(varying.sum())).double(),
                              atol=1e-10)


def test_invariant_under_rotation_translation_and_permutation():
    pos, types = water_cluster(5, seed=4)
    desc = descriptor(4.0)
    ref = desc.raw(edge_batch(pos, None, types, 4.0))
    moved = pos @ random_rotation(3).T + np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(desc.raw(edge_batch(moved, None, types, 4.0)), ref, atol=1e-12)
    perm = np.random.default_rng(0).permutation(len(types))
    np.testing.assert_allclose(desc.raw(edge_batch(pos[perm], None, types[perm], 4.0)), ref[perm], atol=1e-12)


@pytest.mark.parametrize("rcut_ang", [None, 2.5])
def test_continuous_as_a_third_atom_leaves_each_cutoff(rcut_ang):
    """O at the origin, H at (−d, 0, 0), a second H moved along x across r_jk = rcut_ang and then
    r_ik = rcut_ang: values and slopes match on both sides of each crossing (f_c is C¹)."""
    desc = descriptor(4.0, rcut_ang=rcut_ang)
    rc_ang = desc.rcut_ang
    types = np.array([0, 1, 1])

    def values(x):
        p = torch.stack([torch.zeros(3), torch.tensor([-d, 0.0, 0.0]), torch.cat([x, torch.tensor([0.3, 0.0])])])
        return desc.raw(EdgeBatch(*_vectors(p), torch.as_tensor(types)))

    # r_jk = |(x + d, 0.3)| crosses rc_ang at x = sqrt(rc² − 0.09) − d, r_ik = |(x, 0.3)| d later
    d, h = 0.4 * rc_ang, 1e-7
    for x0 in (np.sqrt(rc_ang**2 - 0.09) - d, np.sqrt(rc_ang**2 - 0.09)):
        inside, outside = torch.tensor([x0 - h]), torch.tensor([x0 + h])
        a, b = values(inside).detach(), values(outside).detach()
        slope_a = torch.autograd.functional.jacobian(values, inside)[..., 0]
        slope_b = torch.autograd.functional.jacobian(values, outside)[..., 0]
        # over 2h the smooth functions move by ~2h·slope; a hard cutoff would jump by O(exp(−ηr²)) ≫ 1e-6
        assert (a - b).abs().max() < 2 * h * slope_a.abs().max() + 1e-12
        assert (slope_a - slope_b).abs().max() < 1e-5
        assert a.abs().max() > 0.1  # not a comparison of empty descriptors
    assert cosine_cutoff(torch.tensor([rc_ang, rc_ang + 1.0]), rc_ang).tolist() == [0.0, 0.0]


def _vectors(p: torch.Tensor):
    """All ordered pairs of an open 3-atom system (every pair is within 4 Å or is cut by f_c)."""
    center, neighbor = zip(*[(i, j) for i in range(3) for j in range(3) if i != j])
    center, neighbor = torch.tensor(center), torch.tensor(neighbor)
    rij = p[neighbor] - p[center]
    keep = torch.linalg.norm(rij.detach(), dim=1) < 4.0
    return rij[keep], center[keep], neighbor[keep]


def test_type_and_rcut_alone_build_a_model_through_the_input_schema():
    """``{"type": "bp", "rcut": 6.0}`` is a complete descriptor section: the default set, rcut_ang 4 Å."""
    from deeppot.model.build import build_model
    from deeppot.train.config import normalize
    from deeppot.train.trainer import model_section

    cfg = normalize({"model": {"type_map": TYPE_MAP, "descriptor": {"type": "bp", "rcut": 6.0}},
                     "training": {"training_data": {"systems": ["x"]}, "numb_steps": 1}})
    section = model_section(cfg)
    section["descriptor"]["sel"] = [50, 100]  # "auto" is resolved from the data by the trainer
    model = build_model(section)
    assert model.descriptor.rcut == 6.0 and model.descriptor.rcut_ang == 4.0
    assert model.descriptor.dim_out == 40
