"""Grand canonical Monte Carlo of 1-D hard rods in an external potential, vectorised over replicas.

The rods' centres live in ``[0, length]`` (hard walls at the contact planes 0 and ``length``).
Rods cannot pass each other, so each replica's positions stay sorted and a rod's only possible
overlaps are its two neighbours: displacement moves are made for every other rod at once
(checkerboard), insertions and deletions once per replica per step, all as NumPy array
operations over ``replicas`` independent systems. Each replica may have its own external
potential and chemical potential, which is how the training data of :mod:`.learned` is made.

The density histogram of each replica is accumulated after ``equilibration`` sweeps. Error bars
of a potential shared by all replicas are the standard error over replicas (independent chains);
the result also keeps each replica's own histogram, and those of the two halves of the run
(nearly independent estimates, which the learned functional uses as input and target).

Units: length in σ's unit, energies in k_BT, Λ = 1 (so the fugacity is e^{βμ}).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from deeppot.errors import ConfigError

log = logging.getLogger("deeppot.cdft")


@dataclass
class RodsMC:
    """Per-replica density histograms and particle numbers."""

    edges: np.ndarray  # (bins + 1,)
    density: np.ndarray  # (replicas, bins): mean number per bin width
    n_mean: np.ndarray  # (replicas,)
    sweeps: int
    acceptance: dict
    halves: np.ndarray | None = None  # (2, replicas, bins): the densities of the two halves of the run

    @property
    def centres(self) -> np.ndarray:
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    def mean(self) -> tuple[np.ndarray, np.ndarray]:
        """Replica-averaged density and its standard error (for a potential shared by all replicas)."""
        r = self.density.shape[0]
        return self.density.mean(0), self.density.std(0, ddof=1) / np.sqrt(r)


def _interp_rows(table: np.ndarray, dx: float, x: np.ndarray) -> np.ndarray:
    """Linear interpolation of a uniform table (replicas, m) at positions x (replicas, k)."""
    m = table.shape[1]
    t = np.clip(x / dx, 0.0, m - 1.000001)
    i = np.floor(t).astype(int)
    w = t - i
    left = np.take_along_axis(table, i, axis=1)
    right = np.take_along_axis(table, i + 1, axis=1)
    return (1 - w) * left + w * right


def grand_canonical_rods(v_table_kT: np.ndarray, length: float, mu_kT, *, sigma: float = 1.0, replicas: int = 64,
                         sweeps: int = 20000, equilibration: int = 2000, bins: int = 100, step: float | None = None,
                         seed: int = 0, log_every: int = 5000) -> RodsMC:
    """Run GCMC; ``v_table_kT`` is βv on ``m`` uniform points spanning [0, length] ((m,) or (replicas, m))."""
    v_table = np.atleast_2d(np.asarray(v_table_kT, dtype=float))
    if v_table.shape[0] == 1:
        v_table = np.repeat(v_table, replicas, axis=0)
    if v_table.shape[0] != replicas or v_table.shape[1] < 2 or not np.all(np.isfinite(v_table)):
        raise ConfigError("rod MC: v_table must be finite, with 1 or `replicas` rows of ≥ 2 points")
    if not length > sigma > 0:
        raise ConfigError(f"rod MC: length {length!r} must exceed sigma {sigma!r} > 0")
    dx_table = length / (v_table.shape[1] - 1)
    mu = np.broadcast_to(np.asarray(mu_kT, dtype=float), (replicas,)).copy()
    rng = np.random.default_rng(seed)
    capacity = int(np.floor(length / sigma)) + 1
    pos = np.full((replicas, capacity), np.inf)
    count = np.zeros(replicas, dtype=int)
    step = 0.5 * sigma if step is None else step
    rows = np.arange(replicas)
    cols = np.arange(capacity)
    edges = np.linspace(0.0, length, bins + 1)
    hist = np.zeros((2, replicas, bins))  # first and second half of the production sweeps
    n_sum = np.zeros(replicas)
    tried = {"move": 0, "insert": 0, "delete": 0}
    accepted = dict.fromkeys(tried, 0)
    start = time.perf_counter()

    def v_at(x):
        return _interp_rows(v_table, dx_table, np.where(np.isfinite(x), x, 0.0))

    for sweep in range(sweeps + equilibration):
        # displacements, checkerboard: even-indexed rods, then odd-indexed ones
        for parity in (0, 1):
            idx = cols[parity::2]
            old = pos[:, idx]
            valid = idx[None, :] < count[:, None]
            new = old + step * rng.uniform(-1.0, 1.0, old.shape)
            left = np.where(idx > 0, pos[:, np.maximum(idx - 1, 0)] + sigma, 0.0)
            right_pos = pos[:, np.minimum(idx + 1, capacity - 1)]
            right = np.where(idx + 1 < capacity, np.minimum(right_pos - sigma, length), length)
            ok = valid & (new >= left) & (new <= right)
            dv = v_at(new) - v_at(old)
            ok &= rng.random(old.shape) < np.exp(-np.clip(dv, -50, 50))
            pos[:, idx] = np.where(ok, new, old)
            tried["move"] += int(valid.sum())
            accepted["move"] += int(ok.sum())
        # one insertion or deletion attempt per replica
        insert = rng.random(replicas) < 0.5
        x = rng.uniform(0.0, length, replicas)
        k = (pos < x[:, None]).sum(1)
        left = np.where(k > 0, pos[rows, np.maximum(k - 1, 0)], -np.inf)
        right = np.where(k < capacity, pos[rows, np.minimum(k, capacity - 1)], np.inf)
        fits = (x - left >= sigma) & (right - x >= sigma) & (count < capacity)
        v_x = v_at(x[:, None])[:, 0]
        p_ins = np.exp(np.clip(mu - v_x, -50, 50)) * length / (count + 1)
        do_ins = insert & fits & (rng.random(replicas) < p_ins)
        j = (rng.random(replicas) * np.maximum(count, 1)).astype(int)
        x_del = pos[rows, j]
        v_del = v_at(np.where(count > 0, x_del, 0.0)[:, None])[:, 0]
        p_del = count / length * np.exp(np.clip(v_del - mu, -50, 50))
        do_del = ~insert & (count > 0) & (rng.random(replicas) < p_del)
        tried["insert"] += int(insert.sum())
        tried["delete"] += int((~insert).sum())
        accepted["insert"] += int(do_ins.sum())
        accepted["delete"] += int(do_del.sum())
        if do_ins.any() or do_del.any():
            pos[rows[do_ins], count[do_ins]] = x[do_ins]
            pos[rows[do_del], j[do_del]] = np.inf
            count += do_ins.astype(int) - do_del.astype(int)
            pos.sort(axis=1)
        if sweep >= equilibration:
            finite = np.isfinite(pos)
            b = np.clip((np.where(finite, pos, 0.0) / length * bins).astype(int), 0, bins - 1)
            half = int(sweep - equilibration >= sweeps // 2)
            np.add.at(hist[half], (np.repeat(rows, capacity)[finite.ravel()], b[finite]), 1.0)
            n_sum += count
        if log_every and (sweep + 1) % log_every == 0:
            done = (sweep + 1) / (sweeps + equilibration)
            elapsed = time.perf_counter() - start
            log.info("rod MC: sweep %d/%d, <N> = %.3f, ETA %.0f s", sweep + 1, sweeps + equilibration,
                     count.mean(), elapsed * (1 - done) / done)
    width = length / bins
    rates = {k: accepted[k] / max(tried[k], 1) for k in tried}
    halves = np.stack([hist[0] / ((sweeps // 2) * width), hist[1] / ((sweeps - sweeps // 2) * width)])
    return RodsMC(edges, hist.sum(0) / (sweeps * width), n_sum / sweeps, sweeps, rates, halves)
