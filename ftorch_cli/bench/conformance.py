"""Which ops may carry a speed claim: those green in the latest conformance run.

An op is green for a dtype when the run has at least one strict case of that op
in that dtype and every such case passed or is allowlisted (a skipped case is
not a pass). Scoping by dtype keeps a float32 benchmark's claim tied to float32
evidence. The run is the one `--conform-run` names, else
`artifacts/conform/latest` if it exists (a link or a file holding a run id),
else the newest run folder (by mtime) that holds a results.arrow.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pyarrow as pa

from ftorch_cli.errors import BadInputFile

GREEN_OUTCOMES = frozenset({"pass", "allowlisted"})
RESULTS_FILE = "results.arrow"


@dataclass
class ConformanceEvidence:
    run_id: Optional[str]
    path: Optional[Path]
    # (op, dtype) -> outcome counts of its strict cases
    strict_outcomes: dict[tuple[str, str], Counter] = field(default_factory=dict)
    problem: Optional[str] = None  # why there is no evidence at all

    def not_green(self, ops: tuple[str, ...], dtype: str) -> Optional[str]:
        """None if every op is green in `dtype`; else why not, in one line."""
        if self.problem:
            return self.problem
        reasons = []
        for op in ops:
            outcomes = self.strict_outcomes.get((op, dtype))
            if not outcomes:
                reasons.append(f"{op} has no strict {dtype} cases")
                continue
            bad = {outcome: count for outcome, count in sorted(outcomes.items()) if outcome not in GREEN_OUTCOMES}
            if bad:
                detail = ", ".join(f"{count} {outcome}" for outcome, count in bad.items())
                reasons.append(f"{op} {dtype}: {detail} of {sum(outcomes.values())} strict cases")
        return f"{'; '.join(reasons)} in conform run {self.run_id}" if reasons else None

    def to_dict(self) -> dict:
        green = sum(1 for op, dtype in self.strict_outcomes if not self.not_green((op,), dtype))
        return {
            "run_id": self.run_id,
            "results": str(self.path) if self.path else None,
            "problem": self.problem,
            "green_op_dtypes": green,
            "op_dtypes": len(self.strict_outcomes),
        }


def load_evidence(conform_root: Path, explicit: Optional[Path] = None) -> ConformanceEvidence:
    """The evidence of the chosen conformance run; a bad explicit run is a usage error."""
    if explicit is not None:
        results = _results_file(explicit)
        if results is None:
            raise BadInputFile(explicit, f"not a conform run folder or its {RESULTS_FILE}")
        return _read(results, explicit=True)
    results = latest_results(conform_root)
    if results is None:
        return ConformanceEvidence(
            None, None, problem=f"no conformance run under {conform_root}: run `ftorch conform` first"
        )
    return _read(results, explicit=False)


def latest_results(conform_root: Path) -> Optional[Path]:
    pointer = conform_root / "latest"
    if pointer.is_dir() or pointer.is_symlink():
        found = _results_file(pointer)
        if found is not None:
            return found
    elif pointer.is_file():
        found = _results_file(conform_root / pointer.read_text(encoding="utf-8").strip())
        if found is not None:
            return found
    runs = [folder / RESULTS_FILE for folder in conform_root.glob("*") if (folder / RESULTS_FILE).is_file()]
    return max(runs, key=lambda path: path.stat().st_mtime, default=None)


def _results_file(path: Path) -> Optional[Path]:
    if path.is_dir():
        path = path / RESULTS_FILE
    return path if path.is_file() else None


def _read(results: Path, explicit: bool) -> ConformanceEvidence:
    run_id = results.resolve().parent.name
    try:
        table = pa.ipc.open_file(pa.memory_map(str(results))).read_all().select(["op", "dtype", "mode", "outcome"])
    except (OSError, pa.ArrowException, KeyError) as exc:
        if explicit:
            raise BadInputFile(results, f"not a readable conformance results table ({exc})") from None
        return ConformanceEvidence(run_id, results, problem=f"conform run {run_id} is unreadable ({exc}): run `ftorch conform` again")
    outcomes: dict[tuple[str, str], Counter] = defaultdict(Counter)
    columns = table.to_pydict()
    for op, dtype, mode, outcome in zip(columns["op"], columns["dtype"], columns["mode"], columns["outcome"]):
        if mode == "strict":
            outcomes[(op, dtype)][outcome] += 1
    return ConformanceEvidence(run_id, results, dict(outcomes))
