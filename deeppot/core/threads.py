"""Run a compiled kernel that releases the GIL on several threads, each over its own range of items.

numba's own ``parallel=True`` starts an OpenMP pool that fights torch's (measured 3–10× slower
next to torch); plain Python threads calling ``nogil`` kernels share the cores without that.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

_POOL: ThreadPoolExecutor | None = None


def run_split(kernel, n: int, *args, threads: int = 1) -> None:
    """``kernel(*args, lo, hi)`` over the items 0..n, split into ``threads`` contiguous ranges."""
    global _POOL
    threads = max(1, min(threads, n))
    if threads == 1:
        kernel(*args, 0, n)
        return
    if _POOL is None or _POOL._max_workers < threads:
        _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="deeppot-kernel")
    edges = [n * k // threads for k in range(threads + 1)]
    jobs = [_POOL.submit(kernel, *args, lo, hi) for lo, hi in zip(edges[:-1], edges[1:])]
    for job in jobs:
        job.result()
