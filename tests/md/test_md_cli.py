"""``deeppot md``: outputs, bit-exact restart, failure paths."""

import json
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase.build import bulk

from deeppot import DeepPot

ROOT = Path(__file__).resolve().parents[2]


def md(*args, cwd):
    return subprocess.run([sys.executable, "-m", "deeppot.cli.main", "md", *map(str, args), "--no-progress"],
                          cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def argon_input(tmp_path):
    atoms = bulk("Ar", "fcc", a=5.3, cubic=True).repeat(2)
    atoms.rattle(0.05, seed=2)
    atoms.write(tmp_path / "ar.xyz")

    def write(**overrides):
        cfg = {"structure": "ar.xyz", "potential": {"type": "lj", "epsilon_eV": 0.0104, "sigma_A": 3.4, "rcut_A": 5.0},
               "ensemble": "nvt-bussi", "temperature_K": 100, "timestep_fs": 4.0, "steps": 60, "thermo_every": 5,
               "traj_every": 20, "restart_every": 30, "seed": 3, **overrides}
        (tmp_path / "md.json").write_text(json.dumps(cfg))
        return tmp_path / "md.json"

    return write


def test_outputs_and_bit_exact_restart(argon_input, tmp_path):
    run = md(argon_input(), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    log = (tmp_path / "md_out/thermo.log").read_text()
    assert log.splitlines()[0].split() == ["step", "time_ps", "temperature_K", "potential_eV", "kinetic_eV",
                                           "total_eV", "conserved_eV", "pressure_bar", "volume_A3"]
    assert len(log.splitlines()) == 1 + 13
    import ase.io

    assert len(ase.io.read(tmp_path / "md_out/traj.extxyz", ":")) == 4
    # restart from step 30 (its restart file was written at step 30 in a copy of the run)
    (tmp_path / "first").mkdir()
    run_half = md(argon_input(steps=30, output_dir="first"), cwd=tmp_path)
    assert run_half.returncode == 0, run_half.stderr
    cont = md(argon_input(output_dir="first"), "--restart", tmp_path / "first/restart.npz", cwd=tmp_path)
    assert cont.returncode == 0, cont.stderr
    assert (tmp_path / "first/thermo.log").read_text() == log


def test_unknown_key_and_bad_structure_are_one_line_errors(argon_input, tmp_path):
    path = argon_input(temperatur_K=300)
    run = md(path, cwd=tmp_path)
    assert run.returncode == 2 and "did you mean 'temperature_K'?" in run.stderr
    assert "Traceback" not in run.stderr
    run = md(argon_input(structure="missing.xyz"), cwd=tmp_path)
    assert run.returncode == 2 and "missing.xyz" in run.stderr and "no such" in run.stderr


def test_atoms_too_close_stop_the_run_and_keep_last_good_frame(argon_input, tmp_path):
    # a huge time step makes atoms collide
    run = md(argon_input(timestep_fs=60.0, temperature_K=3000, steps=200, min_distance_A=2.5), cwd=tmp_path)
    assert run.returncode == 2
    message = run.stderr.strip().splitlines()[-1]
    assert message.startswith("deeppot: error: step ") and ("Å apart" in message or "exceeds" in message)
    assert (tmp_path / "md_out/last_good.extxyz").exists()


def test_nan_forces_are_caught():
    import torch

    from deeppot.errors import SimulationError
    from deeppot.md import Simulation
    from deeppot.potentials.base import Potential

    class Broken(Potential):
        calls = 0

        def compute(self, positions, cell, atype):
            Broken.calls += 1
            bad = float("nan") if Broken.calls > 3 else 0.0
            return {"energy": torch.tensor(0.0), "force": torch.full_like(positions, bad),
                    "virial": torch.zeros(3, 3)}

    atoms = bulk("Ar", "fcc", a=5.3, cubic=True)
    sim = Simulation.from_atoms(atoms, Broken(), ensemble="nve", timestep_fs=1.0)
    with pytest.raises(SimulationError, match="step 3: NaN or inf"):
        sim.run(10)


def test_deeppot_model_and_committee_drive_md(parity_dir, water_data, tmp_path):
    import shutil

    shutil.copy(parity_dir / "se_e2_a_one_side.dp", tmp_path / "a.dp")
    shutil.copy(parity_dir / "se_e2_a_two_side.dp", tmp_path / "b.dp")
    cfg = {"structure": str(water_data / "data_2"), "frame": 0, "ensemble": "nvt-langevin", "temperature_K": 300,
           "timestep_fs": 0.1, "steps": 6, "thermo_every": 2, "traj_every": 2,
           "potential": {"type": "committee", "models": ["a.dp", "b.dp"]}}
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    run = md("c.json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    data = np.loadtxt(tmp_path / "md_out/thermo.log", skiprows=1)
    assert data.shape == (4, 10)
    # max_devi_f of each logged step, recomputed independently of the committee potential: each model
    # through DeepPot.eval on the trajectory's positions, ε_i = sqrt(mean_k |F_i^k - <F_i>|^2), max over atoms
    frames = ase.io.read(tmp_path / "md_out/traj.extxyz", ":")
    assert [a.info["step"] for a in frames] == list(data[:, 0].astype(int))
    types = np.array([0 if s == "O" else 1 for s in frames[0].get_chemical_symbols()])
    coord = np.stack([a.positions.reshape(-1) for a in frames])
    cells = np.stack([a.cell.array.reshape(-1) for a in frames])
    forces = np.stack([DeepPot(tmp_path / m).eval(coord, cells, types)[1] for m in ("a.dp", "b.dp")])
    expected = np.sqrt(((forces - forces.mean(axis=0)) ** 2).sum(axis=-1).mean(axis=0)).max(axis=-1)
    assert np.abs(data[:, 9] - expected).max() < 1e-7 * expected.max(), (data[:, 9], expected)
    cfg["potential"] = {"type": "committee", "models": ["a.dp", "b.dp"], "max_devi_f_stop": 1e-6}
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    run = md("c.json", "--force", cwd=tmp_path)  # into the same output_dir on purpose
    assert run.returncode == 2 and "model deviation" in run.stderr
