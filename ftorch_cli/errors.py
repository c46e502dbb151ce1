"""Exit codes and the exceptions that map onto them (DESIGN.md: exit codes).

Library code raises these; the CLI layer turns them into one line on stderr and
an exit code, never a traceback.
"""
from __future__ import annotations

EXIT_OK = 0
EXIT_GATE_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_NOTHING_SELECTED = 5


class FtorchError(Exception):
    """Base of every error the CLI reports as a one-line message."""

    exit_code = EXIT_INTERNAL


class UsageError(FtorchError):
    """Bad command-line input or bad user-supplied file (packet, table, sidecar)."""

    exit_code = EXIT_USAGE


class GateFailed(FtorchError):
    exit_code = EXIT_GATE_FAILED


class NothingSelected(FtorchError):
    exit_code = EXIT_NOTHING_SELECTED


class BadInputFile(UsageError):
    """A file the user handed us is missing, truncated, corrupt or malformed."""

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
