"""Progress of long work: a bar on a terminal, a periodic log line with the ETA elsewhere.

One observer for training, MD and data statistics, so every long command reports the same
way: on a terminal a tqdm bar with the current figures (RMSE, temperature, ns/day); in a
batch job or a pipe (no terminal) a ``logging`` line every ``log_every`` steps:
``train step 2000/10000  rmse_f 1.2e-01  ETA 812 s``.
"""

from __future__ import annotations

import logging
import sys
import time


class Progress:
    """Advance with :meth:`update`, set the figures shown with :meth:`show`; use as a context manager."""

    def __init__(self, total: int, desc: str, unit: str = "step", initial: int = 0, enabled: bool = True,
                 log_every: int | None = None, logger: logging.Logger | None = None):
        from tqdm import tqdm

        self.total, self.desc, self.done = int(total), desc, int(initial)
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.log_every = max(1, log_every or (self.total - self.done) // 20 or 1)
        self.log = logger or logging.getLogger(f"deeppot.{desc}")
        self.figures: dict[str, str] = {}
        self._start, self._t0 = self.done, time.perf_counter()
        self.bar = tqdm(total=self.total, initial=self.done, disable=not (enabled and self.tty), desc=desc,
                        unit=unit, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        self.done += n
        self.bar.update(n)
        if self.enabled and not self.tty and (self.done % self.log_every == 0 or self.done == self.total):
            self._log_line()

    def show(self, **figures: str) -> None:
        """Replace the figures shown beside the bar and in the log lines (already formatted)."""
        self.figures = {k: str(v) for k, v in figures.items()}
        self.bar.set_postfix(self.figures, refresh=False)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self._t0

    def eta_s(self) -> float:
        rate = self.elapsed_s / max(self.done - self._start, 1)
        return rate * (self.total - self.done)

    def _log_line(self) -> None:
        figures = "".join(f"  {k} {v}" for k, v in self.figures.items())
        self.log.info("%s step %d/%d%s  ETA %.0f s", self.desc, self.done, self.total, figures, self.eta_s())

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
