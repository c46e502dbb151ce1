"""The safetensors format for engine tensors (the `safetensors.torch` API: save_file/load_file/save/load).

    8 bytes    little-endian u64 N: the header's length
    N bytes    JSON: {"<name>": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ...,
               "__metadata__": {str: str}} (padded with spaces to a multiple of 8)
    the rest   the tensors' bytes, little-endian, row-major, back to back

Writing always stores contiguous copies (views, expanded and transposed
tensors included), sorted by dtype size (largest first) then name, as the
safetensors library does. Reading validates everything before building a
tensor: header length inside the file and below 100 MB, a JSON object whose
entries have a known dtype, a shape of non-negative ints and offsets with
end - begin == numel * itemsize, offsets that tile the data buffer exactly
(no holes, no overlaps, nothing past the end), string-only metadata.
Problems raise SafetensorError.
"""
from __future__ import annotations

import json
import os
import struct
import sys

from engine import _dtype as dt
from engine.serialization._atomic import write_atomically

__all__ = ["SafetensorError", "save", "save_file", "load", "load_file"]

_CODES = {
    dt.bool: "BOOL", dt.uint8: "U8", dt.int8: "I8", dt.int16: "I16", dt.int32: "I32", dt.int64: "I64",
    dt.float32: "F32", dt.float64: "F64",
}
_DTYPES = {code: d for d, code in _CODES.items()}
_KNOWN_UNSUPPORTED = ("F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "U16", "U32",
                      "U64", "C64", "C128")
_MAX_HEADER = 100_000_000


class SafetensorError(Exception):
    """A malformed safetensors buffer, or tensors that cannot be saved."""


def _serialize(tensors, metadata) -> bytes:
    from engine._tensor import Tensor

    if not isinstance(tensors, dict):
        raise TypeError(f"expected a dict of str -> Tensor, got {type(tensors).__name__}")
    if metadata is not None:
        if not isinstance(metadata, dict) or any(type(k) is not str or type(v) is not str for k, v in metadata.items()):
            raise SafetensorError("metadata must be a dict of str -> str")
    items = []
    for name, t in tensors.items():
        if type(name) is not str:
            raise SafetensorError(f"tensor names must be str, got {type(name).__name__}")
        if name == "__metadata__":
            raise SafetensorError("'__metadata__' is reserved and cannot name a tensor")
        if not isinstance(t, Tensor):
            raise SafetensorError(f"{name!r} is not a tensor (got {type(t).__name__})")
        if t._dtype not in _CODES:
            raise SafetensorError(f"dtype {t._dtype} of {name!r} has no safetensors code")
        items.append((name, t))
    items.sort(key=lambda item: (-item[1]._dtype.itemsize, item[0]))
    header: dict = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    chunks, offset = [], 0
    for name, t in items:
        data = _contiguous_bytes(t)
        if sys.byteorder != "little" and t._dtype.itemsize > 1:
            raise SafetensorError("saving on big-endian machines is not supported")
        header[name] = {"dtype": _CODES[t._dtype], "shape": list(t._shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks)


def _contiguous_bytes(t) -> bytes:
    """A copy of t's elements in row-major order (a contiguous copy first for any other layout)."""
    from engine._kernel import ffi

    nbytes = t.numel() * t._dtype.itemsize
    if not nbytes:
        return b""
    c = t.detach().contiguous()
    return bytes(ffi.buffer(ffi.cast("char *", c._addr), nbytes))


def save(tensors, metadata=None) -> bytes:
    """`safetensors.torch.save`: the file's bytes."""
    return _serialize(tensors, metadata)


def save_file(tensors, filename, metadata=None) -> None:
    """`safetensors.torch.save_file`: written to a temporary file, then renamed into place."""
    data = _serialize(tensors, metadata)
    write_atomically(os.fspath(filename), lambda out: out.write(data), ".engine-safetensors-")


def _parse_header(data) -> tuple[dict, dict, int]:
    view = memoryview(data).cast("B")
    if view.nbytes < 8:
        raise SafetensorError("HeaderTooSmall: the buffer is shorter than the 8-byte header length")
    (n,) = struct.unpack_from("<Q", view, 0)
    if n > _MAX_HEADER:
        raise SafetensorError(f"HeaderTooLarge: the header claims {n} bytes")
    if 8 + n > view.nbytes:
        raise SafetensorError(f"InvalidHeaderLength: the header claims {n} bytes but the buffer holds {view.nbytes - 8}")
    raw = bytes(view[8:8 + n])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SafetensorError("InvalidHeader: the header is not valid UTF-8") from None
    if not text.startswith("{"):
        raise SafetensorError("InvalidHeaderStart: the header is not a JSON object")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise SafetensorError("InvalidHeaderDeserialization: duplicate keys in the header")
        return dict(pairs)

    try:
        header = json.loads(text, object_pairs_hook=no_duplicates)
    except ValueError as exc:
        if isinstance(exc, SafetensorError):
            raise
        raise SafetensorError(f"InvalidHeaderDeserialization: {exc}") from None
    if not isinstance(header, dict):
        raise SafetensorError("InvalidHeaderDeserialization: the header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or any(type(v) is not str for v in metadata.values()):
        raise SafetensorError("InvalidHeaderDeserialization: __metadata__ must map strings to strings")
    entries = {}
    spans = []
    buffer_size = view.nbytes - 8 - n
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorError(f"InvalidHeaderDeserialization: entry {name!r} must have dtype, shape, data_offsets")
        code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if code not in _DTYPES:
            if code in _KNOWN_UNSUPPORTED:
                raise SafetensorError(f"dtype {code} of {name!r} is not supported by the engine")
            raise SafetensorError(f"InvalidHeaderDeserialization: unknown dtype {code!r} for {name!r}")
        if not isinstance(shape, list) or any(type(s) is not int or s < 0 for s in shape):
            raise SafetensorError(f"InvalidHeaderDeserialization: shape of {name!r} must be non-negative ints")
        if not isinstance(offsets, list) or len(offsets) != 2 or any(type(o) is not int or o < 0 for o in offsets) \
                or offsets[0] > offsets[1]:
            raise SafetensorError(f"InvalidOffset: data_offsets of {name!r} must be [begin, end] with 0 <= begin <= end")
        numel = 1
        for s in shape:
            numel *= s
        dtype = _DTYPES[code]
        if numel * dtype.itemsize != offsets[1] - offsets[0]:
            raise SafetensorError(
                f"TensorInvalidInfo: {name!r} of shape {shape} and dtype {code} needs {numel * dtype.itemsize} bytes, "
                f"its offsets span {offsets[1] - offsets[0]}"
            )
        entries[name] = (dtype, tuple(shape), offsets[0], offsets[1])
        spans.append((offsets[0], offsets[1], name))
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            raise SafetensorError(f"InvalidOffset: {name!r} starts at {begin}, expected {position} "
                                  "(offsets must tile the data buffer with no holes or overlaps)")
        position = end
    if position != buffer_size:
        raise SafetensorError(f"MetadataIncompleteBuffer: the tensors cover {position} bytes of a "
                              f"{buffer_size}-byte data buffer")
    return entries, metadata, 8 + n


def _build(data) -> dict:
    from engine._shape import contiguous_strides
    from engine._tensor import make_tensor
    from engine.serialization import _copy_storage

    entries, _metadata, start = _parse_header(data)
    view = memoryview(data).cast("B")
    out = {}
    for name, (dtype, shape, begin, end) in entries.items():
        storage = _copy_storage(view[start + begin:start + end], end - begin)
        out[name] = make_tensor(storage, shape, tuple(contiguous_strides(shape)), 0, dtype)
    return out


def load(data) -> dict:
    """`safetensors.torch.load`: tensors from the file's bytes."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    return _build(data)


def load_file(filename, device="cpu") -> dict:
    """`safetensors.torch.load_file`."""
    if str(device) not in ("cpu", "cpu:0"):
        raise RuntimeError(f"the engine only has the cpu device, got {device!r}")
    with open(filename, "rb") as handle:
        return _build(handle.read())


def metadata(data) -> dict:
    """The `__metadata__` of a safetensors buffer (safe_open(...).metadata())."""
    return _parse_header(data)[1]
