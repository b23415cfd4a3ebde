"""Shared pieces of the benchmarks: the DeePMD-kit water example model and frames, thread settings."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WATER = ROOT / "examples" / "water" / "data"
EXAMPLE_MODEL = {
    "type_map": ["O", "H"],
    "descriptor": {"type": "se_e2_a", "sel": [46, 92], "rcut": 6.0, "rcut_smth": 0.5, "neuron": [25, 50, 100],
                   "axis_neuron": 16, "type_one_side": True, "resnet_dt": False, "seed": 1},
    "fitting_net": {"neuron": [240, 240, 240], "resnet_dt": True, "seed": 1},
}
#: both programs with two threads and the OpenMP runtime's default wait policy (what a user gets;
#: DeePMD-kit's documentation sets only these thread counts). OMP_WAIT_POLICY=PASSIVE, used until
#: 30 Nov 2026, puts idle threads to sleep between parallel regions and slowed both programs (deeppot
#: more: its evaluation is many short kernels), e.g. deeppot 84 against 52 ms at 192 atoms.
THREADS = {"OMP_NUM_THREADS": "2", "DP_INTRA_OP_PARALLELISM_THREADS": "2", "DP_INTER_OP_PARALLELISM_THREADS": "1"}


def set_threads() -> None:
    os.environ.update(THREADS)
    import torch

    torch.set_num_threads(2)


def example_model(path: Path, precision: str = "float64"):
    """The DeePMD-kit water example architecture with statistics from the bundled data, random weights."""
    import copy

    from deeppot.data import load_system
    from deeppot.model.build import build_model
    from deeppot.model.dp_format import save_model
    from deeppot.model.stats import StatFrames, compute_input_stats

    cfg = copy.deepcopy(EXAMPLE_MODEL)
    cfg["descriptor"]["precision"] = cfg["fitting_net"]["precision"] = precision
    model = build_model(cfg)
    s = load_system(WATER / "data_0").subset(slice(0, 10))
    compute_input_stats(model, [StatFrames(s.coord, s.atype, s.box, s.energy)])
    model.min_nbor_dist = 0.88
    save_model(model, path)
    return model


def water_frames(replicate: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frame 0 of data_2 (192 atoms), optionally replicated n×n×n: coord (1, N*3), cell (1, 9), atype (N,)."""
    from deeppot.data import load_system

    s = load_system(WATER / "data_2")
    pos, cell, atype = s.coord[0], s.box[0], s.atype
    shifts = np.array([[i, j, k] for i in range(replicate) for j in range(replicate) for k in range(replicate)]) @ cell
    pos = np.concatenate([pos + sh for sh in shifts])
    return pos.reshape(1, -1), (cell * replicate).reshape(1, 9), np.tile(atype, replicate**3)


def deepmd_convert(python: str, src: Path, dst: Path) -> None:
    dp = str(Path(python).with_name("dp"))
    subprocess.run([dp, "convert-backend", str(src), str(dst)], check=True, capture_output=True,
                   env=dict(os.environ, **THREADS))


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
