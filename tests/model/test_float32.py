"""``precision: "float32"`` models: DeePMD-kit parity, .dp round trip, derivatives, training path.

Tolerances are float32's: networks and environment matrix in float32 (coordinates cast, as
DeePMD-kit does), atomic energies and their sum in float64.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from deeppot import DeepPot
from deeppot.core import explicit
from deeppot.model.build import build_model
from deeppot.model.dp_format import load_model, save_model
from deeppot.model.stats import StatFrames, compute_input_stats
from deeppot.testing import fd_forces, model_outputs, water_cluster

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "float32"


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64).reshape(np.shape(a))
    return np.abs(a - b).max() / np.abs(b).max()


def make_model(precision: str, fit_precision: str | None = None, type_one_side: bool = True, sel=(12, 24)):
    desc = {"type": "se_e2_a", "rcut": 4.0, "rcut_smth": 1.0, "sel": list(sel), "neuron": [4, 8, 16],
            "axis_neuron": 3, "type_one_side": type_one_side, "seed": 1, "precision": precision}
    model = build_model({"type_map": ["O", "H"], "descriptor": desc,
                         "fitting_net": {"neuron": [8, 8], "seed": 2, "precision": fit_precision or precision}})
    pos, types = water_cluster(8, seed=3)
    compute_input_stats(model, [StatFrames(pos[None], types, np.eye(3)[None] * 7.0, np.array([-10.0]))])
    return model


@pytest.fixture
def system():
    pos, types = water_cluster(6, seed=7, box_A=6.5)
    cell = np.array([[6.5, 0.0, 0.0], [0.6, 6.3, 0.0], [-0.4, 0.5, 6.6]])
    return pos @ np.linalg.inv(np.eye(3) * 6.5) @ cell, cell, types


def test_precision_keys_build_float32_networks():
    model = make_model("float32", "float64")
    assert model.descriptor.davg.dtype == torch.float32
    assert all(p.dtype == torch.float32 for p in model.descriptor.parameters())
    assert all(p.dtype == torch.float64 for p in model.fitting.parameters())
    assert model.out_bias.dtype == torch.float64 and model.fitting.bias_atom_e.dtype == torch.float64


@pytest.mark.parametrize("type_one_side", [True, False])
def test_float32_close_to_float64_with_same_weights(system, type_one_side):
    pos, cell, types = system
    m64 = make_model("float64", type_one_side=type_one_side)
    m32 = make_model("float32", type_one_side=type_one_side)
    m32.load_state_dict(m64.state_dict())
    a = model_outputs(m64, pos, cell, types)
    b = model_outputs(m32, pos, cell, types)
    assert b["energy"].dtype == np.float64
    assert abs(a["energy"] - b["energy"]).max() < 1e-4 * len(types) * max(1.0, np.abs(a["atom_energy"]).max())
    assert rel_err(b["force"], a["force"]) < 1e-4
    assert rel_err(b["virial"], a["virial"]) < 1e-4


def test_float32_forces_match_finite_differences(system):
    pos, cell, types = system
    model = make_model("float32")
    out = model_outputs(model, pos, cell, types)
    fd = fd_forces(model, pos, cell, types, h=2e-3)
    assert np.abs(out["force"] - fd).max() < 2e-3 * max(1.0, np.abs(fd).max())


def test_float32_explicit_path_matches_autograd(system):
    pos, cell, types = system
    model = make_model("float32")
    fast = model_outputs(model, pos, cell, types)              # explicit (hand-written) derivative
    slow = model_outputs(model, pos, cell, types, atomic=True)  # autograd
    assert rel_err(fast["force"], slow["force"]) < 1e-5
    assert rel_err(fast["virial"], slow["virial"]) < 1e-5
    assert abs(fast["energy"] - slow["energy"]).max() < 1e-4


def test_float32_dp_round_trip(tmp_path, system):
    pos, cell, types = system
    model = make_model("float32")
    save_model(model, tmp_path / "m.dp")
    back = load_model(tmp_path / "m.dp")
    assert back.dtype == torch.float32 and back.fitting.dtype == torch.float32
    a, b = model_outputs(model, pos, cell, types), model_outputs(back, pos, cell, types)
    assert np.array_equal(a["force"], b["force"]) and np.array_equal(a["energy"], b["energy"])


@pytest.mark.skipif(not (FIXTURE / "se_e2_a_float32.dp").exists(), reason="float32 fixture not generated")
def test_deepmd_float32_model_matches_deepmd():
    ref = np.load(FIXTURE / "se_e2_a_float32.npz")
    dp = DeepPot(FIXTURE / "se_e2_a_float32.dp")
    assert dp.model.dtype == torch.float32 and dp.model.fitting.dtype == torch.float32
    e, f, v = dp.eval(ref["coord"], ref["cell"], ref["atype"])
    natoms = len(ref["atype"])
    # measured: 6e-9 eV/atom, forces 4e-6, virial 1e-6 relative (float32 rounding in both programs)
    assert np.abs(e - ref["energy"].reshape(e.shape)).max() / natoms < 1e-7
    assert rel_err(f, ref["force"]) < 2e-5
    assert rel_err(v, ref["virial"]) < 2e-5
    e, f, v, ae, av = dp.eval(ref["coord"], ref["cell"], ref["atype"], atomic=True)
    assert rel_err(f, ref["force"]) < 2e-5
    assert np.abs(ae - ref["atom_energy"].reshape(ae.shape)).max() < 2e-6
    assert rel_err(av, ref["atom_virial"]) < 2e-5
    e, f, v = dp.eval(ref["cluster_coord"], None, ref["cluster_atype"])
    assert np.abs(e - ref["cluster_energy"].reshape(e.shape)).max() < 2e-6
    assert rel_err(f, ref["cluster_force"]) < 2e-5


def test_float32_training_gradient_matches_autograd(water_data):
    """The force-loss gradient of the hand-written path equals autograd's double backward (float32)."""
    from deeppot.data import load_system

    model = make_model("float32", sel=(20, 40))
    s = load_system(water_data / "data_0").subset(slice(0, 2))
    frames = [1]
    cache = explicit.FrameCache(model, s)
    label = torch.as_tensor(s.force[frames]).view(1, -1, 3)

    def loss_explicit():
        out = explicit.evaluate(model, cache.get(frames))
        return ((out["force"].view(1, -1, 3) - label) ** 2).mean() + 1e-3 * out["energy"].sum()

    def loss_autograd():
        coord = torch.as_tensor(s.coord[frames]).view(1, -1, 3).to(model.dtype)
        box = torch.as_tensor(s.box[frames]).view(1, 3, 3)
        batch, foa = model.make_batch(coord, torch.as_tensor(s.atype)[None], box)
        out = model.evaluate(batch, foa, 1, create_graph=True)
        return ((out["force"].view(1, -1, 3) - label) ** 2).mean() + 1e-3 * out["energy"].sum()

    params = list(model.parameters())
    g1 = torch.autograd.grad(loss_explicit(), params)
    g2 = torch.autograd.grad(loss_autograd(), params)
    for a, b in zip(g1, g2):
        assert rel_err(a.numpy(), b.numpy()) < 1e-3


@pytest.mark.skipif(not (FIXTURE / "se_e2_a_float32.dp").exists(), reason="float32 fixture not generated")
def test_float32_nve_conserves_energy():
    """Float32 networks with float64 energy sums keep NVE's total energy as float64 does (same weights)."""
    from ase import Atoms

    from deeppot.md import Simulation
    from deeppot.model.potential import ModelPotential

    ref = np.load(FIXTURE / "se_e2_a_float32.npz")
    pos = ref["coord"][0].reshape(-1, 3)
    cell = ref["cell"][0].reshape(3, 3)
    m32 = load_model(FIXTURE / "se_e2_a_float32.dp")
    m64 = load_model(FIXTURE / "se_e2_a_float32.dp").to(torch.float64)
    drift = {}
    for name, model in (("float32", m32), ("float64", m64)):
        atoms = Atoms(symbols=["O" if t == 0 else "H" for t in ref["atype"]], positions=pos, cell=cell, pbc=True)
        sim = Simulation.from_atoms(atoms, ModelPotential(model), ensemble="nve", temperature_K=300,
                                    timestep_fs=0.5, seed=1)
        e0 = sim.conserved_eV()
        values = []
        sim.attach(lambda s, values=values, e0=e0: values.append(s.conserved_eV() - e0), interval=2)
        sim.run(20)  # the fixture model is barely trained: atoms meet after ~14 fs
        drift[name] = np.abs(values).max() / len(pos)
    assert drift["float32"] < max(3 * drift["float64"], 2e-6)  # eV/atom over 10 fs


@pytest.mark.parametrize("kind", ["se_e2_r", "se_e3", "bp"])
def test_float32_model_accepts_a_float64_neighbour_list(kind, system):
    """The MD skin list is built in float64; every float32 descriptor (not only se_e2_a's explicit
    path) gets float32 pair vectors from ModelPotential (it raised a dtype mismatch before)."""
    from deeppot.core.neighbor import build_edges
    from deeppot.model.potential import ModelPotential

    desc = {"type": kind, "rcut": 4.0, "sel": [12, 24], "seed": 1, "precision": "float32"}
    if kind != "bp":
        desc |= {"rcut_smth": 1.0, "neuron": [2, 4]}
    model = build_model({"type_map": ["O", "H"], "descriptor": desc,
                         "fitting_net": {"neuron": [8, 8], "seed": 2, "precision": "float32"}})
    pos, cell, types = system
    potential = ModelPotential(model)
    pos_t, cell_t = torch.as_tensor(pos), torch.as_tensor(cell)
    edges = build_edges(pos_t, cell_t, 4.5, dtype=torch.float64)
    with_list = potential.compute(pos_t, cell_t, torch.as_tensor(types), edges=edges)
    fresh = potential.compute(pos_t, cell_t, torch.as_tensor(types))
    assert torch.allclose(with_list["force"].double(), fresh["force"].double(), atol=1e-5)
