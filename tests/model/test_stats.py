"""Input statistics: davg/dstd pooled over all slots (empty ones as zeros) and the energy bias."""

import numpy as np

from deeppot.model.build import build_model
from deeppot.model.stats import StatFrames, compute_input_stats, energy_bias

SEL = [46, 92]


def numpy_env_mat(coord, box, atype, rcut=6.0, rcut_smth=0.5):
    """Brute-force DeePMD padded environment matrix (natoms, sum(sel), 4) with zero pads."""
    n = len(coord)
    out = np.zeros((n, sum(SEL), 4))
    inv = np.linalg.inv(box)
    for i in range(n):
        d = coord - coord[i]
        d -= np.round(d @ inv) @ box  # minimum image: this box is > 2 rcut
        r = np.linalg.norm(d, axis=1)
        for t, offset in ((0, 0), (1, SEL[0])):
            js = [j for j in np.argsort(r) if j != i and r[j] < rcut and atype[j] == t][: SEL[t]]
            for k, j in enumerate(js):
                u = np.clip((r[j] - rcut_smth) / (rcut - rcut_smth), 0, 1)
                w = u**3 * (-6 * u**2 + 15 * u - 10) + 1
                out[i, offset + k] = w / r[j] * np.array([1, *(d[j] / r[j])])
    return out


def test_env_mat_statistics_match_deepmd_definition(water_data):
    d = water_data / "data_0"
    coord = np.load(d / "set.000/coord.npy")[:2].reshape(2, -1, 3)
    box = np.load(d / "set.000/box.npy")[:2].reshape(2, 3, 3)
    atype = np.loadtxt(d / "type.raw", dtype=int)
    model = build_model({"type_map": ["O", "H"], "descriptor": {"type": "se_e2_a", "sel": SEL, "rcut": 6.0,
                                                                 "rcut_smth": 0.5, "neuron": [4], "axis_neuron": 2}})
    compute_input_stats(model, [StatFrames(coord, atype, box)])
    env = np.concatenate([numpy_env_mat(coord[f], box[f], atype) for f in range(2)])
    types = np.concatenate([atype, atype])
    for t in range(2):
        block = env[types == t]
        r, a = block[..., 0].ravel(), block[..., 1:].ravel()
        assert np.isclose(model.descriptor.davg[t, 0, 0].item(), r.mean(), rtol=1e-12)
        assert np.isclose(model.descriptor.dstd[t, 0, 0].item(), r.std(), rtol=1e-10)
        assert np.isclose(model.descriptor.dstd[t, 5, 2].item(), np.sqrt((a**2).mean() - a.mean() ** 2), rtol=1e-10)
        assert model.descriptor.davg[t, :, 1:].abs().max() == 0


def test_energy_bias_is_least_squares_per_type():
    true = np.array([-3.0, -0.5])
    frames = [StatFrames(np.zeros((4, 3, 3)), np.array([0, 1, 1]), None, np.full(4, true @ [1, 2])),
              StatFrames(np.zeros((2, 4, 3)), np.array([0, 0, 1, 1]), None, np.full(2, true @ [2, 2]))]
    assert np.allclose(energy_bias(frames, 2), true)
