"""Selection: trust levels on the model deviation, then farthest-point sampling among candidates.

Classification (SCIENCE.md §4.2, dpgen ``_select_by_model_devi_standard``) on ε_F,max
(``max_devi_f``) and, when given, its virial analogue ``max_devi_v``:

* failed     if ε ≥ σ_hi (either criterion),
* candidate  if σ_lo ≤ ε < σ_hi (either criterion, and not failed),
* accurate   otherwise.

DP-GEN labels a random subset of the candidates; consecutive MD frames are near-duplicates,
so a random pick wastes labels on them. Here at most ``fp_task_max`` candidates are chosen
by farthest-point sampling in descriptor space: start from the most uncertain candidate, then
repeatedly take the one farthest (Euclidean, after standardising each feature) from all
already chosen.
"""

from __future__ import annotations

import numpy as np

ACCURATE, CANDIDATE, FAILED = 0, 1, 2
NAMES = {ACCURATE: "accurate", CANDIDATE: "candidate", FAILED: "failed"}


def classify(max_devi_f: np.ndarray, trust_lo: float, trust_hi: float, max_devi_v: np.ndarray | None = None,
             trust_lo_v: float | None = None, trust_hi_v: float | None = None) -> np.ndarray:
    """ACCURATE / CANDIDATE / FAILED of each frame (int array)."""
    devi_f = np.asarray(max_devi_f, dtype=np.float64)
    failed = devi_f >= trust_hi
    candidate = devi_f >= trust_lo
    if trust_lo_v is not None and max_devi_v is not None:
        devi_v = np.asarray(max_devi_v, dtype=np.float64)
        failed |= devi_v >= trust_hi_v
        candidate |= devi_v >= trust_lo_v
    # a NaN deviation (the models blew up) is not accurate
    failed |= ~np.isfinite(devi_f)
    out = np.full(devi_f.shape, ACCURATE, dtype=np.int64)
    out[candidate] = CANDIDATE
    out[failed] = FAILED
    return out


def farthest_point_sampling(features: np.ndarray, count: int, first: int = 0) -> np.ndarray:
    """Indices of ``count`` rows of ``features`` (n, d), each the farthest from those already chosen.

    Features are standardised per column (a constant column is ignored) so that no descriptor
    component dominates by its scale. Exact duplicates are picked only after every distinct row.
    """
    x = np.asarray(features, dtype=np.float64)
    n = x.shape[0]
    count = min(count, n)
    if count <= 0:
        return np.zeros(0, dtype=np.int64)
    scale = x.std(axis=0)
    x = (x - x.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    chosen = [int(first)]
    dist = np.linalg.norm(x - x[first], axis=1)
    for _ in range(count - 1):
        k = int(np.argmax(dist))
        chosen.append(k)
        dist = np.minimum(dist, np.linalg.norm(x - x[k], axis=1))
    return np.asarray(chosen, dtype=np.int64)


def frame_features(model, coord: np.ndarray, box: np.ndarray | None, atype: np.ndarray) -> np.ndarray:
    """Per-frame descriptor fingerprint: per type, the mean and std over atoms of the model's descriptor.

    ``model`` is an :class:`~deeppot.model.energy_model.EnergyModel`; shapes coord (nf, n, 3),
    box (nf, 3, 3) or None, atype (n,) indexing the model's type_map → (nf, 2 · ntypes · dim).
    """
    import torch

    feats = []
    at = torch.as_tensor(atype, dtype=torch.long)
    with torch.no_grad():
        for f in range(coord.shape[0]):
            batch, _ = model.make_batch(torch.as_tensor(coord[f:f + 1], dtype=model.dtype), at[None],
                                        None if box is None else torch.as_tensor(box[f:f + 1], dtype=model.dtype))
            d = model.descriptor(batch).reshape(len(atype), -1).double().numpy()
            parts = []
            for t in range(model.ntypes):
                rows = d[atype == t]
                parts += [rows.mean(0), rows.std(0)] if len(rows) else [np.zeros(d.shape[1])] * 2
            feats.append(np.concatenate(parts))
    return np.asarray(feats)


def choose(categories: np.ndarray, max_devi_f: np.ndarray, fp_task_max: int, fp_task_min: int = 1,
           features_for=None) -> np.ndarray:
    """Frame indices to label: candidates only, at most fp_task_max, by farthest-point sampling.

    With fewer candidates than ``fp_task_min`` nothing is chosen (DP-GEN's fp_task_min).
    ``features_for(indices)`` returns the (len(indices), d) features of those frames; it is
    called only when there are more candidates than fp_task_max (descriptors cost time).
    """
    cand = np.flatnonzero(np.asarray(categories) == CANDIDATE)
    if len(cand) < max(fp_task_min, 1):
        return np.zeros(0, dtype=np.int64)
    if len(cand) <= fp_task_max:
        return cand
    first = int(np.argmax(np.asarray(max_devi_f)[cand]))
    return np.sort(cand[farthest_point_sampling(features_for(cand), fp_task_max, first)])
