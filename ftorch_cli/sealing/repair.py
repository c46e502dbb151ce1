"""Repair: rewrite damaged files (and damaged sidecars) from what verify proved.

A file is replaced only after its rebuilt content matched the sealed sha256 in
memory; the write is atomic and read back. A file that cannot be rebuilt is left
exactly as it was.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from ftorch_cli.atomic import atomic_write_bytes
from ftorch_cli.sealing.codec import file_sha256
from ftorch_cli.sealing.manifest import MANIFEST_NAME, load_manifest
from ftorch_cli.sealing.parallel import WorkPool
from ftorch_cli.sealing.seal import SealSettings, seal_file
from ftorch_cli.sealing.targets import SealedTarget
from ftorch_cli.sealing.layout import check_overhead
from ftorch_cli.sealing.codec import check_symbol_size
from ftorch_cli.sealing.verify import (
    INTACT,
    NOT_RECOVERED,
    NOTHING_TO_DO,
    REPAIRABLE,
    REPAIRED,
    REPAIRED_AND_SIDECAR_REBUILT,
    SIDECAR_DAMAGED,
    SIDECAR_REBUILT,
    CheckReport,
    FileCheck,
    check_paths,
)



def repair_paths(paths: Iterable[str | os.PathLike], progress: bool = True, workers: int | None = None) -> CheckReport:
    """Repair every sealed file under `paths`; each FileCheck's status is what was found, its action what was done.

    The report is ok only if every file ends intact.
    """
    return check_paths(paths, progress=progress, workers=workers, keep_rebuilt=True, each=_repair_one)


def _repair_one(target: SealedTarget, check: FileCheck, pool: WorkPool) -> None:
    if check.status == INTACT:
        check.action = NOTHING_TO_DO
        return
    if check.status == REPAIRABLE:  # check.rebuilt already matched the sealed sha256 in memory
        atomic_write_bytes(target.path, check.rebuilt)
        if file_sha256(target.path) != check.expected_sha256:  # read back what landed on disk
            check.action = NOT_RECOVERED
            check.message += "; the written file does not read back correctly (failing disk?)"
            return
        check.action = REPAIRED
        if check.damaged_repair_symbols or check.sidecar_problems:
            _rebuild_sidecar(target, check, pool)
        return
    if check.status == SIDECAR_DAMAGED and check.reseal is not None:  # file proven intact: rebuild the sidecar
        _rebuild_sidecar(target, check, pool)
        return
    check.action = NOT_RECOVERED


def _rebuild_sidecar(target: SealedTarget, check: FileCheck, pool: WorkPool) -> None:
    """Seal the (now intact) file again with the parameters it was sealed with; raptorq output is deterministic.

    seal_file writes nothing unless the file still hashes to `check.expected_sha256`.
    """
    overhead, symbol_size = check.reseal["overhead"], check.reseal["symbol_size"]
    try:
        check_overhead(overhead)
        check_symbol_size(symbol_size)
    except (TypeError, ValueError) as exc:
        check.action = NOT_RECOVERED
        check.message += f"; cannot rebuild the sidecar: the recorded parameters are unusable ({exc})"
        return
    manifest = target.manifest or load_manifest(Path(target.path).parent / MANIFEST_NAME)
    settings = SealSettings(overhead, symbol_size, force=True, expect_sha256=check.expected_sha256)
    sealed = seal_file(Path(target.path), manifest, settings, pool)
    if manifest.changed:
        manifest.save()
    if sealed.sha256 != check.expected_sha256.hex():
        check.action = NOT_RECOVERED
        check.message += f"; rebuilding the sidecar failed: {sealed.message or 'the file changed'}"
        return
    check.action = REPAIRED_AND_SIDECAR_REBUILT if check.action == REPAIRED else SIDECAR_REBUILT
