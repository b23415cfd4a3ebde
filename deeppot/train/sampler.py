"""Which frames make each batch, reproducibly (the sampling state goes into checkpoints).

As DeePMD-kit: every batch comes from one system, chosen with probability proportional to its
number of batches (``prob_sys_size``) or uniformly; within a system frames are visited in a
shuffled order that is redrawn after each pass. ``batch_size`` "auto" means the smallest
count with batch·natoms ≥ 32 ("auto:N": ≥ N).
"""

from __future__ import annotations

import math

import numpy as np

from deeppot.data.system import System
from deeppot.errors import ConfigError


def resolve_batch_size(spec, systems: list[System]) -> list[int]:
    if isinstance(spec, list):
        if len(spec) != len(systems):
            raise ConfigError(f"batch_size list has {len(spec)} entries for {len(systems)} systems")
        return [int(b) for b in spec]
    if isinstance(spec, int):
        return [spec] * len(systems)
    if isinstance(spec, str) and spec.startswith("auto"):
        target = int(spec.split(":")[1]) if ":" in spec else 32
        return [max(1, math.ceil(target / s.natoms)) for s in systems]
    raise ConfigError(f"batch_size {spec!r}: use an integer, a list, \"auto\" or \"auto:N\"")


def block_probs(spec: str, nbatch: np.ndarray) -> np.ndarray:
    """DeePMD-kit's ``prob_sys_size;start:end:weight;...``: systems [start, end) share ``weight``
    (weights normalised over the blocks), in proportion to their number of batches within a block."""
    probs = np.zeros(len(nbatch))
    blocks = [b.split(":") for b in spec.split(";")[1:]]
    total = sum(float(w) for _, _, w in blocks)
    if total <= 0:
        raise ConfigError(f"auto_prob {spec!r}: the block weights sum to 0")
    for start, stop, weight in blocks:
        start, stop = int(start), int(stop)
        if stop > len(nbatch):
            raise ConfigError(f"auto_prob {spec!r}: block {start}:{stop} beyond the {len(nbatch)} systems")
        part = nbatch[start:stop]
        probs[start:stop] = part / part.sum() * float(weight) / total
    if not probs.sum() > 0:
        raise ConfigError(f"auto_prob {spec!r}: every system has probability 0")
    return probs


class BatchSampler:
    def __init__(self, systems: list[System], batch_size, seed, auto_prob: str = "prob_sys_size",
                 sys_probs=None):
        self.systems = systems
        self.batch_size = resolve_batch_size(batch_size, systems)
        self.batch_size = [min(b, s.nframes) for b, s in zip(self.batch_size, systems)]
        nbatch = np.array([max(1, s.nframes // b) for s, b in zip(systems, self.batch_size)], dtype=float)
        if sys_probs is not None:
            if len(sys_probs) != len(systems):
                raise ConfigError(f"sys_probs has {len(sys_probs)} entries for {len(systems)} systems")
            probs = np.asarray(sys_probs, dtype=float)
        elif auto_prob == "prob_uniform":
            probs = np.ones(len(systems))
        elif auto_prob == "prob_sys_size":
            probs = nbatch
        elif auto_prob.startswith("prob_sys_size;"):
            probs = block_probs(auto_prob, nbatch)
        else:
            raise ConfigError(f"auto_prob {auto_prob!r} is not supported (prob_sys_size, prob_uniform)")
        self.probs = probs / probs.sum()
        self.rng = np.random.default_rng(seed)
        self.order = [self.rng.permutation(s.nframes) for s in systems]
        self.cursor = [0] * len(systems)

    def next(self) -> tuple[int, np.ndarray]:
        """(system index, frame indices) of the next batch."""
        k = int(self.rng.choice(len(self.systems), p=self.probs))
        b = self.batch_size[k]
        if self.cursor[k] + b > len(self.order[k]):
            self.order[k] = self.rng.permutation(self.systems[k].nframes)
            self.cursor[k] = 0
        frames = self.order[k][self.cursor[k]: self.cursor[k] + b]
        self.cursor[k] += b
        return k, frames

    def state(self) -> dict:
        return {"rng": self.rng.bit_generator.state, "order": [o.tolist() for o in self.order],
                "cursor": list(self.cursor)}

    def load_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
        self.order = [np.asarray(o, dtype=np.int64) for o in state["order"]]
        self.cursor = list(state["cursor"])
