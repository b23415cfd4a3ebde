"""Physical properties every descriptor must have (float64, small random models).

Finite differences, invariances, smoothness, batch == single and lower == global are in the
contract every model kind inherits (tests/model/model_contract.py); these are the checks beyond it.
"""

import numpy as np
import pytest

from deeppot.model.build import build_model
from deeppot.model.stats import StatFrames, compute_input_stats
from deeppot.testing import model_energy, model_outputs, water_cluster

RCUT = 4.0
DESCRIPTORS = {
    "se_e2_a_one_side": {"type": "se_e2_a", "neuron": [4, 8], "axis_neuron": 3, "type_one_side": True},
    "se_e2_a_two_side": {"type": "se_e2_a", "neuron": [4, 8], "axis_neuron": 3, "type_one_side": False,
                         "resnet_dt": True},
    "se_e2_r": {"type": "se_e2_r", "neuron": [4, 8]},
    "se_e3": {"type": "se_e3", "neuron": [2, 4]},
}


def make_model(kind: str, seed: int = 1, sel=(12, 24)):
    desc = dict(DESCRIPTORS[kind], rcut=RCUT, rcut_smth=1.0, sel=list(sel), seed=seed)
    model = build_model({"type_map": ["O", "H"], "descriptor": desc,
                         "fitting_net": {"neuron": [8, 8], "seed": seed + 1}})
    pos, types = water_cluster(8, seed=3)
    compute_input_stats(model, [StatFrames(pos[None], types, np.eye(3)[None] * 7.0, np.array([-10.0]))])
    return model


@pytest.fixture(params=list(DESCRIPTORS))
def model(request):
    return make_model(request.param)


@pytest.fixture
def system():
    pos, types = water_cluster(6, seed=7, box_A=6.5)
    cell = np.array([[6.5, 0.0, 0.0], [0.6, 6.3, 0.0], [-0.4, 0.5, 6.6]])  # triclinic
    return pos @ np.linalg.inv(np.eye(3) * 6.5) @ cell, cell, types


def test_periodic_images_are_equivalent(model, system):
    pos, cell, types = system
    base = model_outputs(model, pos, cell, types)
    moved = pos.copy()
    moved[0] += cell[1] - 2 * cell[2]  # same atom, another image
    assert abs(model_outputs(model, moved, cell, types)["energy"] - base["energy"]) < 1e-10
    big = np.concatenate([pos, pos + cell[0]])
    big_cell = cell.copy()
    big_cell[0] *= 2
    doubled = model_outputs(model, big, big_cell, np.concatenate([types, types]))
    assert abs(doubled["energy"] - 2 * base["energy"]) < 1e-9


@pytest.mark.parametrize("kind", list(DESCRIPTORS))
def test_small_box_below_two_rcut(kind):
    """A cell shorter than 2·rcut still sees every image: energy is a 2x2x2 supercell's / 8."""
    model = make_model(kind, sel=(30, 60))
    pos, types = water_cluster(2, seed=11, box_A=3.6)
    cell = np.eye(3) * 3.6
    shifts = np.array([[i, j, k] for i in range(2) for j in range(2) for k in range(2)]) @ cell
    big = np.concatenate([pos + s for s in shifts])
    e1 = model_energy(model, pos, cell, types)
    e8 = model_energy(model, big, 2 * cell, np.tile(types, 8))
    assert abs(e8 - 8 * e1) < 1e-9


def test_neighbour_overflow_is_reported_with_counts(system):
    from deeppot.errors import NeighborOverflowError

    pos, cell, types = system
    model = make_model("se_e2_a_one_side")
    model.descriptor.sel = [2, 3]
    with pytest.raises(NeighborOverflowError, match=r"O: max \d+ > sel 2"):
        model_outputs(model, pos, cell, types)


def test_chunked_inference_equals_single_pass(model, system):
    pos, cell, types = system
    whole = model_outputs(model, pos, cell, types, atomic=True)
    model.chunk_atoms = 5  # uneven chunks; chunking applies above 2 x chunk_atoms
    chunked = model_outputs(model, pos, cell, types, atomic=True)
    for key in ("energy", "force", "virial", "atom_energy", "atom_virial"):
        assert np.abs(chunked[key] - whole[key]).max() < 1e-12, key
