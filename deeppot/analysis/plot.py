"""CSV + PNG output for analysis results (several trajectories on one plot)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deeppot.fileio import atomic_write


def write_curves(out: Path, xname: str, yname: str, curves: list[tuple[str, np.ndarray, np.ndarray]],
                 xlabel: str, ylabel: str) -> None:
    """CSV with columns ``xname`` then one ``yname`` column per input (named ``yname`` if one input)."""
    x = curves[0][1]
    names = [yname] if len(curves) == 1 else [f"{yname}:{label}" for label, _, _ in curves]
    with atomic_write(out, "w") as handle:
        handle.write(",".join([xname, *names]) + "\n")
        np.savetxt(handle, np.column_stack([x] + [c[2] for c in curves]), delimiter=",", fmt="%.8g")
    plot(out.with_suffix(".png"), curves, xlabel, ylabel)


def plot(png: Path, curves, xlabel: str, ylabel: str, kind: str = "line") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, x, y in curves:
        if kind == "hist":
            ax.hist(y, bins=60, density=True, histtype="step", label=label)
        else:
            ax.plot(x, y, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
