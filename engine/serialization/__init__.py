"""`torch.save` / `torch.load` for the engine, in torch's zip checkpoint format.

engine.save(obj, f) writes what torch.save writes (docs/serialization in
docs/packets.md, FT-P2C-006): `<archive>/data.pkl` (pickle protocol 2,
tensors as `torch._utils._rebuild_tensor_v2` calls over persisted storages),
`.format_version`, `.storage_alignment`, `byteorder`, one 64-byte-aligned
`data/<key>` record per storage, `version` and `.data/serialization_id`; so
`torch.load(f, weights_only=True)` reads it. Only objects that weights-only
loading admits can be saved.

engine.load(f) reads torch.save files with a restricted unpickler
(engine/serialization/_unpickler.py) that admits only what torch's
weights-only unpickler admits and checks the container and every tensor
against its storage before returning anything. `weights_only=False` is refused:
the engine never unpickles arbitrary objects. torch's legacy (pre-1.6,
non-zip) format and TorchScript archives are refused with a clear error.
"""
from __future__ import annotations

import array
import io
import mmap as _mmap
import os
import pickle
import hashlib
import sys

from engine._storage import UntypedStorage
from engine.serialization._atomic import write_atomically
from engine.serialization._container import Archive, ArchiveWriter, ContainerError
from engine.serialization._pickler import dumps
from engine.serialization._unpickler import LoadedStorage, StorageType, Unpickler, Unsupported

__all__ = ["save", "load", "ContainerError"]

_ZIP_MAGIC = b"PK\x03\x04"
_SWAP_CODES = {2: "h", 4: "i", 8: "q"}


def _archive_name(path: str) -> str:
    base = os.path.basename(path)
    stem = os.path.splitext(base)[0] if not base.startswith(".") else ""
    if not stem or not stem.isascii() or "/" in stem:
        return "archive"
    return stem


def _write_checkpoint(obj, fileobj, archive: str, disable_byteorder: bool) -> None:
    from engine._kernel import ffi

    data, storages = dumps(obj)
    writer = ArchiveWriter(fileobj, archive)
    # torch draws its serialization id at random; the engine derives it from the content, so saving
    # the same objects twice gives the same bytes (reproducible artifacts) and different content differs
    content = hashlib.sha256(data)
    writer.write_record("data.pkl", data)
    writer.write_record(".format_version", b"1")
    writer.write_record(".storage_alignment", b"64")
    if not disable_byteorder:
        writer.write_record("byteorder", sys.byteorder.encode("ascii"))
    for key, storage, dtype in storages:
        nbytes = (storage._nbytes // dtype.itemsize) * dtype.itemsize
        if nbytes:
            record = ffi.buffer(ffi.cast("char *", storage._addr), nbytes)
            content.update(record)
            writer.write_record(f"data/{key}", record)
        else:
            writer.write_record(f"data/{key}", b"")
    writer.write_record("version", b"3\n")
    writer.write_record(".data/serialization_id", str(int.from_bytes(content.digest(), "big"))[:40].encode())
    writer.close()


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """`torch.save`: f is a path (written to a temporary file, then renamed into place) or a binary file object."""
    if pickle_module is not None:
        raise TypeError("engine.save writes its own pickle stream; pickle_module is not supported")
    if pickle_protocol != 2:
        raise ValueError(f"engine.save writes pickle protocol 2 (torch's default), got {pickle_protocol!r}")
    if not _use_new_zipfile_serialization:
        raise ValueError("engine.save writes torch's zip format only (_use_new_zipfile_serialization=True)")
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        write_atomically(path, lambda out: _write_checkpoint(obj, out, _archive_name(path), _disable_byteorder_record),
                         ".engine-save-")
        return
    if not hasattr(f, "write"):
        raise AttributeError(f"engine.save: expected a path or a writable binary file object, got {type(f).__name__}")
    try:
        seekable = f.seekable() and f.tell() is not None
    except (AttributeError, OSError, ValueError):
        seekable = False
    if seekable:
        _write_checkpoint(obj, f, "archive", _disable_byteorder_record)
    else:
        buffer = io.BytesIO()
        _write_checkpoint(obj, buffer, "archive", _disable_byteorder_record)
        f.write(buffer.getbuffer())


# ---- loading --------------------------------------------------------------------------------

def _wo_error(exc: pickle.UnpicklingError) -> pickle.UnpicklingError:
    message = str(exc)
    return pickle.UnpicklingError(
        "Weights only load failed. The engine loads checkpoints with weights_only=True only and never executes "
        "code from a file; this file names something the weights-only unpickler does not admit.\n"
        f"\tWeightsUnpickler error: {message}"
    )


def _resolve_location(map_location, location: str):
    """The device a storage tagged `location` lands on; only 'cpu' exists in the engine.
    (A callable map_location is applied in persistent_load, to the loaded storage.)"""
    target = location
    if map_location is None or callable(map_location) and not isinstance(map_location, (str, dict)) \
            and type(map_location).__name__ != "device":
        pass
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif isinstance(map_location, str) or type(map_location).__name__ == "device":
        target = str(map_location)
    else:
        raise TypeError(f"engine.load: unsupported map_location {map_location!r}")
    target = str(target)
    if target != "cpu" and not target.startswith("cpu:"):
        raise RuntimeError(
            f"Attempting to deserialize object on device {target!r} but the engine only has the cpu device. "
            "Please use engine.load with map_location='cpu' to map your storages to the CPU."
        )


def _open_buffer(f, use_mmap: bool):
    """(buffer, keepalive) with the whole file: bytes, or an mmap (copy-on-write) when use_mmap."""
    if use_mmap:
        if isinstance(f, (str, os.PathLike)):
            with open(f, "rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if size == 0:
                    return b"", None
                return _mmap.mmap(handle.fileno(), 0, access=_mmap.ACCESS_COPY), None
        fileno = getattr(f, "fileno", None)
        try:
            descriptor = fileno() if fileno is not None else None
        except (OSError, io.UnsupportedOperation):
            descriptor = None
        if descriptor is None:
            raise ValueError("f must be a file path or a file object with a file descriptor in order to use mmap")
        if os.fstat(descriptor).st_size == 0:
            return b"", None
        return _mmap.mmap(descriptor, 0, access=_mmap.ACCESS_COPY), None
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as handle:
            return handle.read(), None
    if not hasattr(f, "read"):
        raise AttributeError(f"engine.load: expected a path or a readable binary file object, got {type(f).__name__}")
    data = f.read()
    if not isinstance(data, bytes):
        data = bytes(data)
    return data, None


def _copy_storage(data, nbytes: int):
    from engine._kernel import ffi
    from engine._storage import UntypedStorage

    storage = UntypedStorage(nbytes)
    if nbytes:
        ffi.memmove(ffi.cast("char *", storage._addr), data, nbytes)
    return storage


def _map_storage(view, nbytes: int):
    from engine._kernel import ffi
    from engine._storage import UntypedStorage

    pointer = ffi.from_buffer("char[]", view, require_writable=True)
    return UntypedStorage.borrow(int(ffi.cast("intptr_t", pointer)), nbytes, (pointer, view))


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """`torch.load(f, map_location=None, *, weights_only=True, mmap=False)` for torch.save's zip format."""
    if weights_only is False:
        raise RuntimeError(
            "engine.load(weights_only=False) is not supported: the engine never unpickles arbitrary objects. "
            "Load with weights_only=True (the default); files must hold only tensors, containers and plain values."
        )
    if pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    encoding = pickle_load_args.pop("encoding", "utf-8")
    if pickle_load_args:
        raise TypeError(f"engine.load got unexpected keyword arguments {sorted(pickle_load_args)}")
    buffer, _ = _open_buffer(f, bool(mmap))
    head = bytes(buffer[:4])
    if head != _ZIP_MAGIC:
        if not head:
            raise ContainerError("engine.load: the file is empty (not a torch.save checkpoint)")
        if head[:1] == b"\x80":
            raise ContainerError(
                "engine.load: this looks like torch's legacy (pre-1.6, non-zip) serialization format, which the engine "
                "does not read; re-save it with torch.save (torch >= 1.6)"
            )
        raise ContainerError("engine.load: not a torch.save checkpoint (no zip archive)")
    archive = Archive(buffer)
    if archive.has_record("constants.pkl"):
        raise ContainerError("engine.load: this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint")
    if not archive.has_record("data.pkl"):
        raise ContainerError("PytorchStreamReader failed locating file data.pkl: file not found")
    byteorder = b"little"
    if archive.has_record("byteorder"):
        byteorder = bytes(archive.read("byteorder"))
        if byteorder not in (b"little", b"big"):
            raise ValueError("Unknown endianness type: " + byteorder.decode("utf-8", "replace"))
    swap = byteorder.decode() != sys.byteorder
    use_mmap = bool(mmap) and not isinstance(buffer, bytes)
    loaded: dict = {}

    def persistent_load(pid):
        if len(pid) != 5:
            raise pickle.UnpicklingError(f"malformed storage persistent id of {len(pid)} items")
        _tag, storage_type, key, location, numel = pid
        if isinstance(key, bytes):
            key = key.decode("ascii")
        if isinstance(location, bytes):
            location = location.decode("ascii")
        if not isinstance(storage_type, StorageType) or type(key) is not str or type(location) is not str:
            raise pickle.UnpicklingError("malformed storage persistent id")
        if type(numel) is not int or numel < 0:
            raise RuntimeError(f"engine.load: invalid storage size {numel!r:.100}")
        if key in loaded:
            return loaded[key]
        dtype = storage_type.dtype
        if isinstance(dtype, Unsupported):
            raise RuntimeError(f"engine.load: storages of type {storage_type.name} ({dtype.full_name}) are not "
                               "supported by the engine")
        _resolve_location(map_location, location)
        name = f"data/{key}"
        nbytes = numel * dtype.itemsize
        size = archive.record_size(name)
        if size != nbytes:
            raise RuntimeError(
                f"record size ({size} bytes) does not match expected size ({nbytes} bytes = {numel} elements * "
                f"{dtype.itemsize} bytes/element) for dtype {dtype}"
            )
        storage = None
        if use_mmap and not (swap and dtype.itemsize > 1):
            stored = archive.stored_view(name)
            if stored is not None and stored[1] % 64 == 0 and nbytes:
                storage = _map_storage(stored[0], nbytes)
        if storage is None:
            data = archive.read(name)
            if swap and dtype.itemsize > 1:
                code = "e" if dtype.itemsize == 2 and dtype.is_floating_point else _SWAP_CODES[dtype.itemsize]
                values = array.array(code)
                values.frombytes(bytes(data))
                values.byteswap()
                data = values.tobytes()
            storage = _copy_storage(data, nbytes)
        if callable(map_location) and not isinstance(map_location, (str, dict)) \
                and type(map_location).__name__ != "device":
            # torch's convention: map_location(storage, location) returns the storage to use, or None
            mapped = map_location(storage, location)
            if mapped is not None:
                if not isinstance(mapped, UntypedStorage) or mapped.nbytes() != nbytes:
                    raise RuntimeError("engine.load: map_location must return an engine storage of the same size")
                storage = mapped
        loaded[key] = LoadedStorage(storage, dtype, numel)
        return loaded[key]

    try:
        return Unpickler(archive.read("data.pkl"), persistent_load, encoding=encoding).load()
    except pickle.UnpicklingError as exc:
        raise _wo_error(exc) from None
