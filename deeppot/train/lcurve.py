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


def append(path: Path, text: str) -> None:
    """Append complete lines (one ``write``; a full disk is one line, not a traceback)."""
    from deeppot.fileio import write_error

    try:
        with open(path, "a") as handle:
            handle.write(text)
    except OSError as err:
        raise write_error(path, err) from None


def truncate_after(path: Path, step: int) -> None:
    """Keep the header and the complete lines of steps <= ``step`` (a restart resumes there).

    A line cut short by a kill (no newline) is dropped too, so the resumed run's lines follow
    the kept ones exactly as in an uninterrupted run. The file is replaced atomically.
    """
    from deeppot.fileio import atomic_write

    if not path.exists():
        return
    kept = []
    for ln in path.read_text(errors="replace").splitlines(keepends=True):
        if not ln.endswith("\n"):
            continue
        if ln.startswith("#"):
            kept.append(ln)
            continue
        fields = ln.split()
        if fields and fields[0].isdigit() and int(fields[0]) <= step:
            kept.append(ln)
    with atomic_write(path, "w") as handle:
        handle.write("".join(kept))


def set_aside(path: Path) -> Path:
    """Rename the learning curve of an earlier run to ``<name>.<N>`` (first free N); return the new name."""
    n = 1
    while path.with_name(f"{path.name}.{n}").exists():
        n += 1
    target = path.with_name(f"{path.name}.{n}")
    path.rename(target)
    return target


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
        if ax.lines:  # force-only training (DeePCG) has no energy columns
            ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)
