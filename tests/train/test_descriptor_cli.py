"""Every descriptor type trains from a DeePMD-kit input through the CLI, freezes, and loads.

The unit tests build models directly; this goes through the input schema, as a user does
(a DeePMD-kit ``se_e2_r`` / ``se_e3`` input once failed here: the schema injected
``axis_neuron``). In-process and tiny: two steps of a small network.
"""

import numpy as np
import pytest
from train_helpers import WATER, tiny_config

from deeppot import DeepPot
from deeppot.cli.main import main
from deeppot.data import load_system

DESCRIPTORS = {
    "se_e2_a": {"type": "se_e2_a", "sel": [20, 40], "rcut": 4.0, "rcut_smth": 0.5, "neuron": [4, 8],
                "axis_neuron": 2, "seed": 1},
    "se_e2_r": {"type": "se_e2_r", "sel": [20, 40], "rcut": 4.0, "rcut_smth": 0.5, "neuron": [4, 8], "seed": 1},
    "se_e3": {"type": "se_e3", "sel": [20, 40], "rcut": 3.5, "rcut_smth": 0.5, "neuron": [2, 4], "seed": 1},
    "se_r": {"type": "se_r", "sel": [20, 40], "rcut": 4.0, "rcut_smth": 0.5, "neuron": [4], "seed": 1},
    "loc_frame": {"type": "loc_frame", "rcut": 4.0, "sel_a": [4, 8], "sel_r": [16, 32],
                  "axis_rule": [0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0]},  # O: two nearest H; H: nearest O, nearest H
}


@pytest.mark.parametrize("kind", list(DESCRIPTORS))
def test_train_freeze_load(kind, tmp_path, write_input, monkeypatch):
    cfg = tiny_config(steps=2, save=2)
    cfg["model"]["descriptor"] = DESCRIPTORS[kind]
    cfg["model"]["fitting_net"]["neuron"] = [4]
    cfg["model"]["data_stat_nbatch"] = 1
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(write_input(cfg)), "--no-progress"]) == 0
    assert main(["freeze", "-c", str(tmp_path), "-o", str(tmp_path / "m.dp")]) == 0
    dp = DeepPot(tmp_path / "m.dp")
    s = load_system(WATER / "data_2").subset(slice(0, 1))
    e, f, v = dp.eval(s.coord.reshape(1, -1), s.box.reshape(1, 9), s.atype)
    assert e.shape == (1, 1) and f.shape == (1, s.natoms, 3) and np.isfinite(f).all()
    assert dp.get_rcut() == DESCRIPTORS[kind]["rcut"]
