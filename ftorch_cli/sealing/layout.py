"""How a file is cut into symbols and interleaved into independently encoded segments.

The file is split into N symbols of T bytes (the last one zero-padded). Symbol i
belongs to segment i mod S, at position i // S inside it. Interleaving spreads a
contiguous damage (a zeroed range, a truncated tail, a cut-out chunk) evenly over
all segments, so a file survives a burst as large as its overhead allows, not just
a burst that fits inside one segment's budget.

Each segment is one raptorq source block of K_s source symbols, kept at about
SEGMENT_TARGET_BYTES: raptorq's encode cost per byte grows with K, and stays a
plain (not sub-blocked) block well below ~10 MiB.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ftorch_cli.sealing.codec import MAX_SOURCE_SYMBOLS, check_symbol_size

SEGMENT_TARGET_BYTES = 2 * 1024 * 1024
DEFAULT_SYMBOL_SIZE = 16384  # fastest raptorq symbol size measured here (docs/sealing.md)
SMALL_FILE_SYMBOLS = 64  # files under 64 symbols of DEFAULT_SYMBOL_SIZE get smaller symbols
MIN_AUTO_SYMBOL_SIZE = 64
SPARE_REPAIR_SYMBOLS = 2  # beyond the budget: decoding from exactly K symbols fails ~1% of the time, K+2 ~1e-6
MAX_OVERHEAD = 4.0


def auto_symbol_size(file_size: int) -> int:
    """16 KiB symbols, or ~64 symbols per file for files below 1 MiB (finer-grained repair, smaller sidecar)."""
    wanted = -(-file_size // SMALL_FILE_SYMBOLS)
    rounded = -(-wanted // 8) * 8
    return max(MIN_AUTO_SYMBOL_SIZE, min(DEFAULT_SYMBOL_SIZE, rounded))


def check_overhead(overhead: float) -> None:
    if not 0 < overhead <= MAX_OVERHEAD:  # also rejects NaN
        raise ValueError(f"overhead must be above 0 and at most {MAX_OVERHEAD:g} (0.10 is 10%), got {overhead}")


def repair_budget(source_count: int, overhead: float) -> int:
    """Source symbols a segment is meant to survive losing: ceil(K * overhead), at least 1."""
    # round() first so 0.1 * 30 = 3.0000000000000004 does not become 4
    return max(1, math.ceil(round(source_count * overhead, 9)))


@dataclass(frozen=True)
class Layout:
    file_size: int
    symbol_size: int
    segment_count: int

    @property
    def symbol_count(self) -> int:
        return -(-self.file_size // self.symbol_size)

    def source_count(self, segment: int) -> int:
        return -(-(self.symbol_count - segment) // self.segment_count)

    def symbol_indices(self, segment: int) -> range:
        """The file's symbol numbers that make up `segment`, in segment order."""
        return range(segment, self.symbol_count, self.segment_count)

    def symbol_length(self, index: int) -> int:
        """Bytes of the file inside symbol `index` (the last symbol may be short)."""
        return min(self.symbol_size, self.file_size - index * self.symbol_size)

    def transfer_length(self, segment: int) -> int:
        return self.source_count(segment) * self.symbol_size


def plan_layout(file_size: int, symbol_size: int | None = None) -> Layout:
    """Choose the layout for a file of `file_size` bytes (0 bytes: no symbols, no segments)."""
    if symbol_size is None:
        symbol_size = auto_symbol_size(file_size)
    check_symbol_size(symbol_size)
    if file_size == 0:
        return Layout(0, symbol_size, 0)
    symbols_per_segment = max(1, min(MAX_SOURCE_SYMBOLS, SEGMENT_TARGET_BYTES // symbol_size))
    symbol_count = -(-file_size // symbol_size)
    return Layout(file_size, symbol_size, -(-symbol_count // symbols_per_segment))


def check_layout(layout: Layout) -> None:
    """Raise ValueError unless `layout` is one this module could have planned (used on sidecars we read)."""
    check_symbol_size(layout.symbol_size)
    if layout.file_size < 0:
        raise ValueError(f"negative file size {layout.file_size}")
    if layout.file_size == 0:
        if layout.segment_count:
            raise ValueError("an empty file has no segments")
        return
    if not (1 <= layout.segment_count <= layout.symbol_count):
        raise ValueError(f"{layout.segment_count} segments for {layout.symbol_count} symbols")
    if layout.source_count(0) > MAX_SOURCE_SYMBOLS:
        raise ValueError(f"{layout.source_count(0)} symbols in one segment (at most {MAX_SOURCE_SYMBOLS})")
