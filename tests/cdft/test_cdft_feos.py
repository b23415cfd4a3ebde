"""White Bear FMT at a hard wall equals feos' profile and grand potential (LIBRARIES.md §1).

feos works in SI units with molar densities: ρσ³ = ρ_molar · N_A · σ³. Its Pore1D grid is the
half slit z_i = (i+½)Δz, Δz = (L/2 + 2σ)/n, with the Lanczos factor on; ours is built the same.
"""

import numpy as np
import pytest

from deeppot.cdft import HardSpheres, PlanarGrid, grand_potential, hard_wall, solve

feos = pytest.importorskip("feos")
si = pytest.importorskip("si_units")


@pytest.mark.parametrize("eta", [0.2, 0.4])
def test_white_bear_profile_and_grand_potential_equal_feos(eta):
    sigma, width, n = 1.0, 20.0, 2048
    kelvin, angstrom, nav, kb = si.KELVIN, si.ANGSTROM, si.NAV, si.KB
    functional = feos.HelmholtzEnergyFunctional.fmt(np.array([sigma]), feos.FMTVersion.WhiteBear)
    rho_b = 6 * eta / np.pi
    bulk = feos.State(functional, 300 * kelvin, density=rho_b / (sigma * angstrom) ** 3 / nav)
    pore = feos.Pore1D(feos.Geometry.Cartesian, width * angstrom, feos.ExternalPotential.HardWall(sigma), n_grid=n)
    ref = pore.initialize(bulk).solve()  # feos' default: Anderson mixing to 1e-11
    z_ref = ref.z / angstrom
    rho_ref = (ref.density * nav * (sigma * angstrom) ** 3)[0]
    omega_ref = ref.grand_potential / (kb * 300 * kelvin)  # per Å² of wall, k_BT

    grid = PlanarGrid(n, width / 2 + 2 * sigma, "reflecting")
    np.testing.assert_allclose(grid.z, z_ref, atol=1e-12)
    ours = solve(HardSpheres(sigma, "white_bear"), grid, hard_wall(grid, width / 2 - sigma, "right"),
                 rho_bulk=rho_b, tol=1e-12)
    assert np.max(np.abs(ours.rho - rho_ref)) < 1e-6 * rho_b
    assert grand_potential(ours) == pytest.approx(omega_ref, rel=1e-8)
