"""Human output of `ftorch bench`: a hyperfine-style line per timing and a rich table (stderr).

Times are per call: the median, "±" half the interquartile range (so median ± that
spans the middle half of the samples).
"""
from __future__ import annotations

from typing import Optional

from rich.table import Table
from rich.text import Text

from ftorch_cli.bench.baseline import Comparison
from ftorch_cli.bench.results import BenchRow
from ftorch_cli.bench.stats import SideStats

STATUS_STYLE = {"ok": "green", "not-conformant": "yellow", "unsupported": "magenta", "error": "red"}
VERDICT_STYLE = {"regression": "bold red", "lost": "bold red", "faster": "green", "same": "dim"}
UNITS = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns"))


def _unit(nanoseconds: float) -> tuple[float, str]:
    for scale, name in UNITS:
        if nanoseconds >= scale:
            return scale, name
    return 1.0, "ns"


def _number(value: float) -> str:
    """Three significant digits, no exponent: 1.90, 12.3, 123."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def duration(nanoseconds: float) -> str:
    scale, name = _unit(nanoseconds)
    return f"{_number(nanoseconds / scale)} {name}"


def timing(stats: Optional[SideStats]) -> str:
    """'1.90 µs ± 0.10' (half the IQR, in the median's unit), or '-' when not timed."""
    if stats is None:
        return "-"
    scale, name = _unit(stats.median_ns)
    return f"{_number(stats.median_ns / scale)} {name} ± {_number(stats.iqr_ns / 2 / scale)}"


def claim(row: BenchRow) -> str:
    """What the row lets us say about speed."""
    if row.status == "ok" and row.ratio is not None:
        return f"engine {1 / row.ratio:.2f}× faster" if row.ratio < 1 else f"engine {row.ratio:.2f}× slower"
    return {"not-conformant": "no claim: not-conformant", "unsupported": "engine unsupported", "error": "error"}.get(row.status, "-")


def line(row: BenchRow) -> Text:
    """One hyperfine-style line: engine 1.90 µs ± 0.10 … torch 4.10 µs ± 0.20 … engine 2.16× faster."""
    text = Text.assemble(
        (f"{row.suite}/{row.workload}", "bold"),
        f" [{row.threads} thread{'s' if row.threads != 1 else ''}]  ",
        ("engine ", "cyan"),
        timing(row.engine),
        " … ",
        ("torch ", "cyan"),
        timing(row.torch),
        " … ",
        (claim(row), STATUS_STYLE.get(row.status, "")),
    )
    if row.message:
        text.append(f"  ({row.message})", style="dim")
    return text


def table(rows: list[BenchRow], comparison: Optional[Comparison] = None) -> Table:
    changes = {(item.workload, item.threads): item for item in comparison.rows} if comparison else {}
    columns = ["suite", "workload", "threads", "engine", "torch", "engine/torch", "status"]
    result = Table(*columns, *(["vs baseline"] if comparison else []), title="ftorch bench (per call: median ± IQR/2)", title_justify="left")
    for column in result.columns[3:6]:
        column.justify = "right"
    for row in rows:
        measured = f"{row.ratio:.3g}" if row.ratio is not None else "no claim" if row.status == "not-conformant" else "-"
        cells = [row.suite, row.workload, str(row.threads), timing(row.engine), timing(row.torch), measured]
        cells.append(f"[{STATUS_STYLE.get(row.status, 'default')}]{row.status}[/]")
        if comparison:
            cells.append(_baseline_cell(changes.get((row.workload, row.threads))))
        result.add_row(*cells)
    return result


def _baseline_cell(item) -> str:
    if item is None:
        return ""
    if item.change is None:
        return f"[dim]{item.verdict}[/]" if item.verdict not in VERDICT_STYLE else f"[{VERDICT_STYLE[item.verdict]}]{item.verdict}[/]"
    style = VERDICT_STYLE.get(item.verdict, "default")
    return f"[{style}]{item.change:+.1%} (±{item.margin:.1%}) {item.verdict}[/]"


def totals(summary: dict) -> str:
    counts = ", ".join(f"{status} {count}" for status, count in summary["counts"].items() if count)
    claims = summary["claims"]
    geomean = f"; claimed engine/torch geomean {claims['geomean_ratio']:.2f} over {claims['rows']}" if claims["geomean_ratio"] else ""
    return f"{sum(summary['counts'].values())} timings: {counts}{geomean}; {summary['seconds']:.1f} s"
