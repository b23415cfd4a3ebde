"""DeePMD npy and ASE formats: reading, round trips, remapping."""

import shutil

import numpy as np
import pytest

from deeppot.data import load_system, load_systems, write_deepmd_npy, write_extxyz


def test_reads_bundled_water(water_data):
    s = load_system(water_data / "data_1")
    assert (s.nframes, s.natoms, s.type_map) == (160, 192, ["O", "H"])  # two sets concatenated
    assert s.coord.dtype == np.float64 and s.box.shape == (160, 3, 3)
    assert s.energy.shape == (160,) and s.force.shape == (160, 192, 3) and s.virial is None
    raw = np.load(water_data / "data_1/set.001/force.npy")
    assert np.array_equal(s.force[80:].reshape(80, -1), raw.astype(np.float64))


def test_npy_round_trip_is_exact_with_sets_and_virial(water_data, tmp_path):
    s = load_system(water_data / "data_0").subset(slice(0, 7))
    s.virial = np.random.default_rng(0).normal(size=(7, 3, 3))
    s.atom_ener = np.random.default_rng(1).normal(size=(7, 192))
    write_deepmd_npy(s, tmp_path / "copy", set_size=3)
    assert sorted(p.name for p in (tmp_path / "copy").glob("set.*")) == ["set.000", "set.001", "set.002"]
    back = load_system(tmp_path / "copy")
    for name in ("coord", "box", "energy", "force", "virial", "atom_ener"):
        assert np.array_equal(getattr(back, name), getattr(s, name)), name
    assert not list(tmp_path.glob(".copy.*"))  # no temporary left behind


def test_float32_and_nopbc(tmp_path):
    d = tmp_path / "mol"
    (d / "set.000").mkdir(parents=True)
    (d / "type.raw").write_text("0 1 1\n")
    (d / "type_map.raw").write_text("O\nH\n")
    (d / "nopbc").write_text("")
    coord = np.array([[0, 0, 0, 0.96, 0, 0, -0.24, 0.93, 0]], dtype=np.float32)
    np.save(d / "set.000/coord.npy", coord)
    np.save(d / "set.000/energy.npy", np.array([-1.5], dtype=np.float32))
    s = load_system(d)
    assert s.box is None and s.coord.dtype == np.float64 and s.energy[0] == np.float32(-1.5)
    write_deepmd_npy(s, tmp_path / "again")
    assert (tmp_path / "again/nopbc").exists() and load_system(tmp_path / "again").box is None


def test_extxyz_round_trip(water_data, tmp_path):
    s = load_system(water_data / "data_2").subset(slice(0, 3))
    s.virial = np.random.default_rng(0).normal(size=(3, 3, 3))
    s.virial = 0.5 * (s.virial + s.virial.transpose(0, 2, 1))  # stress is symmetric in extxyz
    write_extxyz(s, tmp_path / "w.extxyz")
    back = load_system(tmp_path / "w.extxyz")
    assert back.type_map == ["O", "H"] and np.array_equal(back.atype, s.atype)
    assert np.abs(back.coord - s.coord).max() < 1e-7
    assert np.abs(back.energy - s.energy).max() < 1e-7
    assert np.abs(back.force - s.force).max() < 1e-7
    assert np.abs(back.virial - s.virial).max() < 1e-6


def test_remap_onto_model_type_map(water_data, tmp_path):
    shutil.copytree(water_data / "data_0", tmp_path / "hfirst")
    s0 = load_system(water_data / "data_0")
    (tmp_path / "hfirst/type_map.raw").write_text("H\nO\n")
    (tmp_path / "hfirst/type.raw").write_text("\n".join(str(1 - t) for t in s0.atype))
    s = load_system(tmp_path / "hfirst", type_map=["O", "H"])
    assert np.array_equal(s.atype, s0.atype)
    both = load_systems([tmp_path / "hfirst", water_data / "data_0"])
    assert both[0].type_map == both[1].type_map == ["H", "O"]
    assert np.array_equal(both[0].atype, both[1].atype)


def test_parent_directory_expands_to_systems(water_data):
    names = sorted(s.path.split("/")[-1] for s in load_systems([water_data]))
    assert names == ["data_0", "data_1", "data_2"]


def test_element_missing_from_type_map(water_data):
    from deeppot.errors import DataError

    with pytest.raises(DataError, match=r"data_0: element\(s\) O not in type_map \['H', 'C'\]"):
        load_system(water_data / "data_0", type_map=["H", "C"])
