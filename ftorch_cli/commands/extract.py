"""`ftorch extract`: record torch's behaviour as packet case tables (docs/packets.md)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table

from ftorch_cli.commands._run import cli_errors
from ftorch_cli.console import err_console, print_json
from ftorch_cli.options import EngineModule, JsonOutput, OpsFilter, PacketIds, PacketsDir, SealOutputs, split_names


def seal_outputs(paths: list[str]) -> Optional[dict]:
    """Seal files with RaptorQ sidecars when the sealing module is present; a short report."""
    try:
        from ftorch_cli.sealing import seal_paths
    except ImportError:
        err_console.print("[yellow]warning:[/] --seal: ftorch_cli.sealing is not available; outputs left unsealed")
        return None
    report = seal_paths(paths)
    return {"sealed": [str(path) for path in paths], "manifests": getattr(report, "manifests", None)}


def extract(
    packet: PacketIds = None,
    ops: OpsFilter = None,
    dtype: Annotated[
        Optional[list[str]], typer.Option("--dtype", help="Only these dtypes (repeatable or comma-separated).", show_default=False)
    ] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes per OpInfo packet (default: CPUs).")] = None,
    packets_dir: PacketsDir = None,
    engine: EngineModule = "engine",
    json_output: JsonOutput = False,
    seal: SealOutputs = False,
) -> None:
    """Run torch on each packet's case generators and write packets/<id>/cases.arrow + manifest.json."""
    from ftorch_cli.cases.extract import extract_packets
    from ftorch_cli.packets import select_packets

    packets = select_packets(packets_dir, packet)
    report = extract_packets(
        packets,
        ops_filter=split_names(ops),
        dtypes_filter=split_names(dtype),
        engine_module=engine,
        jobs=jobs,
        progress=lambda message: err_console.print(f"[dim]{message}[/]", highlight=False),
    )
    table = Table("packet", "cases", "ops", "cases by source", "not stored", "seconds", title="extract", title_justify="left")
    for item in report.packets:
        sources = "\n".join(f"{name.split('.', 1)[1]}: {count}" for name, count in sorted(item.sources.items()))
        table.add_row(item.packet_id, str(item.case_count), str(item.ops), sources, str(sum(item.skipped.values())), f"{item.seconds:.1f}")
    err_console.print(table)
    for item in report.packets:
        err_console.print(f"{item.packet_id}: {item.table} (sha256 {item.sha256[:12]}…)", highlight=False)
    for note in report.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    err_console.print(f"extracted in {report.seconds:.1f}s", highlight=False)
    payload = report.to_json()
    if seal:
        payload["seal"] = seal_outputs([path for item in report.packets for path in (item.table, item.manifest)])
    if json_output:
        print_json(payload)


def register(app: typer.Typer) -> None:
    app.command("extract")(cli_errors(extract))
