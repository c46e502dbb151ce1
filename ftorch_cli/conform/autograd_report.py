"""The op-level autograd picture of a run (FT-P2C-004), for summary.json and the rich output.

Per op, from the strict rows (or the one mode run) of a packet's gradient cases:
- backward-green: it has evaluated first-order gradient cases (opinfo.gradients),
  every one passes, and the finite-difference witness fails on none of them;
- double-backward-green: every second-order case (opinfo.gradgrad) passes;
- grad_fn-green: no case's grad_fn names differ.

Forward-green ops are FT-P2C-005's passing ops (strict: evaluated cases, none
failing), from the same run or else from the newest full run that covers
FT-P2C-005. The headline ratio is backward-green / (forward-green and
differentiable in torch, as OpInfo says, recorded in the packet's manifest).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Optional

import pyarrow as pa

from ftorch_cli.conform.gates import ModeStats, judged_rows

FORWARD_PACKET = "FT-P2C-005"
GRADIENTS, GRADGRAD = "opinfo.gradients", "opinfo.gradgrad"
FAILING = frozenset({"fail", "error"})


def has_gradient_cases(rows: list[dict]) -> bool:
    return any(row["source"] in (GRADIENTS, GRADGRAD) for row in rows)


def forward_green_from_runs(conform_root: Path) -> tuple[Optional[set], str]:
    """FT-P2C-005's passing ops in the newest full run that covers it, and where they come from."""
    from ftorch_cli.bench.conformance import candidate_runs

    columns = ["packet_id", "op", "mode", "outcome", "reason_code"]
    for results in candidate_runs(conform_root):
        try:
            data = pa.ipc.open_file(pa.memory_map(str(results))).read_all().select(columns).to_pydict()
        except (OSError, pa.ArrowException, KeyError):
            continue
        stats = ModeStats("strict")
        for packet_id, op, mode, outcome, reason_code in zip(*(data[name] for name in columns)):
            if packet_id == FORWARD_PACKET and mode == "strict":
                stats.add(op, outcome, reason_code)
        if stats.cases:
            return set(stats.passing_ops), f"{FORWARD_PACKET} in conform run {results.parent.name}"
    return None, f"unavailable (no conform run of {FORWARD_PACKET})"


def _ops_where(rows: list[dict], source: str, green) -> tuple[set, set]:
    """(ops with evaluated strict cases of `source`, those among them where every case is green)."""
    cases: dict[str, list] = defaultdict(list)
    for row in rows:
        if row["source"] == source and row["outcome"] != "skip":
            cases[row["op"]].append(row)
    return set(cases), {op for op, op_rows in cases.items() if all(green(row) for row in op_rows)}


def _first_order_green(row: dict) -> bool:
    return row["outcome"] == "pass" and row.get("gradcheck_outcome") not in FAILING


def _why(rows: list[dict], op: str, differentiable_cases: bool) -> str:
    """One line: why an op is not backward-green (the commonest failing reason of its gradient cases)."""
    op_rows = [row for row in rows if row["op"] == op and row["source"] == GRADIENTS]
    if not op_rows:
        return "no gradient cases recorded (re-run `ftorch extract -p FT-P2C-004`)" if differentiable_cases else "no gradient cases"
    reasons = Counter()
    for row in op_rows:
        if row["outcome"] != "pass":
            reasons[row["reason_code"]] += 1
        elif row.get("gradcheck_outcome") in FAILING:
            reasons[row.get("gradcheck_reason") or "gradcheck"] += 1
    code, count = reasons.most_common(1)[0]
    example = next(row for row in op_rows if row["reason_code"] == code or row.get("gradcheck_reason") == code)
    message = example["message"] if example["reason_code"] == code else example.get("gradcheck_message") or ""
    return f"{code} in {count}/{len(op_rows)} cases: {message[:160]}"


def autograd_report(rows: list[dict], manifest: dict, forward_green: Optional[set], forward_source: str,
                    listed: Callable[[str], Optional[str]] = lambda op: None, selected: Optional[set] = None) -> dict:
    """The op counts and gaps of one packet's gradient cases (`rows`: its result rows; `listed(op)`: the
    reason of the packet's known gap for the op, if any; `selected`: the ops an --ops filter kept)."""
    rows = judged_rows(rows)
    differentiable = set(manifest.get("differentiable_ops") or [])
    gradient_ops, backward_green = _ops_where(rows, GRADIENTS, _first_order_green)
    gradgrad_ops, double_green = _ops_where(rows, GRADGRAD, lambda row: row["outcome"] == "pass")
    all_gradient_ops = {row["op"] for row in rows if row["source"] in (GRADIENTS, GRADGRAD)}
    named_ops, grad_fn_green = set(), set(all_gradient_ops)
    for row in rows:
        if row.get("grad_fn_outcome") is not None:
            named_ops.add(row["op"])
            if row["grad_fn_outcome"] != "pass":
                grad_fn_green.discard(row["op"])
    if forward_green is None:  # without FT-P2C-005 evidence: every differentiable op whose gradients ran
        forward_source += "; denominator: differentiable ops with evaluated gradient cases"
        considered = differentiable & gradient_ops
    else:
        considered = forward_green & differentiable
    if selected is not None:
        considered &= selected
    gaps = sorted(considered - backward_green)
    witness = Counter(row.get("gradcheck_outcome") for row in rows if row.get("gradcheck_outcome"))
    return {
        "forward_green_source": forward_source,
        "forward_green": None if forward_green is None else len(forward_green),
        "differentiable_in_torch": len(differentiable),
        "forward_green_and_differentiable": len(considered),
        "ops_with_gradient_cases": len(gradient_ops),
        "backward_green": len(backward_green),
        "backward_green_of_considered": len(considered & backward_green),
        "backward_green_ratio": len(considered & backward_green) / len(considered) if considered else None,
        "ops_with_second_order_cases": len(gradgrad_ops),
        "double_backward_green": len(double_green),
        "grad_fn_green": len(grad_fn_green & named_ops),
        "ops_with_grad_fn_checks": len(named_ops),
        "gradcheck_witness": dict(sorted(witness.items())),
        "backward_gaps": {op: {"why": _why(rows, op, op in differentiable), "known_gap": listed(op)} for op in gaps},
        "double_backward_gaps": sorted(gradgrad_ops - double_green),
        "grad_fn_gaps": sorted(named_ops - grad_fn_green),
    }
