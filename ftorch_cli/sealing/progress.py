"""Byte-counting progress bars on stderr, shown only for large inputs."""
from __future__ import annotations

import contextlib
from typing import Iterator

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ftorch_cli.console import err_console

PROGRESS_MIN_BYTES = 32 * 1024 * 1024


@contextlib.contextmanager
def byte_progress(enabled: bool, total: int, description: str) -> Iterator[tuple[Progress, TaskID] | None]:
    """Yield (progress, task) to advance by bytes, or None when disabled or `total` is small."""
    if not enabled or total < PROGRESS_MIN_BYTES:
        yield None
        return
    columns = (
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=err_console, transient=True) as progress:
        yield progress, progress.add_task(description, total=total)


def advance(bar: tuple[Progress, TaskID] | None, amount: int) -> None:
    if bar is not None:
        bar[0].advance(bar[1], amount)
