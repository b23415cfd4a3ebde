"""``analyze msd`` refuses frames of different systems; frame time comes from ``time_fs``."""

import subprocess
import sys

import ase.io
import numpy as np
import pytest
from ase.build import bulk


def analyze_msd(path, out, *extra):
    return subprocess.run([sys.executable, "-m", "deeppot.cli.main", "analyze", "msd", str(path), "-o", str(out),
                           *map(str, extra)], capture_output=True, text=True)


def frames(n=6, natoms_changed_at=None, swapped_at=None):
    base = bulk("Ar", "fcc", a=5.3, cubic=True).repeat(2)
    base.symbols[1] = "Kr"
    result = []
    for k in range(n):
        atoms = base.copy()
        atoms.positions += 0.01 * k
        atoms.info["step"], atoms.info["time_fs"] = 10 * k, 20.0 * k
        if k == natoms_changed_at:
            atoms = atoms[:30]
        if k == swapped_at:
            atoms = atoms[[1, 0] + list(range(2, len(atoms)))]
        result.append(atoms)
    return result


@pytest.mark.parametrize("kind,expected", [
    ("count", "frame 3 has 30 atoms but frame 0 has 32"),
    ("order", "frame 2: atom 0 is Kr but Ar in frame 0"),
])
def test_msd_on_frames_of_different_atoms_is_one_line_error(tmp_path, kind, expected):
    path = tmp_path / "mixed.extxyz"
    ase.io.write(path, frames(natoms_changed_at=3) if kind == "count" else frames(swapped_at=2))
    run = analyze_msd(path, tmp_path / "msd.csv")
    assert run.returncode == 2, run.stdout
    assert run.stderr.count("\n") == 1 and expected in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "msd.csv").exists()


def test_msd_frame_numbers_count_skip_and_every(tmp_path):
    path = tmp_path / "mixed.extxyz"
    ase.io.write(path, frames(n=9, natoms_changed_at=7))
    run = analyze_msd(path, tmp_path / "msd.csv", "--skip", "1", "--every", "2")
    assert run.returncode == 2 and "frame 7 has 30 atoms but frame 1 has 32" in run.stderr


def test_msd_time_from_frames_is_not_multiplied_by_every(tmp_path):
    """time_fs in the frames already spans --every: the lag axis must not be stretched again."""
    path = tmp_path / "ok.extxyz"
    ase.io.write(path, frames(n=9))
    for every in (1, 2):
        run = analyze_msd(path, tmp_path / f"msd{every}.csv", "--every", str(every))
        assert run.returncode == 0, run.stderr
        t = np.genfromtxt(tmp_path / f"msd{every}.csv", delimiter=",", skip_header=1)[:, 0]
        assert t[1] == pytest.approx(0.020 * every)  # 20 fs between stored frames


def test_msd_refuses_unevenly_spaced_frames(tmp_path):
    """Duplicated steps (e.g. an unchecked restart appending again) used to give a wrong D silently."""
    series = frames(n=6)
    series[4].info["time_fs"] = series[3].info["time_fs"]
    path = tmp_path / "dup.extxyz"
    ase.io.write(path, series)
    run = analyze_msd(path, tmp_path / "msd.csv")
    assert run.returncode == 2 and "frame 4 has time_fs 60 after 60" in run.stderr


def test_check_same_atoms_in_python_api():
    from deeppot.analysis import msd
    from deeppot.errors import DataError

    with pytest.raises(DataError, match="frame 3 has 30 atoms"):
        msd(frames(natoms_changed_at=3), 0.02)


def test_trajectory_cut_inside_its_last_frame_reads_the_whole_frames(tmp_path, caplog):
    from deeppot.analysis import read_frames

    path = tmp_path / "cut.extxyz"
    ase.io.write(path, frames(n=4))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 300])  # inside the 4th frame
    got = read_frames(path)
    assert [a.info["step"] for a in got] == [0, 10, 20]
    assert "last frame incomplete" in caplog.text


def test_md_frames_carry_step_and_time(tmp_path):
    import torch

    from deeppot.analysis import read_frames
    from deeppot.md.output import TrajectoryWriter
    from deeppot.md.state import MDState

    atoms = frames(n=1)[0]
    writer = TrajectoryWriter(tmp_path / "t.extxyz", fresh=True)
    for step in (0, 50, 100):
        state = MDState(torch.as_tensor(atoms.positions), torch.zeros(len(atoms), 3),
                        torch.as_tensor(atoms.get_masses()), torch.zeros(len(atoms), dtype=torch.long),
                        torch.as_tensor(np.asarray(atoms.cell)), atoms.get_chemical_symbols(),
                        torch.zeros(len(atoms), 3), -1.0, torch.zeros(3, 3), step, step * 0.5)
        writer.write(state)
    writer.close()
    got = read_frames(tmp_path / "t.extxyz")
    assert [(a.info["step"], a.info["time_fs"]) for a in got] == [(0, 0.0), (50, 25.0), (100, 50.0)]
