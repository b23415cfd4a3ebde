"""Killed (SIGKILL at random moments) or stopped (SIGTERM/SIGINT) and resumed runs end with the
same bytes as an uninterrupted run: thermo.log, traj.extxyz and restart.npz."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk

FILES = ("thermo.log", "traj.extxyz", "restart.npz")


def write_input(directory: Path, output_dir: str, steps: int = 400, **overrides) -> Path:
    structure = directory / "ar.xyz"
    if not structure.exists():
        atoms = bulk("Ar", "fcc", a=5.3, cubic=True).repeat(2)
        atoms.rattle(0.05, seed=2)
        atoms.write(structure)
    # Langevin: random numbers every step, so a restart must restore the generator exactly
    cfg = {"structure": "ar.xyz", "potential": {"type": "lj", "epsilon_eV": 0.0104, "sigma_A": 3.4, "rcut_A": 5.0},
           "ensemble": "nvt-langevin", "temperature_K": 120, "timestep_fs": 4.0, "steps": steps,
           "thermo_every": 5, "traj_every": 10, "restart_every": 20, "seed": 5, "output_dir": output_dir,
           "skin_A": 0.3, **overrides}
    path = directory / f"{output_dir}.json"
    path.write_text(json.dumps(cfg))
    return path


def start(path: Path, *extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "deeppot.cli.main", "md", str(path), "--no-progress", *extra],
                            cwd=path.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_new_restart(path: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until ``path`` is (re)written: the run is past its start-up and inside the MD loop."""
    before = path.stat().st_mtime_ns if path.exists() else None
    end = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < end:
        if path.exists() and path.stat().st_mtime_ns != before:
            return
        time.sleep(0.01)


def finish(proc: subprocess.Popen, timeout: float = 120.0) -> tuple[int, str]:
    _, err = proc.communicate(timeout=timeout)
    return proc.returncode, err


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run (started in the background; waited for when first needed)."""
    directory = tmp_path_factory.mktemp("md_resume")
    proc = start(write_input(directory, "reference"))
    state = {}

    def get() -> dict[str, bytes]:
        if not state:
            code, err = finish(proc)
            assert code == 0, err
            state.update({name: (directory / "reference" / name).read_bytes() for name in FILES})
        return state

    yield directory, get
    if proc.poll() is None:
        proc.kill()


def kill_and_resume(directory: Path, name: str, seed: int, kills: int, max_delay_s: float) -> list[int]:
    """Run, SIGKILL at random moments ``kills`` times (resuming each time), then run to the end.

    Returns the step of the restart file each kill left (so callers can see the kills hit mid-run).
    """
    rng = random.Random(seed)
    path = write_input(directory, name)
    out = directory / name
    restart, steps = [], []
    for _ in range(kills):
        proc = start(path, *restart)
        wait_for_new_restart(out / "restart.npz", proc)
        time.sleep(rng.uniform(0.0, max_delay_s))
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        with np.load(out / "restart.npz") as data:
            steps.append(json.loads(str(data["meta"]))["step"])
        # what a crash mid-write of a non-atomic writer would leave behind: the resumed run must drop it
        if rng.random() < 0.5:
            with open(out / "traj.extxyz", "ab") as handle:
                handle.write(b"32\nLattice=\"10.6 0 0 0 10.6 0 0 0 10.6\" step=99999 time_fs=1\nAr 0.0 1.0")
            with open(out / "thermo.log", "ab") as handle:
                handle.write(b"99999 0.1 12")
        restart = ["--restart", str(out / "restart.npz")]
    code, err = finish(start(path, *restart))
    assert code == 0, err
    return steps


def assert_same_bytes(out: Path, expected: dict[str, bytes]) -> None:
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)  # no temporary files left behind
    for name in FILES:
        got = (out / name).read_bytes()
        assert got == expected[name], f"{name} differs from the uninterrupted run ({len(got)} vs "\
                                      f"{len(expected[name])} bytes)"


def test_kill9_at_random_moments_then_resume_equals_uninterrupted(reference):
    directory, expected = reference
    steps = kill_and_resume(directory, "killed", seed=11, kills=2, max_delay_s=0.6)
    assert_same_bytes(directory / "killed", expected())
    assert steps[0] < 400 and steps[1] > steps[0], steps  # both kills landed inside the MD loop


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_kill9_many_seeds(reference, seed):
    directory, expected = reference
    steps = kill_and_resume(directory, f"killed_{seed}", seed=seed, kills=3, max_delay_s=0.15)
    assert_same_bytes(directory / f"killed_{seed}", expected())
    assert steps[0] < 400, steps


def test_sigterm_finishes_the_step_saves_a_restart_and_resumes_exactly(reference):
    directory, expected = reference
    path = write_input(directory, "stopped")
    out = directory / "stopped"
    proc = start(path)
    wait_for_new_restart(out / "restart.npz", proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    code, err = finish(proc)
    if code == 0:
        pytest.skip("the run finished before SIGTERM arrived (very fast machine)")
    assert code == 128 + signal.SIGTERM, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    message = lines[0]
    assert message.startswith("deeppot: md stopped by SIGTERM at step ")
    step = int(message.split("at step ")[1].split(";")[0])
    assert f"resume with deeppot md {path} --restart {out / 'restart.npz'}" in message
    with np.load(out / "restart.npz") as data:
        assert json.loads(str(data["meta"]))["step"] == step  # the restart is at the stop, not the last multiple
    assert int((out / "thermo.log").read_text().splitlines()[-1].split()[0]) <= step
    code, err = finish(start(path, "--restart", str(out / "restart.npz")))
    assert code == 0, err
    assert_same_bytes(out, expected())


def test_sigint_in_process_stops_with_restart(tmp_path, capsys):
    """SIGINT (Ctrl-C) takes the same path as SIGTERM: exit 130, one line, restart at the stop step."""
    import threading

    from deeppot.cli.main import main

    path = write_input(tmp_path, "ctrl_c", steps=100000)
    done = threading.Event()

    def interrupt_once_running():  # the first restart file exists: the loop (and its handler) is running
        while not (tmp_path / "ctrl_c/restart.npz").exists() and not done.wait(0.02):
            pass
        if not done.is_set():
            time.sleep(0.2)
            os.kill(os.getpid(), signal.SIGINT)

    # Python's own Ctrl-C handler, whatever an earlier test in this worker left (a library can leave
    # SIGINT ignored); md must put back the handler it found
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    thread = threading.Thread(target=interrupt_once_running)
    thread.start()
    try:
        code = main(["md", str(path), "--no-progress"])
    finally:
        done.set()
        thread.join()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130 and err[-1].startswith("deeppot: md stopped by SIGINT at step ")
    step = int(err[-1].split("at step ")[1].split(";")[0])
    with np.load(tmp_path / "ctrl_c/restart.npz") as data:
        assert json.loads(str(data["meta"]))["step"] == step
    restored = signal.signal(signal.SIGINT, previous)
    assert restored is signal.default_int_handler  # handlers restored
