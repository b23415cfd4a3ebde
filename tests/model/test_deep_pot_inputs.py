"""DeepPot.eval: a wrong shape, type or value names the argument; model arrays are checked against the JSON."""

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from deeppot import DeepPot
from deeppot.errors import DataError, ModelFileError
from deeppot.model.dp_format import load_model


@pytest.fixture(scope="module")
def dp(parity_dir_module):
    return DeepPot(parity_dir_module / "se_e2_a_one_side.dp")


@pytest.fixture(scope="module")
def parity_dir_module():
    return Path(__file__).resolve().parents[1] / "fixtures" / "parity"


COORD = np.arange(9, dtype=float).reshape(1, 9) * 0.7
TYPES = [0, 1, 1]


@pytest.mark.parametrize("coords,cells,atom_types,message", [
    (COORD, None, [0, 1, 1, 1], r"coords: shape \(1, 9\) is not \(nframes, natoms\*3\) for natoms = 4"),
    (COORD, np.eye(3).reshape(1, 9)[:, :8], TYPES, r"cells: shape \(1, 8\), expected \(1, 9\)"),
    (np.vstack([COORD, COORD]), np.eye(3).reshape(1, 9) * 10, TYPES, r"cells: .* expected \(2, 9\)"),
    (COORD, np.zeros((1, 9)), TYPES, "cells: a cell has zero volume"),
    (COORD, None, [0, 1, 2], r"atom_types: values must be in 0..1"),
    (COORD, None, [0, -1, 1], r"atom_types: values must be in 0..1"),
    (COORD, None, ["O", "H", "H"], "atom_types: holds <U1 values, expected integers"),
    (COORD, None, [[0, 1, 1], [1, 1, 0]], "atom_types: must be the same for all frames"),
    (COORD, None, [], r"atom_types: shape \(0,\)"),
    (np.full((1, 9), np.nan), None, TYPES, "coords: contains NaN or inf"),
    (np.array([["x"] * 9]), None, TYPES, "coords: holds <U1 values"),
])
def test_eval_errors_name_the_argument(dp, coords, cells, atom_types, message):
    with pytest.raises(DataError, match=message):
        dp.eval(coords, cells, atom_types)


def test_eval_accepts_the_documented_shapes(dp):
    e1, f1, _ = dp.eval(COORD, None, TYPES)
    e2, f2, _ = dp.eval(COORD.reshape(3, 3), None, np.array(TYPES, dtype=np.int32))
    e3, _, _ = dp.eval(COORD.reshape(1, 3, 3), None, [[0, 1, 1]])
    assert np.array_equal(e1, e2) and np.array_equal(e1, e3) and np.array_equal(f1, f2)


def _edit(src, dst, fn):
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as h5:
        fn(h5, json.loads(h5.attrs["json"]))
    return dst


def test_transposed_weight_is_named_not_a_matmul_error(parity_dir_module, tmp_path):
    def transpose(h5, meta):
        ref = meta["model"]["fitting"]["nets"]["networks"][1]["layers"][0]["@variables"]["w"]
        data = h5[ref][()].T.copy()  # (64, 16) -> (16, 64): same size, wrong shape
        del h5[ref]
        h5[ref] = data

    bad = _edit(parity_dir_module / "se_e2_a_one_side.dp", tmp_path / "t.dp", transpose)
    with pytest.raises(ModelFileError, match=r"model.fitting.nets.networks\[1\].layers\[0\].w: shape \(16, 64\), "
                                             r"expected \(64, 16\)"):
        load_model(bad)
