"""Make the DeePMD-kit parity fixtures in tests/fixtures/parity (run with DeePMD-kit's Python, not deeppot's).

For each small model below: ``dp --pt train`` for 20 steps on examples/water/data/data_0 (float64),
``dp --pt freeze``, ``dp convert-backend model.pth NAME.dp``, then DeePMD-kit's own
``DeepPot.eval`` of the frozen ``model.pth`` on held-out frames is saved as NAME.npz:

* periodic: the first four frames of data_2, ``atomic=True`` (coord, cell, atype, energy, force, virial,
  atom_energy, atom_virial);
* open boundaries: the first 30 atoms of frame 0, no cell (cluster_*).

    /path/to/deepmd-venv/bin/python tools/make_parity_fixtures.py [--out tests/fixtures/parity]

deeppot never imports DeePMD-kit; only this script and bench/ workers do.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "examples" / "water" / "data"
FITTING = {"neuron": [16, 16], "resnet_dt": True, "seed": 1, "precision": "float64"}
MODELS = {
    "se_e2_a_one_side": {"type": "se_e2_a", "sel": [46, 92], "rcut": 6.0, "rcut_smth": 0.5, "neuron": [4, 8, 16],
                         "axis_neuron": 4, "type_one_side": True, "resnet_dt": False},
    "se_e2_a_two_side": {"type": "se_e2_a", "sel": [46, 92], "rcut": 6.0, "rcut_smth": 0.5, "neuron": [4, 8, 16],
                         "axis_neuron": 4, "type_one_side": False, "resnet_dt": True},
    "se_e2_r": {"type": "se_e2_r", "sel": [46, 92], "rcut": 6.0, "rcut_smth": 0.5, "neuron": [4, 8, 16]},
    "se_e3": {"type": "se_e3", "sel": [20, 40], "rcut": 4.0, "rcut_smth": 0.5, "neuron": [2, 4, 8]},
}


def input_json(descriptor: dict) -> dict:
    return {
        "model": {"type_map": ["O", "H"], "descriptor": dict(descriptor, seed=1, precision="float64"),
                  "fitting_net": FITTING, "data_stat_nbatch": 4},
        "learning_rate": {"type": "exp", "start_lr": 1e-3, "stop_lr": 1e-5, "decay_steps": 10},
        "loss": {"type": "ener", "start_pref_e": 0.02, "limit_pref_e": 1, "start_pref_f": 1000, "limit_pref_f": 1},
        "training": {"training_data": {"systems": [str(DATA / "data_0")], "batch_size": 1},
                     "numb_steps": 20, "seed": 1, "disp_freq": 10, "save_freq": 20},
    }


def reference_outputs(model: Path, out: Path) -> None:
    from deepmd.infer import DeepPot

    dp = DeepPot(str(model))
    coord = np.load(DATA / "data_2/set.000/coord.npy")[:4].astype(np.float64)
    cell = np.load(DATA / "data_2/set.000/box.npy")[:4].astype(np.float64)
    atype = np.loadtxt(DATA / "data_2/type.raw", dtype=int)
    e, f, v, ae, av = dp.eval(coord, cell, atype, atomic=True)
    cluster = coord[:1, : 30 * 3]
    ce, cf, cv = dp.eval(cluster, None, atype[:30])
    np.savez(out, coord=coord, cell=cell, atype=atype, energy=e, force=f, virial=v, atom_energy=ae, atom_virial=av,
             cluster_coord=cluster, cluster_atype=atype[:30], cluster_energy=ce, cluster_force=cf, cluster_virial=cv)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "tests" / "fixtures" / "parity"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dp = str(Path(os.sys.executable).with_name("dp"))
    for name, descriptor in MODELS.items():
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "input.json").write_text(json.dumps(input_json(descriptor)))
            for cmd in (["--pt", "train", "input.json"], ["--pt", "freeze", "-o", "model.pth"],
                        ["convert-backend", "model.pth", str(out / f"{name}.dp")]):
                subprocess.run([dp, *cmd], cwd=tmp, check=True, capture_output=True)
            # evaluate the PyTorch model DeePMD-kit users run (its .dp evaluator is a slower reference path)
            reference_outputs(Path(tmp) / "model.pth", out / f"{name}.npz")
        print(f"{name}: {out / (name + '.dp')}, {out / (name + '.npz')}")


if __name__ == "__main__":
    main()
