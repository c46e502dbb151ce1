"""Entry point: wires one module per command into the `ftorch` Typer app."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from ftorch_cli import __version__
from ftorch_cli.commands import register_commands

app = typer.Typer(
    name="ftorch",
    help="Parity and benchmarking toolchain: PyTorch is the oracle, the ftorch engine is under test.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"ftorch {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """ftorch: extract PyTorch behaviour, check the engine against it, benchmark it, seal the evidence."""


register_commands(app)


def main() -> None:
    app()
