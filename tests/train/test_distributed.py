"""Data-parallel training with torchrun (gloo, 2 processes) equals one process on the whole batch."""

import json
import os
import subprocess
import sys

import numpy as np
from train_helpers import ckpt, run_cli, tiny_config

from deeppot.model.build import build_model
from deeppot.train.checkpoint import load_checkpoint


def test_two_processes_equal_one_with_combined_batch(tmp_path):
    cfg = tiny_config(steps=3, batch=2, save=3)
    single, multi = tmp_path / "single", tmp_path / "multi"
    for d in (single, multi):
        d.mkdir()
        (d / "input.json").write_text(json.dumps(cfg))
    run_cli("train", "input.json", "--no-progress", cwd=single)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--standalone", "-m", "deeppot.cli.main", "train", "input.json", "--no-progress"],
                          cwd=multi, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _, w_single, _ = load_checkpoint(ckpt(single, 3))
    _, w_multi, _ = load_checkpoint(ckpt(multi, 3))
    assert w_single.keys() == w_multi.keys()
    for key in w_single:
        assert np.abs(w_single[key] - w_multi[key]).max() < 1e-10, key
    # the equality above means something only if training moved the weights far beyond its tolerance:
    # compare with the initial weights (same seeds) of a freshly built model
    initial = build_model(cfg["model"]).state_dict()
    trained = [k for k in w_single if k.endswith(".w")]
    assert trained and set(trained) <= set(initial)
    moved = max(np.abs(w_single[k] - initial[k].numpy()).max() for k in trained)
    assert moved > 1e-6, f"weights moved by {moved:.2e} from their initial values in 3 steps"
