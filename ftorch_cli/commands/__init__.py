"""One module per command; each exposes `register(app)`."""
from __future__ import annotations

import importlib

import typer

COMMAND_MODULES = ["extract", "conform", "bench", "seal"]


def register_commands(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"ftorch_cli.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ftorch_cli.commands.{name}":
                continue  # command not built yet
            raise
        module.register(app)
