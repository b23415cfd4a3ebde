"""Force matching with ``deeppot train`` on CG data without energies, then CG MD with the map's masses."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import KB_EV_K, satellite_system

from deeppot.cg import map_trajectories
from deeppot.cli.main import main
from deeppot.data.deepmd_npy import write_deepmd_npy

DESCRIPTORS = {
    "se_e2_a": {"type": "se_e2_a", "sel": [24], "rcut": 5.3, "rcut_smth": 1.0, "neuron": [4, 8], "axis_neuron": 2,
                "seed": 1},
    # DeePCG's descriptor: local frame from the two nearest sites
    "loc_frame": {"type": "loc_frame", "rcut": 5.3, "sel_a": [12], "sel_r": [16], "axis_rule": [0, 0, 0, 0, 0, 1]},
}


def force_only_input(train, valid, descriptor, steps, fitting=(8,), lr=(1e-3, 1e-4, 5)):
    return {"model": {"type_map": ["Ar"], "descriptor": descriptor,
                      "fitting_net": {"neuron": list(fitting), "seed": 1}, "data_stat_nbatch": 2},
            "learning_rate": {"start_lr": lr[0], "stop_lr": lr[1], "decay_steps": lr[2]},
            "loss": {"start_pref_e": 0, "limit_pref_e": 0, "start_pref_f": 1, "limit_pref_f": 1,
                     "start_pref_v": 0, "limit_pref_v": 0},
            "training": {"training_data": {"systems": [str(train)], "batch_size": 1},
                         "validation_data": {"systems": [str(valid)], "batch_size": 2, "numb_btch": 1},
                         "numb_steps": steps, "seed": 3, "disp_freq": max(1, steps // 10), "save_freq": steps}}


def satellite_cg(tmp_path, nframes, seed, k_spring=2.0, temperature_K=300.0):
    system, _ = satellite_system(nframes, k_spring, temperature_K, seed=seed)
    write_deepmd_npy(system, tmp_path / f"aa{seed}")
    index = tmp_path / "pairs.index"
    index.write_text("".join(f"{i} {i + 1}\n" for i in range(0, system.natoms, 2)))
    map_trajectories([tmp_path / f"aa{seed}"], tmp_path / f"cg{seed}", site=["Ar"], index_file=index)
    return tmp_path / f"cg{seed}"


@pytest.mark.parametrize("kind", list(DESCRIPTORS))
def test_force_only_training_then_cg_md(kind, tmp_path, monkeypatch, capsys):
    train, valid = satellite_cg(tmp_path, 4, seed=1), satellite_cg(tmp_path, 2, seed=2)
    assert not (train / "set.000" / "energy.npy").exists()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.json").write_text(json.dumps(force_only_input(train, valid, DESCRIPTORS[kind], steps=4)))
    assert main(["train", "in.json", "--no-progress"]) == 0
    header = (tmp_path / "lcurve.out").read_text().splitlines()[0].split()
    assert {"rmse_f_val", "rmse_f_trn"} <= set(header) and not any(h.startswith("rmse_e") for h in header)
    values = np.loadtxt(tmp_path / "lcurve.out", ndmin=2)
    assert np.all(np.isfinite(values))
    assert main(["freeze", "-o", "cg.dp"]) == 0
    assert main(["test", "-m", "cg.dp", "-s", str(valid)]) == 0
    assert "force" in capsys.readouterr().out.lower()
    md = {"structure": str(train / "structure.extxyz"), "potential": {"type": "deeppot", "model": "cg.dp"},
          "ensemble": "nvt-langevin", "temperature_K": 300, "timestep_fs": 4, "steps": 4, "traj_every": 2,
          "thermo_every": 2, "output_dir": "cg_md"}
    (tmp_path / "md.json").write_text(json.dumps(md))
    assert main(["md", "md.json"]) == 0
    import ase.io

    last = ase.io.read(tmp_path / "cg_md" / "traj.extxyz", index=-1)
    assert np.allclose(last.get_masses(), 39.948 + 4.002602)  # the map's site mass reached the MD
    assert main(["analyze", "rdf", str(tmp_path / "cg_md" / "traj.extxyz"), "-o", "rdf.csv"]) == 0


@pytest.mark.slow
def test_force_matching_plateau_is_the_spring_force_variance(tmp_path, monkeypatch):
    """Trained on satellites-on-springs data, the held-out loss comes down to k·kT (not to zero).

    k = 0.05 eV/Å² makes the noise variance k·kT = 1.3e-3 eV²/Å² about half the variance of the
    LJ mean force (3.0e-3), so a model that had not learnt the site–site potential would stay well above.
    """
    k, temperature = 0.05, 300.0
    train = satellite_cg(tmp_path, 40, seed=1, k_spring=k, temperature_K=temperature)
    valid = satellite_cg(tmp_path, 10, seed=2, k_spring=k, temperature_K=temperature)
    monkeypatch.chdir(tmp_path)
    cfg = force_only_input(train, valid, DESCRIPTORS["se_e2_a"] | {"neuron": [8, 16], "axis_neuron": 4},
                           steps=1000, fitting=(32, 32), lr=(3e-3, 3e-5, 50))
    cfg["training"]["validation_data"]["numb_btch"] = 5
    (tmp_path / "in.json").write_text(json.dumps(cfg))
    assert main(["train", "in.json", "--no-progress"]) == 0
    assert main(["freeze", "-o", "cg.dp"]) == 0
    from deeppot.cg import force_matching_loss
    from deeppot.data import load_system
    from deeppot.model.potential import ModelPotential

    cg = load_system(valid)
    held_out = force_matching_loss(cg, ModelPotential("cg.dp"))
    k_kT = k * KB_EV_K * temperature
    exact = satellite_system(10, k, temperature, seed=2)[1]  # same seed: the LJ forces of the held-out frames
    mean_force_var = float(np.mean(exact**2))
    print(f"held-out force-matching loss {held_out:.3e} eV²/Å², k·kT {k_kT:.3e}, "
          f"zero-force loss {float(np.mean(cg.force ** 2)):.3e}, LJ mean-force variance {mean_force_var:.3e}")
    assert k_kT * 0.9 < held_out < k_kT + 0.2 * mean_force_var
