"""The two output streams: rich diagnostics on stderr, machine output on stdout."""
from __future__ import annotations

import json
import sys

from rich.console import Console

err_console = Console(stderr=True)


def print_json(payload) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()
