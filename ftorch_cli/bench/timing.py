"""Interleaved timing of the two libraries on one workload.

Each side is first calibrated (which is also its warm-up): the batch size grows
until one batch lasts at least the target duration, max(1 ms, min_time /
samples). Then timed batches alternate between the sides, in ABBA order so
neither always runs right after the other, with the garbage collector off
during each batch (as timeit does). A call slower than the target gets one call
per batch and only as many samples as fit in min_time, but at least
MIN_SAMPLES, so a 2048-matmul costs seconds, not minutes.
"""
from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass
from typing import Callable

from ftorch_cli.bench.stats import SideStats, summarize

MIN_SAMPLES = 3
# Multi-threaded timings pause this long before a batch that follows the other side's: torch's
# OpenMP workers (GNU libgomp, default GOMP_SPINCOUNT) keep spinning on a core for about 10 ms
# after each parallel region, so a batch started right after torch's would share a core with them.
SETTLE_SECONDS = 0.02
MIN_BATCH_SECONDS = 1e-3
# Growing the batch from one short, noisy timing could overshoot wildly; cap each step.
MAX_GROWTH = 100


@dataclass(frozen=True)
class Budget:
    min_time: float = 0.4  # seconds of timed batches per side per workload and thread count
    samples: int = 30  # timed batches per side (fewer for calls slower than min_time / samples)

    @property
    def batch_ns(self) -> int:
        return int(max(MIN_BATCH_SECONDS, self.min_time / self.samples) * 1e9)


def time_batch(batch: Callable[[int], None], calls: int) -> int:
    collecting = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter_ns()
        batch(calls)
        return time.perf_counter_ns() - started
    finally:
        if collecting:
            gc.enable()


@dataclass
class _Plan:
    calls: int
    samples: int


def calibrate(batch: Callable[[int], None], budget: Budget) -> _Plan:
    """Calls per batch and batches to take for this side (runs it for at least one target duration)."""
    calls = 1
    while True:
        elapsed = max(time_batch(batch, calls), 1)
        if elapsed >= budget.batch_ns:
            break
        calls = min(calls * MAX_GROWTH, max(calls + 1, math.ceil(calls * budget.batch_ns * 1.1 / elapsed)))
    if calls > 1:
        return _Plan(calls, budget.samples)
    affordable = int(budget.min_time * 1e9 // elapsed)
    return _Plan(1, max(MIN_SAMPLES, min(budget.samples, affordable)))


def measure(batches: dict[str, Callable[[int], None]], budget: Budget, settle: float = 0.0) -> dict[str, SideStats]:
    """Time every side's batches interleaved; per-call statistics per side name.

    settle: seconds to sleep before a batch whose side differs from the previous batch's, so
    the other side's worker threads have stopped spinning (used for multi-threaded timings)."""
    plans = {side: calibrate(batch, budget) for side, batch in batches.items()}
    per_call: dict[str, list[float]] = {side: [] for side in batches}
    order = list(batches)
    previous = None
    for round_index in range(max(plan.samples for plan in plans.values())):
        for side in order if round_index % 2 == 0 else reversed(order):
            plan = plans[side]
            if len(per_call[side]) < plan.samples:
                if settle and previous is not None and previous != side:
                    time.sleep(settle)
                previous = side
                per_call[side].append(time_batch(batches[side], plan.calls) / plan.calls)
    return {side: summarize(per_call[side], plans[side].calls) for side in batches}
