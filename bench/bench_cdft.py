"""Classical DFT solver speed against feos on the same planar problem, interleaved.

White Bear hard spheres (σ = 1) in a hard-wall slit of width 20σ, solved on its half as feos'
``Pore1D`` does (n grid points on L/2 + 2σ, Lanczos factor on). Both solvers start from the bulk
density times the Boltzmann factor of the wall, run Anderson mixing to their default tolerances
(feos 1e-11 in its norm, ours 1e-10 in max |Δln ρ|), and are timed in alternating rounds; the
best of each is compared, and the largest profile difference is printed so speed is never
bought with a different answer.

    OMP_NUM_THREADS=1 python bench/bench_cdft.py [--points 1024 4096 16384] [--eta 0.3 0.4] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, nargs="+", default=[1024, 4096, 16384])
    parser.add_argument("--eta", type=float, nargs="+", default=[0.3, 0.4])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    import feos
    from si_units import ANGSTROM, KELVIN, NAV

    from deeppot.cdft import HardSpheres, PlanarGrid, hard_wall, solve

    feos.set_num_threads(1)
    sigma, width = 1.0, 20.0
    print(f"load average {os.getloadavg()[0]:.1f}; feos {feos.__version__}; OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"{'eta':>5} {'points':>7} {'feos ms':>9} {'deeppot ms':>11} {'feos/deeppot':>13} {'iters f/d':>10} "
          f"{'max|Δρ|/ρb':>11}")
    functional = feos.HelmholtzEnergyFunctional.fmt(np.array([sigma]), feos.FMTVersion.WhiteBear)
    for eta in args.eta:
        rho_b = 6 * eta / np.pi
        bulk = feos.State(functional, 300 * KELVIN, density=rho_b / (sigma * ANGSTROM) ** 3 / NAV)
        for n in args.points:
            pore = feos.Pore1D(feos.Geometry.Cartesian, width * ANGSTROM, feos.ExternalPotential.HardWall(sigma),
                               n_grid=n)
            grid = PlanarGrid(n, width / 2 + 2 * sigma, "reflecting")
            v = hard_wall(grid, width / 2 - sigma, "right")
            ours_f = HardSpheres(sigma, "white_bear")
            t_feos, t_ours = [], []
            for _ in range(args.rounds):
                start = time.perf_counter()
                ref = pore.initialize(bulk).solve()
                t_feos.append(time.perf_counter() - start)
                start = time.perf_counter()
                ours = solve(ours_f, grid, v, rho_bulk=rho_b)
                t_ours.append(time.perf_counter() - start)
            rho_ref = (ref.density * NAV * (sigma * ANGSTROM) ** 3)[0]
            diff = np.max(np.abs(ours.rho - rho_ref)) / rho_b
            tf, to = min(t_feos), min(t_ours)
            print(f"{eta:5.2f} {n:7d} {1e3 * tf:9.2f} {1e3 * to:11.2f} {tf / to:12.2f}x "
                  f"{len(ref.solver_log.residual):>4}/{ours.iterations:<5} {diff:11.1e}")


if __name__ == "__main__":
    main()
