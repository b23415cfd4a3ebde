"""Run a compiled kernel that releases the GIL on several threads, each over its own range of items.

numba's own ``parallel=True`` starts an OpenMP pool that fights torch's (measured 3–10× slower
next to torch); plain Python threads calling ``nogil`` kernels share the cores without that.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

_POOL: ThreadPoolExecutor | None = None

#: threads of the memory-bound elementwise kernels of training and inference (embed_tangent.py,
#: contract.py). One: next to torch's OpenMP pool, whose idle workers spin for a while after each
#: parallel region, a second Python thread was slower, not faster, on 2 cores (float32 training
#: step 74-93 ms with one kernel thread, 85-97 ms with two; 192-atom inference 32-42 ms against
#: 42-47 ms, alternated runs)
KERNEL_THREADS = 1


def run_split(kernel, n: int, *args, threads: int = 1) -> None:
    """``kernel(*args, lo, hi)`` over the items 0..n, split into ``threads`` contiguous ranges."""
    threads = max(1, min(threads, n))
    run_ranges(kernel, n, [args] * threads)


def run_ranges(kernel, n: int, args_per_range: list[tuple]) -> None:
    """``kernel(*args_per_range[k], lo_k, hi_k)``: items 0..n in ``len(args_per_range)`` contiguous ranges.

    Each range may get its own arguments, e.g. a private buffer to accumulate into.
    """
    global _POOL
    threads = len(args_per_range)
    if threads == 1:
        kernel(*args_per_range[0], 0, n)
        return
    if _POOL is None or _POOL._max_workers < threads:
        _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="deeppot-kernel")
    edges = [n * k // threads for k in range(threads + 1)]
    jobs = [_POOL.submit(kernel, *args, lo, hi) for args, lo, hi in zip(args_per_range, edges[:-1], edges[1:])]
    for job in jobs:
        job.result()
