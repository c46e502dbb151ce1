"""Which ops may carry a speed claim: those green in the latest conformance evidence.

An op is green for a dtype when the evidence has at least one strict case of
that op in that dtype and every such case passed or is allowlisted (a skipped
case is not a pass). Scoping by dtype keeps a float32 benchmark's claim tied to
float32 evidence.

Conformance runs are per packet, so the evidence is too: each packet's rows come
from the newest run that covers it, looking first at the run
`artifacts/conform/latest` names (a file holding a run id, or a link), then at
the other run folders, newest first, skipping runs restricted with `--ops`
(their summary.json has an `ops_filter`). So `ftorch conform -p FT-P2C-001`
refreshes that packet's evidence without hiding the others'. `--conform-run`
names one run to use alone.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import pyarrow as pa

from ftorch_cli.errors import BadInputFile

GREEN_OUTCOMES = frozenset({"pass", "allowlisted"})
RESULTS_FILE = "results.arrow"
COLUMNS = ["packet_id", "op", "dtype", "mode", "outcome"]


@dataclass
class ConformanceEvidence:
    runs: dict[str, str] = field(default_factory=dict)  # packet id -> the run id its rows come from
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
        return f"{'; '.join(reasons)} ({self.describe()})" if reasons else None

    def describe(self) -> str:
        """'conform run R' or 'conform runs R1 (FT-P2C-001), R2 (FT-P2C-005)'."""
        by_run: dict[str, list[str]] = defaultdict(list)
        for packet, run_id in sorted(self.runs.items()):
            by_run[run_id].append(packet)
        if len(by_run) == 1:
            return f"conform run {next(iter(by_run))}"
        return "conform runs " + ", ".join(f"{run_id} ({', '.join(packets)})" for run_id, packets in by_run.items())

    def to_dict(self) -> dict:
        green = sum(1 for op, dtype in self.strict_outcomes if not self.not_green((op,), dtype))
        return {"runs": self.runs, "problem": self.problem, "green_op_dtypes": green, "op_dtypes": len(self.strict_outcomes)}


def load_evidence(conform_root: Path, explicit: Optional[Path] = None) -> ConformanceEvidence:
    """The evidence for speed claims; a bad explicit run is a usage error, a missing one is a problem noted on each row."""
    if explicit is not None:
        results = _results_file(explicit)
        if results is None:
            raise BadInputFile(explicit, f"not a conform run folder or its {RESULTS_FILE}")
        try:
            table = _read(results)
        except (OSError, pa.ArrowException, KeyError) as exc:
            raise BadInputFile(results, f"not a readable conformance results table ({exc})") from None
        evidence = ConformanceEvidence()
        _add(evidence, table, results.resolve().parent.name, set(table.column("packet_id").to_pylist()))
        return evidence
    evidence = ConformanceEvidence()
    unreadable = []
    for results in candidate_runs(conform_root):
        try:
            table = _read(results)
        except (OSError, pa.ArrowException, KeyError):
            unreadable.append(results.parent.name)
            continue
        new_packets = set(table.column("packet_id").unique().to_pylist()) - set(evidence.runs)
        if new_packets:
            _add(evidence, table, results.parent.name, new_packets)
    if not evidence.runs:
        extra = f" (unreadable: {', '.join(unreadable)})" if unreadable else ""
        evidence.problem = f"no conformance run under {conform_root}{extra}: run `ftorch conform` first"
    return evidence


def candidate_runs(conform_root: Path) -> Iterator[Path]:
    """results.arrow files to take evidence from, best first: the `latest` run, then unfiltered runs by mtime."""
    latest = latest_results(conform_root)
    if latest is not None:
        yield latest
    others = [folder / RESULTS_FILE for folder in conform_root.glob("*") if (folder / RESULTS_FILE).is_file()]
    for results in sorted(others, key=lambda path: path.stat().st_mtime, reverse=True):
        if latest is not None and results.resolve() == latest.resolve():
            continue
        if not _filtered(results.parent):
            yield results


def latest_results(conform_root: Path) -> Optional[Path]:
    """The run `latest` names (a file holding a run id, or a link to the run folder), if any."""
    pointer = conform_root / "latest"
    if pointer.is_dir():
        return _results_file(pointer)
    if pointer.is_file():
        try:
            return _results_file(conform_root / pointer.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError):
            return None
    return None


def _filtered(run_folder: Path) -> bool:
    """True when the run was restricted to some ops, so it is no packet's whole picture."""
    try:
        return json.loads((run_folder / "summary.json").read_text(encoding="utf-8")).get("ops_filter") is not None
    except (OSError, ValueError, AttributeError):
        return False


def _results_file(path: Path) -> Optional[Path]:
    if path.is_dir():
        path = path / RESULTS_FILE
    return path if path.is_file() else None


def _read(results: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(results))).read_all().select(COLUMNS)


def _add(evidence: ConformanceEvidence, table: pa.Table, run_id: str, packets: set[str]) -> None:
    columns = table.to_pydict()
    outcomes: dict[tuple[str, str], Counter] = defaultdict(Counter, evidence.strict_outcomes)
    for packet, op, dtype, mode, outcome in zip(*(columns[name] for name in COLUMNS)):
        if packet in packets and mode == "strict":
            outcomes[(op, dtype)][outcome] += 1
    evidence.strict_outcomes = dict(outcomes)
    evidence.runs.update({packet: run_id for packet in packets})
