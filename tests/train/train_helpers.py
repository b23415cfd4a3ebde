import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WATER = ROOT / "examples" / "water" / "data"


def tiny_config(steps=6, batch=1, disp=1, save=3, seed=7, **training):
    return {
        "_comment": "tiny model for tests",
        "model": {"type_map": ["O", "H"],
                  "descriptor": {"type": "se_e2_a", "sel": [40, 80], "rcut": 5.0, "rcut_smth": 0.5,
                                 "neuron": [4, 8], "axis_neuron": 2, "type_one_side": True, "seed": 1},
                  "fitting_net": {"neuron": [8, 8], "seed": 1}, "data_stat_nbatch": 2},
        "learning_rate": {"start_lr": 1e-3, "stop_lr": 1e-5, "decay_steps": 2},
        "loss": {"start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000, "limit_pref_f": 1},
        "training": dict({"training_data": {"systems": [str(WATER / "data_0")], "batch_size": batch},
                          "validation_data": {"systems": [str(WATER / "data_2")], "batch_size": 1, "numb_btch": 1},
                          "numb_steps": steps, "seed": seed, "disp_freq": disp, "save_freq": save}, **training),
    }


def run_cli(*args, cwd=None, env=None, check=True):
    proc = subprocess.run([sys.executable, "-m", "deeppot.cli.main", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"deeppot {' '.join(map(str, args))} failed:\n{proc.stderr[-3000:]}")
    return proc


def ckpt(directory, step, prefix="model.ckpt"):
    """The one checkpoint of ``step`` in ``directory`` (names carry a run id: <prefix>-<run>-<step>.npz)."""
    found = sorted(Path(directory).glob(f"{prefix}-*-{step}.npz"))
    assert len(found) == 1, f"expected one checkpoint of step {step} in {directory}, found {found}"
    return found[0]


def train_in(directory, cfg, *args):
    """Run ``deeppot train`` in-process inside ``directory`` (created) with ``cfg`` as input.json; exit code."""
    import json
    import os

    from deeppot.cli.main import main

    directory = Path(directory)
    directory.mkdir(exist_ok=True)
    (directory / "input.json").write_text(json.dumps(cfg))
    cwd = os.getcwd()
    os.chdir(directory)
    try:
        return main(["train", "input.json", "--no-progress", *map(str, args)])
    finally:
        os.chdir(cwd)
