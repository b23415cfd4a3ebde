"""``deeppot convert`` through dpdata: round trips with DeePMD npy, extxyz, POSCAR, LAMMPS."""

import subprocess
import sys

import numpy as np
import pytest

from deeppot.data import load_system

pytest.importorskip("dpdata")


def convert(*args):
    return subprocess.run([sys.executable, "-m", "deeppot.cli.main", "convert", *map(str, args)],
                          capture_output=True, text=True)


def test_npy_extxyz_npy_round_trip(water_data, tmp_path):
    assert convert(water_data / "data_0", tmp_path / "w.extxyz", "--to", "extxyz").returncode == 0
    run = convert(tmp_path / "w.extxyz", tmp_path / "back", "--from", "extxyz", "--to", "deepmd/npy")
    assert run.returncode == 0, run.stderr
    a, b = load_system(water_data / "data_0"), load_system(tmp_path / "back")
    assert np.abs(a.coord - b.coord).max() < 1e-7 and np.abs(a.force - b.force).max() < 1e-7


def test_dpdata_formats_poscar_and_lammps(water_data, tmp_path):
    ref = load_system(water_data / "data_0")
    run = convert(water_data / "data_0", tmp_path / "POSCAR", "--to", "vasp/poscar")
    assert run.returncode == 0, run.stderr
    back = subprocess.run([sys.executable, "-m", "deeppot.cli.main", "convert", tmp_path / "POSCAR", tmp_path / "p",
                           "--from", "vasp/poscar", "--type-map", "O", "H"], capture_output=True, text=True)
    assert back.returncode == 0, back.stderr
    s = load_system(tmp_path / "p")
    frac = (s.coord[0] - ref.coord[0]) @ np.linalg.inv(ref.box[0])
    assert np.abs(frac - np.round(frac)).max() < 1e-7  # equal modulo the periodic cell
    assert s.energy is None and s.type_map == ["O", "H"]
    run = convert(water_data / "data_0", tmp_path / "conf.lmp", "--to", "lammps/lmp")
    assert run.returncode == 0 and "Atoms" in (tmp_path / "conf.lmp").read_text()


def test_unknown_format_is_one_line_error(water_data, tmp_path):
    run = convert(water_data / "data_0" / "type.raw", tmp_path / "x", "--from", "no/such")
    assert run.returncode == 2 and "cannot read as 'no/such'" in run.stderr and "Traceback" not in run.stderr


def test_lammps_dump_positions_equal_modulo_pbc(water_data, tmp_path):
    """dpdata writes one frame to a dump; read it back and compare fractional positions modulo 1."""
    ref = load_system(water_data / "data_0")
    assert convert(water_data / "data_0", tmp_path / "d.dump", "--to", "lammps/dump").returncode == 0
    run = convert(tmp_path / "d.dump", tmp_path / "back", "--from", "lammps/dump", "--type-map", "O", "H")
    assert run.returncode == 0, run.stderr
    s = load_system(tmp_path / "back")
    assert s.type_map == ["O", "H"] and np.array_equal(s.atype, ref.atype)
    frac = (s.coord[0] - ref.coord[0]) @ np.linalg.inv(ref.box[0])
    assert np.abs(frac - np.round(frac)).max() < 1e-6
