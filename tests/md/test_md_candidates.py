"""Uncertainty-aware MD (deeppot/md/uncertainty.py): candidates written as they happen, stop or run on."""

import json
import shutil

import ase.io
import numpy as np


def _run(tmp_path, capsys, **potential):
    from deeppot.cli.main import main

    cfg = {"structure": "structure.extxyz", "ensemble": "nvt-langevin", "temperature_K": 300, "timestep_fs": 0.5,
           "steps": 8, "thermo_every": 1, "traj_every": 1, "restart_every": 4,
           "potential": {"type": "committee", "models": ["a.dp", "b.dp"], **potential}}
    (tmp_path / "md.json").write_text(json.dumps(cfg))
    code = main(["md", str(tmp_path / "md.json"), "--force", "--no-progress"])
    return code, capsys.readouterr().err


def _setup(tmp_path, parity_dir, water_data):
    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms

    shutil.copy(parity_dir / "se_e2_a_one_side.dp", tmp_path / "a.dp")
    shutil.copy(parity_dir / "se_e2_a_two_side.dp", tmp_path / "b.dp")
    atoms = to_atoms(load_system(water_data / "data_2"), 0)
    atoms.calc = None
    ase.io.write(tmp_path / "structure.extxyz", atoms)


def test_candidates_are_the_frames_between_the_trust_levels_and_the_run_stops_above(tmp_path, capsys, parity_dir,
                                                                                    water_data):
    _setup(tmp_path, parity_dir, water_data)
    code, err = _run(tmp_path, capsys)  # no levels: the deviation of every step, for reference
    assert code == 0, err
    devi = np.loadtxt(tmp_path / "md_out" / "thermo.log", skiprows=1)[:, 9]
    assert len(devi) == 9 and devi.std() > 0
    lo, hi = np.quantile(devi, 0.3), np.quantile(devi, 0.8)

    # run on: candidates file has exactly the steps with devi ≥ lo, marked candidate / failed
    code, err = _run(tmp_path, capsys, trust_lo=float(lo), max_devi_f_stop=float(hi), stop_above_hi=False)
    assert code == 0, err
    frames = ase.io.read(tmp_path / "md_out" / "candidates.extxyz", ":")
    steps = [a.info["step"] for a in frames]
    assert steps == [k for k in range(9) if devi[k] >= lo]
    for a in frames:
        k = a.info["step"]
        assert abs(a.info["max_devi_f"] - devi[k]) < 1e-6 * devi.max()
        assert a.info["category"] == ("failed" if devi[k] >= hi else "candidate")
    traj = ase.io.read(tmp_path / "md_out" / "traj.extxyz", ":")
    np.testing.assert_allclose(frames[0].positions, traj[steps[0]].positions)

    # stop (default): the run ends at the first step above hi; last good frame = the step before it
    first_bad = int(np.argmax(devi >= hi))
    assert first_bad > 0
    code, err = _run(tmp_path, capsys, trust_lo=float(lo), max_devi_f_stop=float(hi))
    assert code == 2 and f"step {first_bad}: model deviation" in err
    last_good = ase.io.read(tmp_path / "md_out" / "last_good.extxyz")
    assert last_good.info["step"] == first_bad - 1
    np.testing.assert_allclose(last_good.positions, traj[first_bad - 1].positions)
    steps = [a.info["step"] for a in ase.io.read(tmp_path / "md_out" / "candidates.extxyz", ":")]
    assert steps == [k for k in range(first_bad) if devi[k] >= lo]


def test_trust_lo_must_be_below_the_stop_level(tmp_path, capsys, parity_dir, water_data):
    _setup(tmp_path, parity_dir, water_data)
    code, err = _run(tmp_path, capsys, trust_lo=0.3, max_devi_f_stop=0.2)
    assert code == 2 and "potential/trust_lo: 0.3 must be < max_devi_f_stop 0.2" in err
