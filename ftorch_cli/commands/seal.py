"""`ftorch seal-artifacts`, `verify-artifacts`, `repair-artifacts`: RaptorQ sidecars (docs/sealing.md)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from ftorch_cli.commands._run import cli_errors
from ftorch_cli.console import err_console, print_json
from ftorch_cli.errors import GateFailed, UsageError
from ftorch_cli.options import JsonOutput
from ftorch_cli.sealing import CheckReport, repair_paths, seal_paths, verify_paths

Paths = Annotated[list[Path], typer.Argument(help="Files or folders (e.g. a conform run folder).", show_default=False)]

STATUS_STYLE = {
    "sealed": "green",
    "resealed": "green",
    "unchanged": "dim",
    "intact": "green",
    "repairable": "yellow",
    "sidecar-damaged": "magenta",
    "lost": "red",
    "refused": "red",
    "failed": "red",
}


def parse_overhead(text: str) -> float:
    """'10%' or '0.10' -> 0.10."""
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise UsageError(f"--overhead: expected a fraction (0.10) or a percentage (10%), got {text!r}") from None


def seal_artifacts(
    paths: Paths,
    overhead: Annotated[
        str,
        typer.Option("--overhead", help="Share of each segment's symbols that may be lost: 0.10 or 10%."),
    ] = "10%",
    symbol_size: Annotated[
        Optional[int],
        typer.Option("--symbol-size", help="Bytes per symbol, a multiple of 8 (default 16384; less below 1 MiB)."),
    ] = None,
    manifest: Annotated[
        Optional[Path],
        typer.Option("--manifest", help="Manifest to update (default: SEAL_MANIFEST.json in each folder given)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Seal a changed file even when its old sidecar could repair it back.")
    ] = False,
    json_output: JsonOutput = False,
) -> None:
    """Write a RaptorQ sidecar (<file>.rq) for every file and record it in SEAL_MANIFEST.json."""
    report = seal_paths(paths, parse_overhead(overhead), symbol_size, progress=True, manifest=manifest, force=force)
    table = Table("file", "status", "size", "sidecar", title="seal-artifacts", title_justify="left")
    for item in report.files:
        table.add_row(Text(_shown(item.path)), _styled(item.status), _size(item.size), _size(item.sidecar_size))
    err_console.print(table)
    _print_notes((item.path, item.message) for item in report.files)
    manifests = ", ".join(map(_shown, report.manifests))
    summary = f"{_size(report.bytes_sealed)} sealed in {report.seconds:.2f} s; manifest: {manifests}"
    err_console.print(Text(summary), soft_wrap=True)
    if json_output:
        print_json(report.to_dict())
    if not report.ok:
        bad = sum(item.status not in ("sealed", "resealed", "unchanged") for item in report.files)
        raise GateFailed(f"{bad} file(s) not sealed")


def verify_artifacts(paths: Paths, json_output: JsonOutput = False) -> None:
    """Scrub sealed files: intact, repairable, lost or sidecar-damaged. Exit 0 only if all are intact."""
    report = verify_paths(paths, progress=True)
    not_intact = sum(item.status != "intact" for item in report.files)
    _finish(report, "verify-artifacts", json_output, f"{not_intact} of {len(report.files)} sealed file(s) not intact")


def repair_artifacts(paths: Paths, json_output: JsonOutput = False) -> None:
    """Rebuild damaged or truncated files (and damaged sidecars); exit 1 if any file could not be recovered."""
    report = repair_paths(paths, progress=True)
    failed = sum(item.action == "not-recovered" for item in report.files)
    _finish(report, "repair-artifacts", json_output, f"{failed} file(s) could not be recovered and were left untouched")


def _finish(report: CheckReport, title: str, json_output: bool, failure: str) -> None:
    """Render the report; exit 1 (GateFailed) with `failure` unless it is ok."""
    _render(report, title, json_output)
    if not report.ok:
        problems = f"; {len(report.problems)} manifest problem(s)" if report.problems else ""
        raise GateFailed(failure + problems)


def _render(report: CheckReport, title: str, json_output: bool) -> None:
    repairing = title.startswith("repair")
    columns = ["file", "status", "damaged", "can lose"] + (["action"] if repairing else [])
    table = Table(*columns, title=title, title_justify="left")
    for item in report.files:
        damaged = item.damaged_source_symbols + item.damaged_repair_symbols
        row = [Text(_shown(item.path)), _styled(item.status), str(damaged or ""), str(item.tolerance_symbols or "")]
        table.add_row(*row, *([item.action] if repairing else []))
    err_console.print(table)
    _print_notes((item.path, item.message) for item in report.files)
    for problem in report.problems:
        err_console.print(Text.assemble(("problem: ", "red"), problem), soft_wrap=True)
    if json_output:
        print_json(report.to_dict())


def _print_notes(notes) -> None:
    """One unwrapped line per file that has something to say (greppable, unlike table cells)."""
    for path, message in notes:
        if message:
            err_console.print(Text.assemble((_shown(path), "bold"), ": ", message), soft_wrap=True)


def _styled(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'default')}]{status}[/]"


def _shown(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _size(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError


def register(app: typer.Typer) -> None:
    app.command("seal-artifacts")(cli_errors(seal_artifacts))
    app.command("verify-artifacts")(cli_errors(verify_artifacts))
    app.command("repair-artifacts")(cli_errors(repair_artifacts))
