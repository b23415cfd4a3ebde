"""Training never loses work: runs keyed by id, checked restarts, stat_file keyed by a hash, full disks.

In-process (``deeppot.cli.main.main``) and tiny, so each test takes seconds.
"""

import errno
import logging
import os

import h5py
import numpy as np
import pytest
from train_helpers import ckpt, tiny_config, train_in

from deeppot.cli.main import main
from deeppot.train.checkpoint import load_checkpoint


def error_lines(capsys):
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("deeppot:")]


def rmse_e_at_step_1(directory):
    names = (directory / "lcurve.out").read_text().splitlines()[0].lstrip("#").split()
    first = (directory / "lcurve.out").read_text().splitlines()[1].split()
    return float(first[names.index("rmse_e_trn")])


def test_short_new_run_keeps_its_checkpoints_and_leaves_the_old_run_alone(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="deeppot")
    assert train_in(tmp_path, tiny_config(steps=12, save=3, max_ckpt_keep=2)) == 0
    old = {p.name: p.read_bytes() for p in tmp_path.glob("model.ckpt-*.npz")}
    assert sorted(int(n.rsplit("-", 1)[1][:-4]) for n in old) == [9, 12]
    old_lcurve = (tmp_path / "lcurve.out").read_text()
    assert train_in(tmp_path, tiny_config(steps=4, save=1, max_ckpt_keep=2)) == 0
    pointer = (tmp_path / "checkpoint").read_text().strip()
    assert pointer == ckpt(tmp_path, 4).name and (tmp_path / pointer).is_file()
    new = sorted(p.name for p in tmp_path.glob("model.ckpt-*.npz") if p.name not in old)
    assert new == sorted([ckpt(tmp_path, 3).name, ckpt(tmp_path, 4).name])
    assert {name: (tmp_path / name).read_bytes() for name in old} == old  # untouched
    assert (tmp_path / "lcurve.out.1").read_text() == old_lcurve
    assert "2 checkpoint(s) of other runs" in caplog.text
    # the new run restarts from the directory (pointer) and ends where it was
    assert train_in(tmp_path, tiny_config(steps=4, save=1, max_ckpt_keep=2), "--restart", ".") == 0
    assert load_checkpoint(tmp_path)[0]["step"] == 4


def test_restart_with_a_different_input_is_refused_with_the_key(tmp_path, capsys):
    assert train_in(tmp_path, tiny_config(steps=2, save=1)) == 0
    capsys.readouterr()
    changes = {
        "model.descriptor.rcut": lambda c: c["model"]["descriptor"].update(rcut=4.5),
        "model.type_map": lambda c: c["model"].update(type_map=["H", "O"]),
        "model.fitting_net.neuron": lambda c: c["model"]["fitting_net"].update(neuron=[8]),
        "loss.start_pref_f": lambda c: c["loss"].update(start_pref_f=10),
        "learning_rate.start_lr": lambda c: c["learning_rate"].update(start_lr=1e-2),
        "training.seed": lambda c: c["training"].update(seed=8),
        "training.numb_steps": lambda c: c["training"].update(numb_steps=20),
    }
    for key, change in changes.items():
        cfg = tiny_config(steps=2, save=1)
        change(cfg)
        assert train_in(tmp_path, cfg, "--restart", ckpt(tmp_path, 1).name) == 2, key
        lines = error_lines(capsys)
        assert len(lines) == 1 and key in lines[0] and "--init-model" in lines[0], (key, lines)
    # output-only keys may change; numb_steps too once decay_rate is explicit
    cfg = tiny_config(steps=2, save=1, disp_freq=2)
    assert train_in(tmp_path, cfg, "--restart", ckpt(tmp_path, 1).name) == 0
    # --init-model with another architecture: one line, not a torch traceback
    cfg = tiny_config(steps=2, save=1)
    cfg["model"]["fitting_net"]["neuron"] = [8]
    assert train_in(tmp_path / "other", cfg, "--init-model", tmp_path) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and "model sections differ" in lines[0]


def test_stat_file_is_keyed_by_descriptor_type_map_and_data(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="deeppot")
    cfg = tiny_config(steps=1, save=1, stat_file="stat.h5")
    assert train_in(tmp_path / "a", cfg) == 0
    stat = tmp_path / "a" / "stat.h5"
    with h5py.File(stat) as h5:
        assert len(h5["deeppot"].attrs["key"]) == 64 and "rcut" in h5["deeppot"].attrs["depends"]
    caplog.clear()
    assert train_in(tmp_path / "a", cfg) == 0
    assert "statistics read from" in caplog.text
    # rcut and type_map changed (sel swapped with it): same array shapes, different statistics
    changed = tiny_config(steps=1, save=1, stat_file="stat.h5")
    changed["model"]["type_map"] = ["H", "O"]
    changed["model"]["descriptor"].update(rcut=4.5, sel=[80, 40])
    caplog.clear()
    assert train_in(tmp_path / "a", changed) == 0
    assert "recomputing" in caplog.text and "statistics read from" not in caplog.text
    changed.pop("training")
    fresh = tiny_config(steps=1, save=1)
    fresh["model"] = changed["model"]
    assert train_in(tmp_path / "b", fresh) == 0
    _, reused, _ = load_checkpoint(tmp_path / "a")
    _, reference, _ = load_checkpoint(tmp_path / "b")
    for name in ("descriptor.davg", "descriptor.dstd", "out_bias"):
        assert np.array_equal(reused[name], reference[name]), name
    # energy RMSE at step 1 equals the fresh run's, and is sane (stale statistics gave ~30 eV)
    assert rmse_e_at_step_1(tmp_path / "a") == rmse_e_at_step_1(tmp_path / "b") < 2.0


def test_foreign_stat_file_is_left_alone(tmp_path, caplog, capsys):
    caplog.set_level(logging.INFO, logger="deeppot")
    work = tmp_path / "w"
    work.mkdir()
    with h5py.File(work / "stat.h5", "w") as h5:  # DeePMD-kit's layout: one group per type map
        h5.create_dataset("O H/stat_file/bias_atom_energy", data=np.zeros(2))
    before = (work / "stat.h5").read_bytes()
    assert train_in(work, tiny_config(steps=1, save=1, stat_file="stat.h5")) == 0
    assert (work / "stat.h5").read_bytes() == before
    assert (work / "stat.h5.deeppot.h5").is_file() and "left alone" in caplog.text
    # a foreign file also where deeppot would write beside it: one line, nothing overwritten
    (work / "stat.h5.deeppot.h5").write_text("someone else's")
    capsys.readouterr()
    assert train_in(work, tiny_config(steps=1, save=1, stat_file="stat.h5")) == 2
    assert len(error_lines(capsys)) == 1
    assert (work / "stat.h5.deeppot.h5").read_text() == "someone else's"


def test_full_disk_while_saving_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch, capsys):
    real = np.savez
    calls = []

    def savez(handle, **arrays):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(handle, **arrays)

    monkeypatch.setattr(np, "savez", savez)
    assert train_in(tmp_path, tiny_config(steps=4, save=2)) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and "no space left on device" in lines[0], lines
    first = ckpt(tmp_path, 2)
    assert (tmp_path / "checkpoint").read_text().strip() == first.name
    assert load_checkpoint(tmp_path)[0]["step"] == 2
    assert not list(tmp_path.glob(".*.tmp")) and not list(tmp_path.glob("model.ckpt-*-4.npz"))


def test_full_disk_while_freezing_keeps_the_previous_model(tmp_path, monkeypatch, capsys):
    assert train_in(tmp_path, tiny_config(steps=1, save=1)) == 0
    assert main(["freeze", "-c", str(tmp_path), "-o", str(tmp_path / "m.dp")]) == 0
    before = (tmp_path / "m.dp").read_bytes()
    capsys.readouterr()

    def replace(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", replace)
    assert main(["freeze", "-c", str(tmp_path), "-o", str(tmp_path / "m.dp")]) == 2
    lines = error_lines(capsys)
    assert len(lines) == 1 and "m.dp: no space left on device" in lines[0]
    assert (tmp_path / "m.dp").read_bytes() == before and not list(tmp_path.glob(".m.dp*"))


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_follow_the_umask(tmp_path, umask, water_data):
    old = os.umask(umask)
    try:
        assert train_in(tmp_path, tiny_config(steps=2, save=1, stat_file="stat.h5")) == 0
        assert main(["freeze", "-c", str(tmp_path), "-o", str(tmp_path / "m.dp")]) == 0
        assert main(["convert", str(water_data / "data_0"), str(tmp_path / "npy" / "w")]) == 0
        assert main(["convert", str(water_data / "data_0"), str(tmp_path / "w.extxyz"), "--to", "extxyz"]) == 0
    finally:
        os.umask(old)
    files = ["checkpoint", "lcurve.out", "lcurve.png", "stat.h5", "m.dp", "w.extxyz", "npy/w/type.raw",
             "npy/w/set.000/coord.npy", ckpt(tmp_path, 2).name]
    for name in files:
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
    for name in ("npy", "npy/w", "npy/w/set.000"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o777 & ~umask, name


def test_one_shot_commands_replace_only_their_own_earlier_outputs(tmp_path, water_data, capsys):
    assert train_in(tmp_path, tiny_config(steps=1, save=1)) == 0
    model = str(tmp_path / "m.dp")
    assert main(["freeze", "-c", str(tmp_path), "-o", model]) == 0
    assert main(["freeze", "-c", str(tmp_path), "-o", model]) == 0  # its own earlier output: replaced
    notes = tmp_path / "notes.txt"
    notes.write_text("precious")
    capsys.readouterr()
    commands = [["freeze", "-c", str(tmp_path), "-o", str(notes)],
                ["compress", "-i", model, "-o", str(notes)],
                ["compress", "-i", model, "-o", model],
                ["model-devi", "-m", model, model, "-s", str(water_data / "data_2"), "-o", str(notes)],
                ["test", "-m", model, "-s", str(water_data / "data_2"), "-n", "1", "--json", str(notes)],
                ["test", "-m", model, "-s", str(water_data / "data_2"), "-n", "1", "-d", str(tmp_path / "notes")]]
    (tmp_path / "notes.e.out").write_text("precious")
    for command in commands:
        assert main(command) == 2, command
        lines = error_lines(capsys)
        assert len(lines) == 1 and "--force" in lines[0], (command, lines)
    assert notes.read_text() == "precious" and (tmp_path / "notes.e.out").read_text() == "precious"
    assert main(["freeze", "-c", str(tmp_path), "-o", str(notes), "--force"]) == 0
    from deeppot.data import load_system, write_deepmd_npy

    write_deepmd_npy(load_system(water_data / "data_2").subset(slice(0, 2)), tmp_path / "two")
    two = ["model-devi", "-m", model, model, "-s", str(tmp_path / "two"), "-o", str(tmp_path / "devi.out")]
    assert main(two) == 0 and main(two) == 0  # reruns replace their own output
