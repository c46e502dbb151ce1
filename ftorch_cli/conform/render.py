"""Rich rendering of a conformance run (on the stderr console)."""
from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

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


def render_run(run: ConformRun, console: Console, show_failures: int = 10) -> None:
    for result in run.packets:
        console.print(_packet_table(result))
        console.print("  gates: " + "; ".join(_gate_text(gate) for gate in result.gates), highlight=False)
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
    verdict = "[green]pass[/]" if run.passed else "[bold red]fail[/]"
    console.print(f"verdict: {verdict} in {run.seconds:.1f}s — {run.results_path} , {run.summary_path}", highlight=False)
