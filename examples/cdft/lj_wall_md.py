"""Issue 14 item 4: the LJ fluid in a 9-3 slit, by classical DFT and by ``deeppot md``.

Argon-like LJ (σ = 3.4 Å, ε = 0.0104 eV, cut and shifted at 2.5σ) between two 9-3 walls
(ε_w = 2ε, σ_w = σ, planes 8σ apart), T* = k_BT/ε = 1.5, mean density 0.55σ⁻³ over the slit.

* MD: ``deeppot md`` with the LJ potential plus the walls (the ``walls`` key), NVT Langevin,
  10 fs steps; the z histogram of all atoms after equilibration, error bars from 5 blocks.
* DFT: White Bear FMT with the Barker–Henderson diameter + mean-field WCA attraction of the
  same cut-and-shifted LJ, canonical with the MD's N/A, on a reflecting grid spanning the slit.

Writes ``lj_wall_out/`` (MD files, ``profiles.csv``, ``lj_wall.png``) and prints the agreement.
Run from anywhere: ``OMP_NUM_THREADS=1 python examples/cdft/lj_wall_md.py [--steps 12000]``;
an existing trajectory with the same settings is reused (``--rerun`` to redo the MD).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
KB_EV = 8.617333262e-5
SIGMA_A, EPS_EV, RCUT = 3.4, 0.0104, 2.5
T_STAR, RHO_STAR, H_SIGMA, EPS_WALL = 1.5, 0.55, 8.0, 2.0
Z0_A = 2.0


def prepare(out: Path, steps: int, seed: int) -> dict:
    import ase
    import ase.io

    lx = 7 * SIGMA_A
    h = H_SIGMA * SIGMA_A
    z1 = Z0_A + h
    lz = z1 + RCUT * SIGMA_A + 4.0  # the slab's periodic image is beyond the LJ cutoff
    n = int(round(RHO_STAR / SIGMA_A**3 * lx * lx * h))
    lo, hi = Z0_A + 0.9 * SIGMA_A, z1 - 0.9 * SIGMA_A
    a = (lx * lx * (hi - lo) / n) ** (1 / 3)
    nx, nz = int(np.ceil(lx / a)), int(np.ceil((hi - lo) / a))
    sites = np.array([(i * lx / nx, j * lx / nx, lo + (k + 0.5) * (hi - lo) / nz)
                      for i in range(nx) for j in range(nx) for k in range(nz)])
    pos = sites[np.random.default_rng(seed).choice(len(sites), n, replace=False)]
    out.mkdir(parents=True, exist_ok=True)
    ase.io.write(out / "start.extxyz", ase.Atoms(f"Ar{n}", positions=pos, cell=[lx, lx, lz], pbc=True))
    cfg = {"structure": "start.extxyz",
           "potential": {"type": "lj", "epsilon_eV": EPS_EV, "sigma_A": SIGMA_A, "rcut_A": RCUT * SIGMA_A},
           "walls": [{"type": "lj93", "position_A": Z0_A, "epsilon_eV": EPS_WALL * EPS_EV, "sigma_A": SIGMA_A,
                      "side": "left"},
                     {"type": "lj93", "position_A": z1, "epsilon_eV": EPS_WALL * EPS_EV, "sigma_A": SIGMA_A,
                      "side": "right"}],
           "ensemble": "nvt-langevin", "temperature_K": T_STAR * EPS_EV / KB_EV, "timestep_fs": 10.0,
           "steps": steps, "seed": seed, "thermo_every": 100, "traj_every": 20, "restart_every": 1000,
           "output_dir": "md"}
    (out / "md.json").write_text(json.dumps(cfg, indent=1))
    return {"n": n, "area_sigma2": (lx / SIGMA_A) ** 2}


def md_profile(out: Path, skip: int, bins: int, blocks: int = 5):
    import ase.io

    frames = ase.io.read(out / "md" / "traj.extxyz", index=":")
    steps = np.array([f.info.get("step", i * 20) for i, f in enumerate(frames)])
    z = np.array([(f.positions[:, 2] - Z0_A) / SIGMA_A for f, s in zip(frames, steps) if s >= skip])
    lx = frames[0].cell[0, 0] / SIGMA_A
    edges = np.linspace(0, H_SIGMA, bins + 1)
    width = edges[1] - edges[0]
    per_block = [np.histogram(b.ravel(), edges)[0] / (len(b) * lx * lx * width)
                 for b in np.array_split(z, blocks)]
    rho = np.histogram(z.ravel(), edges)[0] / (len(z) * lx * lx * width)
    err = np.std(per_block, axis=0, ddof=1) / np.sqrt(blocks)
    return edges, rho, err, len(z)


def dft_profile(n_per_area: float, points_per_sigma: int = 200):
    from deeppot.cdft import PlanarGrid, lj93_wall, lj_fluid, solve

    pad = 2.0  # σ of wall on each side of the slit: ρ ≈ e^{-huge} there
    grid = PlanarGrid(int((H_SIGMA + 2 * pad) * points_per_sigma), H_SIGMA + 2 * pad, "reflecting")
    v = (lj93_wall(grid, pad, EPS_WALL / T_STAR, 1.0, "left") + lj93_wall(grid, pad + H_SIGMA, EPS_WALL / T_STAR,
                                                                          1.0, "right"))
    functional = lj_fluid(1.0 / T_STAR, 1.0, RCUT, shift=True)
    profile = solve(functional, grid, v, n_per_area=n_per_area)
    return grid.z - pad, profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--equilibration", type=int, default=2000)
    parser.add_argument("--bins", type=int, default=160)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(HERE / "lj_wall_out"))
    parser.add_argument("--rerun", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    meta = prepare(out, args.steps, args.seed) if args.rerun or not (out / "md" / "traj.extxyz").exists() else None
    if meta is not None:
        subprocess.run([sys.executable, "-m", "deeppot.cli.main", "md", str(out / "md.json"), "--force"], check=True)
    import ase.io

    start = ase.io.read(out / "start.extxyz")
    n_per_area = len(start) / (start.cell[0, 0] / SIGMA_A) ** 2
    edges, rho_md, err_md, frames = md_profile(out, args.equilibration, args.bins)
    z, dft = dft_profile(n_per_area)
    centres = 0.5 * (edges[1:] + edges[:-1])
    # DFT averaged over the same bins
    rho_dft = np.array([dft.rho[(z >= a) & (z < b)].mean() for a, b in zip(edges[:-1], edges[1:])])
    mid = (centres > 2.5) & (centres < H_SIGMA - 2.5)
    peak_md, peak_dft = rho_md.max(), rho_dft.max()
    zp_md, zp_dft = centres[np.argmax(rho_md)], centres[np.argmax(rho_dft)]
    l2 = np.sqrt(np.mean((rho_dft - rho_md) ** 2)) / np.mean(rho_md[mid])
    print(f"N = {len(start)}, N/A = {n_per_area:.4f} σ⁻², T* = {T_STAR}, {frames} MD frames after "
          f"{args.equilibration} steps")
    print(f"contact peak: MD {peak_md:.3f} ± {err_md[np.argmax(rho_md)]:.3f} at z = {zp_md:.3f}σ; "
          f"DFT {peak_dft:.3f} at z = {zp_dft:.3f}σ  ({(peak_dft / peak_md - 1) * 100:+.1f} %)")
    print(f"centre (2.5σ from the walls): MD {rho_md[mid].mean():.4f}, DFT {rho_dft[mid].mean():.4f} σ⁻³ "
          f"({(rho_dft[mid].mean() / rho_md[mid].mean() - 1) * 100:+.1f} %)")
    print(f"rms(DFT − MD)/ρ_centre over the slit: {l2 * 100:.1f} %; median MD error bar "
          f"{np.median(err_md[mid]) / rho_md[mid].mean() * 100:.1f} %")
    table = np.column_stack([centres, rho_md, err_md, rho_dft])
    np.savetxt(out / "profiles.csv", table, delimiter=",", header="z_sigma,rho_md,err_md,rho_dft", comments="")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.errorbar(centres, rho_md, err_md, fmt=".", ms=3, lw=0.6, color="k", label="deeppot md (LJ + 9-3 walls)")
    ax.plot(z, dft.rho, color="C3", lw=1.3, label="DFT: White Bear + mean-field WCA")
    ax.set_xlim(0, H_SIGMA)
    ax.set_xlabel("z / σ")
    ax.set_ylabel("ρσ³")
    ax.set_title(f"LJ in a 9-3 slit, T* = {T_STAR}, N/A = {n_per_area:.2f} σ⁻²", fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "lj_wall.png", dpi=130)
    print(f"wrote {out / 'profiles.csv'} and {out / 'lj_wall.png'}")


if __name__ == "__main__":
    main()
