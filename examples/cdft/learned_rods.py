"""Issue 14 item 5: a neural c1[ρ](x) for 1-D hard rods, trained on our grand canonical MC,
checked against Percus' exact functional in potentials it has never seen.

1. GCMC (``deeppot.cdft.mc``) of rods (σ = 1) in [0, 10σ] between hard walls, each system with
   its own random βv(x) and βμ ∈ [−1, 3.5]; histograms in bins of 0.05σ → c1 = ln ρ + βv − βμ.
   ``--wall-systems`` adds systems whose potential also has a well at a wall (dense contact layers).
2. An MLP maps ρ on a ±1.25σ window to c1 (``deeppot.cdft.learned``).
3. Unseen potentials (another seed, plus a square well and a linear ramp that are not of the
   training family): the learned profile (Anderson-mixed Picard on the bins) vs Percus (fine
   grid, averaged over the same bins).
4. Bulk: βμ_ex(ρ) and βP(ρ) (Gibbs–Duhem) vs Tonks; c2(r) = δc1/δρ by autograd vs the exact
   −1/(1−η) − ρ(σ−|r|)/(1−η)², and g(r) from Ornstein–Zernike vs the exact Tonks g(r).

``OMP_NUM_THREADS=1 python examples/cdft/learned_rods.py [--systems 512 --sweeps 30000 --epochs 40]``
writes ``learned_out/`` (data.npz, c1net.pt, learned_rods.png, results.json); existing data and
model are reused unless ``--redo``.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
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
)
from deeppot.cdft.solver import ConvergenceError
from deeppot.fileio import atomic_path

HERE = Path(__file__).resolve().parent
LENGTH, DX = 10.0, 0.05


def percus_binned(v_fn, mu: float, fine: int = 16) -> np.ndarray:
    """Percus' profile on a fine grid (2σ of wall padding each side), averaged over the MC bins."""
    pad = 2.0
    grid = PlanarGrid(int((LENGTH + 2 * pad) / DX) * fine, LENGTH + 2 * pad, "reflecting", lanczos=False)
    x = grid.z - pad
    v = np.where((x > 0) & (x < LENGTH), v_fn(np.clip(x, 0, LENGTH)), np.inf)
    p = solve(HardRods(1.0), grid, v, mu_kT=mu)
    return p.rho.reshape(-1, fine).mean(1)[int(pad / DX): -int(pad / DX)]


def learned_profile(functional: LearnedFunctional, v_fn, mu: float) -> np.ndarray:
    """Anderson-mixed Picard; where a network's c1 makes it overshoot (dense contact layers), gentler
    mixing: the fixed point is the same, only the path to it differs."""
    grid = PlanarGrid(int(round(LENGTH / DX)), LENGTH, "reflecting")
    for damping, history, max_iter in ((0.2, 20, 3000), (0.05, 5, 20000), (0.02, 0, 50000)):
        try:
            return solve(functional, grid, v_fn(grid.z), mu_kT=mu, rho_max=None, damping=damping, history=history,
                         max_iter=max_iter, tol=1e-8, log_every=0).rho
        except ConvergenceError as err:
            logging.getLogger("learned_rods").info("%s; again with damping %g", err, damping / 4)
    raise ConvergenceError(f"learned c1: no converged profile for βμ = {mu}")


def simulate_data(args) -> RodData:
    """The basic family of potentials (seed 0) and, with ``--wall-systems``, a dense-wall family
    (seed 1, its own stream: the basic systems are the same with or without it)."""
    common = {"length": LENGTH, "dx": DX, "sweeps": args.sweeps, "equilibration": args.sweeps // 10,
              "mu_range": (-1.0, args.mu_max)}
    parts = [simulate(args.systems, seed=0, **common)]
    if args.wall_systems:
        parts.append(simulate(args.wall_systems, seed=1, wall_wells=True, **common))
    return RodData.concatenate(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--systems", type=int, default=512, help="GCMC systems of the basic potential family")
    parser.add_argument("--wall-systems", type=int, default=0,
                        help="extra GCMC systems whose potential also has an attractive well at a wall")
    parser.add_argument("--sweeps", type=int, default=30000, help="GCMC sweeps per system (+10 %% equilibration)")
    parser.add_argument("--epochs", type=int, default=40, help="training epochs (cosine learning-rate decay)")
    parser.add_argument("--tests", type=int, default=8, help="unseen random potentials (+ a square well and a ramp)")
    parser.add_argument("--mu-max", type=float, default=3.5, help="βμ of the training systems is drawn in [-1, mu-max]")
    parser.add_argument("--batch", type=int, default=512, help="training minibatch (windows)")
    parser.add_argument("--precision", choices=("float64", "float32"), default="float64",
                        help="training precision (float32: 2-2.5x faster; the saved network is float64)")
    parser.add_argument("--width", type=int, default=128, help="hidden layer width of the c1 network")
    parser.add_argument("--depth", type=int, default=3, help="hidden layers of the c1 network")
    parser.add_argument("--out", default=str(HERE / "learned_out"))
    parser.add_argument("--redo", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    torch.set_default_dtype(torch.float64)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    data_file, model_file = out / "data.npz", out / "c1net.pt"
    if args.redo or not data_file.exists():
        data = simulate_data(args)
        with atomic_path(data_file) as tmp:
            np.savez(tmp.open("wb"), rho=data.rho, v=data.v, mu=data.mu, dx=data.dx, sweeps=data.sweeps,
                     halves=data.halves, wall_systems=args.wall_systems)
    raw = np.load(data_file)
    data = RodData(float(raw["dx"]), raw["rho"], raw["v"], raw["mu"], int(raw["sweeps"]), raw["halves"])
    wall_systems = int(raw["wall_systems"]) if "wall_systems" in raw else 0
    if args.redo or not model_file.exists():
        net, info = train(data, epochs=args.epochs, batch=args.batch, precision=args.precision,
                          width=args.width, depth=args.depth)
        with atomic_path(model_file) as tmp:
            torch.save({"state": net.state_dict(), "half": net.half, "width": args.width, "depth": args.depth,
                        "info": info}, tmp)
    saved = torch.load(model_file, weights_only=True)  # plain tensors and numbers: loading runs no code
    net = C1Net(saved["half"], saved.get("width", 128), saved.get("depth", 3))
    net.load_state_dict(saved["state"])
    net.eval()
    functional = LearnedFunctional(net, DX)
    results: dict = {"systems": int(data.rho.shape[0]) - wall_systems, "wall_systems": wall_systems,
                     "sweeps": data.sweeps, "epochs": len(saved["info"]["validation_mse"]),
                     "validation_mse": saved["info"]["validation_mse"][-1]}

    # --- unseen potentials ---------------------------------------------------------------
    rng = np.random.default_rng(12345)
    fine_x = np.linspace(0, LENGTH, 4001)
    tests = []
    for k, v_row in enumerate(random_potentials(rng, args.tests, fine_x, LENGTH)):
        tests.append((f"random {k}", (lambda row: (lambda x: np.interp(x, fine_x, row)))(v_row),
                      float(rng.uniform(-0.5, 2.0))))
    tests.append(("square well", lambda x: np.where(np.abs(x - 5.0) < 1.5, -1.0, 0.0), 1.0))
    tests.append(("ramp", lambda x: 0.4 * (x - 5.0), 1.5))
    rows = []
    for name, v_fn, mu in tests:
        ref = percus_binned(v_fn, mu)
        nn = learned_profile(functional, v_fn, mu)
        max_rel = float(np.max(np.abs(nn - ref)) / ref.mean())
        rms_rel = float(np.sqrt(np.mean((nn - ref) ** 2)) / ref.mean())
        n_rel = float(nn.sum() / ref.sum() - 1)
        rows.append({"potential": name, "mu": mu, "mean_rho": float(ref.mean()), "max_dev_rel": max_rel,
                     "rms_dev_rel": rms_rel, "N_rel": n_rel, "ref": ref.tolist(), "nn": nn.tolist()})
        print(f"{name:12s} βμ={mu:5.2f} <ρ>={ref.mean():.3f}: max|Δρ|/<ρ> = {100 * max_rel:5.2f} %, "
              f"rms {100 * rms_rel:5.2f} %, ΔN/N = {100 * n_rel:+.2f} %")
    results["profiles"] = rows

    # --- bulk: equation of state, c2, g(r) -----------------------------------------------
    dens = np.linspace(0.1, 0.7, 7)
    eos = [{"rho": float(r), "mu_ex": bulk_mu_ex(net, r), "mu_ex_exact": float(tonks_mu_ex(r)),
            "P": bulk_pressure(net, r), "P_exact": float(tonks_pressure(r))} for r in dens]
    for e in eos:
        print(f"bulk ρ={e['rho']:.2f}: βμ_ex {e['mu_ex']:.4f} (Tonks {e['mu_ex_exact']:.4f}), "
              f"βP {e['P']:.4f} (Tonks {e['P_exact']:.4f})")
    results["eos"] = eos
    rho_c = 0.5
    r, c2 = direct_correlation(net, rho_c, DX)
    c2_exact = np.where(np.abs(r) < 1, -1 / (1 - rho_c) - rho_c * (1 - np.abs(r)) / (1 - rho_c) ** 2, 0.0)
    inside = np.abs(r) < 0.95
    rr, g_nn = pair_correlation(r, c2, rho_c, DX)
    g_exact = hard_wall_profile(rr - 1.0, rho_c) / rho_c
    rr_ref, g_ref = pair_correlation(r, c2_exact, rho_c, DX)
    sel = (rr > 1.1) & (rr < 5.0)
    c2_0_exact = -1 / (1 - rho_c) - rho_c / (1 - rho_c) ** 2
    results["c2"] = {"rho": rho_c, "max_abs_dev_inside": float(np.max(np.abs(c2 - c2_exact)[inside])),
                     "c2_0": float(c2[np.argmin(np.abs(r))]), "c2_0_exact": float(c2_0_exact),
                     "g_max_abs_dev": float(np.max(np.abs(g_nn - g_exact)[sel])),
                     "g_exact_c_same_grid_max_abs_dev": float(np.max(np.abs(g_ref - g_exact)[sel]))}
    print(f"c2 at ρ={rho_c}: max |c2 − exact| for |r| < 0.95σ = {results['c2']['max_abs_dev_inside']:.3f} "
          f"(c2(0) = {results['c2']['c2_0']:.3f}, exact {results['c2']['c2_0_exact']:.3f}); "
          f"g(r), 1.1σ < r < 5σ: max |Δg| = {results['c2']['g_max_abs_dev']:.3f} "
          f"(exact c on the same grid: {results['c2']['g_exact_c_same_grid_max_abs_dev']:.3f})")
    with atomic_path(out / "results.json") as tmp:
        tmp.write_text(json.dumps(results, indent=1))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    x = (np.arange(int(round(LENGTH / DX))) + 0.5) * DX
    for row, color in zip((rows[0], rows[-2]), ("C0", "C1")):
        axes[0, 0].plot(x, row["ref"], color=color, lw=1.5, label=f"Percus, {row['potential']}")
        axes[0, 0].plot(x, row["nn"], "k--", lw=0.9)
    axes[0, 0].set(xlabel="x/σ", ylabel="ρσ", title="unseen potentials (dashed: learned c1)")
    axes[0, 0].legend(frameon=False, fontsize=8)
    axes[0, 1].plot(dens, [e["P"] for e in eos], "o", label="learned (Gibbs–Duhem)")
    axes[0, 1].plot(dens, [e["P_exact"] for e in eos], "-", label="Tonks")
    axes[0, 1].set(xlabel="ρσ", ylabel="βPσ", title="bulk equation of state")
    axes[0, 1].legend(frameon=False, fontsize=8)
    axes[1, 0].plot(r, c2, ".", label="learned δc1/δρ")
    axes[1, 0].plot(r, c2_exact, "-", label="Percus (exact)")
    axes[1, 0].set(xlabel="r/σ", ylabel="c2(r)", title=f"direct correlation, ρσ = {rho_c}")
    axes[1, 0].legend(frameon=False, fontsize=8)
    axes[1, 1].plot(rr, g_nn, "-", label="learned c2 + OZ")
    axes[1, 1].plot(rr, g_exact, "--", label="exact (Tonks)")
    axes[1, 1].set(xlabel="r/σ", ylabel="g(r)", xlim=(0, 5), title="pair correlation")
    axes[1, 1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    with atomic_path(out / "learned_rods.png") as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    print(f"wrote {out / 'results.json'} and {out / 'learned_rods.png'}")


if __name__ == "__main__":
    main()
