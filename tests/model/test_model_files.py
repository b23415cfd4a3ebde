"""Model files: safe loading (no code execution) and clear errors for bad files."""

import json
import pickle

import h5py
import numpy as np
import pytest

from deeppot.errors import ModelFileError
from deeppot.model.dp_format import load_model, read_dp, write_dp


class Boom:
    def __reduce__(self):
        return (exec, ("open('PWNED', 'w').write('x')",))


def test_pickle_payload_is_rejected_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "evil.dp"
    bad.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelFileError, match="evil.dp: not a readable HDF5"):
        load_model(bad)
    assert not (tmp_path / "PWNED").exists()


def test_missing_and_non_model_files(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "absent.dp")
    h5 = tmp_path / "plain.h5"
    with h5py.File(h5, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ModelFileError, match="plain.h5: not a DeePMD-kit .dp model"):
        load_model(h5)


def test_unsupported_descriptor_is_named(parity_dir, tmp_path):
    data = read_dp(parity_dir / "se_e2_r.dp")
    data["model"]["descriptor"]["type"] = "dpa3"
    write_dp(data, tmp_path / "dpa3.dp")
    with pytest.raises(ModelFileError, match="descriptor type 'dpa3' is not supported"):
        load_model(tmp_path / "dpa3.dp")


def test_written_file_is_plain_json_and_arrays(parity_dir, tmp_path):
    model = load_model(parity_dir / "se_e2_a_one_side.dp")
    from deeppot.model.dp_format import save_model

    save_model(model, tmp_path / "m.dp")
    with h5py.File(tmp_path / "m.dp") as f:
        desc = json.loads(f.attrs["json"])
        assert all(key.startswith("variable_") for key in f.keys())
    assert desc["model"]["descriptor"]["type"] == "se_e2_a"
    assert not list(tmp_path.glob("*.tmp"))
