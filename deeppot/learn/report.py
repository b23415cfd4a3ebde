"""Per-iteration report of the loop: a text table, the same as JSON, and a PNG.

Columns: the stage explored and its temperatures, the fractions of accurate / candidate /
failed frames, labels added (and failed calculations) this iteration and in total, the
held-out errors of the committee trained at the start of the iteration, and the wall clock.
"""

from __future__ import annotations

import json
from pathlib import Path

from deeppot.fileio import atomic_path, atomic_write

COLUMNS = ("iter", "stage", "T_K", "frames", "accurate", "candidate", "failed", "labels", "label_fail",
           "labels_tot", "rmse_e_meV_atom", "rmse_f_eV_A", "wall_s")


def rows(summaries: list[dict]) -> list[list[str]]:
    out = []
    for s in summaries:
        n = max(s["frames"], 1)
        ho = s.get("held_out") or {}
        out.append([str(s["iteration"]), str(s["stage"]), "/".join(f"{t:g}" for t in s["temperatures_K"]),
                    str(s["frames"]), f"{s['accurate'] / n:.3f}", f"{s['candidate'] / n:.3f}", f"{s['failed'] / n:.3f}",
                    str(s["labels_added"]), str(s["labels_failed"]), str(s["labels_total"]),
                    f"{1000 * ho['rmse_e_eV_atom']:.2f}" if ho else "-", f"{ho['rmse_f_eV_A']:.4f}" if ho else "-",
                    f"{s['seconds']:.0f}"])
    return out


def table(summaries: list[dict]) -> str:
    body = [list(COLUMNS), *rows(summaries)]
    widths = [max(len(r[c]) for r in body) for c in range(len(COLUMNS))]
    return "\n".join("  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in body) + "\n"


def write_report(root: Path, summaries: list[dict], cfg: dict) -> None:
    """``report.txt``, ``report.json`` and ``report.png`` in the loop's work_dir."""
    root = Path(root)
    with atomic_write(root / "report.txt", "w") as handle:
        handle.write(table(summaries))
    with atomic_write(root / "report.json", "w") as handle:
        json.dump(summaries, handle, indent=1)
    plot(root / "report.png", summaries, cfg["select"]["converge_accurate"])


def plot(path: Path, summaries: list[dict], threshold: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    its = [s["iteration"] for s in summaries]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for key, color in (("accurate", "tab:green"), ("candidate", "tab:orange"), ("failed", "tab:red")):
        ax1.plot(its, [s[key] / max(s["frames"], 1) for s in summaries], "o-", color=color, label=key)
    ax1.axhline(threshold, color="gray", ls="--", lw=1, label=f"converge {threshold:g}")
    ax1.set(xlabel="iteration", ylabel="fraction of explored frames", ylim=(-0.02, 1.02))
    ax1.legend(fontsize=8)
    ax2.plot(its, [s["labels_total"] for s in summaries], "s-", color="tab:blue", label="labels (loop)")
    ax2.set(xlabel="iteration", ylabel="labelled frames added")
    if any(s.get("held_out") for s in summaries):
        ax3 = ax2.twinx()
        ax3.plot([s["iteration"] for s in summaries if s.get("held_out")],
                 [s["held_out"]["rmse_f_eV_A"] for s in summaries if s.get("held_out")], "^-", color="tab:purple")
        ax3.set_ylabel("held-out force RMSE, eV/Å", color="tab:purple")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
