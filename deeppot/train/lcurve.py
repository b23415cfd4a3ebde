"""DeePMD-kit's ``lcurve.out`` (same header and columns) and a learning-curve PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def header(keys: list[str], validation: bool) -> str:
    cols = []
    for key in keys:
        cols += [f"{key}_val", f"{key}_trn"] if validation else [f"{key}_trn"]
    return "# " + f"{'step':>5}" + "".join(f"{c:>13}" for c in cols) + f"{'lr':>11}\n"


def line(step: int, keys: list[str], train: dict, valid: dict | None, lr: float) -> str:
    values = []
    for key in keys:
        if valid is not None:
            values.append(valid.get(key, float("nan")))
        values.append(train.get(key, float("nan")))
    return f"{step:7d}" + "".join(f"{v:13.2e}" for v in values) + f"{lr:11.1e}\n"


def truncate_after(path: Path, step: int) -> None:
    """Drop lines written after ``step`` (a restart resumes from the checkpoint's step)."""
    if not path.exists():
        return
    kept = [ln for ln in path.read_text().splitlines(keepends=True)
            if ln.startswith("#") or not ln.strip() or int(ln.split()[0]) <= step]
    path.write_text("".join(kept))


def plot(path: Path, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(path) as handle:
        names = handle.readline().lstrip("#").split()
    data = np.atleast_2d(np.loadtxt(path))
    if data.shape[0] == 0:
        return
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, prefix, unit in ((axes[0], "rmse_e", "eV/atom"), (axes[1], "rmse_f", "eV/Å")):
        for k, name in enumerate(names):
            if name.startswith(prefix):
                ax.semilogy(data[:, 0], data[:, k], label=name)
        ax.set_xlabel("step")
        ax.set_ylabel(f"{prefix} ({unit})")
        ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
