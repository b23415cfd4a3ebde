"""``deeppot learn`` end to end on a Dask LocalCluster (2 workers), killed with SIGKILL and resumed.

EMT stands in for quantum chemistry (32-atom copper, labels in milliseconds); tests of the real
labelers (tblite, PySCF) are in test_labelers.py.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from learn_helpers import tiny_learn_input


def _snapshot(root: Path) -> dict:
    """Bytes and mtimes of every finished file of the loop (members, runs, selections, labels)."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith(".") and path.suffix in (".dp", ".npz", ".out", ".json"):
            files[str(path.relative_to(root))] = (path.stat().st_mtime_ns, path.read_bytes())
    return files


def _finished(root: Path) -> dict:
    """The files that belong to finished tasks: those under a directory with done.json, and selections."""
    snap = _snapshot(root)
    done_dirs = {str(p.parent.relative_to(root)) for p in root.rglob("done.json")}
    return {k: v for k, v in snap.items()
            if any(k.startswith(d + "/") for d in done_dirs) or k.endswith("02.select.json")
            or k.endswith("summary.json")}


def test_learn_killed_then_resumed_finishes_without_redoing_work(tmp_path):
    from ase.calculators.emt import EMT

    from deeppot.data import load_system
    from deeppot.data.ase_formats import to_atoms
    from deeppot.learn.loop import run_learn

    learn = tiny_learn_input(tmp_path, max_iterations=2)
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    # the CLI in its own session, so that SIGKILL reaches it and its Dask workers at once
    proc = subprocess.Popen([sys.executable, "-m", "deeppot.cli.main", "learn", str(learn)], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.time() + 120
        # kill in the middle of iteration 1's training: iteration 0 complete, 1 half-way
        while not (out / "iter.001" / "00.train" / "member.000").exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.time() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (out / "iter.000" / "summary.json").exists()
    assert not (out / "iter.001" / "summary.json").exists()
    before = _finished(out)
    assert any(k.endswith("model.dp") for k in before)

    handler = signal.getsignal(signal.SIGINT)
    summaries = run_learn(learn)
    assert signal.getsignal(signal.SIGINT) is handler  # Ctrl-C still works after the LocalCluster

    after = _snapshot(out)
    for name, (mtime, data) in before.items():
        assert after[name] == (mtime, data), f"{name} was redone or changed by the resumed run"
    assert [s["iteration"] for s in summaries] == [0, 1]
    total = 0
    for s in summaries:
        assert s["frames"] == 2 * (30 // 5 + 1)  # 2 structures x 1 temperature, 7 frames each
        assert s["accurate"] + s["candidate"] + s["failed"] == s["frames"]
        assert s["candidate"] == s["frames"]  # trust_lo 0, trust_hi 100: every frame is a candidate
        assert s["labels_added"] == 3  # fp_task_max
        total += s["labels_added"]
        assert s["labels_total"] == total
        assert s["held_out"]["rmse_f_eV_A"] > 0
    # the appended labels are EMT's and the data set reads back whole
    for it in (0, 1):
        system = load_system(out / f"iter.{it:03d}" / "03.label" / "data" / "sys.000")
        assert system.nframes == 3
        atoms = to_atoms(system, 2)
        atoms.calc = EMT()
        np.testing.assert_allclose(system.energy[2], atoms.get_potential_energy(), rtol=0, atol=1e-8)
        np.testing.assert_allclose(system.force[2], atoms.get_forces(), rtol=0, atol=1e-8)
        np.testing.assert_allclose(system.virial[2], -atoms.get_stress(voigt=False) * atoms.get_volume(), atol=1e-8)
    # iteration 1 trained on init_data and iteration 0's labels, warm-started from iteration 0
    member = json.loads((out / "iter.001" / "00.train" / "member.000" / "done.json").read_text())
    assert member["warm_start"].endswith("iter.000/00.train/member.000") and member["steps"] == 6
    cfg = json.loads((out / "iter.001" / "00.train" / "member.001" / "input.json").read_text())
    assert [Path(p).name for p in cfg["training"]["training_data"]["systems"]] == ["init", "data"]
    assert cfg["training"]["seed"] == 1
    assert (out / "report.png").stat().st_size > 0
    assert "labels_tot" in (out / "report.txt").read_text()

    # a finished loop run again does nothing and changes nothing
    again = _snapshot(out)
    assert run_learn(learn) == summaries
    assert {k: v for k, v in _snapshot(out).items() if not k.startswith("report")} == \
        {k: v for k, v in again.items() if not k.startswith("report")}


@pytest.mark.parametrize("change, message", [
    ({"select": {"trust_lo": 0.2, "trust_hi": 0.1}}, "select/trust_hi: 0.1 must be > trust_lo 0.2"),
    ({"selcet": {}}, "selcet: unknown key; did you mean 'select'?"),
    ({"label": {"type": "gaussian"}}, "label/type: unknown labeler type \"gaussian\""),
    ({"init_data": ["nowhere"]}, "init_data[0]: nowhere: no such file or directory"),
    ({"label": {"type": "ase", "calculator": "os:system"}}, "label/calculator"),
])
def test_bad_learn_inputs_are_one_line_errors(tmp_path, capsys, change, message):
    from deeppot.cli.main import main

    learn = tiny_learn_input(tmp_path, **change)
    assert main(["learn", str(learn)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deeppot: error: ") and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_schedule_advances_a_stage_each_time_the_accurate_fraction_reaches_the_threshold(tmp_path):
    from deeppot.learn.loop import Learner

    learner = Learner.__new__(Learner)
    learner.root = tmp_path
    learner.cfg = {"select": {"converge_accurate": 0.9, "converge_without_stops": True},
                   "explore": {"schedule": [{}, {}]}}
    fractions = [0.2, 0.95, 0.5, 0.89, 0.93, 0.9]
    stops = [1, 0, 0, 0, 1, 0]
    for it, (fraction, stopped) in enumerate(zip(fractions, stops)):
        (tmp_path / f"iter.{it:03d}").mkdir()
        (tmp_path / f"iter.{it:03d}" / "summary.json").write_text(
            json.dumps({"accurate_fraction": fraction, "explore_stopped": stopped}))
    # stage 0 passed at iteration 1 (0.95); iteration 4 is accurate enough but a run hit a safety
    # stop; stage 1 passed at iteration 5 (0.9 ≥ 0.9): converged
    assert [learner.stage_of(it) for it in range(7)] == [0, 0, 1, 1, 1, 1, None]
    learner.cfg["select"]["converge_without_stops"] = False  # the accurate fraction alone
    assert [learner.stage_of(it) for it in range(6)] == [0, 0, 1, 1, 1, None]


def test_warm_started_members_take_the_warm_lr_and_prefactors_and_iteration_0_the_input_s(tmp_path):
    from deeppot.learn.config import load_learn_input
    from deeppot.learn.loop import Learner

    path = tiny_learn_input(tmp_path, train={"input": "train.json", "numb_models": 2, "warm_steps": 6,
                                             "warm_start_lr": 5e-4, "warm_start_pref_f": 100})
    learner = Learner(load_learn_input(path), str(path))
    scratch, warm = learner.member_config(0, 1, warm=False), learner.member_config(1, 1, warm=True)
    assert scratch["learning_rate"]["start_lr"] == 3e-3 and scratch["loss"]["start_pref_f"] == 1000
    assert scratch["training"]["numb_steps"] == 12
    assert warm["learning_rate"]["start_lr"] == 5e-4 and warm["loss"]["start_pref_f"] == 100
    assert warm["loss"]["start_pref_e"] == 0.02  # not given: the input's
    assert warm["training"]["numb_steps"] == 6 and warm["training"]["seed"] == scratch["training"]["seed"]
