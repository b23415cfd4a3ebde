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


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("threads", [1, 3])
def test_fused_table_kernels_equal_the_table_and_its_slope(dtype, threads):
    """contract / contract_backward (numba, G never formed) against G from the table, Gᵀ R̃ by einsum."""
    from deeppot.core.network import embedding_net
    from deeppot.core.threads import run_split
    from deeppot.model.compress import tabulate
    from deeppot.model.table_kernels import contract, contract_backward

    gen = torch.Generator().manual_seed(7)
    table = tabulate(embedding_net([4, 8, 16], dtype=dtype, generator=gen), -1.0, 3.0, 0.01, 5.0)
    n, w, m = 7, 11, table.n_out
    rt = torch.randn(n, w, 4, dtype=dtype, generator=gen)
    rt[..., 0] = torch.linspace(-2.0, 20.0, n * w, dtype=dtype).view(n, w)  # below, inside, extrapolated, beyond
    g_s = torch.randn(n, m, 4, dtype=dtype, generator=gen)
    g, gp = table.value_and_slope(rt[..., :1].reshape(-1, 1))
    g, gp = g.view(n, w, m), gp.view(n, w, m)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-4)
    out = torch.empty(n, m, 4, dtype=dtype)
    run_split(contract, n, rt.numpy(), table.table.numpy(), *table._grid(), out.numpy(), threads=threads)
    torch.testing.assert_close(out, torch.einsum("nwm,nwa->nma", g, rt), **tol)
    g_rt, g_hat = torch.empty_like(rt), torch.empty(n, w, dtype=dtype)
    run_split(contract_backward, n, rt.numpy(), g_s.numpy(), table.table.numpy(), table.slope_table.numpy(),
              *table._grid(), g_rt.numpy(), g_hat.numpy(), threads=threads)
    torch.testing.assert_close(g_rt, torch.einsum("nwm,nma->nwa", g, g_s), **tol)
    torch.testing.assert_close(g_hat, torch.einsum("nwm,nma,nwa->nw", gp, g_s, rt), **tol)


def test_compressed_model_same_with_one_and_two_threads(pair):
    _, compressed, ref = pair
    dp = DeepPot(compressed)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = dp.eval(ref["coord"], ref["cell"], ref["atype"])
        torch.set_num_threads(2)
        two = dp.eval(ref["coord"], ref["cell"], ref["atype"])
    finally:
        torch.set_num_threads(before)
    for a, b in zip(one, two):
        assert np.abs(a - b).max() < 1e-12
