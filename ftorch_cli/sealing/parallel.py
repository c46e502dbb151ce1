"""Runs segment work units on a small process pool, or inline when the work is small.

raptorq never releases the GIL, so threads would not help. Workers are forked
(fast: no re-import) on first use and reused for every file of one command.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
from typing import Callable, Sequence, TypeVar

from rich.progress import Progress, TaskID

from ftorch_cli.sealing.progress import PROGRESS_MIN_BYTES, advance, byte_progress

Job = TypeVar("Job")
Result = TypeVar("Result")

DEFAULT_WORKERS = 2
INLINE_BYTES = 4 * 1024 * 1024  # below this a batch runs in-process: forking would cost more than it saves

# glibc mallopt parameters
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def default_workers() -> int:
    return max(1, min(DEFAULT_WORKERS, os.cpu_count() or 1))


class WorkPool:
    """A lazily started process pool; use as a context manager."""

    def __init__(self, workers: int | None = None):
        self.workers = default_workers() if workers is None else max(1, workers)
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> "WorkPool":
        return self

    def __exit__(self, *exc_info) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def run(
        self,
        function: Callable[[Job], Result],
        jobs: Sequence[Job],
        weights: Sequence[int],
        *,
        meanwhile: Callable[[], object] | None = None,
        progress: tuple[Progress, TaskID] | None = None,
    ) -> list[Result]:
        """Run `function` on every job, results in job order.

        `meanwhile` runs in this process while the workers are busy (e.g. hashing the
        whole file); `progress` advances by each finished job's weight (bytes).
        """
        if self.workers == 1 or len(jobs) < 2 or sum(weights) < INLINE_BYTES:
            if meanwhile is not None:
                meanwhile()
            results = []
            for job, weight in zip(jobs, weights):
                results.append(function(job))
                advance(progress, weight)
            return results
        executor = self.start()
        futures = {executor.submit(function, job): number for number, job in enumerate(jobs)}
        try:
            if meanwhile is not None:
                meanwhile()
            results: list = [None] * len(jobs)
            for future in concurrent.futures.as_completed(futures):
                number = futures[future]
                results[number] = future.result()
                advance(progress, weights[number])
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return results

    def start(self) -> concurrent.futures.ProcessPoolExecutor:
        """Fork the workers now; call this before starting threads (a progress display) in this process."""
        if self._executor is None:
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._executor = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=keep_freed_memory
            )
            # with "fork" the executor forks all its workers at the first submit: do it here, thread-free
            self._executor.submit(int).result()
        return self._executor


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory instead of returning it to the kernel (workers only).

    raptorq and the segment buffers allocate and free megabytes per segment; by
    default glibc serves those with fresh mmaps / trims them back, and the page
    faults on every reuse cost more than the encoding on this VM: measured, a
    2-MiB-segment encode runs at ~170 MB/s by default and ~400-800 MB/s with these
    settings (docs/sealing.md). Only our worker processes are tuned, never the
    caller's. Returns False where this is not glibc.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024) and mallopt(_M_TRIM_THRESHOLD, 1024 * 1024 * 1024))


@contextlib.contextmanager
def pool_with_progress(workers: int | None, enabled: bool, total: int, description: str):
    """Yield (WorkPool, progress bar or None); with a bar, the workers fork before its thread starts."""
    with WorkPool(workers) as pool:
        if enabled and total >= PROGRESS_MIN_BYTES:
            pool.start()
        with byte_progress(enabled, total, description) as bar:
            yield pool, bar
