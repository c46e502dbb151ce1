"""Atomic file replacement: readers see the old file or the new one, never a torn one.

The new content goes to a temporary file in the destination's folder (same file
system, so the rename is atomic), is flushed and fsynced, then `os.replace`d onto
the destination; the folder is fsynced so the rename itself survives a crash. On
any error the temporary file is removed and the destination is left untouched.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import IO, Iterator

# Temporary files are named ".<name>.<random>.ftorch-tmp"; tools that walk a
# folder (sealing, for one) skip names ending in this suffix.
TEMP_SUFFIX = ".ftorch-tmp"


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temporary file for writing; on a clean exit it atomically replaces `path`.

    `mode` is a write mode for `open` ("wb", "w", "w+b", ...); text modes default
    to UTF-8. An existing destination keeps its permission bits; a new one gets the
    usual 0o666 minus the umask.
    """
    if not any(flag in mode for flag in "wx"):
        raise ValueError(f"atomic_writer needs a write mode, got {mode!r}")
    destination = Path(path)
    temporary = destination.parent / f".{destination.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"
    # O_EXCL: never follow or reuse someone else's file; 0o666 lets the kernel apply the umask.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        try:
            handle = os.fdopen(descriptor, mode.replace("x", "w"), encoding=encoding)
        except BaseException:
            os.close(descriptor)
            raise
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temporary, stat.S_IMODE(os.stat(destination).st_mode))
        os.replace(temporary, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(destination.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes | bytearray | memoryview) -> None:
    """Replace `path` with `data` atomically (see `atomic_writer`)."""
    with atomic_writer(path, "wb") as handle:
        handle.write(data)


def _fsync_directory(folder: Path) -> None:
    # Not every platform or file system can fsync a directory; the rename has happened either way.
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
