"""`ftorch conform`: judge the engine against torch on recorded (or live) cases."""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from ftorch_cli.commands._run import cli_errors
from ftorch_cli.commands.extract import seal_outputs
from ftorch_cli.console import err_console, print_json
from ftorch_cli.errors import EXIT_GATE_FAILED
from ftorch_cli.options import EngineModule, JsonOutput, OpsFilter, PacketIds, PacketsDir, SealOutputs, split_names


class ModeChoice(str, Enum):
    strict = "strict"
    hardened = "hardened"
    both = "both"


def conform(
    packet: PacketIds = None,
    mode: Annotated[ModeChoice, typer.Option("--mode", help="strict, hardened or both.")] = ModeChoice.strict,
    live: Annotated[bool, typer.Option("--live", help="Also run torch now, in one persistent worker, beside the engine.")] = False,
    ops: OpsFilter = None,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="Artifacts folder (default: artifacts/ beside packets/).", show_default=False)
    ] = None,
    show_failures: Annotated[int, typer.Option("--show-failures", min=0, help="Failing cases to detail per packet.")] = 10,
    packets_dir: PacketsDir = None,
    engine: EngineModule = "engine",
    json_output: JsonOutput = False,
    seal: SealOutputs = False,
    programs: Annotated[
        bool, typer.Option("--programs", help="Instead: run examples/*.py with torch and with the engine as torch; compare printed losses.")
    ] = False,
) -> None:
    """Run the engine on every recorded case; write artifacts/conform/<run-id>/results.arrow and summary.json."""
    if programs:
        _conform_programs(split_names(ops), json_output)
        return
    from ftorch_cli.conform.render import render_run
    from ftorch_cli.conform.runner import ConformOptions, run_conformance
    from ftorch_cli.packets import select_packets

    packets = select_packets(packets_dir, packet)
    modes = ("strict", "hardened") if mode == ModeChoice.both else (mode.value,)
    options = ConformOptions(modes=modes, live=live, ops_filter=split_names(ops), engine_module=engine, artifacts_root=out)
    run = run_conformance(packets, options, progress=lambda message: err_console.print(f"[dim]{message}[/]", highlight=False))
    render_run(run, err_console, show_failures)
    payload = {"run_id": run.run_id, "results": str(run.results_path), "summary_path": str(run.summary_path), **run.summary}
    if seal:
        payload["seal"] = seal_outputs([str(run.results_path), str(run.summary_path)])
    if json_output:
        print_json(payload)
    if not run.passed:
        failed = [result for result in run.packets if result.verdict == "fail"]
        for result in failed:
            gates = ", ".join(f"{gate.gate}{f'[{gate.mode}]' if gate.mode else ''}" for gate in result.gates if gate.verdict == "fail")
            ops_failing = sorted({op for stats in result.stats.values() for op in stats.failing_ops})
            named = f"; failing ops: {', '.join(ops_failing[:20])}" if ops_failing else ""
            err_console.print(f"[bold red]gate failed:[/] {escape(f'{result.packet.id}: {gates}{named}')}", highlight=False)
        raise typer.Exit(EXIT_GATE_FAILED)


def _conform_programs(names, json_output: bool) -> None:
    """`ftorch conform --programs`: the example programs (ftorch_cli/programs.py); --ops picks programs by name."""
    from ftorch_cli.programs import run_programs

    results = run_programs(names or None)
    for result in results:
        style = "green" if result.verdict == "pass" else "red"
        detail = f"  {result.detail}" if result.detail else ""
        err_console.print(f"[{style}]{result.verdict:5}[/] {escape(result.name + detail)}", highlight=False)
    passed = sum(result.verdict == "pass" for result in results)
    err_console.print(f"{passed}/{len(results)} programs agree with torch", highlight=False)
    if json_output:
        print_json({"programs": [{"name": r.name, "verdict": r.verdict, "detail": r.detail} for r in results]})
    if passed != len(results):
        raise typer.Exit(EXIT_GATE_FAILED)


def register(app: typer.Typer) -> None:
    app.command("conform")(cli_errors(conform))
