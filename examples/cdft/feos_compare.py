"""White Bear hard spheres at a hard wall: deeppot cdft and feos side by side (issue 14 item 3).

Slit of 20σ, η = 0.2 / 0.3 / 0.4, 4096 points on the half slit (feos' Pore1D layout). Prints the
largest profile difference, both grand potentials, and the contact theorem of each; writes
``feos_compare.png`` next to this script.
``OMP_NUM_THREADS=1 python examples/cdft/feos_compare.py``
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def main() -> None:
    import feos
    from si_units import ANGSTROM, KB, KELVIN, NAV

    from deeppot.cdft import HardSpheres, PlanarGrid, bulk_pressure, contact_density, grand_potential, hard_wall, solve

    sigma, width, n = 1.0, 20.0, 4096
    functional = feos.HelmholtzEnergyFunctional.fmt(np.array([sigma]), feos.FMTVersion.WhiteBear)
    grid = PlanarGrid(n, width / 2 + 2 * sigma, "reflecting")
    contact = width / 2 - sigma
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(6.5, 6), sharex=True, height_ratios=[2, 1])
    for eta, color in zip((0.2, 0.3, 0.4), ("C0", "C1", "C2")):
        rho_b = 6 * eta / np.pi
        bulk = feos.State(functional, 300 * KELVIN, density=rho_b / (sigma * ANGSTROM) ** 3 / NAV)
        pore = feos.Pore1D(feos.Geometry.Cartesian, width * ANGSTROM, feos.ExternalPotential.HardWall(sigma),
                           n_grid=n)
        ref = pore.initialize(bulk).solve()
        rho_ref = (ref.density * NAV * (sigma * ANGSTROM) ** 3)[0]
        ours = solve(HardSpheres(sigma), grid, hard_wall(grid, contact, "right"), rho_bulk=rho_b)
        beta_p = bulk_pressure(ours)
        zc = grid.z < contact
        rc_ref = np.polyval(np.polyfit(grid.z[zc][-3:], rho_ref[zc][-3:], 2), contact)
        print(f"η = {eta}: max|ρ − ρ_feos|/ρ_b = {np.max(np.abs(ours.rho - rho_ref)) / rho_b:.1e}; "
              f"βΩ/A deeppot {grand_potential(ours):.10f}, feos {ref.grand_potential / (KB * 300 * KELVIN):.10f}; "
              f"contact/βP − 1: deeppot {contact_density(ours, contact, 'right') / beta_p - 1:.1e}, "
              f"feos {rc_ref / beta_p - 1:.1e}")
        x = contact - grid.z  # distance from contact
        ax.plot(x[zc], ours.rho[zc], color=color, lw=1.4, label=f"deeppot, η = {eta}")
        ax.plot(x[zc][::40], rho_ref[zc][::40], "o", ms=3, mfc="none", color="k")
        ax2.semilogy(x[zc], np.abs(ours.rho - rho_ref)[zc] / rho_b + 1e-18, color=color, lw=0.8)
    ax.plot([], [], "o", ms=3, mfc="none", color="k", label="feos 0.10.5")
    ax.set(ylabel="ρσ³", xlim=(0, 5), title="White Bear FMT at a hard wall (x: distance from contact)")
    ax.legend(frameon=False, fontsize=8)
    ax2.set(xlabel="x/σ", ylabel="|ρ − ρ_feos|/ρ_b")
    fig.tight_layout()
    fig.savefig(Path(__file__).resolve().parent / "feos_compare.png", dpi=120)


if __name__ == "__main__":
    main()
