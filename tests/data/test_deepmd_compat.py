"""DeePMD-kit data conventions that have a meaning here: set_prefix, no type_map.raw, dtype checks."""

import shutil

import numpy as np
import pytest

from deeppot.data import load_system, load_systems
from deeppot.errors import DataError

WATER_SYSTEM = "data_0"


@pytest.fixture
def system(tmp_path, water_data):
    from deeppot.data import write_deepmd_npy

    write_deepmd_npy(load_system(water_data / WATER_SYSTEM).subset(slice(0, 2)), tmp_path / "sys")
    return tmp_path / "sys"


def test_without_type_map_raw_types_index_the_model_type_map(system):
    reference = load_system(system, ["O", "H"])
    (system / "type_map.raw").unlink()
    # DeePMD-kit: type.raw indexes the model's type_map directly
    loaded = load_systems([system], ["O", "H"])[0]
    assert loaded.type_map == ["O", "H"] and np.array_equal(loaded.atype, reference.atype)
    swapped = load_system(system, ["H", "O"])
    assert np.array_equal(swapped.atype, reference.atype)  # same indices, other names: as DeePMD-kit
    with pytest.raises(DataError, match="type index 1 but type_map has 1 types"):
        load_system(system, ["O"])


def test_set_prefix(system):
    shutil.move(system / "set.000", system / "frame.000")
    assert load_system(system, ["O", "H"], set_prefix="frame").nframes == 2
    with pytest.raises(DataError, match="no set.\\* directories"):
        load_system(system, ["O", "H"])


@pytest.mark.parametrize("dtype", ["<U8", "bool", "complex128"])
def test_non_numeric_arrays_are_errors(system, dtype):
    energy = system / "set.000" / "energy.npy"
    np.save(energy, np.load(energy).astype(dtype))
    with pytest.raises(DataError, match=f"energy.npy: holds {np.dtype(dtype)} values"):
        load_system(system)


def test_integer_arrays_are_numbers(system):
    energy = system / "set.000" / "energy.npy"
    np.save(energy, np.round(np.load(energy)).astype(np.int64))
    assert load_system(system).energy.dtype == np.float64
