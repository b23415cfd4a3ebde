"""Exact checks of the classical-DFT solver (issue 14 item 3): barometric law, contact theorems,
the exact hard-rod wall profile, bulk equations of state, functional derivatives, Gibbs adsorption."""

import numpy as np
import pytest

from deeppot.cdft import (
    ConvergenceError,
    HardRods,
    HardSpheres,
    IdealGas,
    LJAttraction,
    PlanarGrid,
    SumFunctional,
    bulk_pressure,
    contact_density,
    grand_potential,
    hard_wall,
    lj93_wall,
    solve,
    tabulated,
)
from deeppot.cdft.functionals.fmt import carnahan_starling_pressure, percus_yevick_pressure
from deeppot.cdft.functionals.hard_rods import hard_wall_profile, tonks_mu_ex, tonks_pressure
from deeppot.errors import ConfigError

# a symmetric slit of width 20σ solved on its half: mirror plane at z = 0, contact plane at 9σ,
# 2σ of wall on the grid (the layout of feos' Pore1D, so profiles can be compared point by point)
HALF, CONTACT = 12.0, 9.0


def slit(n=4096, lanczos=True):
    grid = PlanarGrid(n, HALF, "reflecting", lanczos=lanczos)
    return grid, hard_wall(grid, CONTACT, "right")


def test_ideal_gas_barometric_grand_and_canonical():
    grid = PlanarGrid(512, 10.0, "reflecting")
    v = 0.7 * grid.z + 0.3 * np.sin(grid.z)
    p = solve(IdealGas(), grid, v, rho_bulk=0.2)
    np.testing.assert_allclose(p.rho, 0.2 * np.exp(-v), rtol=1e-12)
    n = grid.integrate(p.rho) * 0.5
    c = solve(IdealGas(), grid, v, n_per_area=n)
    np.testing.assert_allclose(c.rho, 0.5 * p.rho, rtol=1e-10)
    assert c.mu_kT == pytest.approx(np.log(0.1), abs=1e-12)  # ρ = e^{βμ - βv}


@pytest.mark.parametrize("eta", [0.3, 0.5, 0.6])
def test_hard_rods_contact_theorem_and_exact_profile(eta):
    # a wider slit (42σ) than for spheres: rods at η = 0.6 correlate over ~10σ
    grid = PlanarGrid(8192, 24.0, "reflecting", lanczos=False)
    p = solve(HardRods(1.0), grid, hard_wall(grid, 21.0, "right"), rho_bulk=eta)
    beta_p = tonks_pressure(eta)
    assert contact_density(p, 21.0, "right") == pytest.approx(beta_p, rel=1e-4)
    inside = grid.z < 21.0
    exact = hard_wall_profile(21.0 - grid.z[inside], eta)
    assert np.max(np.abs(p.rho[inside] - exact)) < 5e-4 * beta_p
    assert p.functional.bulk_mu_ex(eta) == pytest.approx(tonks_mu_ex(eta), rel=1e-13)


@pytest.mark.parametrize("version,eos", [("white_bear", carnahan_starling_pressure),
                                         ("rosenfeld", percus_yevick_pressure)])
@pytest.mark.parametrize("eta", [0.2, 0.4])
def test_hard_spheres_contact_theorem(version, eos, eta):
    grid, v = slit()
    rho_b = 6 * eta / np.pi
    p = solve(HardSpheres(1.0, version), grid, v, rho_bulk=rho_b)
    assert bulk_pressure(p) == pytest.approx(eos(rho_b), rel=1e-13)
    assert contact_density(p, CONTACT, "right") == pytest.approx(bulk_pressure(p), rel=1e-4)


@pytest.mark.parametrize("functional,rho", [(HardRods(1.0), 0.6), (HardSpheres(1.0, "white_bear"), 0.7),
                                            (HardSpheres(1.0, "rosenfeld"), 0.7),
                                            (SumFunctional(HardSpheres(1.0), LJAttraction(1.0, 1.0, 2.5)), 0.5)])
def test_bulk_limit_and_thermodynamic_consistency(functional, rho):
    grid = PlanarGrid(256, 8.0, "periodic")
    p = solve(functional, grid, np.zeros(grid.n), rho_bulk=rho)
    np.testing.assert_allclose(p.rho, rho, rtol=1e-10)
    h = 1e-5  # βμ_ex = ∂βf_ex/∂ρ and βP = ρβμ - βf (with the ideal part) by finite differences
    fd = (functional.bulk_free_energy_density(rho + h) - functional.bulk_free_energy_density(rho - h)) / (2 * h)
    assert functional.bulk_mu_ex(rho) == pytest.approx(fd, rel=1e-8)
    omega = grand_potential(p) / grid.length
    assert -omega == pytest.approx(functional.bulk_pressure(rho), rel=1e-10)


@pytest.mark.parametrize("functional", [HardRods(1.0), HardSpheres(1.0, "white_bear"), HardSpheres(1.0, "rosenfeld"),
                                        LJAttraction(1.3, 1.0, 2.5)])
@pytest.mark.parametrize("boundary", ["periodic", "reflecting"])
def test_c1_is_minus_the_functional_derivative(functional, boundary):
    grid = PlanarGrid(128, 6.0, boundary)
    z = grid.z
    rho = 0.35 + 0.2 * np.cos(2 * np.pi * z / 6.0) + 0.1 * np.sin(4 * np.pi * z / 6.0) ** 2
    _, c1 = functional.excess(grid, rho)
    rng = np.random.default_rng(0)
    for i in rng.choice(grid.n, 5, replace=False):
        h = 1e-6
        up, down = rho.copy(), rho.copy()
        up[i] += h
        down[i] -= h
        fd = (functional.excess(grid, up)[0] - functional.excess(grid, down)[0]) / (2 * h * grid.dz)
        assert -c1[i] == pytest.approx(fd, rel=1e-6, abs=1e-9)


def test_gibbs_adsorption_dOmega_dmu_is_minus_N():
    grid, v = slit(1024)
    f = HardSpheres(1.0)
    p = solve(f, grid, v, rho_bulk=0.5, tol=1e-12)
    h = 1e-4
    up = solve(f, grid, v, mu_kT=p.mu_kT + h, tol=1e-12, initial=p.rho)
    down = solve(f, grid, v, mu_kT=p.mu_kT - h, tol=1e-12, initial=p.rho)
    derivative = (grand_potential(up) - grand_potential(down)) / (2 * h)
    assert -derivative == pytest.approx(grid.integrate(p.rho), rel=1e-7)


def test_canonical_equals_grand_canonical_and_newton_krylov_agrees():
    grid = PlanarGrid(1024, 12.0, "reflecting")
    v = hard_wall(grid, CONTACT, "right") + lj93_wall(grid, 10.0, 2.0, 1.0, "right")
    f = HardSpheres(1.0)
    gc = solve(f, grid, v, rho_bulk=0.6)
    can = solve(f, grid, v, n_per_area=grid.integrate(gc.rho))
    np.testing.assert_allclose(can.rho, gc.rho, atol=1e-8)
    assert can.mu_kT == pytest.approx(gc.mu_kT, abs=1e-8)
    nk = solve(f, grid, v, rho_bulk=0.6, solver="newton_krylov", tol=1e-9)
    np.testing.assert_allclose(nk.rho, gc.rho, atol=1e-7)


def test_tabulated_potential_reproduces_the_analytic_one():
    grid = PlanarGrid(256, 12.0, "reflecting")
    fine = np.linspace(0, 12.0, 20001)
    wall = lj93_wall(PlanarGrid(256, 12.0), 11.0, 3.0, 1.0, "right")
    table = 3.0 * (2 / 15 * (1 / np.maximum(11.0 - fine, 1e-9)) ** 9 - (1 / np.maximum(11.0 - fine, 1e-9)) ** 3)
    table[fine >= 11.0] = np.inf
    v = tabulated(grid, fine, table)
    ok = np.isfinite(wall) & (wall < 30)
    np.testing.assert_allclose(v[ok], wall[ok], rtol=2e-3, atol=1e-5)


def test_failures_are_one_line_errors():
    grid, v = slit(256)
    with pytest.raises(ConvergenceError, match="not converged after 3 iterations"):
        solve(HardSpheres(1.0), grid, v, rho_bulk=0.8, max_iter=3)
    with pytest.raises(ConfigError, match="exactly one of"):
        solve(HardSpheres(1.0), grid, v, rho_bulk=0.5, mu_kT=1.0)
    with pytest.raises(ConfigError, match="boundary"):
        PlanarGrid(64, 1.0, "periodc")
    with pytest.raises(ConfigError, match="FMT version"):
        HardSpheres(1.0, "whitebear")
