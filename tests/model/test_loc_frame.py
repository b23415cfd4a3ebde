"""The original Deep Potential (loc_frame): local-frame descriptor with full and radial neighbours."""

import numpy as np
import pytest
import torch

from deeppot.core.descriptor import EdgeBatch
from deeppot.core.neighbor import build_edges
from deeppot.model.build import build_model
from deeppot.model.dp_format import load_model, save_model
from deeppot.model.stats import StatFrames, compute_input_stats
from deeppot.testing import fd_forces, fd_virial, model_outputs, random_rotation, water_cluster

WATER_RULE = [0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0]  # O: two nearest H; H: nearest O, nearest H


@pytest.fixture
def model():
    m = build_model({"type_map": ["O", "H"],
                     "descriptor": {"type": "loc_frame", "rcut": 4.0, "sel_a": [4, 8], "sel_r": [8, 16],
                                    "axis_rule": WATER_RULE},
                     "fitting_net": {"neuron": [10, 10], "seed": 3}})
    pos, types = water_cluster(8, seed=3)
    compute_input_stats(m, [StatFrames(pos[None], types, np.eye(3)[None] * 7.0, np.array([-5.0]))])
    return m


@pytest.fixture
def system():
    pos, types = water_cluster(6, seed=7, box_A=6.5)
    # rattle: the rigid molecules have exactly equidistant H, a tie the local frame cannot resolve
    pos = pos + np.random.default_rng(0).normal(scale=0.05, size=pos.shape)
    return pos, np.eye(3) * 6.5, types


def test_descriptor_follows_deepmd_layout():
    """Hand-built frame: O at origin, H1 on x, H2 in the xy plane; an O neighbour placed by hand."""
    from deeppot.core.descriptor import DescriptorLocFrame

    desc = DescriptorLocFrame(4.0, [1, 2], [1, 1], WATER_RULE, 2)
    pos = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [0.0, 1.5, 0], [0.5, 1.0, 2.0]])
    atype = torch.tensor([0, 1, 1, 0])
    e = build_edges(pos, None, 4.0)
    raw = desc.raw(EdgeBatch(e.vectors(pos), e.center, e.neighbor, atype))[0]
    r = np.sqrt(0.25 + 1 + 4)
    # O neighbour (type 0, full slot 0): (1/r, z'/r^2, x'/r^2, y'/r^2) with the frame = lab frame
    assert np.allclose(raw[:4].numpy(), [1 / r, 2 / r**2, 0.5 / r**2, 1.0 / r**2])
    # H neighbours (full slots 1, 2) sorted by distance: H1 (1.0, on x), H2 (1.5, on y)
    assert np.allclose(raw[4:8].numpy(), [1.0, 0.0, 1.0, 0.0])
    assert np.allclose(raw[8:12].numpy(), [1 / 1.5, 0.0, 0.0, 1 / 1.5])
    assert np.allclose(raw[12:].numpy(), 0.0)  # radial slots empty


def test_forces_and_virial_match_finite_differences(model, system):
    pos, cell, types = system
    out = model_outputs(model, pos, cell, types)
    assert np.abs(out["force"] - fd_forces(model, pos, cell, types, h=1e-6)).max() < 1e-6
    assert np.abs(out["virial"] - fd_virial(model, pos, cell, types, h=1e-6)).max() < 1e-6


def test_rotation_and_permutation_invariance(model, system):
    pos, cell, types = system
    base = model_outputs(model, pos, cell, types)
    rot = random_rotation(2)
    rotated = model_outputs(model, pos @ rot.T, cell @ rot.T, types)
    assert abs(rotated["energy"] - base["energy"]) < 1e-10
    assert np.abs(rotated["force"] - base["force"] @ rot.T).max() < 1e-9
    perm = np.random.default_rng(1).permutation(len(types))
    assert abs(model_outputs(model, pos[perm], cell, types[perm])["energy"] - base["energy"]) < 1e-10


def test_model_file_round_trip(model, system, tmp_path):
    pos, cell, types = system
    save_model(model, tmp_path / "loc.dp")
    again = load_model(tmp_path / "loc.dp")
    assert model_outputs(again, pos, cell, types)["energy"] == model_outputs(model, pos, cell, types)["energy"]
