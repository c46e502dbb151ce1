"""Starting oracle worker processes: the same interpreter, with this checkout importable."""
from __future__ import annotations

import os
import sys
from pathlib import Path


def worker_command(module: str, *arguments: str) -> list[str]:
    return [sys.executable, "-m", module, *arguments]


def worker_environment() -> dict:
    """The parent's environment with ftorch_cli's folder first on PYTHONPATH (works uninstalled, too)."""
    environment = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, environment.get("PYTHONPATH")]))
    # some OpInfo generators iterate sets of strings: a fixed hash seed keeps their samples, and so
    # the recorded tables, the same from run to run
    environment["PYTHONHASHSEED"] = "0"
    return environment
