"""Statistics that initialise a model from data, as DeePMD-kit does before training.

* environment-matrix mean/std (davg/dstd) per centre type (SCIENCE.md §2.2);
* per-type atomic energy bias by least squares, min ‖N b − E‖ over sampled frames, where N
  holds the atom counts per type (SCIENCE.md §2.6; PyTorch-backend convention, per frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from deeppot.core.descriptor import EdgeBatch
from deeppot.core.neighbor import build_edges
from deeppot.model.energy_model import EnergyModel


@dataclass
class StatFrames:
    """Frames of one system sampled for statistics (numpy, Å / eV).

    coord (nf, n, 3), atype (n,) indices into the model's type_map, box (nf, 3, 3) or None,
    energy (nf,) or None.
    """

    coord: np.ndarray
    atype: np.ndarray
    box: np.ndarray | None
    energy: np.ndarray | None = None


def edge_batches(model: EnergyModel, frames: list[StatFrames]) -> list[EdgeBatch]:
    batches = []
    for sample in frames:
        atype = torch.as_tensor(sample.atype, dtype=torch.long)
        for f in range(sample.coord.shape[0]):
            pos = torch.as_tensor(sample.coord[f], dtype=model.dtype)
            cell = None if sample.box is None else sample.box[f]
            edges = build_edges(pos, cell, model.rcut, dtype=model.dtype)
            batches.append(EdgeBatch(edges.vectors(pos), edges.center, edges.neighbor, atype))
    return batches


def energy_bias(frames: list[StatFrames], ntypes: int, rcond: float | None = None) -> np.ndarray:
    """Least-squares atomic energies per type from frames with energy labels."""
    rows, targets = [], []
    for sample in frames:
        if sample.energy is None:
            continue
        counts = np.bincount(sample.atype, minlength=ntypes).astype(np.float64)
        rows.append(np.repeat(counts[None, :], len(sample.energy), axis=0))
        targets.append(np.asarray(sample.energy, dtype=np.float64).reshape(-1))
    if not rows:
        return np.zeros(ntypes)
    bias, *_ = np.linalg.lstsq(np.concatenate(rows), np.concatenate(targets), rcond=rcond)
    return bias


def compute_input_stats(model: EnergyModel, frames: list[StatFrames], rcond: float | None = None) -> None:
    """Set the descriptor's davg/dstd and the model's out_bias from sampled frames."""
    model.descriptor.compute_input_stats(edge_batches(model, frames))
    bias = energy_bias(frames, model.ntypes, rcond)
    with torch.no_grad():
        model.out_bias.copy_(torch.as_tensor(bias, dtype=torch.float64))
