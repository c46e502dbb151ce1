"""Shared command-line options, as Annotated aliases used by every command."""
from __future__ import annotations

from typing import Annotated

import typer

JsonOutput = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")]
SealOutputs = Annotated[bool, typer.Option("--seal", help="Seal the outputs with RaptorQ sidecars when done.")]
