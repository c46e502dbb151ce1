"""Work units, one segment each, that run in worker processes (raptorq holds the GIL).

A unit reads the file itself (the page cache is shared), so only digests and
repair symbols travel back to the parent, never the file's bytes, except the
symbols a scrub moved or rebuilt.
"""
from __future__ import annotations

import contextlib
import os
import random
from dataclasses import dataclass, field
from typing import Iterator

from ftorch_cli.sealing.codec import (
    DIGEST_SIZE,
    CodecError,
    decode_segment,
    encode_repair_symbols,
    packet,
    padded_digest,
    symbol_digest,
    symbol_digests,
)
from ftorch_cli.sealing.format import read_symbols
from ftorch_cli.sealing.layout import Layout


class FileChangedError(Exception):
    """The file changed size while a unit was reading it."""


@contextlib.contextmanager
def open_for_reading(path: str) -> Iterator[int | None]:
    """A read-only file descriptor, or None if the file is missing.

    Symbols are read with os.pread into fresh buffers rather than through mmap:
    mapping costs a page fault per 4 KiB on first touch, which measured twice as
    slow here, and a reader of a file that shrinks under mmap gets SIGBUS.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        yield None
        return
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def read_at(descriptor: int | None, offset: int, length: int) -> bytes:
    """`length` bytes from `offset` (fewer at the end of the file; none if it is missing)."""
    if descriptor is None or offset < 0:
        return b""
    return os.pread(descriptor, length, offset)


# --- sealing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofRequest:
    """Decode this segment after dropping `drop` random source symbols chosen by `seed`."""

    seed: int
    drop: int


@dataclass(frozen=True)
class SealJob:
    path: str
    layout: Layout
    segment: int
    repair_count: int
    proof: ProofRequest | None = None


@dataclass
class SegmentSeal:
    segment: int
    source_digests: bytes  # segment order
    repair: bytes
    repair_digests: bytes
    proof: dict | None = None


def seal_segment(job: SealJob) -> SegmentSeal:
    layout, symbol_size = job.layout, job.layout.symbol_size
    with open_for_reading(job.path) as descriptor:
        pieces = [
            read_at(descriptor, index * symbol_size, layout.symbol_length(index))
            for index in layout.symbol_indices(job.segment)
        ]
        if descriptor is None or os.fstat(descriptor).st_size != layout.file_size:
            raise FileChangedError(f"{job.path} changed size while being sealed")
    data_length = sum(len(piece) for piece in pieces)
    pieces.append(bytes(layout.transfer_length(job.segment) - data_length))  # only the file's last symbol is short
    segment = b"".join(pieces)
    del pieces
    packets, repair = encode_repair_symbols(segment, symbol_size, job.repair_count)
    result = SegmentSeal(
        segment=job.segment,
        source_digests=symbol_digests(segment, symbol_size),
        repair=repair,
        repair_digests=symbol_digests(repair, symbol_size),
    )
    if job.proof is not None:
        result.proof = _decode_proof(job, segment, packets)
    return result


def _decode_proof(job: SealJob, segment: bytes, packets: list[bytes]) -> dict:
    """Rebuild the segment from a random subset that lacks `drop` source symbols; it must come back exact."""
    rng = random.Random(job.proof.seed)
    source_count = len(packets) - job.repair_count
    dropped = set(rng.sample(range(source_count), min(job.proof.drop, source_count)))
    kept = [item for number, item in enumerate(packets) if number not in dropped]
    rng.shuffle(kept)
    fed = 0

    def feed():
        nonlocal fed
        for item in kept:
            fed += 1
            yield item

    try:
        decoded = decode_segment(len(segment), job.layout.symbol_size, feed())
    except CodecError as exc:
        decoded, error = None, str(exc)
    else:
        error = None
    return {
        "segment": job.segment,
        "seed": job.proof.seed,
        "source_symbols": source_count,
        "repair_symbols": job.repair_count,
        "dropped_source_symbols": len(dropped),
        "symbols_fed": fed,
        "recovered": decoded == segment,
        **({"error": error} if error else {}),
    }


# --- scrubbing (verify and repair) -----------------------------------------------------------


@dataclass(frozen=True)
class ScrubJob:
    path: str
    sidecar: str
    repair_offset: int  # where the segment's first repair symbol starts in the sidecar
    layout: Layout
    segment: int
    source_digests: bytes  # this segment's, segment order
    repair_digests: bytes  # this segment's
    shift: int  # current file size minus sealed size: where to look for symbols moved by one insertion/deletion
    decode: bool


@dataclass
class SegmentScrub:
    segment: int
    damaged_source: list[int] = field(default_factory=list)  # file symbol numbers
    damaged_repair: list[int] = field(default_factory=list)  # positions within the segment's repair symbols
    shifted: int = 0  # symbols found moved by `shift`
    patches: dict[int, bytes] = field(default_factory=dict)  # file symbol number -> its true bytes
    decoded: bool = False
    problem: str | None = None


def scrub_segment(job: ScrubJob) -> SegmentScrub:
    """Check every symbol of one segment against its digest; with `decode`, rebuild the damaged ones."""
    layout, symbol_size = job.layout, job.layout.symbol_size
    source_count = layout.source_count(job.segment)
    result = SegmentScrub(job.segment)
    with open_for_reading(job.path) as descriptor:
        found = [
            _find_symbol(descriptor, layout, index, job.shift, _digest_at(job.source_digests, position))
            for position, index in enumerate(layout.symbol_indices(job.segment))
        ]
    for index, symbol in zip(layout.symbol_indices(job.segment), found):
        if symbol is None:
            result.damaged_source.append(index)
        elif symbol.moved:
            result.shifted += 1
            result.patches[index] = symbol.data
    rebuild = job.decode and bool(result.damaged_source)
    good_packets = [
        packet(position, _padded(symbol.data, symbol_size))
        for position, symbol in enumerate(found)
        if symbol is not None and rebuild
    ]
    for position, stored in enumerate(_read_repair(job)):
        if stored is None or symbol_digest(stored) != _digest_at(job.repair_digests, position):
            result.damaged_repair.append(position)
        elif rebuild:
            good_packets.append(packet(source_count + position, stored))
    if rebuild:
        _rebuild(job, result, good_packets, source_count)
    return result


def _digest_at(digests: bytes, position: int) -> bytes:
    return digests[position * DIGEST_SIZE : (position + 1) * DIGEST_SIZE]


@dataclass
class _Found:
    data: bytes  # the symbol's bytes in the file (short for the file's last symbol)
    moved: bool


def _find_symbol(descriptor: int | None, layout: Layout, index: int, shift: int, expected: bytes) -> _Found | None:
    """Symbol `index` where it belongs, else `shift` bytes away (one insertion/deletion moved it)."""
    length = layout.symbol_length(index)
    start = index * layout.symbol_size
    for moved, offset in ((False, start), (True, start + shift)):
        if moved and shift == 0:
            break
        piece = read_at(descriptor, offset, length)
        if len(piece) == length and padded_digest(piece, layout.symbol_size) == expected:
            return _Found(piece, moved)
    return None


def _padded(piece, symbol_size: int) -> bytes:
    return bytes(piece) + bytes(symbol_size - len(piece))


def _read_repair(job: ScrubJob) -> list[memoryview | None]:
    count = len(job.repair_digests) // DIGEST_SIZE
    return read_symbols(job.sidecar, job.repair_offset, count, job.layout.symbol_size)


def _rebuild(job: ScrubJob, result: SegmentScrub, good_packets: list[bytes], source_count: int) -> None:
    if len(good_packets) < source_count:
        result.problem = f"{len(good_packets)} good symbols left, {source_count} needed"
        return
    try:
        decoded = decode_segment(job.layout.transfer_length(job.segment), job.layout.symbol_size, good_packets)
    except CodecError as exc:
        result.problem = str(exc)
        return
    if decoded is None:
        result.problem = f"raptorq could not decode from {len(good_packets)} symbols ({source_count} source)"
        return
    symbol_size, segment_count = job.layout.symbol_size, job.layout.segment_count
    for index in result.damaged_source:
        position = (index - job.segment) // segment_count
        rebuilt = decoded[position * symbol_size : (position + 1) * symbol_size]
        if symbol_digest(rebuilt) != _digest_at(job.source_digests, position):
            result.problem = "the decoder's output fails the symbol digests (a bad symbol slipped through?)"
            result.patches.clear()
            return
        result.patches[index] = rebuilt[: job.layout.symbol_length(index)]
    result.decoded = True
