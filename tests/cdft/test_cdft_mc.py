"""Percus' exact hard-rod functional against our own grand canonical Monte Carlo, within error bars."""

import numpy as np
import pytest

from deeppot.cdft import HardRods, PlanarGrid, solve
from deeppot.cdft.mc import grand_canonical_rods
from deeppot.errors import ConfigError

BOX, PAD = 8.0, 2.0


def potential(x):
    return 0.8 * np.sin(2 * np.pi * x / 3.0) + 0.5 * np.exp(-((x - 5.0) ** 2))


def test_percus_profile_matches_rod_monte_carlo_within_error_bars():
    table_x = np.linspace(0.0, BOX, 1601)
    mc = grand_canonical_rods(potential(table_x), BOX, 1.0, replicas=200, sweeps=4000, equilibration=500,
                              bins=40, seed=3)
    mean, err = mc.mean()
    grid = PlanarGrid(2400, BOX + 2 * PAD, "reflecting", lanczos=False)
    x = grid.z - PAD  # rod centres confined to [0, BOX]: hard walls at both contact planes
    v = np.where((x > 0) & (x < BOX), potential(x), np.inf)
    dft = solve(HardRods(1.0), grid, v, mu_kT=1.0)
    per_bin = dft.rho.reshape(-1, 40)[10:-10].mean(1)  # 40 grid points per MC bin, 10 bins of padding each side
    assert per_bin.size == 40
    z = (mean - per_bin) / err
    assert np.mean(z**2) < 2.0  # χ² per bin (expected 1 ± 0.22)
    assert np.max(np.abs(z)) < 4.0
    n_err = mc.n_mean.std(ddof=1) / np.sqrt(mc.n_mean.size)
    assert abs(mc.n_mean.mean() - grid.integrate(dft.rho)) < 4 * n_err
    assert 0.05 < mc.acceptance["insert"] < 0.95


def test_rod_mc_rejects_bad_tables():
    with pytest.raises(ConfigError, match="finite"):
        grand_canonical_rods(np.array([0.0, np.inf]), 4.0, 0.0, replicas=2, sweeps=2)
    with pytest.raises(ConfigError, match="sweeps"):
        grand_canonical_rods(np.zeros(5), 4.0, 0.0, replicas=2, sweeps=1)


def test_rod_mc_is_the_same_on_one_and_on_several_threads():
    """Each replica seeds its own generator: the split over threads must not change a single count."""
    table = potential(np.linspace(0.0, BOX, 801))
    one, two = (grand_canonical_rods(table, BOX, np.linspace(-1, 2, 5), replicas=5, sweeps=300, equilibration=20,
                                     bins=16, seed=11, log_every=0, threads=t) for t in (1, 2))
    np.testing.assert_array_equal(one.halves, two.halves)
    np.testing.assert_array_equal(one.n_mean, two.n_mean)
    assert one.acceptance == two.acceptance
    assert one.halves.sum() > 0
