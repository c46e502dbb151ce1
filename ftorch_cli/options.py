"""Shared command-line options, as Annotated aliases used by every command."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

JsonOutput = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")]
SealOutputs = Annotated[bool, typer.Option("--seal", help="Seal the outputs with RaptorQ sidecars when done.")]

# Packets, ops and the engine (extract, conform and, where they apply, bench).
PacketIds = Annotated[
    Optional[list[str]],
    typer.Option("--packet", "-p", help="Packet id, repeatable (default: the project's packets, FT-P2C-001 to FT-P2C-009).", show_default=False),
]
PacketsDir = Annotated[
    Optional[Path],
    typer.Option("--packets-dir", help="Folder holding the packets (default: ./packets or the checkout's).", show_default=False),
]
OpsFilter = Annotated[
    Optional[list[str]],
    typer.Option("--ops", help="Only these ops (OpInfo names, repeatable or comma-separated).", show_default=False),
]
EngineModule = Annotated[str, typer.Option("--engine", hidden=True, help="Python module of the engine under test.")]


def split_names(values: Optional[list[str]]) -> Optional[list[str]]:
    """`--ops add,mul --ops sub` -> ["add", "mul", "sub"]; None stays None."""
    if values is None:
        return None
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    return list(dict.fromkeys(names))
