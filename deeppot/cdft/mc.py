"""Grand canonical Monte Carlo of 1-D hard rods in an external potential, compiled, over many replicas.

The rods' centres live in ``[0, length]`` (hard walls at the contact planes 0 and ``length``).
Rods cannot pass each other, so each replica's positions stay sorted and a rod's only possible
overlaps are its two neighbours: every sweep tries a displacement of each rod, then one
insertion or deletion, in a numba-compiled loop per replica (independent systems, spread over
threads). Each replica may have its own external potential and chemical potential, which is how
the training data of :mod:`.learned` is made.

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

import numba
import numpy as np

from deeppot.core.threads import run_split
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


@numba.njit(cache=True, nogil=True, inline="always")
def _v_at(v_row, dx_table, x):
    """Linear interpolation of one replica's uniform βv table at x."""
    m = v_row.shape[0]
    t = min(max(x / dx_table, 0.0), m - 1.000001)
    i = int(t)
    w = t - i
    return (1.0 - w) * v_row[i] + w * v_row[i + 1]


@numba.njit(cache=True, nogil=True)
def _run_replicas(v_table, dx_table, length, mu, sigma, step, sweeps, equilibration, seeds, hist, n_sum, counts,
                  lo, hi):
    """Replicas lo..hi: displacement of every rod, then one insertion or deletion attempt, per sweep.

    ``counts[r]`` = tried and accepted moves, insertions, deletions. Each replica seeds numba's
    generator with its own seed, so results do not depend on which thread ran it.
    """
    capacity = int(np.floor(length / sigma)) + 1
    bins = hist.shape[2]
    pos = np.empty(capacity)
    for r in range(lo, hi):
        np.random.seed(seeds[r])
        v_row = v_table[r]
        n = 0
        for sweep in range(sweeps + equilibration):
            for i in range(n):
                old = pos[i]
                new = old + step * (2.0 * np.random.random() - 1.0)
                left = pos[i - 1] + sigma if i > 0 else 0.0
                right = pos[i + 1] - sigma if i + 1 < n else length
                counts[r, 0] += 1
                if left <= new <= right and new <= length:
                    dv = _v_at(v_row, dx_table, new) - _v_at(v_row, dx_table, old)
                    if dv <= 0.0 or np.random.random() < np.exp(-min(dv, 50.0)):
                        pos[i] = new
                        counts[r, 1] += 1
            if np.random.random() < 0.5:  # insertion
                counts[r, 2] += 1
                x = length * np.random.random()
                k = 0
                while k < n and pos[k] < x:
                    k += 1
                fits = n < capacity and (k == 0 or x - pos[k - 1] >= sigma) and (k == n or pos[k] - x >= sigma)
                if fits:
                    p = np.exp(min(max(mu[r] - _v_at(v_row, dx_table, x), -50.0), 50.0)) * length / (n + 1)
                    if np.random.random() < p:
                        for j in range(n, k, -1):
                            pos[j] = pos[j - 1]
                        pos[k] = x
                        n += 1
                        counts[r, 3] += 1
            else:  # deletion
                counts[r, 4] += 1
                if n > 0:
                    j = min(int(np.random.random() * n), n - 1)
                    p = n / length * np.exp(min(max(_v_at(v_row, dx_table, pos[j]) - mu[r], -50.0), 50.0))
                    if np.random.random() < p:
                        for m in range(j, n - 1):
                            pos[m] = pos[m + 1]
                        n -= 1
                        counts[r, 5] += 1
            if sweep >= equilibration:
                half = 1 if sweep - equilibration >= sweeps // 2 else 0
                for i in range(n):
                    b = min(max(int(pos[i] / length * bins), 0), bins - 1)
                    hist[half, r, b] += 1.0
                n_sum[r] += n


def grand_canonical_rods(v_table_kT: np.ndarray, length: float, mu_kT, *, sigma: float = 1.0, replicas: int = 64,
                         sweeps: int = 20000, equilibration: int = 2000, bins: int = 100, step: float | None = None,
                         seed: int = 0, log_every: int = 5000, threads: int = 1) -> RodsMC:
    """Run GCMC; ``v_table_kT`` is βv on ``m`` uniform points spanning [0, length] ((m,) or (replicas, m)).

    ``threads`` replicas run at once (compiled loops that release the GIL); ``log_every`` > 0
    logs progress with an ETA after every block of replicas (about ``replicas · log_every / sweeps``).
    """
    v_table = np.atleast_2d(np.asarray(v_table_kT, dtype=float))
    if v_table.shape[0] == 1:
        v_table = np.repeat(v_table, replicas, axis=0)
    if v_table.shape[0] != replicas or v_table.shape[1] < 2 or not np.all(np.isfinite(v_table)):
        raise ConfigError("rod MC: v_table must be finite, with 1 or `replicas` rows of ≥ 2 points")
    if not length > sigma > 0:
        raise ConfigError(f"rod MC: length {length!r} must exceed sigma {sigma!r} > 0")
    if sweeps < 2 or equilibration < 0 or bins < 1:
        raise ConfigError(f"rod MC: need sweeps ≥ 2, equilibration ≥ 0, bins ≥ 1 (got {sweeps}, {equilibration}, "
                          f"{bins})")
    v_table = np.ascontiguousarray(v_table)
    dx_table = length / (v_table.shape[1] - 1)
    mu = np.broadcast_to(np.asarray(mu_kT, dtype=float), (replicas,)).copy()
    step = 0.5 * sigma if step is None else float(step)
    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, replicas)
    hist = np.zeros((2, replicas, bins))  # first and second half of the production sweeps
    n_sum = np.zeros(replicas)
    counts = np.zeros((replicas, 6), dtype=np.int64)
    block = replicas if not log_every else max(threads, min(replicas, replicas * log_every // max(sweeps, 1)))
    start = time.perf_counter()
    for lo in range(0, replicas, block):
        hi = min(lo + block, replicas)
        run_split(_run_replicas, hi - lo, v_table[lo:hi], dx_table, float(length), mu[lo:hi], float(sigma), step,
                  int(sweeps), int(equilibration), seeds[lo:hi], hist[:, lo:hi], n_sum[lo:hi], counts[lo:hi],
                  threads=threads)
        if log_every and hi < replicas:
            elapsed = time.perf_counter() - start
            log.info("rod MC: %d/%d replicas, <N> = %.3f, ETA %.0f s", hi, replicas, n_sum[:hi].mean() / sweeps,
                     elapsed * (replicas - hi) / hi)
    width = length / bins
    tried, accepted = counts[:, 0::2].sum(0), counts[:, 1::2].sum(0)
    rates = {k: int(a) / max(int(t), 1) for k, t, a in zip(("move", "insert", "delete"), tried, accepted)}
    halves = np.stack([hist[0] / ((sweeps // 2) * width), hist[1] / ((sweeps - sweeps // 2) * width)])
    return RodsMC(np.linspace(0.0, length, bins + 1), hist.sum(0) / (sweeps * width), n_sum / sweeps, sweeps, rates,
                  halves)
