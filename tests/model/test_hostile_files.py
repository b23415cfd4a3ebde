"""Crafted model files and checkpoints are refused fast with one line: nothing followed, run, hung or allocated.

Each file is a real DeePMD-kit ``.dp`` (a parity fixture) with one thing changed by h5py. They are
loaded through the CLI (``deeppot compress -i``, in-process), which must exit 2 with one line
``deeppot: error: <file>...`` in well under 2 s, without reading beyond what the JSON declares.
"""

import json
import os
import resource
import shutil
import time
import zipfile

import h5py
import numpy as np
import pytest

from deeppot.cli.main import main
from deeppot.errors import ModelFileError
from deeppot.model.dp_format import load_model
from deeppot.train.checkpoint import load_checkpoint

FIXTURE = "se_e2_a_one_side.dp"
FIT_W = "/variable_0016"  # first fitting layer's weights, (64, 16) in the fixture


@pytest.fixture
def model_copy(parity_dir, tmp_path):
    path = tmp_path / "evil.dp"
    shutil.copyfile(parity_dir / FIXTURE, path)
    return path


def edit_json(path, change):
    with h5py.File(path, "r+") as h5:
        data = json.loads(h5.attrs["json"])
        change(data)
        h5.attrs["json"] = json.dumps(data)


def replace_dataset(path, name, make):
    with h5py.File(path, "r+") as h5:
        del h5[name]
        make(h5, name)


def refused(path, tmp_path, capsys, *needles):
    """Load through the CLI: exit 2, one line naming the file (and the needles), fast, no big allocation."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    code = main(["compress", "-i", str(path), "-o", str(tmp_path / "out.dp")])
    elapsed = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith(f"deeppot: error: {path}"), err
    for needle in needles:
        assert needle in err, err
    assert elapsed < 2.0, elapsed
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 200_000, "allocated > 200 MB"  # kB
    assert not (tmp_path / "out.dp").exists()
    return err


def test_the_unmodified_fixture_loads(model_copy):
    assert load_model(model_copy).ntypes == 2


def test_external_link_to_a_fifo_is_not_followed(model_copy, tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading would block for ever
    replace_dataset(model_copy, FIT_W, lambda h5, n: h5.__setitem__(n, h5py.ExternalLink(str(fifo), "/x")))
    refused(model_copy, tmp_path, capsys, FIT_W, "ExternalLink")


def test_external_link_to_another_file_is_not_followed(model_copy, tmp_path, capsys):
    other = tmp_path / "secret.h5"
    with h5py.File(other, "w") as h5:
        h5["x"] = np.ones((64, 16))
    replace_dataset(model_copy, FIT_W, lambda h5, n: h5.__setitem__(n, h5py.ExternalLink(str(other), "/x")))
    refused(model_copy, tmp_path, capsys, "ExternalLink")


def test_soft_link_is_not_followed(model_copy, tmp_path, capsys):
    replace_dataset(model_copy, FIT_W, lambda h5, n: h5.__setitem__(n, h5py.SoftLink("/variable_0014")))
    refused(model_copy, tmp_path, capsys, "SoftLink")


def test_virtual_dataset_is_refused(model_copy, tmp_path, capsys):
    other = tmp_path / "source.h5"
    with h5py.File(other, "w") as h5:
        h5["x"] = np.ones((64, 16))

    def virtual(h5, name):
        layout = h5py.VirtualLayout(shape=(64, 16), dtype="f8")
        layout[:] = h5py.VirtualSource(str(other), "x", shape=(64, 16))
        h5.create_virtual_dataset(name, layout)

    replace_dataset(model_copy, FIT_W, virtual)
    refused(model_copy, tmp_path, capsys, "virtual or external")


def test_external_raw_storage_is_refused(model_copy, tmp_path, capsys):
    raw = tmp_path / "passwd_like.bin"
    raw.write_bytes(b"\0" * 64 * 16 * 8)
    replace_dataset(model_copy, FIT_W, lambda h5, n: h5.create_dataset(n, shape=(64, 16), dtype="f8",
                                                                     external=[(str(raw), 0, 64 * 16 * 8)]))
    refused(model_copy, tmp_path, capsys, "virtual or external")


def test_small_file_declaring_a_3_gb_dataset_is_refused_before_reading(model_copy, tmp_path, capsys):
    replace_dataset(model_copy, FIT_W, lambda h5, n: h5.create_dataset(
        n, shape=(20_000, 20_000), dtype="f8", chunks=(1000, 1000), compression="gzip"))
    assert model_copy.stat().st_size < 1_000_000  # 3.2 GB declared, nothing stored
    refused(model_copy, tmp_path, capsys, "(20000, 20000)", "(64, 16)")


def test_oversized_chunks_are_refused(model_copy, tmp_path, capsys):
    replace_dataset(model_copy, FIT_W, lambda h5, n: h5.create_dataset(
        n, shape=(64, 16), maxshape=(None, None), dtype="f8", chunks=(4096, 4096)))
    refused(model_copy, tmp_path, capsys, "chunks")


def test_non_numeric_dataset_is_refused(model_copy, tmp_path, capsys):
    replace_dataset(model_copy, FIT_W, lambda h5, n: h5.create_dataset(
        n, data=np.array([["a"] * 16] * 64, dtype=h5py.string_dtype())))
    refused(model_copy, tmp_path, capsys, "not numeric")


def test_model_path_that_is_a_fifo_is_refused_without_opening(tmp_path, capsys):
    fifo = tmp_path / "model.dp"
    os.mkfifo(fifo)
    refused(fifo, tmp_path, capsys, "not a regular file")


def set_key(path, value):
    def change(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


DESC = ("model", "descriptor")
HOSTILE_JSON = [
    (set_key(DESC + ("sel",), [1_000_000_000, 92]), "model.descriptor.sel", "outside"),
    (set_key(DESC + ("sel",), [1e9, 92]), "model.descriptor.sel", "integers"),
    (set_key(DESC + ("sel",), [10_001, 92]), "model.descriptor.sel", "outside"),
    (set_key(DESC + ("sel",), 46), "model.descriptor.sel", "list"),
    (set_key(DESC + ("sel",), [5000, 5000, 5000]), "model.descriptor.sel", "2 entries"),
    (set_key(DESC + ("neuron",), [4, 8, 10_000_000]), "model.descriptor.neuron", "outside"),
    (set_key(DESC + ("rcut",), "6.0"), "model.descriptor.rcut", "number"),
    (set_key(DESC + ("rcut",), 1e300), "model.descriptor.rcut", "outside"),
    (set_key(DESC + ("axis_neuron",), 1000), "model.descriptor.axis_neuron", "outside"),
    (set_key(DESC + ("resnet_dt",), "yes"), "model.descriptor.resnet_dt", "true or false"),
    (set_key(("model", "type_map"), ["X"] * 100_000), "model.type_map", "1 to"),
    (set_key(("model", "type_map"), "O H"), "model.type_map", "list"),
    (set_key(("model", "fitting", "neuron"), [16, 1_000_000]), "model.fitting.neuron", "outside"),
    (set_key(("model", "fitting", "dim_descrpt"), None), "model.fitting.dim_descrpt", "integer"),
    (set_key(("model", "fitting", "nets"), []), "model.fitting.nets", "object"),
    (set_key(("model", "descriptor", "@variables", "davg"), 3), "davg", "dataset reference"),
    (set_key(("model", "descriptor", "@variables", "davg"), "/../etc/passwd"), "/../etc/passwd", "plain dataset name"),
    (set_key(("model",), []), "model", "object"),
]


@pytest.mark.parametrize("change,key,problem", HOSTILE_JSON, ids=[f"{k}-{p}" for _, k, p in HOSTILE_JSON])
def test_json_types_and_limits_are_checked_before_allocation(model_copy, tmp_path, capsys, change, key, problem):
    edit_json(model_copy, change)
    refused(model_copy, tmp_path, capsys, key, problem)


def test_non_finite_and_deeply_nested_json_are_one_line(model_copy, tmp_path, capsys):
    with h5py.File(model_copy, "r+") as h5:
        h5.attrs["json"] = h5.attrs["json"].replace('"rcut":6.0', '"rcut":NaN', 1)
    refused(model_copy, tmp_path, capsys, "NaN")
    with h5py.File(model_copy, "r+") as h5:
        h5.attrs["json"] = "[" * 100_000 + "]" * 100_000
    refused(model_copy, tmp_path, capsys, "malformed")


def test_checkpoint_meta_types_and_declared_sizes_are_checked(tmp_path):
    good = {"step": 1, "model": {"type_map": ["O"], "descriptor": {"type": "se_e2_a", "sel": [10], "rcut": 4.0},
                                 "fitting_net": {}}, "optim_scalars": {}, "param_groups": []}

    def write(meta, **arrays):
        path = tmp_path / "model.ckpt-00000000-1.npz"
        np.savez(path, meta=np.array(json.dumps(meta)), **arrays)
        return path

    for change, needle in [({"step": "1"}, "'step' must be int"), ({"step": -1}, "negative"),
                           ({"model": []}, "'model' must be dict"), ({"run_id": "../x"}, "run_id"),
                           ({"optim_scalars": {"0/step": "x"}}, "optim_scalars"),
                           ({"model": dict(good["model"], descriptor={"type": "se_e2_a", "sel": [10**9]})}, "sel"),
                           ({"model": dict(good["model"], fitting_net={"neuron": [8192] * 20})}, "network weights")]:
        with pytest.raises(ModelFileError, match=needle) as info:
            load_checkpoint(write(dict(good, **change)))
        assert "\n" not in str(info.value)
    # an npy header declaring 10^12 values in a 200-byte member is refused before numpy allocates
    path = write(good, **{"model/w": np.zeros(3)})
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["model/w.npy"] = members["model/w.npy"].replace(b"(3,)", b"(10**12,)".replace(b"**12", b"00000000000"))
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    t0 = time.perf_counter()
    with pytest.raises(ModelFileError, match="declares"):
        load_checkpoint(path)
    assert time.perf_counter() - t0 < 2.0
