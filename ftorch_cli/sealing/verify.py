"""Scrubbing: check sealed files against their sidecars and prove what a repair would rebuild.

A file is `intact` (matches its sealed sha256 and the sidecar is whole),
`repairable` (damaged, and an in-memory rebuild from the sidecar matched the
sealed sha256), `lost` (damaged beyond what the sidecar can rebuild), or
`sidecar-damaged` (the sidecar, not the file, is damaged, missing, unreadable, or
belongs to another file; the message says which).
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from ftorch_cli.sealing.codec import DIGEST_SIZE, file_sha256
from ftorch_cli.sealing.format import SidecarError, SidecarVersionError, SidecarView, read_sidecar, sidecar_path
from ftorch_cli.sealing.parallel import WorkPool, pool_with_progress
from ftorch_cli.sealing.progress import advance
from ftorch_cli.sealing.segments import ScrubJob, SegmentScrub, scrub_segment
from ftorch_cli.sealing.targets import SealedTarget, sealed_files, size_or_none

INTACT, REPAIRABLE, LOST, SIDECAR_DAMAGED = "intact", "repairable", "lost", "sidecar-damaged"
# FileCheck.action values set by repair; the first three leave the file intact
NOTHING_TO_DO, REPAIRED, SIDECAR_REBUILT, REPAIRED_AND_SIDECAR_REBUILT, NOT_RECOVERED = (
    "none", "repaired", "sidecar-rebuilt", "repaired+sidecar-rebuilt", "not-recovered",
)  # fmt: skip
RECOVERED = (REPAIRED, SIDECAR_REBUILT, REPAIRED_AND_SIDECAR_REBUILT)


@dataclass
class FileCheck:
    path: str
    sidecar: str
    status: str
    message: str = ""
    sealed_size: int | None = None
    actual_size: int | None = None  # None: the file is missing
    source_symbols: int = 0
    repair_symbols: int = 0
    damaged_source_symbols: int = 0
    damaged_repair_symbols: int = 0
    shifted_symbols: int = 0  # found moved by an insertion/deletion
    tolerance_symbols: int = 0  # symbols the seal guarantees to survive losing (per-segment budgets, summed)
    worst_segment: dict | None = None  # the most damaged segment: damaged symbols and its budget
    sidecar_problems: list[str] = field(default_factory=list)  # damage to the sidecar outside its repair symbols
    action: str = ""  # repair only: what was done (repair.py)
    # for repair, not reported
    rebuilt: bytearray | None = field(default=None, repr=False)
    expected_sha256: bytes | None = field(default=None, repr=False)
    # set only once the file's content is proven (by sha256) to be the sealed one: how to rebuild the sidecar
    reseal: dict | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        payload = asdict(self)
        for private in ("rebuilt", "expected_sha256", "reseal"):
            payload.pop(private)
        return payload


@dataclass
class CheckReport:
    files: list[FileCheck]
    problems: list[str]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Every file is intact (verify), or ends intact (repair)."""
        return not self.problems and all(item.status == INTACT or item.action in RECOVERED for item in self.files)

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "seconds": self.seconds,
            "problems": self.problems,
            "files": [item.to_dict() for item in self.files],
        }


def verify_paths(paths: Iterable[str | os.PathLike], progress: bool = True, workers: int | None = None) -> CheckReport:
    """Scrub every sealed file under `paths`; nothing is written."""
    return check_paths(paths, progress=progress, workers=workers, keep_rebuilt=False, each=None)


def check_paths(paths, *, progress: bool, workers: int | None, keep_rebuilt: bool, each) -> CheckReport:
    """Assess every sealed file under `paths`, calling `each(check, pool)` on each result (repair's hook)."""
    started = time.perf_counter()
    selection = sealed_files(paths)
    report = CheckReport([], list(selection.problems))
    total = sum(size_or_none(target.path) or 0 for target in selection.targets)
    with pool_with_progress(workers, progress, total, "checking") as (pool, bar):
        for target in selection.targets:
            try:
                check = assess(target, pool, bar, keep_rebuilt=keep_rebuilt)
                if each is not None:
                    each(target, check, pool)
            except OSError as exc:  # unreadable (permissions, I/O error): say so, carry on with the others
                report.problems.append(f"{target.path}: {exc.strerror or exc}")
                continue
            check.rebuilt = None
            report.files.append(check)
    report.seconds = time.perf_counter() - started
    return report


def assess(target: SealedTarget, pool: WorkPool, bar=None, *, keep_rebuilt: bool = False) -> FileCheck:
    """Check one sealed file, reading its sidecar (falling back to its manifest entry)."""
    sidecar = sidecar_path(target.path)
    try:
        view = read_sidecar(sidecar)
    except FileNotFoundError:
        return _without_sidecar(target, "sidecar missing", rebuildable=True)
    except SidecarVersionError as exc:
        return _without_sidecar(target, str(exc), rebuildable=False)  # a newer ftorch's sidecar: never overwrite it
    except SidecarError as exc:
        return _without_sidecar(target, f"sidecar unreadable: {exc}", rebuildable=True)
    except OSError as exc:
        return _without_sidecar(target, f"sidecar unreadable: {exc.strerror}", rebuildable=False)
    return assess_with_sidecar(target.path, view, target.entry, pool, bar, keep_rebuilt=keep_rebuilt)


def assess_with_sidecar(
    file: Path, view: SidecarView, entry: dict | None, pool: WorkPool, bar=None, *, keep_rebuilt: bool = False
) -> FileCheck:
    metadata = view.metadata
    layout = metadata.layout
    actual_size = size_or_none(file)
    check = FileCheck(
        path=str(file),
        sidecar=str(view.path),
        status=LOST,
        sealed_size=metadata.file_size,
        actual_size=actual_size,
        source_symbols=layout.symbol_count,
        repair_symbols=metadata.repair_symbol_count,
        tolerance_symbols=sum(metadata.budget(segment) for segment in range(layout.segment_count)),
        expected_sha256=metadata.file_sha256,
    )
    notes = []
    if metadata.file_name != file.name:
        notes.append(f"sidecar was written for '{metadata.file_name}'")
    if entry is not None and entry.get("sha256") != metadata.file_sha256.hex():
        notes.append("SEAL_MANIFEST.json records another sha256 for this file")
    if actual_size == metadata.file_size and file_sha256(file) == metadata.file_sha256:
        advance(bar, actual_size)
        return _sidecar_health(check, view, notes)
    if notes:
        # the sidecar may describe another file: rebuilding from it could write wrong data
        check.status = SIDECAR_DAMAGED
        check.message = "; ".join(notes) + ", and the file does not match it: not repairing from this sidecar"
        return check
    _scrub(check, file, view, pool, bar)
    if check.status == REPAIRABLE and not keep_rebuilt:
        check.rebuilt = None
    return check


def _sidecar_health(check: FileCheck, view: SidecarView, notes: list[str]) -> FileCheck:
    check.damaged_repair_symbols = view.damaged_repair_symbols()
    check.sidecar_problems = view.structural_problems()
    problems = list(check.sidecar_problems)
    if check.damaged_repair_symbols:
        problems.append(f"{check.damaged_repair_symbols} of {check.repair_symbols} repair symbols damaged")
    if problems:
        check.status = SIDECAR_DAMAGED
        check.message = "file intact; sidecar: " + ", ".join(problems) + " (repair-artifacts rebuilds it)"
        metadata = view.metadata
        check.reseal = {"overhead": metadata.overhead, "symbol_size": metadata.symbol_size}
    else:
        check.status = INTACT
        check.message = "; ".join(notes)
    return check


def _without_sidecar(target: SealedTarget, reason: str, *, rebuildable: bool) -> FileCheck:
    """No usable sidecar: the manifest entry's sha256 can still tell whether the file is intact."""
    entry = target.entry or {}
    actual_size = size_or_none(target.path)
    check = FileCheck(str(target.path), str(sidecar_path(target.path)), SIDECAR_DAMAGED, actual_size=actual_size)
    check.sealed_size = entry.get("size")
    if not entry:
        check.message = f"{reason}; no manifest entry to check the file against"
        return check
    sha = file_sha256(target.path) if actual_size == entry.get("size") else None
    if sha is None or sha.hex() != entry.get("sha256"):
        check.status = LOST
        check.message = f"{reason}, and the file does not match its manifest sha256: it cannot be rebuilt"
        return check
    check.message = f"{reason}; the file matches its manifest sha256"
    if rebuildable:
        check.message += " (repair-artifacts rebuilds the sidecar)"
        check.reseal = {"overhead": entry.get("overhead"), "symbol_size": entry.get("symbol_size")}
        check.expected_sha256 = sha
    return check


def _scrub(check: FileCheck, file: Path, view: SidecarView, pool: WorkPool, bar) -> None:
    """Locate every damaged symbol, rebuild them in memory, and prove the result by sha256."""
    metadata = view.metadata
    layout = metadata.layout
    shift = (check.actual_size or 0) - metadata.file_size
    jobs = [
        ScrubJob(
            path=str(file),
            sidecar=str(view.path),
            repair_offset=view.repair_offset + metadata.repair_start(segment) * layout.symbol_size,
            layout=layout,
            segment=segment,
            source_digests=b"".join(metadata.source_digest(index) for index in layout.symbol_indices(segment)),
            repair_digests=metadata.repair_digests[
                metadata.repair_start(segment) * DIGEST_SIZE : metadata.repair_start(segment + 1) * DIGEST_SIZE
            ],
            shift=shift if check.actual_size is not None else 0,
            decode=True,
        )
        for segment in range(layout.segment_count)
    ]
    weights = [layout.transfer_length(job.segment) for job in jobs]
    results: list[SegmentScrub] = pool.run(scrub_segment, jobs, weights, progress=bar)
    check.damaged_source_symbols = sum(len(result.damaged_source) for result in results)
    check.damaged_repair_symbols = sum(len(result.damaged_repair) for result in results)
    check.shifted_symbols = sum(result.shifted for result in results)
    if results:
        worst = max(results, key=lambda result: len(result.damaged_source) + len(result.damaged_repair))
        check.worst_segment = {
            "segment": worst.segment,
            "damaged_symbols": len(worst.damaged_source) + len(worst.damaged_repair),
            "budget": metadata.budget(worst.segment),
        }
    damage = _describe_damage(check, shift)
    failed = [result for result in results if result.problem]
    if failed:
        check.status = LOST
        check.message = f"{damage}; segment {failed[0].segment} cannot be rebuilt: {failed[0].problem}"
        if check.damaged_source_symbols == check.source_symbols and check.actual_size:
            check.message += " (every symbol differs: was the file replaced, or is this another file's sidecar?)"
        return
    rebuilt = _assemble(file, layout.file_size, layout.symbol_size, results)
    if hashlib.sha256(rebuilt).digest() != metadata.file_sha256:
        check.status, check.message = LOST, f"{damage}; the rebuilt file fails its sha256, nothing written"
        return
    check.status, check.rebuilt = REPAIRABLE, rebuilt
    check.reseal = {"overhead": metadata.overhead, "symbol_size": layout.symbol_size}  # for once it is written back
    check.sidecar_problems = view.structural_problems()
    check.message = damage + "".join(f", sidecar: {problem}" for problem in check.sidecar_problems)


def _assemble(file: Path, size: int, symbol_size: int, results: list[SegmentScrub]) -> bytearray:
    """The sealed content: the file's verified bytes, patched with moved and rebuilt symbols."""
    rebuilt = bytearray(size)
    try:
        with open(file, "rb") as handle:
            handle.readinto(memoryview(rebuilt))
    except FileNotFoundError:
        pass
    for result in results:
        for index, data in result.patches.items():
            rebuilt[index * symbol_size : index * symbol_size + len(data)] = data
    return rebuilt


def _describe_damage(check: FileCheck, shift: int) -> str:
    parts = [f"{check.damaged_source_symbols} of {check.source_symbols} symbols damaged"]
    if check.worst_segment and check.worst_segment["damaged_symbols"]:
        worst = check.worst_segment
        parts[0] += f" (worst segment: {worst['damaged_symbols']}, sealed to survive {worst['budget']})"
    if check.damaged_repair_symbols:
        parts.append(f"{check.damaged_repair_symbols} of {check.repair_symbols} repair symbols damaged")
    if check.actual_size is None:
        parts.append("file missing")
    elif shift < 0:
        parts.append(f"file is {_bytes(-shift)} shorter than sealed")
    elif shift > 0:
        parts.append(f"file is {_bytes(shift)} longer than sealed (the extra bytes are dropped)")
    if check.shifted_symbols:
        parts.append(f"{check.shifted_symbols} symbols found moved by {shift:+d} bytes")
    return ", ".join(parts)


def _bytes(count: int) -> str:
    return "1 byte" if count == 1 else f"{count} bytes"
