"""The one place that calls raptorq (RFC 6330), plus the per-symbol digest.

raptorq 2.0.0 facts this module relies on (measured, see docs/sealing.md):
- `Encoder.with_defaults(data, mtu).get_encoded_packets(r)` returns the source
  packets, then `r` repair packets; a packet is a 4-byte header (source block
  number u8, encoding symbol id u24 big-endian) followed by T = mtu bytes when mtu
  is a multiple of 8. Output is deterministic.
- Up to ~10 MiB it makes a single source block whose source packets are plain
  slices of the data; callers keep segments far below that (layout.py) and
  `encode_repair_symbols` checks it.
- Bad input makes it panic with `pyo3_runtime.PanicException`, a BaseException;
  a wrong transfer length, symbol size or a flipped byte silently gives wrong
  output. So every call is wrapped, inputs are validated first, and only symbols
  whose digest matched are ever fed to the decoder.
"""
from __future__ import annotations

import hashlib
from typing import Iterable

import raptorq

# Symbol digest: SHA-256 truncated to 128 bits. Measured here, hashlib's SHA-256
# (SHA-NI) hashes 16 KiB symbols at ~1.7 GB/s, twice BLAKE2b; 128 bits makes an
# undetected damaged symbol practically impossible, and the file's full SHA-256
# checks every rebuild anyway.
DIGEST_SIZE = 16
DIGEST_ALGORITHM_ID = 1  # recorded in the sidecar: 1 = sha256 truncated to DIGEST_SIZE bytes

MIN_SYMBOL_SIZE = 8
MAX_SYMBOL_SIZE = 65528  # the largest multiple of 8 below raptorq's u16 MTU
MAX_SOURCE_SYMBOLS = 8192  # per segment; RFC 6330 allows 56403, larger blocks only get slower
HEADER_SIZE = 4


class CodecError(Exception):
    """raptorq refused an input or panicked; carries what we asked it to do."""


def symbol_digest(symbol) -> bytes:
    return hashlib.sha256(symbol).digest()[:DIGEST_SIZE]


def padded_digest(piece, symbol_size: int) -> bytes:
    """Digest of `piece` zero-padded to a whole symbol (the file's last symbol is short)."""
    if len(piece) == symbol_size:
        return symbol_digest(piece)
    hasher = hashlib.sha256(piece)
    hasher.update(bytes(symbol_size - len(piece)))
    return hasher.digest()[:DIGEST_SIZE]


def file_sha256(path) -> bytes | None:
    """The sha256 of a whole file, or None if it does not exist."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").digest()
    except FileNotFoundError:
        return None


def symbol_digests(data, symbol_size: int) -> bytes:
    """The digests of consecutive `symbol_size` slices of `data`, concatenated."""
    view = memoryview(data)
    return b"".join(symbol_digest(view[start : start + symbol_size]) for start in range(0, len(view), symbol_size))


def check_symbol_size(symbol_size: int) -> None:
    if not (MIN_SYMBOL_SIZE <= symbol_size <= MAX_SYMBOL_SIZE and symbol_size % 8 == 0):
        raise ValueError(
            f"symbol size must be a multiple of 8 between {MIN_SYMBOL_SIZE} and {MAX_SYMBOL_SIZE}, got {symbol_size}"
        )


def packet(encoding_symbol_id: int, payload) -> bytes:
    """A raptorq packet for source block 0 (every segment is one source block)."""
    return encoding_symbol_id.to_bytes(HEADER_SIZE, "big") + bytes(payload)


def encode_repair_symbols(segment: bytes, symbol_size: int, repair_count: int) -> tuple[list[bytes], bytes]:
    """Encode one segment (a whole number of symbols); return (all packets, the repair payloads joined).

    The packets are returned too so a caller can run a decode proof without encoding again.
    """
    check_symbol_size(symbol_size)
    source_count, remainder = divmod(len(segment), symbol_size)
    if source_count == 0 or remainder or source_count > MAX_SOURCE_SYMBOLS or repair_count < 1:
        raise CodecError(f"bad segment: {len(segment)} bytes, symbol size {symbol_size}, {repair_count} repair symbols")
    try:
        packets = raptorq.Encoder.with_defaults(segment, symbol_size).get_encoded_packets(repair_count)
    except BaseException as exc:  # PanicException is a BaseException
        _reraise_control_flow(exc)
        raise CodecError(f"raptorq encoder failed: {exc}") from exc
    expected_length = HEADER_SIZE + symbol_size
    if (
        len(packets) != source_count + repair_count
        or any(len(item) != expected_length for item in packets)
        or packets[0] != packet(0, memoryview(segment)[:symbol_size])
        or packets[-1][:HEADER_SIZE] != (source_count + repair_count - 1).to_bytes(HEADER_SIZE, "big")
    ):
        raise CodecError("raptorq did not produce one plain source block; the segment layout assumption broke")
    repair = b"".join(memoryview(item)[HEADER_SIZE:] for item in packets[source_count:])
    return packets, repair


def decode_segment(transfer_length: int, symbol_size: int, packets: Iterable[bytes]) -> bytes | None:
    """Feed packets (only verified ones!) until the segment decodes; None if they were not enough."""
    check_symbol_size(symbol_size)
    if transfer_length <= 0:
        raise CodecError(f"bad transfer length {transfer_length}")
    try:
        decoder = raptorq.Decoder.with_defaults(transfer_length, symbol_size)
        for item in packets:
            if len(item) != HEADER_SIZE + symbol_size or item[0] != 0:
                raise CodecError("malformed packet handed to the decoder")
            result = decoder.decode(item)
            if result is not None:
                return result
    except CodecError:
        raise
    except BaseException as exc:
        _reraise_control_flow(exc)
        raise CodecError(f"raptorq decoder failed: {exc}") from exc
    return None


def _reraise_control_flow(exc: BaseException) -> None:
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
        raise exc
