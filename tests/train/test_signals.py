"""kill -9 at random moments, then resume: the outputs equal an uninterrupted run's byte for byte.
SIGTERM / SIGINT: the current step finishes, a final checkpoint is written, one line, exit 128+N.

The killed run is a subprocess (``deeppot train``); resumes and the reference run are in-process
to save interpreter start-ups. Everything runs on one thread so the numbers are comparable.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from train_helpers import ckpt, tiny_config, train_in

from deeppot.train.checkpoint import load_checkpoint, resolve

CFG = tiny_config(steps=30, save=4, disp=1)


def train_here(directory, cfg, *args):
    return train_in(directory, cfg, "--threads", "1", *args)


def start(directory, cfg, slow_save=None):
    directory.mkdir(exist_ok=True)
    (directory / "input.json").write_text(json.dumps(cfg))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if slow_save:
        env["DEEPPOT_TEST_SLOW_SAVE"] = str(slow_save)
    log = open(directory / "stderr.txt", "w")
    proc = subprocess.Popen([sys.executable, "-m", "deeppot.cli.main", "train", "input.json", "--no-progress",
                             "--threads", "1"], cwd=directory, env=env, stdout=subprocess.DEVNULL, stderr=log)
    log.close()
    return proc


def wait_for_lines(path, count, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if path.exists() and path.read_text().count("\n") >= count:
            return
        time.sleep(0.01)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    directory = tmp_path_factory.mktemp("reference")
    assert train_here(directory, CFG) == 0
    return directory


def assert_same_run(directory, reference):
    assert (directory / "lcurve.out").read_bytes() == (reference / "lcurve.out").read_bytes()
    meta, model, optim = load_checkpoint(directory)
    ref_meta, ref_model, ref_optim = load_checkpoint(reference)
    assert meta["step"] == ref_meta["step"] == CFG["training"]["numb_steps"]
    assert model.keys() == ref_model.keys() and optim.keys() == ref_optim.keys()
    for name in model:
        assert np.array_equal(model[name], ref_model[name]), name
    for name in optim:
        assert np.array_equal(optim[name], ref_optim[name]), name


def kill_and_resume(directory, reference, delay, slow_save):
    proc = start(directory, CFG, slow_save)
    wait_for_lines(directory / "lcurve.out", 1, proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if (directory / "checkpoint").exists():
        step = load_checkpoint(directory)[0]["step"]
        assert train_here(directory, CFG, "--restart", ".") == 0
    else:  # killed before the first checkpoint: start again
        step = 0
        assert train_here(directory, CFG) == 0
    assert_same_run(directory, reference)
    return step


def random_kills(tmp_path, reference, trials, max_delay, slow_save):
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    steps = []
    for trial in range(trials):
        delay = rng.uniform(0.0, max_delay)
        try:
            steps.append(kill_and_resume(tmp_path / f"t{trial}", reference, delay, slow_save))
        except AssertionError as err:
            raise AssertionError(f"kill -9 {delay:.3f} s into training (trial {trial}, seed {seed}): {err}") from err
    print(f"kill -9 seed {seed}: resumed from checkpoint steps {steps}")
    return steps


def test_kill_9_at_random_moments_then_resume_equals_uninterrupted(tmp_path, reference):
    random_kills(tmp_path, reference, trials=2, max_delay=1.2, slow_save=0.05)


@pytest.mark.slow
def test_kill_9_many_random_moments(tmp_path, reference):
    steps = random_kills(tmp_path, reference, trials=5, max_delay=2.5, slow_save=0.2)
    assert len(set(steps)) > 1, steps  # the kills landed at different moments


@pytest.mark.parametrize("signum", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)])
def test_sigterm_saves_a_final_checkpoint_and_says_how_to_resume(tmp_path, reference, signum):
    proc = start(tmp_path, CFG)
    wait_for_lines(tmp_path / "lcurve.out", 3, proc)  # header + 2 steps
    proc.send_signal(signum)
    assert proc.wait(timeout=120) == 128 + signum
    err = (tmp_path / "stderr.txt").read_text().splitlines()
    lines = [line for line in err if line.startswith("deeppot:")]
    name = signal.Signals(signum).name
    assert len(lines) == 1 and "Traceback" not in "\n".join(err), err
    head, hint = lines[0].split("; ")
    step = int(head.rsplit(" ", 1)[1])
    assert head == f"deeppot: train stopped by {name} at step {step}"
    assert hint == "resume with deeppot train input.json --restart ."
    assert 2 <= step < CFG["training"]["numb_steps"]
    assert resolve(tmp_path) == ckpt(tmp_path, step) and load_checkpoint(tmp_path)[0]["step"] == step
    assert int((tmp_path / "lcurve.out").read_text().splitlines()[-1].split()[0]) == step
    assert train_here(tmp_path, CFG, "--restart", ".") == 0
    assert_same_run(tmp_path, reference)
