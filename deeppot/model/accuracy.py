"""Errors of a model on labelled data (``deeppot test``), worded as DeePMD-kit's ``dp test``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deeppot.data.system import System
from deeppot.model.deep_pot import DeepPot


@dataclass
class Errors:
    """Accumulated squared/absolute errors over frames of possibly several systems."""

    nframes: int = 0
    sums: dict = field(default_factory=dict)

    def add(self, key: str, diff: np.ndarray) -> None:
        s = self.sums.setdefault(key, [0.0, 0.0, 0])
        s[0] += float(np.sum(diff**2))
        s[1] += float(np.sum(np.abs(diff)))
        s[2] += diff.size

    def merge(self, other: Errors) -> None:
        self.nframes += other.nframes
        for key, (sq, ab, n) in other.sums.items():
            s = self.sums.setdefault(key, [0.0, 0.0, 0])
            s[0] += sq
            s[1] += ab
            s[2] += n

    def rmse(self, key: str) -> float | None:
        s = self.sums.get(key)
        return None if not s else (s[0] / s[2]) ** 0.5

    def mae(self, key: str) -> float | None:
        s = self.sums.get(key)
        return None if not s else s[1] / s[2]


def accumulate_errors(dp: DeepPot, system: System, nframes: int | None, errors: Errors,
                detail: dict | None = None) -> None:
    nf = system.nframes if not nframes else min(nframes, system.nframes)
    coord = system.coord[:nf].reshape(nf, -1)
    cell = None if system.box is None else system.box[:nf].reshape(nf, 9)
    e, f, v = dp.eval(coord, cell, system.atype)
    n = system.natoms
    errors.nframes += nf
    if system.energy is not None:
        de = e[:, 0] - system.energy[:nf]
        errors.add("e", de)
        errors.add("e_atom", de / n)
    if system.force is not None:
        errors.add("f", (f - system.force[:nf]).reshape(-1))
    if system.virial is not None:
        dv = v - system.virial[:nf].reshape(nf, 9)
        errors.add("v", dv.reshape(-1))
        errors.add("v_atom", dv.reshape(-1) / n)
    if detail is not None:
        detail.setdefault("e", []).append(np.c_[system.energy[:nf] if system.energy is not None
                                                 else np.full(nf, np.nan), e[:, 0]])
        detail.setdefault("e_atom", []).append(detail["e"][-1] / n)
        if system.force is not None:
            detail.setdefault("f", []).append(np.c_[system.force[:nf].reshape(-1, 3), f.reshape(-1, 3)])
        if system.virial is not None:
            detail.setdefault("v", []).append(np.c_[system.virial[:nf].reshape(nf, 9), v])


def report_lines(errors: Errors) -> list[str]:
    lines = [f"# number of test data : {errors.nframes}"]
    rows = [("Energy MAE        ", "mae", "e", "eV"), ("Energy RMSE       ", "rmse", "e", "eV"),
            ("Energy MAE/Natoms ", "mae", "e_atom", "eV"), ("Energy RMSE/Natoms", "rmse", "e_atom", "eV"),
            ("Force  MAE        ", "mae", "f", "eV/A"), ("Force  RMSE       ", "rmse", "f", "eV/A"),
            ("Virial MAE        ", "mae", "v", "eV"), ("Virial RMSE       ", "rmse", "v", "eV"),
            ("Virial MAE/Natoms ", "mae", "v_atom", "eV"), ("Virial RMSE/Natoms", "rmse", "v_atom", "eV")]
    for label, kind, key, unit in rows:
        value = getattr(errors, kind)(key)
        if value is not None:
            lines.append(f"{label} : {value:e} {unit}")
    return lines


def as_json(errors: Errors) -> dict:
    return {"nframes": errors.nframes, "energy_rmse_eV": errors.rmse("e"),
            "energy_rmse_per_atom_eV": errors.rmse("e_atom"), "force_rmse_eV_per_A": errors.rmse("f"),
            "virial_rmse_per_atom_eV": errors.rmse("v_atom")}


def write_detail(prefix: str, detail: dict) -> None:
    """DeePMD-kit's detail files (``.e.out``, ``.e_peratom.out``, ``.f.out``, ``.v.out``) and a parity PNG."""
    from deeppot.fileio import atomic_write

    headers = {"e": "data_e pred_e", "e_atom": "data_e pred_e", "f": "data_fx data_fy data_fz pred_fx pred_fy pred_fz",
               "v": " ".join([f"data_v{i}" for i in range(9)] + [f"pred_v{i}" for i in range(9)])}
    names = {"e": "e", "e_atom": "e_peratom", "f": "f", "v": "v"}
    for key, parts in detail.items():
        with atomic_write(Path(f"{prefix}.{names[key]}.out"), "w") as handle:
            np.savetxt(handle, np.concatenate(parts), header=headers[key])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [k for k in ("e_atom", "f") if k in detail]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4.5), squeeze=False)
    for ax, key in zip(axes[0], panels):
        data = np.concatenate(detail[key])
        half = data.shape[1] // 2
        ref, pred = data[:, :half].ravel(), data[:, half:].ravel()
        ax.plot(ref, pred, ".", ms=2)
        lo, hi = np.nanmin(ref), np.nanmax(ref)
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel("DFT " + ("energy per atom (eV)" if key == "e_atom" else "force (eV/Å)"))
        ax.set_ylabel("model")
    fig.tight_layout()
    fig.savefig(f"{prefix}.parity.png", dpi=120)
    plt.close(fig)
