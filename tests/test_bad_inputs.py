"""The bad-input corpus: every broken input ends with exit 2 and one line naming the file and the key.

Cases live in ``tests/bad_inputs.yaml`` (training inputs, md inputs, CLI options, data systems,
model files). Each runs through the CLI entry point in-process (``deeppot.cli.main.main``, fast);
a handful also run as a subprocess to prove that no traceback reaches the terminal.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from deeppot.cli.main import main

HERE = Path(__file__).resolve().parent
WATER = HERE.parent / "examples" / "water" / "data" / "data_0"
CASES = yaml.safe_load((HERE / "bad_inputs.yaml").read_text())


# ----------------------------------------------------------------------------------------
# valid inputs the cases break
@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> dict[str, Path]:
    from ase.build import bulk

    from deeppot.data import load_system, write_deepmd_npy
    from deeppot.model.build import build_model
    from deeppot.model.dp_format import save_model

    root = tmp_path_factory.mktemp("assets")
    write_deepmd_npy(load_system(WATER).subset(slice(0, 2)), root / "water")
    model = build_model({"type_map": ["O", "H"],
                         "descriptor": {"type": "se_e2_a", "sel": [20, 40], "rcut": 4.0, "rcut_smth": 0.5,
                                        "neuron": [4, 8], "axis_neuron": 2, "seed": 1},
                         "fitting_net": {"neuron": [6], "seed": 1}})
    save_model(model, root / "model.dp")
    atoms = bulk("Ar", "fcc", a=5.3, cubic=True)
    atoms.write(root / "ar.xyz")
    return {"data": root / "water", "model": root / "model.dp", "structure": root / "ar.xyz"}


def train_config(data: Path) -> dict:
    return {
        "model": {"type_map": ["O", "H"],
                  "descriptor": {"type": "se_e2_a", "sel": [20, 40], "rcut": 4.0, "rcut_smth": 0.5,
                                 "neuron": [4, 8], "axis_neuron": 2, "type_one_side": True, "seed": 1},
                  "fitting_net": {"neuron": [6], "seed": 1}, "data_stat_nbatch": 1},
        "learning_rate": {"start_lr": 1e-3, "stop_lr": 1e-5, "decay_steps": 2},
        "loss": {"start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000, "limit_pref_f": 1},
        "training": {"training_data": {"systems": [str(data)], "batch_size": 1},
                     "validation_data": {"systems": [str(data)], "batch_size": 1, "numb_btch": 1},
                     "numb_steps": 6, "seed": 7, "disp_freq": 1, "save_freq": 3},
    }


def md_config() -> dict:
    return {"structure": "ar.xyz", "potential": {"type": "lj", "epsilon_eV": 0.0104, "sigma_A": 3.4, "rcut_A": 5.0},
            "ensemble": "nvt-bussi", "temperature_K": 100, "timestep_fs": 4.0, "steps": 10, "tau_t_fs": 100.0}


# ----------------------------------------------------------------------------------------
# applying a case
def _fill(value, names: dict):
    if isinstance(value, str):
        for key, path in names.items():
            value = value.replace("{" + key + "}", str(path))
        return value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _walk(cfg, path: str):
    keys = [int(k) if k.isdigit() else k for k in path.split("/")]
    node = cfg
    for key in keys[:-1]:
        node = node[key]
    return node, keys[-1]


def patch(cfg: dict, case: dict, names: dict) -> dict:
    cfg = copy.deepcopy(cfg)
    for path in case.get("del", []):
        node, key = _walk(cfg, path)
        del node[key]
    for path, value in case.get("set", {}).items():
        node, key = _walk(cfg, path)
        node[key] = _fill(value, names)
    return cfg


def break_system(system: Path, op: dict) -> None:
    (kind, arg), = op.items()
    if kind == "dtype":
        file = system / arg["file"]
        np.save(file, np.load(file).astype(arg["to"]))
    elif kind == "remove":
        target = system / arg
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    elif kind == "drop_values":
        file = system / arg["file"]
        np.save(file, np.load(file).reshape(-1)[:-arg["count"]])
    elif kind in ("nan", "inf", "zeros"):
        file = system / arg
        a = np.load(file)
        if kind == "zeros":
            a[:] = 0.0
        else:
            a.reshape(-1)[0] = np.nan if kind == "nan" else np.inf
        np.save(file, a)
    elif kind == "write":
        (system / arg["file"]).write_text(arg["text"])
    elif kind == "no_type_map":
        types = (system / "type.raw").read_text().split()
        types[-1] = str(arg)
        (system / "type.raw").write_text(" ".join(types))
        (system / "type_map.raw").unlink()
    else:
        raise ValueError(f"unknown data operation {kind}")


def _network_ref(meta: dict, which: str) -> str:
    if which == "fitting":
        layer = meta["model"]["fitting"]["nets"]["networks"][0]["layers"][0]
    else:
        layer = meta["model"]["descriptor"]["embeddings"]["networks"][0]["layers"][1]
    return layer["@variables"]["w"]


def break_model(path: Path, op: dict) -> None:
    (kind, arg), = op.items()
    if kind == "text":
        path.write_text(arg)
        return
    if kind == "remove":
        path.unlink()
        return
    with h5py.File(path, "r+") as h5:
        meta = json.loads(h5.attrs["json"])
        if kind == "transpose":
            ref = _network_ref(meta, arg)
            data = h5[ref][()].T.copy()
            del h5[ref]
            h5[ref] = data
        elif kind == "dataset":
            ref = meta["model"]["descriptor"]["@variables"][arg["key"]]
            del h5[ref]
            h5[ref] = np.zeros(arg["shape"])
        elif kind == "json":
            for key, value in arg.items():
                node, last = _walk(meta, key)
                node[last] = value
            h5.attrs["json"] = json.dumps(meta)
        elif kind == "json_text":
            if arg is None:
                del h5.attrs["json"]
            else:
                h5.attrs["json"] = arg
        else:
            raise ValueError(f"unknown model operation {kind}")


def prepare(group: str, case: dict, assets: dict, work: Path) -> tuple[list[str], str | None]:
    """Files for one case in ``work``; (argv, name of the input file the message must name)."""
    (work / "notadir").write_text("a file, not a directory\n")
    (work / "notasystem").mkdir()
    shutil.copy(assets["structure"], work / "ar.xyz")
    names = {"data": assets["data"], "model": assets["model"], "missing": work / "nope.json",
             "input": work / "input.json", "md": work / "md.json"}
    (work / "input.json").write_text(json.dumps(train_config(assets["data"])))
    (work / "md.json").write_text(json.dumps(md_config()))
    if group in ("train", "md"):
        name = ("input.yaml" if case.get("yaml") else "input.json") if group == "train" else "md.json"
        base = train_config(assets["data"]) if group == "train" else md_config()
        if "raw" in case:
            text = case["raw"]
        else:
            cfg = patch(base, case, names)
            text = yaml.safe_dump(cfg) if case.get("yaml") else json.dumps(cfg)
            if "sub" in case:
                text = text.replace(*case["sub"])
        (work / name).write_text(text)
        return (["train", str(work / name), "--no-progress"] if group == "train"
                else ["md", str(work / name), "--no-progress"]), name
    if group == "cli":
        return [str(a) for a in _fill(case["argv"], names)], None
    if group == "data":
        system = work / "system"
        shutil.copytree(assets["data"], system)
        if "op" in case:
            break_system(system, case["op"])
        cfg = patch(train_config(system), {"set": case.get("config", {})}, names)
        (work / "input.json").write_text(json.dumps(cfg))
        return ["train", str(work / "input.json"), "--no-progress"], None
    if group == "model":
        shutil.copy(assets["model"], work / "m.dp")
        break_model(work / "m.dp", case["op"])
        return ["test", "-m", str(work / "m.dp"), "-s", str(assets["data"])], None
    raise ValueError(group)


ALL = [pytest.param(group, case, id=f"{group}-{case['id']}") for group in CASES for case in CASES[group]]


@pytest.fixture
def fresh_logging():
    """Each case configures logging against its own captured stderr (CLI commands call basicConfig)."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    yield
    root.handlers[:] = saved


def test_corpus_is_large_and_ids_unique():
    ids = [f"{g}-{c['id']}" for g in CASES for c in CASES[g]]
    assert len(ids) == len(set(ids)) and len(ids) >= 100


def test_the_unbroken_inputs_are_valid(assets, tmp_path, monkeypatch):
    from deeppot.md.config import normalize as md_normalize
    from deeppot.train.config import load_training_input

    monkeypatch.chdir(tmp_path)
    prepare("train", {"id": "valid"}, assets, tmp_path)
    load_training_input(tmp_path / "input.json")
    md_normalize(md_config(), "md.json", base=tmp_path)


@pytest.mark.parametrize("group,case", ALL)
def test_bad_input(group, case, assets, tmp_path, monkeypatch, capsys, fresh_logging):
    monkeypatch.chdir(tmp_path)
    argv, name = prepare(group, case, assets, tmp_path)
    code = main(argv)
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert code == 2, f"exit {code}; stderr:\n{captured.err}"
    assert len(lines) == 1, f"expected one line, got:\n{captured.err}"
    line = lines[0]
    assert line.startswith("deeppot: error: ") and "Traceback" not in captured.err
    name = case.get("file", name)
    for text in ([name] if name else []) + case["expect"]:
        assert _fill(text, {}) in line, f"{text!r} not in: {line}"


# a handful as real processes: nothing but the one line reaches the terminal
SUBPROCESS = [("train", "rcut_smth_above_rcut"), ("md", "timestep_negative_nve"),
              ("model", "transposed_fitting_weight")]


@pytest.mark.parametrize("group,case_id", SUBPROCESS)
def test_bad_input_in_a_process(group, case_id, assets, tmp_path):
    case = next(c for c in CASES[group] if c["id"] == case_id)
    argv, _ = prepare(group, case, assets, tmp_path)
    proc = subprocess.run([sys.executable, "-m", "deeppot.cli.main", *argv], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("deeppot: error: ")
    assert "Traceback" not in proc.stderr and proc.stdout == ""
