"""Per-packet statistics of a run and the verdicts of the packet's gates.

Gates (packet.toml [gates], docs/packets.md):
- min_pass_ratio: (pass + allowlisted) / (evaluated - excused), in every mode
  run; evaluated = cases minus skips, excused = failing cases a known gap
  covers (conform.known_gaps). Nothing evaluated fails the gate.
- min_coverage: evaluated / cases.
- min_cases: cases in the recorded table.
- min_passing_ops: ops with evaluated cases and no fail or error in strict mode.
- drift_budget: cases whose live torch result differs from the recording (or
  failed in the live worker); only with --live, else "not_run".
- min_backward_green_ratio: backward-green ops / ops forward-green and
  differentiable in torch (conform.autograd_report).
- known_gaps (with require_known_gaps): ops with a failing check that no
  [[known_gaps]] entry covers; must be 0.
With an --ops filter the count gates (min_cases, min_passing_ops) and the
backward-green ratio do not apply.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

from ftorch_cli.conform.reasons import OUTCOMES
from ftorch_cli.packets.model import Packet


@dataclass
class ModeStats:
    mode: str
    counts: Counter = field(default_factory=Counter)  # outcome -> cases
    reasons: Counter = field(default_factory=Counter)  # reason code -> cases
    failing_ops: Counter = field(default_factory=Counter)  # op -> fail + error cases
    evaluated_ops: set = field(default_factory=set)
    excused: int = 0  # fail + error cases a known gap covers

    def add(self, op: str, outcome: str, reason_code: str, excused: bool = False) -> None:
        self.counts[outcome] += 1
        self.excused += int(excused and outcome in ("fail", "error"))
        self.reasons[reason_code] += 1
        if outcome != "skip":
            self.evaluated_ops.add(op)
        if outcome in ("fail", "error"):
            self.failing_ops[op] += 1

    @property
    def cases(self) -> int:
        return sum(self.counts.values())

    @property
    def evaluated(self) -> int:
        return self.cases - self.counts["skip"]

    @property
    def pass_ratio(self) -> Optional[float]:
        judged = self.evaluated - self.excused
        if not judged:
            return None
        return (self.counts["pass"] + self.counts["allowlisted"]) / judged

    @property
    def coverage(self) -> Optional[float]:
        return self.evaluated / self.cases if self.cases else None

    @property
    def passing_ops(self) -> list[str]:
        return sorted(self.evaluated_ops - set(self.failing_ops))

    def to_json(self) -> dict:
        return {
            "cases": self.cases,
            "evaluated": self.evaluated,
            "counts": {outcome: self.counts[outcome] for outcome in OUTCOMES},
            "reasons": dict(sorted(self.reasons.items())),
            "known_gap_cases": self.excused,
            "pass_ratio": self.pass_ratio,
            "coverage": self.coverage,
            "passing_ops": len(self.passing_ops),
            "failing_ops": dict(self.failing_ops.most_common()),
        }


def judged_rows(rows: list[dict]) -> list[dict]:
    """The result rows op-level verdicts are taken from: strict mode's, or the one mode that ran."""
    mode = "strict" if any(row["mode"] == "strict" for row in rows) else (rows[0]["mode"] if rows else "strict")
    return [row for row in rows if row["mode"] == mode]


@dataclass
class GateVerdict:
    gate: str
    mode: Optional[str]
    threshold: float
    value: Optional[float]
    verdict: str  # "pass" | "fail" | "not_run" | "not_applicable"
    note: str = ""

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _at_least(gate, mode, threshold, value, note="") -> GateVerdict:
    if value is None:
        return GateVerdict(gate, mode, threshold, None, "fail", note or "no evaluated cases")
    return GateVerdict(gate, mode, threshold, value, "pass" if value >= threshold else "fail", note)


def evaluate_gates(packet: Packet, stats: dict[str, ModeStats], drift: Optional[int], filtered: bool) -> list[GateVerdict]:
    gates = packet.gates
    verdicts = []
    for mode, mode_stats in stats.items():
        verdicts.append(_at_least("min_pass_ratio", mode, gates.min_pass_ratio, mode_stats.pass_ratio))
        if gates.min_coverage:
            verdicts.append(_at_least("min_coverage", mode, gates.min_coverage, mode_stats.coverage))
    any_stats = next(iter(stats.values()))
    count_gates = [("min_cases", gates.min_cases, any_stats.cases)]
    if "strict" in stats:
        count_gates.append(("min_passing_ops", gates.min_passing_ops, len(stats["strict"].passing_ops)))
    for name, threshold, value in count_gates:
        if not threshold:
            continue
        if filtered:
            verdicts.append(GateVerdict(name, None, threshold, value, "not_applicable", "--ops selects a subset"))
        else:
            verdicts.append(_at_least(name, None, threshold, value))
    if drift is None:
        verdicts.append(GateVerdict("drift_budget", None, gates.drift_budget, None, "not_run", "needs --live"))
    else:
        verdicts.append(GateVerdict("drift_budget", None, gates.drift_budget, drift, "pass" if drift <= gates.drift_budget else "fail"))
    return verdicts


def autograd_gates(packet: Packet, report: Optional[dict], unlisted: dict, filtered: bool) -> list[GateVerdict]:
    """min_backward_green_ratio and known_gaps, when the packet sets them (`unlisted`: op -> failing checks)."""
    gates = packet.gates
    verdicts = []
    if gates.min_backward_green_ratio is not None:
        threshold = gates.min_backward_green_ratio
        if filtered:
            verdicts.append(GateVerdict("min_backward_green_ratio", None, threshold, None, "not_applicable", "--ops selects a subset"))
        elif report is None:
            verdicts.append(GateVerdict("min_backward_green_ratio", None, threshold, None, "fail", "no gradient cases"))
        else:
            note = f"{report['backward_green_of_considered']}/{report['forward_green_and_differentiable']} ops"
            verdicts.append(_at_least("min_backward_green_ratio", None, threshold, report["backward_green_ratio"], note))
    if gates.require_known_gaps:
        named = ", ".join(f"{op} ({'/'.join(checks)})" for op, checks in list(unlisted.items())[:8])
        more = f", … {len(unlisted) - 8} more" if len(unlisted) > 8 else ""
        verdict = "pass" if not unlisted else "fail"
        verdicts.append(GateVerdict("known_gaps", None, 0, len(unlisted), verdict, f"unlisted: {named}{more}" if unlisted else ""))
    return verdicts


def packet_verdict(verdicts: list[GateVerdict]) -> str:
    return "fail" if any(v.verdict == "fail" for v in verdicts) else "pass"
