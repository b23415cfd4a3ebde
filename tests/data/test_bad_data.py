"""Bad data: one-line errors naming the file and the problem, exit code 2 from the CLI."""

import shutil
import subprocess
import sys

import numpy as np
import pytest

from deeppot.data import load_system
from deeppot.errors import DataError


@pytest.fixture
def sysdir(water_data, tmp_path):
    d = tmp_path / "sys"
    shutil.copytree(water_data / "data_0", d)
    for f in d.rglob("*"):
        f.chmod(0o644 if f.is_file() else 0o755)
    return d


def corrupt(d, name, array):
    np.save(d / "set.000" / f"{name}.npy", array)


CASES = {
    "missing type.raw": (lambda d: (d / "type.raw").unlink(), r"sys: not a DeePMD system \(missing type.raw\)"),
    "empty type.raw": (lambda d: (d / "type.raw").write_text(""), r"type.raw: empty file"),
    "missing coord": (lambda d: (d / "set.000/coord.npy").unlink(), r"coord.npy: missing"),
    "missing box": (lambda d: (d / "set.000/box.npy").unlink(), r"box.npy: missing \(add an empty 'nopbc'"),
    "empty coord": (lambda d: corrupt(d, "coord", np.zeros((0,))), r"coord.npy: empty file"),
    "ragged coord": (lambda d: corrupt(d, "coord", np.zeros((80, 575))),
                     r"coord.npy: 46000 values is not a whole number of frames of 576"),
    "force frames": (lambda d: corrupt(d, "force", np.zeros((79, 576))), r"force.npy: 79 frames but coord.npy has 80"),
    "nan energy": (lambda d: corrupt(d, "energy", np.full(80, np.nan)),
                   r"energy contains NaN or inf \(first in frame 0\)"),
    "inf coord": (lambda d: corrupt(d, "coord", np.where(np.arange(80 * 576).reshape(80, 576) == 600, np.inf, 1.0)),
                  r"coord contains NaN or inf \(first in frame 1\)"),
    "singular box": (lambda d: corrupt(d, "box", np.tile([12.4, 0, 0, 12.4, 0, 0, 0, 0, 12.4], (80, 1))),
                     r"frame 0: singular cell"),
    "type index": (lambda d: (d / "type.raw").write_text("0 1 5\n" * 64), r"type index 5 has no name"),
    "not npy": (lambda d: (d / "set.000/energy.npy").write_text("hello"), r"energy.npy: unreadable"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_system_raises_clear_error(sysdir, case):
    damage, message = CASES[case]
    damage(sysdir)
    with pytest.raises(DataError, match=message):
        load_system(sysdir)


def test_cli_reports_bad_data_in_one_line(sysdir):
    corrupt(sysdir, "energy", np.full(80, np.nan))
    run = subprocess.run([sys.executable, "-m", "deeppot.cli.main", "neighbor-stat", "-s", str(sysdir), "-r", "6"],
                         capture_output=True, text=True)
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines == [f"deeppot: error: {sysdir}: energy contains NaN or inf (first in frame 0)"]


def test_npy_declaring_more_data_than_it_holds_is_refused_before_allocation(sysdir):
    import time

    coord = sysdir / "set.000" / "coord.npy"
    raw = coord.read_bytes()
    shape = f"({np.load(coord).shape[0]}, {np.load(coord).shape[1]})".encode()
    huge = b"(400000000000, 576)"
    header_end = raw.index(b"\n") + 1
    header = raw[:header_end].replace(shape, huge)
    header = header[:-1].rstrip(b" ")
    pad = header_end - len(header) - 1
    coord.write_bytes(header + b" " * pad + b"\n" + raw[header_end:])  # same header length
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=r"coord.npy: header declares \(400000000000, 576\)"):
        load_system(sysdir)
    assert time.perf_counter() - t0 < 2


def test_fifo_in_place_of_an_array_is_refused_without_blocking(sysdir):
    import os

    (sysdir / "set.000" / "force.npy").unlink()
    os.mkfifo(sysdir / "set.000" / "force.npy")
    with pytest.raises(DataError, match="force.npy: not a regular file"):
        load_system(sysdir)


def test_fifo_as_a_trajectory_is_refused_without_blocking(tmp_path):
    import os

    os.mkfifo(tmp_path / "traj.extxyz")
    with pytest.raises(DataError, match="traj.extxyz: not a regular file"):
        load_system(tmp_path / "traj.extxyz")
