"""Comparing a run with an earlier one (`--baseline`): regressions beyond a measured noise margin.

For each workload and thread count timed on the engine in both runs:

    change = engine median now / engine median then - 1
    margin = (IQR now / 2 + IQR then / 2) / median then + |torch median now / torch median then - 1|

The first term is where the two runs' middle halves of samples stop
overlapping: a change inside it is within this workload's own sample spread.
The second is how far torch, the same program on the same machine and
unchanged between the runs, moved: machine drift (clock, load, memory layout)
measured on this very workload. Both come from the two runs; MIN_MARGIN only
guards against the rare run whose samples are all identical.

change > margin is a regression (exit 1), change < -margin an improvement.
A workload the engine ran in the baseline but no longer runs is `lost`, which
also fails the gate; changed workloads (other shape, dtype or program) are not compared.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ftorch_cli.bench.results import BenchRow, StoredRun

MIN_MARGIN = 0.01
FAILING_VERDICTS = ("regression", "lost")


@dataclass
class RowComparison:
    workload: str
    threads: int
    verdict: str  # regression | faster | same | lost | new | changed | not-timed
    engine_median_ns: Optional[float] = None
    baseline_engine_median_ns: Optional[float] = None
    change: Optional[float] = None
    margin: Optional[float] = None
    torch_drift: Optional[float] = None

    def line(self) -> str:
        if self.change is None:
            return f"{self.workload} [{self.threads}t]: {self.verdict}"
        return f"{self.workload} [{self.threads}t]: engine {self.change:+.1%} vs baseline (noise margin ±{self.margin:.1%}): {self.verdict}"


@dataclass
class Comparison:
    baseline_run_id: str
    baseline_path: str
    rows: list[RowComparison]
    notes: list[str]

    @property
    def failures(self) -> list[RowComparison]:
        return [row for row in self.rows if row.verdict in FAILING_VERDICTS]

    def to_dict(self) -> dict:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.verdict] = counts.get(row.verdict, 0) + 1
        return {
            "run_id": self.baseline_run_id,
            "path": self.baseline_path,
            "verdict": "fail" if self.failures else "pass",
            "counts": counts,
            "notes": self.notes,
            "rows": [vars(row) for row in self.rows],
        }


def noise_margin(now: BenchRow, then: BenchRow) -> tuple[float, Optional[float]]:
    """(margin, torch drift) for two timings of the same workload (both must have engine stats)."""
    spread = (now.engine.iqr_ns / 2 + then.engine.iqr_ns / 2) / then.engine.median_ns
    drift = None
    if now.torch is not None and then.torch is not None and then.torch.median_ns > 0:
        drift = abs(now.torch.median_ns / then.torch.median_ns - 1)
    return max(MIN_MARGIN, spread + (drift or 0.0)), drift


def compare_row(now: BenchRow, then: Optional[BenchRow]) -> RowComparison:
    result = RowComparison(now.workload, now.threads, "new", engine_median_ns=now.engine.median_ns if now.engine else None)
    if then is None:
        return result
    if (now.op, now.dtype, now.shape, now.program) != (then.op, then.dtype, then.shape, then.program):
        result.verdict = "changed"
        return result
    result.baseline_engine_median_ns = then.engine.median_ns if then.engine else None
    if then.engine is None:
        result.verdict = "not-timed"
        return result
    if now.engine is None:
        result.verdict = "lost"
        return result
    result.margin, result.torch_drift = noise_margin(now, then)
    result.change = now.engine.median_ns / then.engine.median_ns - 1
    result.verdict = "regression" if result.change > result.margin else "faster" if result.change < -result.margin else "same"
    return result


def compare_runs(rows: list[BenchRow], baseline: StoredRun, machine: dict) -> Comparison:
    earlier = {(row.workload, row.threads): row for row in baseline.rows}
    notes = []
    for key in ("cpu", "cpu_count"):
        if baseline.machine.get(key) not in (None, machine.get(key)):
            notes.append(f"baseline ran with {key} {baseline.machine.get(key)!r}, this run with {machine.get(key)!r}")
    return Comparison(baseline.run_id, str(baseline.path), [compare_row(row, earlier.get((row.workload, row.threads))) for row in rows], notes)
