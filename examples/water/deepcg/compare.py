"""CG vs atomistic water: the issue's goals measured on the two trajectories of ``deepcg.py``.

Writes ``results.md`` (goals with PASS/FAIL), ``deepcg.png`` and ``curves/*.csv`` into ``out``.
Observables (SCIENCE.md §5.3): g_OO, the O–O–O angle distribution for r_c 3.2/3.5/3.7 Å, the
Lechner–Dellago Q̄6 of the O (r_c 3.5 Å), and the distribution of the number of O within 3.5 Å.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deeppot.analysis import adf, rdf, read_frames, steinhardt  # noqa: E402

RC_ADF = (3.2, 3.5, 3.7)
RC_SHELL = 3.5


def oxygen_frames(path: Path, skip: int) -> list:
    frames = read_frames(path, skip=skip)
    keep = [i for i, s in enumerate(frames[0].get_chemical_symbols()) if s == "O"]
    return [a[keep] for a in frames]


def site_frames(path: Path, skip: int, kind: str) -> list:
    """The CG sites of an atomistic trajectory: its O atoms (site map) or molecular centres of mass."""
    if kind == "site":
        return oxygen_frames(path, skip)
    from deeppot.cg import map_trajectories
    from deeppot.data.ase_formats import to_atoms

    cg, _ = map_trajectories([path], com=True, skip=skip)
    return [to_atoms(cg, k) for k in range(cg.nframes)]


def peak(r: np.ndarray, g: np.ndarray) -> tuple[float, float]:
    """Height and position of the first (highest) peak, refined by a parabola through three bins."""
    k = int(np.argmax(g))
    y0, y1, y2 = g[k - 1], g[k], g[k + 1]
    denom = y0 - 2 * y1 + y2
    shift = 0.5 * (y0 - y2) / denom if denom else 0.0
    return float(y1 - 0.25 * (y0 - y2) * shift), float(r[k] + shift * (r[1] - r[0]))


def shell_counts(frames: list, rcut: float = RC_SHELL) -> np.ndarray:
    from ase.neighborlist import neighbor_list

    return np.concatenate([np.bincount(neighbor_list("i", a, rcut), minlength=len(a)) for a in frames])


def observables(frames: list) -> dict:
    r, g = rdf(frames, ("O", "O"), rmax=6.0, nbins=150)
    out = {"r": r, "g": g, "peak": peak(r, g)}
    for rc in RC_ADF:
        theta, p = adf(frames, ("O", "O", "O"), rcut=rc, nbins=90)
        out[f"adf{rc}"] = (theta, p, float(np.sum(theta * p) / np.sum(p)))
    out["q6"] = steinhardt(frames, l=6, rcut=RC_SHELL, species="O", average=True).ravel()
    out["n"] = shell_counts(frames)
    return out


def combine(h1: dict, h2: dict, n1: int, n2: int) -> dict:
    """Observables of two halves joined (frame-weighted averages of the histograms; values concatenated)."""
    w1, w2 = n1 / (n1 + n2), n2 / (n1 + n2)
    out = {"r": h1["r"], "g": w1 * h1["g"] + w2 * h2["g"], "q6": np.concatenate([h1["q6"], h2["q6"]]),
           "n": np.concatenate([h1["n"], h2["n"]])}
    out["peak"] = peak(out["r"], out["g"])
    for rc in RC_ADF:
        theta, p = h1[f"adf{rc}"][0], w1 * h1[f"adf{rc}"][1] + w2 * h2[f"adf{rc}"][1]
        out[f"adf{rc}"] = (theta, p, float(np.sum(theta * p) / np.sum(p)))
    return out


def speed(out: Path, timings: dict) -> tuple[float | None, float | None, str]:
    """CG and atomistic ps per CPU hour from ``speed.py``'s speed.json, else per wall hour from the runs."""
    path = out / "speed.json"
    if path.exists():
        data = json.loads(path.read_text())
        return data["cg"]["ps_per_cpu_hour"], data["atomistic"]["ps_per_cpu_hour"], "ps per CPU hour, speed.py"
    cg = timings["cg_md_ps"] / timings["cg_md_s"] * 3600 if "cg_md_s" in timings else None
    aa = timings["aa_md_ps"] / timings["aa_md_s"] * 3600 if "aa_md_s" in timings else None
    return cg, aa, "ps per wall hour"


def noise_floor(work: Path) -> dict:
    """Force-matching loss of the CG model on its training and held-out frames (eV²/Å² per component)."""
    from deeppot.cg import force_matching_loss
    from deeppot.data import load_system
    from deeppot.model.potential import ModelPotential

    model = ModelPotential(work / "cg" / "cg.dp")
    table = work / "cg_prior" / "prior.table"
    if table.exists():  # --pair-prior: the CG potential is the pair table plus the network
        from deeppot.potentials.pair_table import PairTable
        from deeppot.potentials.wall import WithExternal

        model = WithExternal(model, PairTable.from_file(table, model.type_map))
    out = {name: force_matching_loss(load_system(work / f"cg_{name}"), model) for name in ("train", "valid")}
    valid = load_system(work / "cg_valid")
    out["mean_force_sq"] = float(np.mean(valid.force**2))  # loss of U = 0
    return out


def compare(work: Path, out: Path, timings: dict, args, aa_runs: list[Path]) -> None:
    """``aa_runs``: the atomistic MD directories; their frames (after equilibration) are joined in order."""
    frame_fs = 10.0
    if args.source == "dft":  # the AIMD frames themselves are the atomistic ensemble
        data = Path(__file__).resolve().parent.parent / "data"
        sources, skip = [data / name for name in ("data_0", "data_1", "data_2")], 0
    else:
        sources, skip = [run / "md_out" / "traj.extxyz" for run in aa_runs], int(args.equil_ps * 1000 / frame_fs)
    aa = [f for src in sources for f in site_frames(src, skip, args.map)]
    cg_frame_fs = max(1, round(frame_fs / args.cg_dt_fs)) * args.cg_dt_fs  # as deepcg.md_input sets traj_every
    cg = oxygen_frames(work / "cg_md" / "md_out" / "traj.extxyz", int(args.cg_equil_ps * 1000 / cg_frame_fs))
    half = len(aa) // 2
    C, H1, H2 = observables(cg), observables(aa[:half]), observables(aa[half:])
    A = combine(H1, H2, half, len(aa) - half)
    noise = noise_floor(work)
    cg_speed, aa_speed, speed_unit = speed(out, timings)
    dg = float(np.max(np.abs(C["g"] - A["g"])))
    dg_halves = float(np.max(np.abs(H1["g"] - H2["g"])))
    height = C["peak"][0] / A["peak"][0] - 1
    shift = C["peak"][1] - A["peak"][1]
    pair, triple = ("OO", "O–O–O") if args.map == "site" else ("COM–COM", "COM–COM–COM")
    goals = [
        (f"g_{pair} first peak height within 5 %", f"{C['peak'][0]:.3f} vs {A['peak'][0]:.3f} ({100 * height:+.1f} %)",
         abs(height) <= 0.05),
        (f"g_{pair} first peak position within 0.05 Å", f"{C['peak'][1]:.3f} vs {A['peak'][1]:.3f} Å ({shift:+.3f})",
         abs(shift) <= 0.05),
        (f"max |Δg_{pair}| ≤ that between the atomistic halves", f"{dg:.3f} vs {dg_halves:.3f}", dg <= dg_halves),
    ]
    for rc in RC_ADF:
        a, c = A[f"adf{rc}"][2], C[f"adf{rc}"][2]
        goals.append((f"mean {triple} angle within 2° (r_c {rc} Å)", f"{c:.2f}° vs {a:.2f}° ({c - a:+.2f}°; halves "
                      f"{H1[f'adf{rc}'][2] - H2[f'adf{rc}'][2]:+.2f}°)", abs(c - a) <= 2.0))
    dq = C["q6"].mean() - A["q6"].mean()
    goals.append(("⟨Q̄6⟩ within 0.01", f"{C['q6'].mean():.4f} vs {A['q6'].mean():.4f} ({dq:+.4f}; halves "
                  f"{H1['q6'].mean() - H2['q6'].mean():+.4f})", abs(dq) <= 0.01))
    if aa_speed is None or cg_speed is None:
        goals.append(("CG MD ≥ 10× simulated time per second", "not measured", None))
    else:
        goals.append(("CG MD ≥ 10× simulated time per second", f"{cg_speed:.1f} vs {aa_speed:.2f} {speed_unit} "
                      f"({cg_speed / aa_speed:.1f}×)", cg_speed >= 10 * aa_speed))
    verdict = {True: "PASS", False: "FAIL", None: "not measured"}
    lines = ["| goal | CG vs atomistic | verdict |", "|---|---|---|"]
    lines += [f"| {g} | {v} | {verdict[ok]} |" for g, v, ok in goals]
    mean_n = (C["n"].mean(), A["n"].mean())
    extra = [
        "",
        f"Higher-order correlation, O neighbours within {RC_SHELL} Å: mean {mean_n[0]:.3f} (CG) vs {mean_n[1]:.3f} "
        f"(atomistic); P(n=4) {np.mean(C['n'] == 4):.3f} vs {np.mean(A['n'] == 4):.3f}.",
        f"Force-matching loss of the CG model (eV²/Å² per component): training frames {noise['train']:.4f}, held-out "
        f"{noise['valid']:.4f}; a zero force would give {noise['mean_force_sq']:.4f}. The held-out figure is an "
        "upper bound of the noise floor ⟨|f − F|²⟩/3.",
        f"Sampling: atomistic {len(aa)} O frames ({len(aa) * frame_fs / 1000:.2f} ps in {len(aa_runs)} run(s), each "
        f"after {args.equil_ps} ps; halves: the first and second {half} frames), "
        f"CG {len(cg)} frames ({len(cg) * cg_frame_fs / 1000:.2f} ps after {args.cg_equil_ps} ps); "
    ]
    if args.source == "dft":
        extra[-1] = (f"Sampling: atomistic = the {len(aa)} AIMD frames of data_0..2 (halves: the first and second "
                     f"{half}); CG {len(cg)} frames ({len(cg) * cg_frame_fs / 1000:.2f} ps after "
                     f"{args.cg_equil_ps} ps).")
    if args.map == "com":
        oxygens = [f for src in sources for f in oxygen_frames(src, skip)]
        r, g = rdf(oxygens, ("O", "O"), rmax=6.0, nbins=150)
        height_oo, position_oo = peak(r, g)
        extra.append(f"Sites: the molecules' centres of mass (--map com), called O in the figures, for the CG and "
                     f"the atomistic run alike. The atomistic O–O g(r) itself peaks at {height_oo:.3f}, "
                     f"{position_oo:.3f} Å (COM–COM: {A['peak'][0]:.3f}, {A['peak'][1]:.3f} Å).")
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.md").write_text("\n".join(lines + extra) + "\n")
    print("\n".join(lines + extra))
    write_curves(out / "curves", A, C, H1, H2)
    figure(out / "deepcg.png", A, C, H1, H2, work, noise, pair, triple)
    goal_rows = [[g, v, None if ok is None else bool(ok)] for g, v, ok in goals]
    (out / "results.json").write_text(json.dumps({"goals": goal_rows,
                                                  "noise": noise, "timings": timings}, indent=1) + "\n")


def write_curves(directory: Path, A, C, H1, H2) -> None:
    directory.mkdir(exist_ok=True)
    np.savetxt(directory / "g_OO.csv", np.column_stack([A["r"], C["g"], A["g"], H1["g"], H2["g"]]), delimiter=",",
               header="r_A,cg,atomistic,atomistic_half1,atomistic_half2", comments="")
    for rc in RC_ADF:
        np.savetxt(directory / f"adf_OOO_rc{rc}.csv", np.column_stack([A[f"adf{rc}"][0], C[f"adf{rc}"][1],
                   A[f"adf{rc}"][1]]), delimiter=",", header="theta_deg,cg,atomistic", comments="")


def figure(png: Path, A, C, H1, H2, work: Path, noise: dict, pair: str = "OO", triple: str = "O–O–O") -> None:
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    ax = axes[0, 0]
    ax.plot(A["r"], A["g"], "k-", label="atomistic")
    ax.plot(C["r"], C["g"], "r--", label="DeePCG")
    ax.plot(A["r"], H1["g"] - H2["g"], color="0.6", lw=0.8, label="atomistic half 1 − half 2")
    ax.plot(A["r"], C["g"] - A["g"], "b:", lw=0.8, label="CG − atomistic")
    ax.set(xlabel="r (Å)", ylabel=f"g_{pair}(r)")
    for ax, rc in zip((axes[0, 1], axes[0, 2]), (3.5, None)):
        for k, r_c in enumerate(RC_ADF if rc is None else (rc,)):
            ax.plot(A[f"adf{r_c}"][0], A[f"adf{r_c}"][1], "-", color=f"C{k}", label=f"atomistic r_c {r_c}")
            ax.plot(C[f"adf{r_c}"][0], C[f"adf{r_c}"][1], "--", color=f"C{k}", label=f"CG r_c {r_c}")
        ax.set(xlabel=f"θ {triple} (deg)", ylabel="P(θ) per degree")
    bins = np.linspace(0, 0.7, 50)
    ax = axes[1, 0]
    ax.hist(A["q6"], bins, density=True, histtype="step", color="k", label="atomistic")
    ax.hist(C["q6"], bins, density=True, histtype="step", color="r", ls="--", label="DeePCG")
    ax.set(xlabel=f"Q̄6 (O, r_c {RC_SHELL} Å)", ylabel="density")
    ax = axes[1, 1]
    edges = np.arange(-0.5, 12.5)
    ax.hist(A["n"], edges, density=True, histtype="step", color="k", label="atomistic")
    ax.hist(C["n"], edges, density=True, histtype="step", color="r", ls="--", label="DeePCG")
    ax.set(xlabel=f"O neighbours within {RC_SHELL} Å", ylabel="P(n)")
    ax = axes[1, 2]
    data = np.loadtxt(work / "cg" / "lcurve.out", ndmin=2)
    names = (work / "cg" / "lcurve.out").read_text().split("\n", 1)[0].lstrip("#").split()
    for name, style in (("rmse_f_trn", "C0-"), ("rmse_f_val", "C1-")):
        ax.semilogy(data[:, 0], data[:, names.index(name)] ** 2, style, label=f"{name}²")
    ax.axhline(noise["valid"], color="k", ls=":", label="held-out loss of the final model")
    ax.set(xlabel="training step", ylabel="force-matching loss (eV²/Å²)")
    for ax in axes.flat:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
