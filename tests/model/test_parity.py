"""deeppot reproduces DeePMD-kit 3.2's own predictions for the same weights (.dp files).

Fixtures: tests/fixtures/parity/*.dp and *.npz, made by tools/make_parity_fixtures.py with
DeePMD-kit (periodic water frames and an open-boundary cluster).
"""

import numpy as np
import pytest

from deeppot import DeepPot

MODELS = ["se_e2_a_one_side", "se_e2_a_two_side", "se_e2_r", "se_e3"]
RTOL = 1e-10


def rel_err(a, b):
    a, b = np.asarray(a), np.asarray(b).reshape(np.shape(a))
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize("name", MODELS)
def test_periodic_frames_match_deepmd(parity_dir, name):
    ref = np.load(parity_dir / f"{name}.npz")
    e, f, v, ae, av = DeepPot(parity_dir / f"{name}.dp").eval(ref["coord"], ref["cell"], ref["atype"], atomic=True)
    assert rel_err(e, ref["energy"]) < RTOL
    assert rel_err(f, ref["force"]) < RTOL
    assert rel_err(v, ref["virial"]) < RTOL
    assert rel_err(ae, ref["atom_energy"]) < RTOL
    assert rel_err(av, ref["atom_virial"]) < RTOL


@pytest.mark.parametrize("name", MODELS)
def test_periodic_frames_match_deepmd_without_atomic(parity_dir, name):
    """Without atomic terms se_e2_a takes the hand-written-derivative path (core/explicit.py)."""
    ref = np.load(parity_dir / f"{name}.npz")
    e, f, v = DeepPot(parity_dir / f"{name}.dp").eval(ref["coord"], ref["cell"], ref["atype"])
    assert rel_err(e, ref["energy"]) < RTOL
    assert rel_err(f, ref["force"]) < RTOL
    assert rel_err(v, ref["virial"]) < RTOL


@pytest.mark.parametrize("name", MODELS)
def test_open_cluster_matches_deepmd(parity_dir, name):
    ref = np.load(parity_dir / f"{name}.npz")
    e, f, v = DeepPot(parity_dir / f"{name}.dp").eval(ref["cluster_coord"], None, ref["cluster_atype"])
    assert rel_err(e, ref["cluster_energy"]) < RTOL
    assert rel_err(f, ref["cluster_force"]) < RTOL
    assert rel_err(v, ref["cluster_virial"]) < RTOL


@pytest.mark.parametrize("name", MODELS)
def test_save_load_round_trip_is_exact(parity_dir, tmp_path, name):
    from deeppot.model.dp_format import load_model, save_model

    ref = np.load(parity_dir / f"{name}.npz")
    model = load_model(parity_dir / f"{name}.dp")
    save_model(model, tmp_path / "copy.dp")
    e1, f1, v1 = DeepPot(model).eval(ref["coord"][:1], ref["cell"][:1], ref["atype"])
    e2, f2, v2 = DeepPot(tmp_path / "copy.dp").eval(ref["coord"][:1], ref["cell"][:1], ref["atype"])
    assert np.array_equal(e1, e2) and np.array_equal(f1, f2) and np.array_equal(v1, v2)
