"""examples/water/check_water.py: the demo's verdict on whether its MD is liquid water."""

import importlib.util
import json
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest

from deeppot.analysis import read_frames

WATER = Path(__file__).resolve().parents[2] / "examples" / "water"
spec = importlib.util.spec_from_file_location("check_water", WATER / "check_water.py")
cw = sys.modules.setdefault("check_water", importlib.util.module_from_spec(spec))
spec.loader.exec_module(cw)


@pytest.fixture(scope="module")
def dft():
    return read_frames(WATER / "data" / "data_2")


def test_first_peak_is_the_vertex_between_bins():
    r = np.arange(0.01, 4.0, 0.02)
    g = 3.0 * np.exp(-((r - 2.763) ** 2) / (2 * 0.14**2)) + 0.01 * np.sin(40 * r)
    pos, height = cw.first_peak(r, g)
    assert pos == pytest.approx(2.763, abs=0.005)
    assert height == pytest.approx(3.0, rel=0.02)


def test_min_oo_is_periodic(dft):
    atoms = dft[0].copy()
    o = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "O"]
    a = atoms.cell.lengths()[0]
    atoms.positions[o[0]] = [0.1, 5.0, 5.0]
    atoms.positions[o[1]] = [a - 1.0, 5.0, 5.0]  # 1.1 Å apart through the boundary, a − 1.1 directly
    assert cw.min_oo_distances([atoms])[0] == pytest.approx(1.1, abs=1e-9)


def test_dft_frames_against_themselves_pass(dft):
    frames = dft[::2]
    checks, curves = cw.check(frames, frames, dft_split=(frames[:20], frames[20:]))
    assert [c.verdict for c in checks] == ["PASS"] * 3
    contact, height, position = checks
    assert 2.3 < contact.md == contact.dft < 2.6
    assert 2.7 < height.dft < 3.1 and 2.70 < position.dft < 2.80  # liquid water's first O–O shell
    assert height.md == pytest.approx(height.dft) and position.md == pytest.approx(position.dft)
    assert 0 < height.noise < 0.10 and position.noise < 0.05


def test_oxygens_in_contact_fail_and_exit_nonzero(dft, tmp_path, capsys):
    frames = [a.copy() for a in dft[:20]]
    atoms = frames[7]
    o = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s == "O"]
    atoms.positions[o[1]] = atoms.positions[o[0]] + [2.0, 0.0, 0.0]
    ase.io.write(tmp_path / "traj.extxyz", frames)
    ase.io.write(tmp_path / "reference.extxyz", dft[40:60])
    code = cw.main([str(tmp_path / "traj.extxyz"), "--dft", str(tmp_path / "reference.extxyz"),
                    "--json", str(tmp_path / "checks.json")])
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "checks.json").read_text())
    assert code == 1 and not report["passed"]
    contact = report["checks"][0]
    assert contact["verdict"] == "FAIL" and contact["md"] <= 2.0 + 1e-9
    assert "FAIL" in out.splitlines()[2] and "water structure: FAIL" in out


def test_missing_trajectory_is_exit_2(tmp_path, capsys):
    assert cw.main([str(tmp_path / "nothing.extxyz")]) == 2
    assert "check_water: error:" in capsys.readouterr().err
