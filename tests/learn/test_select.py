"""Trust-level classification and farthest-point selection (known answers; each can fail)."""

import numpy as np
import pytest

from deeppot.learn.select import ACCURATE, CANDIDATE, FAILED, choose, classify, farthest_point_sampling


def test_classify_force_levels_at_the_boundaries():
    devi = np.array([0.0, 0.0499, 0.05, 0.10, 0.1499, 0.15, 3.0, np.nan])
    got = classify(devi, 0.05, 0.15)
    # σ_lo ≤ ε < σ_hi is a candidate (dpgen's rule): 0.05 is a candidate, 0.15 failed; NaN failed
    assert got.tolist() == [ACCURATE, ACCURATE, CANDIDATE, CANDIDATE, CANDIDATE, FAILED, FAILED, FAILED]


def test_classify_virial_levels_can_promote_but_not_demote():
    devi_f = np.array([0.01, 0.01, 0.01, 0.10, 0.20])
    devi_v = np.array([0.001, 0.03, 0.2, 0.001, 0.001])
    got = classify(devi_f, 0.05, 0.15, devi_v, trust_lo_v=0.02, trust_hi_v=0.1)
    assert got.tolist() == [ACCURATE, CANDIDATE, FAILED, CANDIDATE, FAILED]
    # without virial levels the virial column is ignored
    assert classify(devi_f, 0.05, 0.15, devi_v).tolist() == [ACCURATE, ACCURATE, ACCURATE, CANDIDATE, FAILED]


def _clusters(rng, centres, per_cluster, spread):
    points = np.concatenate([c + spread * rng.normal(size=(per_cluster, len(c))) for c in centres])
    labels = np.repeat(np.arange(len(centres)), per_cluster)
    order = rng.permutation(len(points))
    return points[order], labels[order]


def test_farthest_point_sampling_never_picks_two_near_duplicates():
    rng = np.random.default_rng(0)
    centres = rng.uniform(-10, 10, size=(6, 5))
    points, labels = _clusters(rng, centres, per_cluster=30, spread=0.01)
    picked = farthest_point_sampling(points, 6)
    assert sorted(labels[picked].tolist()) == list(range(6))  # one from every cluster
    # random selection of the same size almost surely repeats a cluster: the test can tell them apart
    random_picks = [labels[rng.choice(len(points), 6, replace=False)] for _ in range(50)]
    assert np.mean([len(set(r)) < 6 for r in random_picks]) > 0.9


def test_farthest_point_sampling_is_the_greedy_max_min_order():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3)) * [1.0, 1.0, 1.0]
    picked = farthest_point_sampling(x, 8, first=5)
    assert picked[0] == 5 and len(set(picked.tolist())) == 8
    z = (x - x.mean(0)) / x.std(0)
    for k in range(1, 8):
        dmin = np.min(np.linalg.norm(z[:, None] - z[picked[:k]][None], axis=-1), axis=1)
        assert dmin[picked[k]] == pytest.approx(dmin.max())


def test_farthest_point_sampling_is_scale_free_per_feature():
    """A feature in different units (×1000) must not decide the choice alone."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 2))
    scaled = x * [1000.0, 1.0]
    assert farthest_point_sampling(x, 6).tolist() == farthest_point_sampling(scaled, 6).tolist()


def test_choose_takes_only_candidates_at_most_fp_task_max_and_respects_fp_task_min():
    categories = np.array([ACCURATE, CANDIDATE, FAILED, CANDIDATE, CANDIDATE, ACCURATE, CANDIDATE])
    devi = np.array([0.01, 0.06, 0.5, 0.12, 0.07, 0.0, 0.08])
    asked = []

    def features_for(rows):
        asked.append(rows.tolist())
        return np.array([[0.0], [0.0], [10.0], [5.0]])[: len(rows)]  # frames 1 and 3 are duplicates

    got = choose(categories, devi, fp_task_max=3, fp_task_min=1, features_for=features_for)
    assert asked == [[1, 3, 4, 6]]
    # starts from the most uncertain candidate (frame 3), then the farthest: 6 (10.0), then 4 (5.0)
    assert got.tolist() == [3, 4, 6]
    assert choose(categories, devi, fp_task_max=10, fp_task_min=1).tolist() == [1, 3, 4, 6]
    assert choose(categories, devi, fp_task_max=10, fp_task_min=5).tolist() == []
    assert choose(np.full(4, ACCURATE), np.zeros(4), fp_task_max=2).tolist() == []


def test_frame_features_are_invariant_to_atom_order_and_translation():
    import torch

    from deeppot.learn.select import frame_features
    from deeppot.model.build import build_model

    torch.manual_seed(0)
    model = build_model({"type_map": ["O", "H"],
                         "descriptor": {"type": "se_e2_a", "sel": [20, 40], "rcut": 4.0, "rcut_smth": 0.5,
                                        "neuron": [4, 8], "axis_neuron": 2, "type_one_side": True, "seed": 1},
                         "fitting_net": {"neuron": [8], "seed": 1}}).double()
    rng = np.random.default_rng(3)
    box = np.eye(3) * 7.0
    coord = rng.uniform(0, 7, size=(1, 12, 3))
    atype = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
    f0 = frame_features(model, coord, box[None], atype)
    perm = rng.permutation(12)
    f1 = frame_features(model, coord[:, perm] + 1.3, box[None], atype[perm])
    np.testing.assert_allclose(f0, f1, atol=1e-10)
    other = frame_features(model, rng.uniform(0, 7, size=(1, 12, 3)), box[None], atype)
    assert np.abs(other - f0).max() > 0.1 * np.abs(f0).max()  # a different structure is told apart
