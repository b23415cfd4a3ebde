"""Graceful stop on SIGTERM / SIGINT: finish the current step, save, exit with one line.

Long loops (training, MD) run inside :func:`graceful_stop`; the handler only records the
signal, and the loop checks :attr:`StopRequest.requested` between steps, writes its final
checkpoint or restart file, and raises :class:`Interrupted`. The CLI turns that into
``deeppot: <command> stopped by SIGTERM at step N; resume with ...`` and exit status
128 + signal number, as shells expect. A second signal while saving is ignored: the save is
atomic anyway, and a user who wants the process gone at once uses SIGKILL.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Interrupted(Exception):
    """A run stopped cleanly on a signal after saving its state."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


class StopRequest:
    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    def _handle(self, signum, _frame) -> None:
        self.signum = self.signum or signum


@contextlib.contextmanager
def graceful_stop(signals=(signal.SIGTERM, signal.SIGINT)) -> Iterator[StopRequest]:
    """Install handlers that request a stop; restore the previous handlers afterwards.

    Outside the main thread (signals cannot be caught there) the request simply never fires.
    """
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {s: signal.signal(s, request._handle) for s in signals}
    try:
        yield request
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
