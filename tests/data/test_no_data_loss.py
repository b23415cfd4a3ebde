"""``deeppot convert`` never deletes or overwrites what it did not create, unless --force; full disks."""

import errno
import os

import numpy as np
import pytest

from deeppot.cli.main import main
from deeppot.data import load_system, write_deepmd_npy, write_extxyz
from deeppot.errors import DeeppotError


@pytest.fixture
def small(water_data, tmp_path):
    """A 3-frame labelled extxyz file and the same frames as a System."""
    system = load_system(water_data / "data_0").subset(slice(0, 3))
    path = tmp_path / "my.extxyz"
    write_extxyz(system, path)
    return system, path


def snapshot(directory):
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def one_error_line(capsys, *needles):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("deeppot: error: "), err
    for needle in needles:
        assert needle in err, err
    return err


def test_convert_into_existing_directory_is_refused_without_force(small, tmp_path, capsys):
    _, src = small
    out = tmp_path / "existing_dir"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    (out / "sub").mkdir()
    (out / "sub" / "results.csv").write_text("1,2,3")
    before = snapshot(out)
    assert main(["convert", str(src), str(out) + "/", "--from", "extxyz"]) == 2
    one_error_line(capsys, "existing_dir", "not empty", "--force")
    assert snapshot(out) == before
    # an empty directory is fine to fill
    (tmp_path / "empty").mkdir()
    assert main(["convert", str(src), str(tmp_path / "empty"), "--from", "extxyz"]) == 0
    assert load_system(tmp_path / "empty").nframes == 3
    # --force replaces it, only after the new one is complete
    assert main(["convert", str(src), str(out), "--from", "extxyz", "--force"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["set.000", "type.raw", "type_map.raw"]
    assert not list(tmp_path.glob(".existing_dir.*"))


@pytest.mark.parametrize("force", [False, True])
def test_convert_into_cwd_deletes_nothing(small, tmp_path, water_data, monkeypatch, capsys, force):
    _, src = small
    project = tmp_path / "project"
    project.mkdir()
    (project / "my.extxyz").write_bytes(src.read_bytes())
    (project / "input.json").write_text("{}")
    before = snapshot(project)
    monkeypatch.chdir(project)
    assert main(["convert", "my.extxyz", ".", *(["--force"] if force else [])]) == 2
    one_error_line(capsys, "the input")
    assert snapshot(project) == before
    # the current directory and its parents are refused even with --force (input elsewhere)
    for target in (".", ".."):
        assert main(["convert", str(water_data / "data_0"), target, "--force"]) == 2
        one_error_line(capsys, "current directory")
    assert snapshot(project) == before


def test_output_containing_the_input_is_refused_even_with_force(small, tmp_path, capsys):
    _, src = small
    data = tmp_path / "data"
    data.mkdir()
    inner = data / "frames.extxyz"
    inner.write_bytes(src.read_bytes())
    assert main(["convert", str(inner), str(data), "--force"]) == 2
    one_error_line(capsys, "the input")
    assert inner.read_bytes() == src.read_bytes()
    assert main(["convert", str(inner), str(inner), "--to", "extxyz", "--force"]) == 2
    one_error_line(capsys, "the input")


def test_existing_extxyz_output_needs_force(small, tmp_path, water_data, capsys):
    system, src = small
    out = tmp_path / "out.extxyz"
    out.write_text("keep me\n")
    assert main(["convert", str(water_data / "data_0"), str(out), "--to", "extxyz"]) == 2
    one_error_line(capsys, "out.extxyz: exists")
    assert out.read_text() == "keep me\n"
    assert main(["convert", str(water_data / "data_0"), str(out), "--to", "extxyz", "--force"]) == 0
    assert load_system(out).nframes == 80
    with pytest.raises(DeeppotError, match="exists"):
        write_extxyz(system, out)
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    with pytest.raises(DeeppotError, match="not empty"):
        write_deepmd_npy(system, full)
    assert (full / "x").read_text() == "x"


def test_full_disk_during_npy_write_keeps_previous_output(small, tmp_path, monkeypatch, capsys):
    _, src = small
    out = tmp_path / "npy"
    assert main(["convert", str(src), str(out), "--from", "extxyz"]) == 0
    before = snapshot(out)
    real_save = np.save

    def full(path, *args, **kwargs):
        if str(path).endswith("force.npy"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(path, *args, **kwargs)

    monkeypatch.setattr(np, "save", full)
    assert main(["convert", str(src), str(out), "--from", "extxyz", "--force"]) == 2
    one_error_line(capsys, "no space left on device")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my.extxyz", "npy"]  # no temporaries left
