"""Model compression: tables reproduce the nets; the compressed model stays a consistent, safe model."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from deeppot import DeepPot
from deeppot.model.compress import compress_model, hermite_coefficients, tabulation_error
from deeppot.model.dp_format import load_model, save_model
from deeppot.testing import fd_forces, model_outputs


def test_hermite_pieces_are_exact_for_quintics():
    x = torch.linspace(-1, 2, 7, dtype=torch.float64)
    poly = lambda t: 0.3 * t**5 - t**4 + 2 * t**3 - 0.5 * t + 1  # noqa: E731
    d1 = lambda t: 1.5 * t**4 - 4 * t**3 + 6 * t**2 - 0.5  # noqa: E731
    d2 = lambda t: 6 * t**3 - 12 * t**2 + 12 * t  # noqa: E731
    coef = hermite_coefficients(x, poly(x)[:, None], d1(x)[:, None], d2(x)[:, None])
    t = torch.tensor(0.37, dtype=torch.float64)
    k = int((t - x[0]) // (x[1] - x[0]))
    dx = t - x[k]
    value = sum(coef[k, 0, p] * dx ** (5 - p) for p in range(6))
    assert abs(float(value - poly(t))) < 1e-12


@pytest.fixture
def pair(parity_dir):
    model = load_model(parity_dir / "se_e2_a_one_side.dp")
    compressed = compress_model(load_model(parity_dir / "se_e2_a_one_side.dp"), model.min_nbor_dist)
    return model, compressed, np.load(parity_dir / "se_e2_a_one_side.npz")


def test_compressed_model_matches_original(pair):
    model, compressed, ref = pair
    assert tabulation_error(compressed) < 1e-10
    e0, f0, v0 = DeepPot(model).eval(ref["coord"], ref["cell"], ref["atype"])
    e1, f1, v1 = DeepPot(compressed).eval(ref["coord"], ref["cell"], ref["atype"])
    assert np.abs(e1 - e0).max() < 1e-9 and np.abs(f1 - f0).max() < 1e-9 and np.abs(v1 - v0).max() < 1e-9


def test_compressed_forces_are_its_own_gradient(pair):
    _, compressed, ref = pair
    pos = ref["cluster_coord"].reshape(-1, 3)[:12]
    types = ref["cluster_atype"][:12]
    out = model_outputs(compressed, pos, None, types)
    assert np.abs(out["force"] - fd_forces(compressed, pos, None, types, h=1e-5)).max() < 1e-6


def test_compressed_file_round_trip_and_cli(pair, parity_dir, tmp_path):
    _, compressed, ref = pair
    save_model(compressed, tmp_path / "c.dp")
    again = load_model(tmp_path / "c.dp")
    assert again.compression["step"] == 0.01
    e1 = DeepPot(compressed).eval(ref["coord"][:1], ref["cell"][:1], ref["atype"])[0]
    e2 = DeepPot(again).eval(ref["coord"][:1], ref["cell"][:1], ref["atype"])[0]
    assert np.array_equal(e1, e2)
    run = subprocess.run([sys.executable, "-m", "deeppot.cli.main", "compress", "-i", str(tmp_path / "c.dp"),
                          "-o", str(tmp_path / "cc.dp")], capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip().endswith("model is already compressed")
    assert "Traceback" not in run.stderr
