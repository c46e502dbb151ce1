"""Known gaps: matching failing result rows to a packet's `[[known_gaps]]` entries.

A row fails a check when its outcome is `fail`/`error` ("outcome"), its
grad_fn names differ ("grad_fn") or the finite-difference witness fails or
errs ("gradcheck"). A failing check an entry covers is excused: the row keeps
its outcome and gets the entry's reason in its `known_gap` column, and an
excused outcome does not count against `min_pass_ratio`. With
`gates.require_known_gaps`, any failing check no entry covers fails the
`known_gaps` gate; entries that excused nothing in a full run are reported stale.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ftorch_cli.conform.gates import judged_rows
from ftorch_cli.packets.model import KnownGap, Packet

FAILING = frozenset({"fail", "error"})
CHECK_COLUMNS = {"outcome": "outcome", "grad_fn": "grad_fn_outcome", "gradcheck": "gradcheck_outcome"}


def failing_checks(row: dict) -> list[str]:
    return [check for check, column in CHECK_COLUMNS.items() if row.get(column) in FAILING]


def annotate(packet: Packet, row: dict, used: set) -> bool:
    """Fill row["known_gap"]; True when the row's outcome is a failure an entry excuses.

    `used` collects the entries that excused something (to report stale ones)."""
    reasons = []
    outcome_excused = False
    for check in failing_checks(row):
        entry = packet.known_gap_for(row["op"], row["dtype"], row["case_id"], row["label"], check)
        if entry is None:
            continue
        used.add(entry)
        if entry.reason not in reasons:
            reasons.append(entry.reason)
        outcome_excused = outcome_excused or check == "outcome"
    row["known_gap"] = "; ".join(reasons) or None
    return outcome_excused


@dataclass
class KnownGapsReview:
    unlisted: dict = field(default_factory=dict)  # op -> sorted failing checks no entry covers
    stale: list = field(default_factory=list)  # entries that excused nothing

    def to_json(self) -> dict:
        return {
            "unlisted_ops": self.unlisted,
            "stale_entries": [{"op": entry.op, "case": entry.case, "reason": entry.reason} for entry in self.stale],
        }


def review(packet: Packet, rows: list[dict], used: set, filtered: bool) -> KnownGapsReview:
    """Failing checks of strict rows that no entry covers, and (unfiltered runs) entries that covered nothing."""
    found = KnownGapsReview()
    unlisted: dict[str, set] = {}
    for row in judged_rows(rows):
        for check in failing_checks(row):
            if packet.known_gap_for(row["op"], row["dtype"], row["case_id"], row["label"], check) is None:
                unlisted.setdefault(row["op"], set()).add(check)
    found.unlisted = {op: sorted(checks) for op, checks in sorted(unlisted.items())}
    if not filtered:
        found.stale = [entry for entry in packet.known_gaps if entry not in used]
    return found


def describe(entry: KnownGap) -> str:
    scope = f" [{entry.case}]" if entry.case != "*" else ""
    return f"{entry.op}{scope}: {entry.reason}"
