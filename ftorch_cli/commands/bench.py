"""`ftorch bench`: time the engine against torch on the same workloads (docs/bench.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from ftorch_cli.bench.timing import MIN_SAMPLES, Budget
from ftorch_cli.commands._run import cli_errors
from ftorch_cli.commands.extract import seal_outputs
from ftorch_cli.console import err_console, print_json
from ftorch_cli.errors import EXIT_GATE_FAILED
from ftorch_cli.options import EngineModule, JsonOutput, SealOutputs, split_names


def bench(
    suite: Annotated[
        Optional[list[str]], typer.Option("--suite", "-s", help="Suite, repeatable or comma-separated (default: all).", show_default=False)
    ] = None,
    workload: Annotated[
        Optional[list[str]],
        typer.Option("--workload", "-w", help="Workload name or glob (add-1e6, 'matmul-*'), repeatable.", show_default=False),
    ] = None,
    threads: Annotated[
        Optional[list[int]], typer.Option("--threads", "-t", min=1, help="Thread count, repeatable (default: 1 and all cores).", show_default=False)
    ] = None,
    min_time: Annotated[
        float, typer.Option("--min-time", min=0.0, help="Seconds of timed batches per side, per workload and thread count.")
    ] = Budget.min_time,
    samples: Annotated[
        int, typer.Option("--samples", min=MIN_SAMPLES, help="Timed batches per side (fewer for calls slower than min-time/samples).")
    ] = Budget.samples,
    baseline: Annotated[
        Optional[Path],
        typer.Option("--baseline", help="An earlier run (folder or bench.arrow): exit 1 on a regression beyond the measured noise.", show_default=False),
    ] = None,
    conform_run: Annotated[
        Optional[Path],
        typer.Option("--conform-run", help="Conformance run that decides speed claims (default: the latest).", show_default=False),
    ] = None,
    workloads_file: Annotated[
        Optional[Path], typer.Option("--workloads", help="Workloads file (default: the packaged bench_workloads.toml).", show_default=False)
    ] = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Artifacts folder (default: artifacts/ beside packets/).", show_default=False)
    ] = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the selected workloads and exit.")] = False,
    engine: EngineModule = "engine",
    json_output: JsonOutput = False,
    seal: SealOutputs = False,
) -> None:
    """Time engine and torch interleaved; write artifacts/bench/<run-id>/bench.arrow and summary.json."""
    from ftorch_cli.bench import render
    from ftorch_cli.bench.runner import BenchOptions, plan, run_bench

    options = BenchOptions(
        suites=split_names(suite),
        workload_patterns=split_names(workload),
        threads=threads,
        budget=Budget(min_time=min_time, samples=samples),
        artifacts_root=out,
        conform_run=conform_run,
        baseline=baseline,
        workloads_file=workloads_file,
        engine_module=engine,
    )
    if list_only:
        _list(*plan(options), json_output)
        return
    err_console.print("[dim]per call: median ± half the IQR; engine/torch below 1 means the engine is faster[/]", highlight=False)
    run = run_bench(options, progress=lambda row: err_console.print(render.line(row), soft_wrap=True, highlight=False))
    _table_console().print(render.table(run.rows, run.comparison))
    err_console.print(f"{render.totals(run.summary)}; written to {run.folder}", highlight=False, soft_wrap=True)
    payload = {**run.summary, "summary_path": str(run.summary_path)}
    if seal:
        payload["seal"] = seal_outputs([str(run.arrow_path), str(run.summary_path)])
    if json_output:
        print_json(payload)
    for note in run.summary["notes"]:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)
    if run.comparison is not None:
        if run.comparison.failures:
            for item in run.comparison.failures:
                err_console.print(f"[bold red]regression:[/] {item.line()}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_GATE_FAILED)


def _table_console() -> Console:
    """stderr, but 160 columns wide when it is a log or a pipe: rich's 80 would squeeze the tables unreadably."""
    return err_console if err_console.is_terminal else Console(stderr=True, width=max(err_console.width, 160))


def _list(catalog, planned, json_output: bool) -> None:
    table = Table("suite", "workload", "op", "dtype", "shape", "threads", title=f"workloads ({catalog.source.name})", title_justify="left")
    for item, counts in planned:
        table.add_row(item.suite, item.name, item.op, item.dtype, item.shape, ", ".join(map(str, counts)))
    _table_console().print(table)
    if json_output:
        print_json(
            {
                "suites": catalog.suites,
                "workloads": [
                    {"suite": item.suite, "name": item.name, "op": item.op, "dtype": item.dtype, "shape": item.shape, "threads": counts}
                    for item, counts in planned
                ],
            }
        )


def register(app: typer.Typer) -> None:
    app.command("bench")(cli_errors(bench))
