"""train → freeze → test → model-devi, restart exactness (also after kill -9 during a save)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
from train_helpers import WATER, ckpt, run_cli, tiny_config

from deeppot import DeepPot
from deeppot.data import load_system, write_deepmd_npy
from deeppot.train.trainer import model_from_checkpoint


def test_train_writes_lcurve_checkpoints_and_plot(tmp_path, write_input):
    run_cli("train", write_input(tiny_config()), "--no-progress", cwd=tmp_path)
    lines = (tmp_path / "lcurve.out").read_text().splitlines()
    assert lines[0].split()[1:] == ["step", "rmse_val", "rmse_trn", "rmse_e_val", "rmse_e_trn", "rmse_f_val",
                                    "rmse_f_trn", "lr"]
    assert [int(line.split()[0]) for line in lines[1:]] == [1, 2, 3, 4, 5, 6]
    assert (tmp_path / "lcurve.png").stat().st_size > 0
    assert (tmp_path / "checkpoint").read_text().strip() == ckpt(tmp_path, 6).name


def test_restart_continues_exactly(tmp_path, write_input):
    run_cli("train", write_input(tiny_config()), "--no-progress", cwd=tmp_path)
    full = (tmp_path / "lcurve.out").read_text()
    run_cli("train", write_input(tiny_config()), "--restart", ckpt(tmp_path, 3), "--no-progress",
            cwd=tmp_path)
    assert (tmp_path / "lcurve.out").read_text() == full


def test_kill_during_the_first_save_leaves_no_checkpoint_named(tmp_path, write_input):
    """A kill -9 in the middle of a save leaves only a temporary; restart says there is nothing to resume.

    (Kills at random moments after complete saves: tests/train/test_signals.py.)
    """
    work = tmp_path / "work"
    work.mkdir()
    (work / "input.json").write_text(json.dumps(tiny_config(steps=4, save=2)))
    env = dict(os.environ, DEEPPOT_TEST_SLOW_SAVE="30")
    proc = subprocess.Popen([sys.executable, "-m", "deeppot.cli.main", "train", "input.json", "--no-progress"],
                            cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list(work.glob(".model.ckpt-*-2.npz.*.tmp")):
        time.sleep(0.05)
    assert list(work.glob(".model.ckpt-*-2.npz.*.tmp")), "the save never started"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not list(work.glob("model.ckpt-*.npz")) and not (work / "checkpoint").exists()
    run = run_cli("train", "input.json", "--restart", ".", "--no-progress", cwd=work, check=False)
    assert run.returncode == 2 and run.stderr.strip().splitlines()[-1] == \
        "deeppot: error: .: no 'checkpoint' file naming a checkpoint"


def test_freeze_equals_checkpoint_and_test_reports_known_errors(tmp_path, write_input):
    run_cli("train", write_input(tiny_config(steps=2, save=2)), "--no-progress", cwd=tmp_path)
    run_cli("freeze", "-c", tmp_path, "-o", tmp_path / "m.dp")
    eager = model_from_checkpoint(tmp_path)
    frozen = DeepPot(tmp_path / "m.dp")
    s = load_system(WATER / "data_2").subset(slice(0, 3))
    e1, f1, v1 = DeepPot(eager).eval(s.coord.reshape(3, -1), s.box.reshape(3, 9), s.atype)
    e2, f2, v2 = frozen.eval(s.coord.reshape(3, -1), s.box.reshape(3, 9), s.atype)
    assert np.array_equal(e1, e2) and np.array_equal(f1, f2) and np.array_equal(v1, v2)
    # labels = the model's own predictions, energies shifted by 0.5 eV: RMSE exactly known
    s.energy, s.force, s.virial = e2[:, 0] + 0.5, f2, v2.reshape(3, 3, 3)
    write_deepmd_npy(s, tmp_path / "labelled")
    run_cli("test", "-m", tmp_path / "m.dp", "-s", tmp_path / "labelled", "--json", tmp_path / "t.json",
            "-d", tmp_path / "detail")
    result = json.loads((tmp_path / "t.json").read_text())
    assert result["nframes"] == 3
    assert abs(result["energy_rmse_eV"] - 0.5) < 1e-9 and abs(result["energy_rmse_per_atom_eV"] - 0.5 / 192) < 1e-11
    assert result["force_rmse_eV_per_A"] < 1e-12 and result["virial_rmse_per_atom_eV"] < 1e-12
    assert (tmp_path / "detail.e.out").exists() and (tmp_path / "detail.parity.png").exists()


def test_model_devi_of_identical_and_shifted_models(tmp_path, write_input):
    run_cli("train", write_input(tiny_config(steps=1, save=1)), "--no-progress", cwd=tmp_path)
    run_cli("freeze", "-c", tmp_path, "-o", tmp_path / "a.dp")
    from deeppot.model.dp_format import load_model, save_model

    shifted = load_model(tmp_path / "a.dp")
    shifted.out_bias += 0.3  # every atom +0.3 eV: forces identical, E/N differs by 0.3
    save_model(shifted, tmp_path / "b.dp")
    s = load_system(WATER / "data_2").subset(slice(0, 2))
    write_deepmd_npy(s, tmp_path / "two")
    run_cli("model-devi", "-m", tmp_path / "a.dp", tmp_path / "a.dp", "-s", tmp_path / "two",
            "-o", tmp_path / "same.out")
    assert np.abs(np.loadtxt(tmp_path / "same.out")[:, 1:]).max() == 0
    run_cli("model-devi", "-m", tmp_path / "a.dp", tmp_path / "b.dp", "-s", tmp_path / "two", "-o", tmp_path / "d.out",
            "-f", 10)
    out = np.loadtxt(tmp_path / "d.out")
    assert out[:, 0].tolist() == [0, 10]
    assert np.allclose(out[:, 7], 0.15) and out[:, 4].max() < 1e-10  # std of {0, 0.3} = 0.15
