"""Structural validation of a deeppot water model against the DFT frames (issue: the seed's water result).

Compares g_OO, g_OH, g_HH, the O–O–O bond-angle distribution and the distribution of the
averaged Steinhardt order parameter Q̄6 of an NVT trajectory with those of the DFT frames
(examples/water/data, all systems), writes ``report.md``, ``structure.png`` and the curves as CSV.

    python validate.py work/md/traj.extxyz [--skip-ps 2] [--frame-interval-fs 20]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from deeppot.analysis import adf, rdf, read_frames, steinhardt  # noqa: E402

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "data"


def q6_histogram(frames, bins):
    values = steinhardt(frames, l=6, rcut=3.5, species="O", average=True).ravel()
    hist, _ = np.histogram(values, bins=bins, density=True)
    return values, hist


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trajectory")
    ap.add_argument("--skip-ps", type=float, default=2.0, help="equilibration to discard")
    ap.add_argument("--frame-interval-fs", type=float, default=20.0, help="time between trajectory frames")
    ap.add_argument("--out", default=str(HERE))
    args = ap.parse_args()
    out = Path(args.out)
    skip = int(args.skip_ps * 1000 / args.frame_interval_fs)
    md = read_frames(args.trajectory, skip=skip)
    dft = [f for name in ("data_0", "data_1", "data_2") for f in read_frames(DATA / name)]
    md_ps = len(md) * args.frame_interval_fs / 1000
    rows, curves = [], {}
    for a, b in (("O", "O"), ("O", "H"), ("H", "H")):
        r, g_md = rdf(md, (a, b), rmax=6.0, nbins=150)
        _, g_dft = rdf(dft, (a, b), rmax=6.0, nbins=150)
        curves[f"g_{a}{b}"] = (r, g_md, g_dft)
        k = np.argmax(np.abs(g_md - g_dft))
        rows.append((f"g_{a}{b}(r)", np.abs(g_md - g_dft).max(), f"at r = {r[k]:.2f} Å",
                     f"first peak {g_md.max():.2f} @ {r[np.argmax(g_md)]:.2f} Å vs {g_dft.max():.2f} @ "
                     f"{r[np.argmax(g_dft)]:.2f} Å"))
    for rc in (3.2, 3.5, 3.7):
        th, p_md = adf(md, ("O", "O", "O"), rcut=rc, nbins=90)
        _, p_dft = adf(dft, ("O", "O", "O"), rcut=rc, nbins=90)
        if rc == 3.5:
            curves["adf"] = (th, p_md, p_dft)
        rows.append((f"P(θ_OOO), r_c={rc} Å", np.abs(p_md - p_dft).max(), "(per degree)",
                     f"mean angle {np.sum(th * p_md) * 2:.1f}° vs {np.sum(th * p_dft) * 2:.1f}°"))
    bins = np.linspace(0.0, 0.7, 71)
    q_md, h_md = q6_histogram(md, bins)
    q_dft, h_dft = q6_histogram(dft, bins)
    centres = 0.5 * (bins[1:] + bins[:-1])
    curves["q6"] = (centres, h_md, h_dft)
    rows.append(("P(Q̄6), r_c=3.5 Å", np.abs(h_md - h_dft).max(), "(density)",
                 f"mean Q̄6 {q_md.mean():.4f} vs {q_dft.mean():.4f}"))

    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    labels = {"g_OO": ("r (Å)", "g_OO"), "g_OH": ("r (Å)", "g_OH"), "g_HH": ("r (Å)", "g_HH"),
              "adf": ("θ O-O-O (deg), r_c = 3.5 Å", "P(θ)"), "q6": ("Q̄6 (O, r_c = 3.5 Å)", "P(Q̄6)")}
    for ax, (key, (x, y_md, y_dft)) in zip(axes.flat, curves.items()):
        ax.plot(x, y_dft, "k-", lw=1.5, label="DFT frames")
        ax.plot(x, y_md, "r--", lw=1.5, label=f"deeppot MD ({md_ps:.1f} ps)")
        ax.set_xlabel(labels[key][0])
        ax.set_ylabel(labels[key][1])
        ax.legend(fontsize=8)
        np.savetxt(out / f"{key}.csv", np.column_stack([x, y_md, y_dft]), delimiter=",",
                   header="x,deeppot_md,dft", comments="")
    axes.flat[-1].axis("off")
    fig.tight_layout()
    fig.savefig(out / "structure.png", dpi=110)
    table = ["| observable | max abs difference | where | detail |", "|---|---|---|---|"]
    table += [f"| {name} | {diff:.4f} | {where} | {detail} |" for name, diff, where, detail in rows]
    text = "\n".join(table)
    print(text)
    (out / "results.md").write_text(
        f"MD: {len(md)} frames over {md_ps:.2f} ps after {args.skip_ps} ps equilibration; "
        f"DFT: {len(dft)} frames.\n\n{text}\n")


if __name__ == "__main__":
    main()
