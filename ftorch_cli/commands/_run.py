"""Runs a command body and turns known failures into a message and an exit code."""
from __future__ import annotations

import functools
import traceback

import typer

from ftorch_cli.console import err_console
from ftorch_cli.errors import EXIT_INTERNAL, FtorchError


def cli_errors(func):
    """Decorate a command: FtorchError -> one red line + its exit code; anything else -> exit 3."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except FtorchError as exc:
            err_console.print(f"[red]error:[/red] {exc}", highlight=False, markup=True)
            raise typer.Exit(exc.exit_code)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # an internal bug: say so, keep the traceback short and on stderr
            err_console.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}", highlight=False)
            err_console.print(traceback.format_exc(limit=-3), highlight=False, markup=False)
            raise typer.Exit(EXIT_INTERNAL)

    return wrapper
