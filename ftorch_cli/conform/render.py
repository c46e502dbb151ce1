"""Rich rendering of a conformance run (on the stderr console)."""
from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ftorch_cli.conform.known_gaps import describe
from ftorch_cli.conform.runner import ConformRun, PacketResult

VERDICT_STYLE = {"pass": "green", "fail": "bold red", "not_run": "dim", "not_applicable": "dim"}


def _ratio(value) -> str:
    return "—" if value is None else f"{100.0 * value:.2f}%"


def _gate_text(gate) -> str:
    value = "—" if gate.value is None else (f"{gate.value:.4g}" if isinstance(gate.value, float) else str(gate.value))
    mode = escape(f"[{gate.mode}]") if gate.mode else ""
    style = VERDICT_STYLE.get(gate.verdict, "")
    note = f" ({escape(gate.note)})" if gate.note else ""
    return f"{gate.gate}{mode} {value} vs {gate.threshold:g}: [{style}]{gate.verdict}[/]{note}"


def _packet_table(result: PacketResult) -> Table:
    table = Table(title=f"{result.packet.id}: {escape(result.packet.title)}", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("mode", "cases", "pass", "fail", "error", "skip", "allowlisted", "pass\nratio", "gate\nverdict"):
        width = max(len(word) for word in column.split("\n"))
        table.add_column(column, justify="left" if column in ("mode", "gate\nverdict") else "right", min_width=width)
    for mode, stats in result.stats.items():
        mode_gates = [gate for gate in result.gates if gate.mode in (mode, None)]
        verdict = "fail" if any(gate.verdict == "fail" for gate in mode_gates) else "pass"
        counts = stats.counts
        table.add_row(
            mode,
            str(stats.cases),
            str(counts["pass"]),
            str(counts["fail"]),
            str(counts["error"]),
            str(counts["skip"]),
            str(counts["allowlisted"]),
            _ratio(stats.pass_ratio),
            f"[{VERDICT_STYLE[verdict]}]{verdict}[/]",
        )
    return table


def _autograd_lines(report: dict) -> list[str]:
    """FT-P2C-004's op counts: forward-green, backward-green (and its ratio), double-backward-green, gaps."""
    considered = report["forward_green_and_differentiable"]
    forward = "—" if report["forward_green"] is None else str(report["forward_green"])
    witness = ", ".join(f"{count} {outcome}" for outcome, count in report["gradcheck_witness"].items()) or "not run"
    lines = [
        f"  autograd ops: forward-green {forward} ({escape(report['forward_green_source'])}); "
        f"backward-green {report['backward_green_of_considered']}/{considered} forward-green and differentiable = "
        f"[bold]{_ratio(report['backward_green_ratio'])}[/] ({report['backward_green']} of {report['ops_with_gradient_cases']} with gradient cases); "
        f"double-backward-green {report['double_backward_green']}/{report['ops_with_second_order_cases']}; "
        f"grad_fn names {report['grad_fn_green']}/{report['ops_with_grad_fn_checks']}; gradcheck witness: {witness}",
    ]
    for op, gap in report["backward_gaps"].items():
        listed = "listed as a known gap" if gap["known_gap"] else f"[red]not listed in {escape('[[known_gaps]]')}[/]"
        lines.append(f"  [yellow]backward gap[/] {escape(op)}: {escape(gap['why'])} — {listed}")
    if report["double_backward_gaps"]:
        lines.append(f"  [yellow]double-backward gaps[/]: {escape(', '.join(report['double_backward_gaps']))}")
    if report["grad_fn_gaps"]:
        lines.append(f"  [yellow]grad_fn name gaps[/]: {escape(', '.join(report['grad_fn_gaps']))}")
    return lines


def _known_gap_lines(result: PacketResult) -> list[str]:
    review = result.known_gaps
    lines = []
    excused = sum(stats.excused for stats in result.stats.values())
    if result.packet.known_gaps:
        lines.append(f"  [dim]{len(result.packet.known_gaps)} known gaps listed; {excused} failing cases excused from the pass ratio[/]")
    if result.packet.gates.require_known_gaps:
        for op, checks in review.unlisted.items():
            lines.append(f"  [red]unlisted gap[/] {escape(op)} ({escape(', '.join(checks))}): "
                         f"{escape('add a [[known_gaps]] entry or fix it')}")
    for entry in review.stale:
        lines.append(f"  [yellow]stale known gap[/] {escape(describe(entry))} (excuses nothing now: remove it)")
    return lines


def _coverage_table(coverage: dict) -> Table:
    """op_db ops per family: in op_db, registered by the engine, forward- and backward-green in this run."""
    def count(value):
        return "—" if value is None else str(value)

    table = Table(title="coverage: op_db ops per family", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("family", "op_db", "registered", "forward-green", "backward-green"):
        table.add_column(column, justify="left" if column == "family" else "right")
    for family, row in coverage["families"].items():
        table.add_row(escape(family), str(row["op_db"]), str(row["registered"]), count(row["forward_green"]),
                      count(row["backward_green"]))
    table.add_row("[bold]all[/]", str(coverage["op_db_ops"]), str(coverage["registry_ops_in_op_db"]),
                  count(coverage["op_db_forward_green"]), count(coverage["op_db_backward_green"]))
    return table


def render_run(run: ConformRun, console: Console, show_failures: int = 10) -> None:
    for result in run.packets:
        console.print(_packet_table(result))
        console.print("  gates: " + "; ".join(_gate_text(gate) for gate in result.gates), highlight=False)
        extra = (_autograd_lines(result.autograd) if result.autograd is not None else []) + _known_gap_lines(result)
        for line in extra:
            console.print(line, highlight=False)
        for mode, stats in result.stats.items():
            if stats.failing_ops:
                listed = ", ".join(f"{op} ({count})" for op, count in stats.failing_ops.most_common(15))
                more = len(stats.failing_ops) - 15
                console.print(f"  [red]failing ops ({mode})[/]: {escape(listed)}{f', … {more} more' if more > 0 else ''}", highlight=False)
            skipped = stats.reasons.get("not_implemented", 0)
            if skipped:
                console.print(f"  [dim]{skipped} {mode} cases skipped: op not in the engine registry[/]", highlight=False)
        shown = 0
        seen_cases = set()
        for failure in result.failures:
            if shown >= show_failures:
                break
            if failure["case_id"] in seen_cases:  # the same case in another mode
                continue
            seen_cases.add(failure["case_id"])
            shown += 1
            console.print(
                f"  [red]{failure['outcome']}[/] {escape(failure['case_id'])} [{escape(failure['reason_code'])}] "
                f"{escape(failure['label'])}: {escape(failure['message'][:400])}",
                highlight=False,
            )
            if failure["detail"]:
                for line in failure["detail"].splitlines():
                    console.print(f"      {escape(line)}", highlight=False)
        remaining = len({f["case_id"] for f in result.failures}) - shown
        if remaining > 0:
            console.print(f"  … {remaining} more failing cases in results.arrow", highlight=False)
    coverage = run.summary.get("coverage") or {}
    if coverage.get("families"):
        console.print(_coverage_table(coverage))
    verdict = "[green]pass[/]" if run.passed else "[bold red]fail[/]"
    console.print(f"verdict: {verdict} in {run.seconds:.1f}s — {run.results_path} , {run.summary_path}", highlight=False)
