"""Learning rate and loss prefactors over training (SCIENCE.md §2.8–2.9).

.. math:: \\eta(t) = \\max(\\eta_{stop},\\ \\eta_0\\, r^{\\lfloor t / s \\rfloor}),\\qquad
          r = (\\eta_{stop}/\\eta_0)^{s/T}

and each loss prefactor moves with the learning rate:
``p(t) = p_limit + (p_start - p_limit) · η(t)/η_0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class ExpDecayLR:
    start_lr: float
    stop_lr: float
    decay_steps: int
    numb_steps: int
    decay_rate: float | None = None
    warmup_steps: int = 0

    def __post_init__(self):
        if self.decay_steps >= self.numb_steps:
            # DeePMD-kit shrinks decay_steps when it would never decay
            self.decay_steps = 100 if self.numb_steps // 10 > 100 else self.numb_steps // 100 + 1
        if self.decay_rate is None:
            self.decay_rate = math.exp(math.log(self.stop_lr / self.start_lr) * self.decay_steps / self.numb_steps)

    def __call__(self, step: int) -> float:
        if self.warmup_steps and step < self.warmup_steps:
            return self.start_lr * (step + 1) / self.warmup_steps
        lr = self.start_lr * self.decay_rate ** ((step - self.warmup_steps) // self.decay_steps)
        return max(lr, self.stop_lr)


def prefactor(start: float, limit: float, lr: float, start_lr: float) -> float:
    return limit + (start - limit) * lr / start_lr
