"""Sealing: write each file's RaptorQ sidecar and its SEAL_MANIFEST.json entry."""
from __future__ import annotations

import datetime
import os
import random
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

from ftorch_cli.atomic import atomic_writer
from ftorch_cli.errors import UsageError
from ftorch_cli.sealing.codec import DIGEST_SIZE, check_symbol_size, file_sha256
from ftorch_cli.sealing.format import (
    SidecarError,
    SidecarMetadata,
    SidecarView,
    read_sidecar,
    sidecar_path,
    write_sidecar,
)
from ftorch_cli.sealing.layout import SPARE_REPAIR_SYMBOLS, Layout, check_overhead, plan_layout, repair_budget
from ftorch_cli.sealing.manifest import Manifest, load_manifest
from ftorch_cli.sealing.parallel import WorkPool, pool_with_progress
from ftorch_cli.sealing.segments import FileChangedError, ProofRequest, SealJob, seal_segment
from ftorch_cli.sealing.targets import files_to_seal, size_or_none
from ftorch_cli.sealing.verify import REPAIRABLE, assess_with_sidecar

DEFAULT_OVERHEAD = 0.10

# what happened to each file
SEALED, RESEALED, UNCHANGED, REFUSED, FAILED = "sealed", "resealed", "unchanged", "refused", "failed"
OUTCOMES = (SEALED, RESEALED, UNCHANGED, REFUSED, FAILED)


@dataclass
class SealedFile:
    path: str
    status: str
    message: str = ""
    size: int = 0
    sha256: str = ""
    sidecar: str = ""
    sidecar_size: int = 0
    manifest: str = ""
    seconds: float = 0.0
    proof: dict | None = None


@dataclass
class SealReport:
    files: list[SealedFile] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(item.status in (SEALED, RESEALED, UNCHANGED) for item in self.files)

    @property
    def bytes_sealed(self) -> int:
        return sum(item.size for item in self.files if item.status in (SEALED, RESEALED))

    def summary(self) -> str:
        """One line for commands that seal their outputs (`--seal`) to print."""
        statuses = [item.status for item in self.files]
        done = ", ".join(f"{statuses.count(status)} {status}" for status in OUTCOMES if status in statuses)
        return f"sealing: {done} ({self.bytes_sealed / 1e6:.1f} MB in {self.seconds:.2f} s)"

    def to_dict(self) -> dict:
        files = [asdict(item) for item in self.files]
        return {"ok": self.ok, "seconds": self.seconds, "manifests": self.manifests, "files": files}


@dataclass(frozen=True)
class SealSettings:
    overhead: float = DEFAULT_OVERHEAD
    symbol_size: int | None = None  # None: chosen per file (layout.auto_symbol_size)
    force: bool = True  # seal new content even if the old sidecar could repair the file back
    proof_seed: int | None = None  # None: a fresh random seed per file
    expect_sha256: bytes | None = None  # write nothing unless the file hashes to this (repair rebuilding a sidecar)


def seal_paths(
    paths: Iterable[str | os.PathLike],
    overhead: float = DEFAULT_OVERHEAD,
    symbol_size: int | None = None,
    progress: bool = True,
    *,
    manifest: str | os.PathLike | None = None,
    force: bool = True,
    workers: int | None = None,
    proof_seed: int | None = None,
) -> SealReport:
    """Seal every file under `paths` (files or folders) and update their SEAL_MANIFEST.json.

    Commands that just wrote their outputs call this with the defaults. `force=False`
    (the `seal-artifacts` default) refuses to seal a changed file that the old
    sidecar could still repair: that looks like damage, and sealing it would make
    the damage permanent. Raises UsageError on bad arguments, NothingSelected when
    the paths hold no file; per-file outcomes are in the report.
    """
    try:
        check_overhead(overhead)
        if symbol_size is not None:
            check_symbol_size(symbol_size)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = SealSettings(overhead, symbol_size, force, proof_seed)
    started = time.perf_counter()
    selection = files_to_seal(paths, manifest)
    manifests = {path: load_manifest(path) for path in dict.fromkeys(manifest_path for _, manifest_path in selection)}
    report = SealReport(manifests=[str(path) for path in manifests])
    total = sum(size_or_none(file) or 0 for file, _ in selection)
    with pool_with_progress(workers, progress, total, "sealing") as (pool, bar):
        for file, manifest_path in selection:
            report.files.append(seal_file(file, manifests[manifest_path], settings, pool, bar))
    for item in manifests.values():
        if item.changed:
            item.save()
    report.seconds = time.perf_counter() - started
    return report


def seal_file(file: Path, manifest: Manifest, settings: SealSettings, pool: WorkPool, bar=None) -> SealedFile:
    """Seal one file (or find it already sealed) and record it in `manifest` (saved by the caller)."""
    started = time.perf_counter()
    sidecar = sidecar_path(file)
    result = SealedFile(str(file), FAILED, sidecar=str(sidecar), manifest=str(manifest.path))
    try:
        before = os.stat(file)
    except OSError as exc:
        result.message = f"cannot read: {exc.strerror}"
        return result
    layout = plan_layout(before.st_size, settings.symbol_size)
    existing = _existing_sidecar(sidecar)
    status = SEALED if existing is None else RESEALED
    if existing is not None and _same_parameters(existing, file, layout, settings.overhead):
        sha = file_sha256(file)
        entry = manifest.entry_for(file)
        recorded = sha is not None and entry is not None and entry.get("sha256") == sha.hex()
        if recorded and sha == existing.metadata.file_sha256 and _sidecar_healthy(existing):
            result.status, result.size, result.sha256 = UNCHANGED, before.st_size, sha.hex()
            result.sidecar_size, result.proof = existing.size_on_disk, entry.get("decode_proof")
            result.seconds = time.perf_counter() - started
            return result
    if existing is not None and not settings.force and (refusal := _looks_damaged(file, existing, pool)):
        result.status, result.message = REFUSED, refusal
        return result
    try:
        metadata, repair_chunks, proof = _encode(file, layout, settings, pool, bar)
        after = os.stat(file)
    except FileChangedError as exc:
        result.message = str(exc)
        return result
    except OSError as exc:
        result.message = f"cannot read: {exc.strerror or exc}"
        return result
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or metadata is None:
        result.message = "the file changed while it was being sealed; seal it again once it is complete"
        return result
    if settings.expect_sha256 is not None and metadata.file_sha256 != settings.expect_sha256:
        result.message = "the file no longer has the sha256 it was sealed with; sidecar not written"
        return result
    if proof is not None and not proof.get("recovered"):
        result.message = f"decode proof failed ({proof.get('error', 'wrong output')}); sidecar not written"
        result.proof = proof
        return result
    with atomic_writer(sidecar, "wb") as handle:
        write_sidecar(handle, metadata, repair_chunks)
    result.status, result.size, result.sha256 = status, layout.file_size, metadata.file_sha256.hex()
    result.sidecar_size, result.proof = os.stat(sidecar).st_size, proof
    manifest.put(file, _manifest_entry(manifest, file, sidecar, metadata, result.sidecar_size, proof))
    result.seconds = time.perf_counter() - started
    return result


def _encode(file: Path, layout: Layout, settings: SealSettings, pool: WorkPool, bar):
    """Encode every segment on the pool while this process hashes the whole file."""
    segments = range(layout.segment_count)
    budgets = [repair_budget(layout.source_count(segment), settings.overhead) for segment in segments]
    seed = settings.proof_seed if settings.proof_seed is not None else secrets.randbits(32)
    proof_segment = random.Random(seed).randrange(layout.segment_count) if layout.segment_count else None
    jobs = [
        SealJob(
            str(file), layout, segment, budget + SPARE_REPAIR_SYMBOLS,
            ProofRequest(seed, budget) if segment == proof_segment else None,
        )  # fmt: skip
        for segment, budget in enumerate(budgets)
    ]
    whole_file: list[bytes | None] = []
    results = pool.run(
        seal_segment,
        jobs,
        [layout.transfer_length(job.segment) for job in jobs],
        meanwhile=lambda: whole_file.append(file_sha256(file)),
        progress=bar,
    )
    if whole_file[0] is None:
        return None, [], None
    source_digests = bytearray(layout.symbol_count * DIGEST_SIZE)
    for result in results:
        for position, index in enumerate(layout.symbol_indices(result.segment)):
            source_digests[index * DIGEST_SIZE : (index + 1) * DIGEST_SIZE] = result.source_digests[
                position * DIGEST_SIZE : (position + 1) * DIGEST_SIZE
            ]
    metadata = SidecarMetadata(
        file_name=file.name,
        file_sha256=whole_file[0],
        layout=layout,
        overhead=settings.overhead,
        repair_counts=tuple(job.repair_count for job in jobs),
        source_digests=bytes(source_digests),
        repair_digests=b"".join(result.repair_digests for result in results),
    )
    proof = next((result.proof for result in results if result.proof is not None), None)
    return metadata, [result.repair for result in results], proof


def _existing_sidecar(sidecar: Path) -> SidecarView | None:
    try:
        return read_sidecar(sidecar)
    except (OSError, SidecarError):
        return None  # missing or unusable: sealing writes a fresh one


def _same_parameters(view: SidecarView, file: Path, layout: Layout, overhead: float) -> bool:
    metadata = view.metadata
    return (
        metadata.file_name == file.name
        and metadata.layout == layout
        and round(metadata.overhead * 1_000_000) == round(overhead * 1_000_000)
    )


def _sidecar_healthy(view: SidecarView) -> bool:
    return not view.structural_problems() and view.damaged_repair_symbols() == 0


def _looks_damaged(file: Path, existing: SidecarView, pool: WorkPool) -> str | None:
    """A reason to refuse sealing `file`, if its old sidecar can repair it back (i.e. it looks like damage)."""
    check = assess_with_sidecar(file, existing, None, pool)
    if check.status != REPAIRABLE:
        return None
    return (
        f"changed since it was sealed, but only slightly: its sidecar can restore the sealed content "
        f"({check.message}). This looks like damage: run `ftorch repair-artifacts`, "
        "or pass --force to seal the new content"
    )


def _manifest_entry(
    manifest: Manifest, file: Path, sidecar: Path, metadata: SidecarMetadata, sidecar_size: int, proof: dict | None
) -> dict:
    layout = metadata.layout
    return {
        "path": manifest.relative(file),
        "size": layout.file_size,
        "sha256": metadata.file_sha256.hex(),
        "sidecar": manifest.relative(sidecar),
        "sidecar_size": sidecar_size,
        "overhead": metadata.overhead,
        "symbol_size": layout.symbol_size,
        "segments": layout.segment_count,
        "source_symbols": layout.symbol_count,
        "repair_symbols": metadata.repair_symbol_count,
        "tolerance_symbols": sum(metadata.budget(segment) for segment in range(layout.segment_count)),
        "sealed_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "decode_proof": proof if proof is not None else {"skipped": "empty file: nothing to encode"},
    }


