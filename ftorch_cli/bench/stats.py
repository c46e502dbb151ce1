"""Per-call statistics of one side of a workload, and the engine/torch ratio."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class SideStats:
    """Per-call nanoseconds of one library on one workload: each sample is one timed batch / its calls."""

    median_ns: float
    iqr_ns: float  # interquartile range, 75th minus 25th percentile (linear interpolation)
    min_ns: float
    samples: int
    calls_per_sample: int

    @property
    def relative_spread(self) -> float:
        """IQR / median: the run's own noise on this workload."""
        return self.iqr_ns / self.median_ns if self.median_ns > 0 else 0.0


def summarize(per_call_ns: Sequence[float], calls_per_sample: int) -> SideStats:
    if not per_call_ns:
        raise ValueError("no samples to summarize")
    values = np.asarray(per_call_ns, dtype=np.float64)
    lower, median, upper = np.percentile(values, [25, 50, 75])
    return SideStats(
        median_ns=float(median),
        iqr_ns=float(upper - lower),
        min_ns=float(values.min()),
        samples=int(values.size),
        calls_per_sample=calls_per_sample,
    )


def ratio(engine: Optional[SideStats], torch: Optional[SideStats]) -> Optional[float]:
    """engine median / torch median: below 1 the engine is faster; None unless both were timed."""
    if engine is None or torch is None or torch.median_ns <= 0:
        return None
    return engine.median_ns / torch.median_ns


def geometric_mean(values: Sequence[float]) -> Optional[float]:
    positive = [value for value in values if value and value > 0]
    return float(np.exp(np.mean(np.log(positive)))) if positive else None
