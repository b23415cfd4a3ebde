"""The pieces of the learned c1 functional: targets, windows, bulk EOS, c2 by autograd, OZ; and
(slow) the whole loop: MC data → network → profiles close to Percus' in unseen potentials."""

import numpy as np
import pytest
import torch

from deeppot.cdft import HardRods, PlanarGrid, solve
from deeppot.cdft.functionals.hard_rods import hard_wall_profile, tonks_mu_ex, tonks_pressure
from deeppot.cdft.learned import (
    C1Net,
    LearnedFunctional,
    RodData,
    bulk_mu_ex,
    bulk_pressure,
    direct_correlation,
    pair_correlation,
    random_potentials,
    simulate,
    train,
    windows,
)
from deeppot.errors import ConfigError


class TonksC1(torch.nn.Module):
    """c1 = −βμ_ex(mean of the window): exact in bulk, a stand-in network for the bulk routines."""

    half = 5

    def forward(self, window):
        eta = window.mean(-1)
        return torch.log1p(-eta) - eta / (1 - eta)


def test_windows_pad_with_zero_density_beyond_the_walls():
    rho = torch.arange(1.0, 6.0)[None]
    w = windows(rho, 2)
    assert w.shape == (1, 5, 5)
    assert w[0, 0].tolist() == [0.0, 0.0, 1.0, 2.0, 3.0]
    assert w[0, 4].tolist() == [3.0, 4.0, 5.0, 0.0, 0.0]


def test_c1_targets_are_the_euler_lagrange_c1_of_an_exact_profile():
    grid = PlanarGrid(600, 30.0, "periodic")
    v = 0.6 * np.sin(2 * np.pi * grid.z / 10.0)
    p = solve(HardRods(1.0), grid, v, rho_bulk=0.5, tol=1e-12)
    data = RodData(grid.dz, p.rho[None], v[None], np.array([p.mu_kT]), 0)
    _, c1 = HardRods(1.0).excess(grid, p.rho)
    np.testing.assert_allclose(data.c1()[0], c1, atol=1e-10)


def test_wall_wells_add_an_attractive_well_at_a_wall_and_leave_the_basic_family_alone():
    x = np.linspace(0, 10, 401)
    basic = random_potentials(np.random.default_rng(3), 1, x, 10.0)
    walled = random_potentials(np.random.default_rng(3), 1, x, 10.0, wall_wells=True)
    np.testing.assert_array_equal(basic, random_potentials(np.random.default_rng(3), 1, x, 10.0, wall_wells=False))
    well = walled[0] - basic[0]  # the extra draws come after the basic ones
    assert np.all(well <= 0) and well.min() < 0
    assert min(x[np.argmin(well)], 10 - x[np.argmin(well)]) <= 0.5


def test_rod_data_concatenate_joins_systems_of_the_same_bins():
    def run(n, sweeps=10):
        rho = np.full((n, 20), 0.3)
        return RodData(0.1, rho, np.zeros_like(rho), np.zeros(n), sweeps, np.stack([rho, rho]))

    both = RodData.concatenate([run(2), run(3)])
    assert both.rho.shape == (5, 20) and both.halves.shape == (2, 5, 20) and both.mu.shape == (5,)
    with pytest.raises(ConfigError, match="same bins"):
        RodData.concatenate([run(2), run(3, sweeps=20)])


def test_bulk_equation_of_state_by_gibbs_duhem():
    net = TonksC1()
    for rho in (0.2, 0.5, 0.7):
        assert bulk_mu_ex(net, rho) == pytest.approx(tonks_mu_ex(rho), rel=1e-12)
        assert bulk_pressure(net, rho, steps=2000) == pytest.approx(tonks_pressure(rho), rel=1e-5)


def test_direct_correlation_is_the_window_gradient_over_dx():
    net = C1Net(3, width=4, depth=1).to(torch.float64)
    r, c2 = direct_correlation(net, 0.4, 0.1)
    window = torch.full((7,), 0.4, dtype=torch.float64, requires_grad=True)
    h = 1e-6
    for j in range(7):
        e = torch.zeros(7, dtype=torch.float64)
        e[j] = h
        with torch.no_grad():
            fd = (net(window + e) - net(window - e)) / (2 * h)
        assert c2[j] == pytest.approx(float(fd) / 0.1, rel=1e-6)
    np.testing.assert_allclose(r, np.arange(-3, 4) * 0.1)


def test_ornstein_zernike_of_exact_c2_gives_tonks_g():
    rho, dx = 0.5, 0.01
    r = np.arange(-120, 121) * dx
    c2 = np.where(np.abs(r) < 1, -1 / (1 - rho) - rho * (1 - np.abs(r)) / (1 - rho) ** 2, 0.0)
    rr, g = pair_correlation(r, c2, rho, dx)
    exact = hard_wall_profile(rr - 1.0, rho) / rho
    sel = (rr > 1.05) & (rr < 5)
    assert np.max(np.abs(g - exact)[sel]) < 0.03
    assert np.max(np.abs(g[rr < 0.95])) < 0.03  # no overlaps


def test_learned_functional_checks_its_grid():
    f = LearnedFunctional(C1Net(2), 0.05)
    with pytest.raises(ConfigError, match="training bin width"):
        solve(f, PlanarGrid(100, 10.0), np.zeros(100), mu_kT=0.0)


@pytest.mark.slow
def test_learned_c1_from_mc_reproduces_percus_in_an_unseen_potential():
    torch.manual_seed(0)
    data = simulate(256, length=6.0, dx=0.1, sweeps=20000, equilibration=2000, replicas=256, seed=1)
    net, info = train(data, epochs=30, half_width=1.2)
    assert info["validation_mse"][-1] < info["validation_mse"][0]
    functional = LearnedFunctional(net, 0.1)
    grid = PlanarGrid(60, 6.0)
    v = 0.5 * np.cos(2 * np.pi * grid.z / 2.5)
    nn = solve(functional, grid, v, mu_kT=1.0, damping=0.2, tol=1e-8).rho
    fine = PlanarGrid(1600, 10.0, "reflecting", lanczos=False)
    x = fine.z - 2.0
    ref = solve(HardRods(1.0), fine, np.where((x > 0) & (x < 6), 0.5 * np.cos(2 * np.pi * x / 2.5), np.inf),
                mu_kT=1.0).rho.reshape(-1, 16).mean(1)[20:-20]
    # a small, noisy data set (256 systems × 20k sweeps, 0.1σ bins): rms 2.9 %, max 10.6 % (at the
    # dense right wall); examples/cdft/learned_rods.py with 1024 × 60k sweeps reaches rms < 1 % in most
    # unseen potentials. This test proves the loop works, the example measures how well.
    rms = np.sqrt(np.mean((nn - ref) ** 2)) / ref.mean()
    print(f"learned vs Percus: rms {rms:.4f}, max {np.max(np.abs(nn - ref)) / ref.mean():.4f}")
    assert rms < 0.04
    assert np.max(np.abs(nn - ref)) / ref.mean() < 0.15


def test_training_in_float32_returns_a_float64_network_that_learned_the_same_targets():
    """A tiny exact data set (ideal-gas-like low densities): both precisions fit it, the result is float64."""
    rng = np.random.default_rng(0)
    rho = 0.05 + 0.05 * rng.random((8, 40))
    data = RodData(0.1, rho, np.zeros_like(rho), np.zeros(8), 0, np.stack([rho, rho]))
    fits = {}
    for precision in ("float64", "float32"):
        net, info = train(data, epochs=3, batch=64, half_width=0.3, precision=precision, seed=1)
        assert all(p.dtype == torch.float64 for p in net.parameters())
        assert info["precision"] == precision
        fits[precision] = info["validation_mse"][-1]
    assert fits["float32"] < 2 * fits["float64"] + 1e-3
    with pytest.raises(ConfigError, match="precision"):
        train(data, epochs=1, precision="float16")
