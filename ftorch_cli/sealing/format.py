"""The sidecar file (`<file>.rq`), format version 1. Byte layout, all integers little-endian:

    frame     52 B   magic "FTRQSEAL", version u16, reserved u16, metadata length u64, checksum 32 B
    metadata  M B    see METADATA below
    repair    R*T B  every segment's repair symbols, segment 0 first, each T bytes
    metadata  M B    a second copy of the metadata
    footer    52 B   checksum 32 B, metadata length u64, version u16, reserved u16, magic "FTRQFOOT"

checksum = sha256(version, reserved, metadata length, metadata), so a damaged
frame or footer field fails it like damaged metadata does. The metadata is read
from the front copy, else from the back copy (found from the end of the file, or
where the front copy says it is); the repair area is found from either. Damage to
repair symbols is caught by their digests in the metadata. See docs/sealing.md.

METADATA: file size u64, file sha256 32 B, symbol size T u32, segment count S u32,
overhead in millionths u32, digest algorithm u8, digest size u8, file name length
u16, file name (UTF-8, the sealed file's base name); then per segment: source
symbols K u32, repair symbols R u32, transfer length u64; then the digest of every
source symbol in file order; then the digest of every repair symbol in sidecar order.
"""
from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

from ftorch_cli.sealing.codec import DIGEST_ALGORITHM_ID, DIGEST_SIZE, symbol_digest
from ftorch_cli.sealing.layout import SPARE_REPAIR_SYMBOLS, Layout, check_layout

SIDECAR_SUFFIX = ".rq"
MAGIC = b"FTRQSEAL"
FOOTER_MAGIC = b"FTRQFOOT"
FORMAT_VERSION = 1
MAX_REPAIR_SYMBOLS = (1 << 24) - 1  # encoding symbol ids are u24

_FRAME = struct.Struct("<8sHHQ32s")
_FOOTER = struct.Struct("<32sQHH8s")
_CHECKED_FIELDS = struct.Struct("<HHQ")
_METADATA_HEAD = struct.Struct("<Q32sIIIBBH")
_SEGMENT = struct.Struct("<IIQ")
FRAME_SIZE = _FRAME.size
assert FRAME_SIZE == _FOOTER.size == 52


class SidecarError(Exception):
    """The sidecar cannot be used: not a sidecar, both metadata copies damaged, or inconsistent."""


class SidecarVersionError(SidecarError):
    """A readable sidecar in a format version this ftorch does not know."""


def sidecar_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


@dataclass(frozen=True)
class SidecarMetadata:
    """Everything in a sidecar except the repair symbols themselves."""

    file_name: str
    file_sha256: bytes
    layout: Layout
    overhead: float
    repair_counts: tuple[int, ...]
    source_digests: bytes  # DIGEST_SIZE bytes per source symbol, file order
    repair_digests: bytes  # DIGEST_SIZE bytes per repair symbol, sidecar order

    @property
    def file_size(self) -> int:
        return self.layout.file_size

    @property
    def symbol_size(self) -> int:
        return self.layout.symbol_size

    @property
    def repair_symbol_count(self) -> int:
        return sum(self.repair_counts)

    def repair_start(self, segment: int) -> int:
        """Index (in the repair area) of `segment`'s first repair symbol."""
        return sum(self.repair_counts[:segment])

    def budget(self, segment: int) -> int:
        """Symbols `segment` is sealed to survive losing (its repair symbols minus the spares)."""
        return max(0, self.repair_counts[segment] - SPARE_REPAIR_SYMBOLS)

    def source_digest(self, index: int) -> bytes:
        return self.source_digests[index * DIGEST_SIZE : (index + 1) * DIGEST_SIZE]

    def repair_digest(self, index: int) -> bytes:
        return self.repair_digests[index * DIGEST_SIZE : (index + 1) * DIGEST_SIZE]

    def repair_area_size(self) -> int:
        return self.repair_symbol_count * self.symbol_size

    def encode(self) -> bytes:
        name = self.file_name.encode("utf-8")
        layout = self.layout
        head = _METADATA_HEAD.pack(
            layout.file_size, self.file_sha256, layout.symbol_size, layout.segment_count,
            round(self.overhead * 1_000_000), DIGEST_ALGORITHM_ID, DIGEST_SIZE, len(name),
        )  # fmt: skip
        segments = b"".join(
            _SEGMENT.pack(layout.source_count(segment), repair, layout.transfer_length(segment))
            for segment, repair in enumerate(self.repair_counts)
        )
        return b"".join([head, name, segments, self.source_digests, self.repair_digests])

    @classmethod
    def decode(cls, blob: bytes) -> "SidecarMetadata":
        """Parse and cross-check metadata whose checksum already matched."""
        try:
            return cls._decode(memoryview(blob))
        except (struct.error, ValueError, UnicodeDecodeError) as exc:
            raise SidecarError(f"inconsistent metadata: {exc}") from exc

    @classmethod
    def _decode(cls, blob: memoryview) -> "SidecarMetadata":
        (file_size, sha, symbol_size, segment_count, overhead_ppm, algorithm, digest_size, name_length) = (
            _METADATA_HEAD.unpack_from(blob, 0)
        )
        if (algorithm, digest_size) != (DIGEST_ALGORITHM_ID, DIGEST_SIZE):
            raise ValueError(f"unknown symbol digest {algorithm}/{digest_size}")
        layout = Layout(file_size, symbol_size, segment_count)
        check_layout(layout)
        offset = _METADATA_HEAD.size
        file_name = bytes(blob[offset : offset + name_length]).decode("utf-8")
        offset += name_length
        repair_counts = []
        for segment in range(segment_count):
            source, repair, transfer = _SEGMENT.unpack_from(blob, offset + segment * _SEGMENT.size)
            if source != layout.source_count(segment) or transfer != layout.transfer_length(segment):
                raise ValueError(f"segment {segment} does not match the file's layout")
            if not (1 <= repair <= MAX_REPAIR_SYMBOLS - source):
                raise ValueError(f"segment {segment} has {repair} repair symbols")
            repair_counts.append(repair)
        offset += segment_count * _SEGMENT.size
        source_end = offset + layout.symbol_count * DIGEST_SIZE
        repair_end = source_end + sum(repair_counts) * DIGEST_SIZE
        if repair_end != len(blob):
            raise ValueError(f"metadata is {len(blob)} bytes, its contents need {repair_end}")
        return cls(
            file_name=file_name,
            file_sha256=sha,
            layout=layout,
            overhead=overhead_ppm / 1_000_000,
            repair_counts=tuple(repair_counts),
            source_digests=bytes(blob[offset:source_end]),
            repair_digests=bytes(blob[source_end:repair_end]),
        )


def _checksum(metadata: bytes, version: int, reserved: int = 0) -> bytes:
    return hashlib.sha256(_CHECKED_FIELDS.pack(version, reserved, len(metadata)) + metadata).digest()


def write_sidecar(handle: BinaryIO, metadata: SidecarMetadata, repair_chunks: Iterable[bytes]) -> None:
    """Write a whole sidecar to an open binary file (callers use ftorch_cli.atomic.atomic_writer)."""
    blob = metadata.encode()
    checksum = _checksum(blob, FORMAT_VERSION)
    handle.write(_FRAME.pack(MAGIC, FORMAT_VERSION, 0, len(blob), checksum))
    handle.write(blob)
    written = 0
    for chunk in repair_chunks:
        handle.write(chunk)
        written += len(chunk)
    if written != metadata.repair_area_size():
        raise ValueError(f"repair area is {written} bytes, metadata says {metadata.repair_area_size()}")
    handle.write(blob)
    handle.write(_FOOTER.pack(checksum, len(blob), FORMAT_VERSION, 0, FOOTER_MAGIC))


@dataclass(frozen=True)
class SidecarView:
    """A sidecar as found on disk: its metadata, where its repair area is, and what is damaged."""

    path: Path
    metadata: SidecarMetadata
    repair_offset: int
    front_copy_ok: bool
    back_copy_ok: bool
    size_on_disk: int

    @property
    def expected_size(self) -> int:
        blob_size = self.repair_offset - FRAME_SIZE
        return 2 * (FRAME_SIZE + blob_size) + self.metadata.repair_area_size()

    def damaged_repair_symbols(self) -> int:
        """How many repair symbols fail their digest (or are missing from a short sidecar)."""
        metadata = self.metadata
        stored = read_symbols(self.path, self.repair_offset, metadata.repair_symbol_count, metadata.symbol_size)
        return sum(
            symbol is None or symbol_digest(symbol) != metadata.repair_digest(number)
            for number, symbol in enumerate(stored)
        )

    def structural_problems(self) -> list[str]:
        """Damage outside the repair symbols (those are checked one by one against their digests)."""
        problems = []
        if not self.front_copy_ok:
            problems.append("front metadata copy damaged")
        if not self.back_copy_ok:
            problems.append("back metadata copy damaged")
        if self.size_on_disk != self.expected_size:
            problems.append(f"sidecar is {self.size_on_disk} bytes, expected {self.expected_size}")
        return problems


def read_sidecar(path: str | os.PathLike) -> SidecarView:
    """Find a good metadata copy; raise SidecarError if there is none (or FileNotFoundError)."""
    path = Path(path)
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        front = _read_copy(handle, size, 0, front=True)
        back = _read_copy(handle, size, size - FRAME_SIZE, front=False)
        if front.metadata is not None and back.metadata is None:
            # the sidecar may have been truncated or grown: look where the front copy says the back one is
            expected_footer = FRAME_SIZE + 2 * front.blob_size + front.metadata.repair_area_size()
            if expected_footer != size - FRAME_SIZE:
                back = _read_copy(handle, size, expected_footer, front=False)
    for copy in (front, back):
        if copy.version_error is not None:
            raise SidecarVersionError(copy.version_error)
    good = front if front.metadata is not None else back
    if good.metadata is None:
        if not (front.magic_ok or back.magic_ok):
            raise SidecarError("not an ftorch sidecar (no FTRQSEAL/FTRQFOOT marker)")
        raise SidecarError(front.inconsistency or back.inconsistency or "both metadata copies are damaged")
    if front.metadata is not None and back.metadata is not None and front.metadata != back.metadata:
        raise SidecarError("the two metadata copies disagree (pieces of two different sidecars?)")
    repair_offset = FRAME_SIZE + good.blob_size
    return SidecarView(path, good.metadata, repair_offset, front.metadata is not None, back.metadata is not None, size)


@dataclass
class _Copy:
    metadata: SidecarMetadata | None = None
    blob_size: int = 0
    magic_ok: bool = False
    version_error: str | None = None
    inconsistency: str | None = None


def _read_copy(handle: BinaryIO, size: int, frame_offset: int, *, front: bool) -> _Copy:
    """Read the metadata copy described by the frame (front) or footer (back) at `frame_offset`."""
    if frame_offset < 0 or frame_offset + FRAME_SIZE > size:
        return _Copy()
    handle.seek(frame_offset)
    raw = handle.read(FRAME_SIZE)
    if front:
        magic, version, reserved, blob_size, checksum = _FRAME.unpack(raw)
        ok_magic, blob_offset = magic == MAGIC, frame_offset + FRAME_SIZE
    else:
        checksum, blob_size, version, reserved, magic = _FOOTER.unpack(raw)
        ok_magic, blob_offset = magic == FOOTER_MAGIC, frame_offset - blob_size
    copy = _Copy(magic_ok=ok_magic)
    if not ok_magic or blob_offset < 0 or blob_offset + blob_size > size:
        return copy
    handle.seek(blob_offset)
    blob = handle.read(blob_size)
    if len(blob) != blob_size or _checksum(blob, version, reserved) != checksum:
        return copy
    if version != FORMAT_VERSION:
        copy.version_error = (
            f"sidecar format version {version} is not supported (this ftorch reads version {FORMAT_VERSION})"
        )
        return copy
    try:
        copy.metadata = SidecarMetadata.decode(blob)
    except SidecarError as exc:
        copy.inconsistency = str(exc)
        return copy
    copy.blob_size = blob_size
    return copy


def read_symbols(path: str | os.PathLike, offset: int, count: int, symbol_size: int) -> list[memoryview | None]:
    """`count` symbols stored from `offset` on; None for each one the file is too short (or missing) to hold."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            raw = memoryview(handle.read(count * symbol_size))
    except FileNotFoundError:
        raw = memoryview(b"")
    return [
        raw[start : start + symbol_size] if start + symbol_size <= len(raw) else None
        for start in range(0, count * symbol_size, symbol_size)
    ]
