"""FT-P2C-006 cases: torch.save / torch.load compatibility, as `program` calls.

Every checkpoint is written by torch at extraction time and stored as the case's
one input, a uint8 tensor holding the file's bytes (so it travels through the
one tensor serializer, ftorch_cli/serialize, like any other input). The
programs below are stored as source and run with `lib` = torch (recording,
`conform --live`) or the engine (conform):

- serialization.load: `lib.load` of torch-written files holding tensors of
  every dtype, views sharing a storage (strides and offsets kept, compared
  exactly), requires_grad, nested containers, Size/dtype/device values, a
  big-endian file (byteswapped on load), DEFLATE-compressed records and files
  saved without crc32s;
- serialization.state_dict: module state_dicts (Linear, Conv2d, BatchNorm2d
  after a forward, LSTM) and optimizer state_dicts (SGD with momentum, Adam
  after a step) loaded, then saved again by `lib.save` and compared with what
  torch writes: the record names, every record but data.pkl and the random
  serialization id byte for byte, the globals data.pkl names, and the object
  loaded back (data.pkl itself may differ in memo opcodes: torch memoizes
  strings by identity);
- serialization.roundtrip: `lib.save` then `lib.load` of the loaded object,
  and the records `lib.save` writes compared with torch's;
- serialization.engine_file: the same objects written by `engine.save` at
  extraction (built from torch's tensors storage by storage, so views still
  share one) next to torch's own file: `lib.load` of both, and whether they
  agree (values, dtypes, strides, offsets, requires_grad, which tensors share
  a storage). Recorded with torch, this is torch reading engine-written files
  (again under `conform --live`); the engine must load its own file alike;
- serialization.hostile: pickled os.system / eval reduce calls, a GLOBAL of a
  non-allowlisted class, a truncated zip, a missing record, a wrong storage
  record size, a storage offset past the end, a huge claimed shape or stride,
  an unknown byteorder, a zip bomb's declared size and a stored record whose
  declared size is not its size: each must raise the exception type torch raises.

Nothing here states an outcome: every expectation comes from running torch.
"""
from __future__ import annotations

import collections
import inspect
import io
import pickle
import struct
import textwrap
import zipfile
import zlib
from typing import Callable, Iterator

from ftorch_cli.cases.opinfo import stable_seed
from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec

SOURCE = "generated.serialization"
FAMILIES = ("serialization.load", "serialization.state_dict", "serialization.roundtrip", "serialization.engine_file",
            "serialization.hostile")
DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64")


# ---- the programs (source stored with each case; builtins only) ------------------------------

def load_checkpoint(lib, blob):
    data = bytes(blob.tolist())
    return lib.load(__import__("io").BytesIO(data), weights_only=True)


def load_mmap(lib, blob):
    import os
    import tempfile

    handle, path = tempfile.mkstemp(suffix=".pt")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(bytes(blob.tolist()))
        return lib.load(path, mmap=True, weights_only=True)
    finally:
        os.unlink(path)


def resave_records(lib, blob):
    import io
    import pickletools
    import zipfile

    loaded = lib.load(io.BytesIO(bytes(blob.tolist())), weights_only=True)
    buffer = io.BytesIO()
    lib.save(loaded, buffer)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    names = [name for name in archive.namelist() if not name.endswith("/.data/serialization_id")]
    records = [lib.tensor(list(archive.read(name)), dtype=lib.uint8) for name in names if not name.endswith("/data.pkl")]
    pickled = archive.read(names[0])
    pickle_globals = sorted({arg for opcode, arg, _ in pickletools.genops(pickled) if opcode.name == "GLOBAL"})
    return names, records, pickle_globals, lib.load(io.BytesIO(buffer.getvalue()), weights_only=True)


def load_engine_file(lib, engine_blob, torch_blob):
    import io

    ours = lib.load(io.BytesIO(bytes(engine_blob.tolist())), weights_only=True)
    theirs = lib.load(io.BytesIO(bytes(torch_blob.tolist())), weights_only=True)
    storages = {}

    def same(a, b):
        if isinstance(b, lib.Tensor):
            if not isinstance(a, lib.Tensor):
                return False
            key = a.untyped_storage().data_ptr()
            if storages.setdefault(key, b.untyped_storage().data_ptr()) != b.untyped_storage().data_ptr():
                return False  # the engine's file shares storages differently than torch's
            return (type(a).__name__ == type(b).__name__ and a.dtype == b.dtype and a.shape == b.shape and a.stride() == b.stride()
                    and a.storage_offset() == b.storage_offset() and a.requires_grad == b.requires_grad
                    and a.detach().tolist() == b.detach().tolist())
        if isinstance(b, dict):
            return (isinstance(a, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in b)
                    and getattr(a, "_metadata", None) == getattr(b, "_metadata", None))
        if type(b) in (list, tuple):
            return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return type(a) is type(b) and a == b

    return ours, same(ours, theirs)


# ---- the checkpoints (built with torch at extraction) ---------------------------------------

def _saved(torch, obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return _fixed_serialization_id(buffer.getvalue())


FIXED_ID = b"0123456789" * 4


def _fixed_serialization_id(blob: bytes) -> bytes:
    """torch.save's bytes with its random `.data/serialization_id` replaced by a fixed one of the same
    length (and the record's crc32 updated wherever the zip stores it, unless crc32s are off), so
    extraction is reproducible. The patched file is checked; when anything is off, blob is kept."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(blob))
        info = next((i for i in archive.infolist() if i.filename.endswith(".data/serialization_id")), None)
        if info is None or info.compress_type != zipfile.ZIP_STORED:
            return blob
        start = info.header_offset
        name_length, extra_length = struct.unpack("<HH", blob[start + 26:start + 30])
        data_at = start + 30 + name_length + extra_length
        old = blob[data_at:data_at + info.compress_size]
        new = FIXED_ID[:len(old)]
        if len(new) != len(old):
            return blob
        patched = blob[:data_at] + new + blob[data_at + len(old):]
        if info.CRC != 0:  # crc32s on: the stored checksum follows the new content
            old_crc, new_crc = (zlib.crc32(v).to_bytes(4, "little") for v in (old, new))
            patched = patched.replace(old_crc, new_crc)
            check = zipfile.ZipFile(io.BytesIO(patched))
            if check.testzip() is not None or check.read(info.filename) != new:
                return blob
        return patched
    except (zipfile.BadZipFile, KeyError, ValueError, struct.error):
        return blob


def _values(torch, dtype_name: str, shape):
    numel = 1
    for s in shape:
        numel *= s
    t = torch.randn(numel, dtype=torch.float64).reshape(shape) * 50
    if dtype_name == "bool":
        return t > 0
    if dtype_name == "uint8":
        return t.abs().to(torch.uint8)
    return t.to(getattr(torch, dtype_name))


def _tensor_checkpoints(torch) -> Iterator[tuple[str, str, object]]:
    for name in DTYPES:
        base = _values(torch, name, (4, 6))
        yield f"{name}:contiguous", name, {"t": base}
        yield f"{name}:views", name, {"base": base, "t": base.t(), "slice": base[1:, ::2], "row": base[2],
                                     "scalar": base[1, 1], "empty": base[:0], "other": _values(torch, name, (5,))}
        yield f"{name}:scalar", name, _values(torch, name, ())
        yield f"{name}:expanded", name, [_values(torch, name, (3, 1)).expand(3, 4), _values(torch, name, (2, 0, 3))]
    yield "requires_grad", "float32", {"leaf": torch.randn(3, requires_grad=True), "frozen": torch.randn(2),
                                       "param": torch.nn.Parameter(torch.randn(2, 2)),
                                       "param_frozen": torch.nn.Parameter(torch.randn(2), requires_grad=False)}
    yield "nested", "float64", collections.OrderedDict(
        a=[1, -7, 2**40, -(2**70), 2.5, float("-inf"), None, True, "text \u00e9", (1, (2.0, [3])), []],
        b={0: torch.randn(2, dtype=torch.float64), "k": (torch.arange(3), {"deep": torch.zeros(1, 1)})},
        size=torch.Size([2, 3]), dtype=torch.float64, device=torch.device("cpu"), empty={},
    )
    shared = torch.randn(6)
    yield "shared_across_containers", "float32", {"x": [shared, shared[2:]], "y": (shared.view(2, 3),)}
    yield "many_storages", "float32", [torch.randn(2) for _ in range(300)]


def _deflated(blob: bytes) -> bytes:
    return _rewrite(blob, lambda name, data: data, compression=zipfile.ZIP_DEFLATED)


def _without_crc32(torch, obj) -> bytes:
    """torch.save with the serialization config's save.compute_crc32 off: every recorded crc32 is 0."""
    from torch.utils.serialization import config

    before = config.save.compute_crc32
    config.save.compute_crc32 = False
    try:
        return _saved(torch, obj)
    finally:
        config.save.compute_crc32 = before


def _declared_size(blob: bytes, record_suffix: bytes, size: int) -> bytes:
    """blob with the central directory's uncompressed size of one record replaced (a zip bomb's claim)."""
    data = bytearray(blob)
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if bytes(data[position + 46:position + 46 + name_length]).endswith(record_suffix):
            struct.pack_into("<I", data, position + 24, size)
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def _big_endian(torch, blob: bytes) -> bytes:
    return _rewrite(blob, lambda name, data: b"big" if name.endswith("byteorder") else data)


def _rewrite(blob: bytes, edit: Callable, compression: int = zipfile.ZIP_STORED) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(blob))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as target:
        for info in source.infolist():
            data = edit(info.filename, source.read(info.filename))
            if data is not None:  # the source's timestamp, not now: the rewritten bytes are reproducible
                target.writestr(zipfile.ZipInfo(info.filename, date_time=info.date_time), data,
                                compress_type=compression)
    return out.getvalue()


def _module_states(torch) -> Iterator[tuple[str, object]]:
    nn = torch.nn
    yield "Linear", nn.Linear(5, 3).state_dict()
    yield "Conv2d", nn.Conv2d(2, 4, 3, padding=1).state_dict()
    bn = nn.BatchNorm2d(3)
    bn(torch.randn(4, 3, 5, 5))
    yield "BatchNorm2d", bn.state_dict()
    yield "LSTM", nn.LSTM(4, 6, num_layers=2).state_dict()
    yield "Sequential", nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).state_dict()
    for kind in ("SGD", "Adam"):
        model = nn.Linear(4, 3)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if kind == "SGD" else \
            torch.optim.Adam(model.parameters(), lr=1e-3)
        model(torch.randn(6, 4)).pow(2).sum().backward()
        opt.step()
        yield f"{kind}_state_dict", opt.state_dict()


class _System:
    def __reduce__(self):
        import os

        return (os.system, ("echo ftorch-hostile-payload",))


class _Eval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo ftorch-hostile-payload')",))


def _hostile(torch) -> Iterator[tuple[str, bytes]]:
    base = _saved(torch, {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)})

    def with_pickle(payload: bytes) -> bytes:
        return _rewrite(base, lambda name, data: payload if name.endswith("data.pkl") else data)

    def edit_pickle(old: bytes, new: bytes) -> bytes:
        return _rewrite(base, lambda name, data: data.replace(old, new) if name.endswith("data.pkl") else data)

    yield "reduce_os_system", with_pickle(pickle.dumps(_System(), protocol=2))
    yield "reduce_eval", with_pickle(pickle.dumps(_Eval(), protocol=2))
    yield "nested_os_system", with_pickle(pickle.dumps({"w": [1, _System()]}, protocol=2))
    yield "global_not_allowlisted", with_pickle(pickle.dumps(collections.defaultdict(int), protocol=2))
    yield "global_zipfile_class", with_pickle(pickle.dumps(zipfile.ZipInfo, protocol=2))
    yield "truncated_half", base[: len(base) // 2]
    yield "truncated_tail", base[:-30]
    yield "missing_record", _rewrite(base, lambda name, data: None if name.endswith("data/0") else data)
    yield "wrong_storage_size", _rewrite(base, lambda name, data: data[:-4] if name.endswith("data/0") else data)
    yield "offset_past_end", edit_pickle(b"K\x00K\x02K\x03\x86", b"K\x05K\x02K\x03\x86")
    yield "huge_shape", edit_pickle(b"K\x02K\x03\x86", b"J\xff\xff\xff\x7fJ\xff\xff\xff\x7f\x86")
    yield "huge_stride", edit_pickle(b"K\x03K\x01\x86", b"J\xff\xff\xff\x7fK\x01\x86")
    yield "unknown_byteorder", _rewrite(base, lambda name, data: b"middle" if name.endswith("byteorder") else data)
    yield "zip_bomb_declared_size", _declared_size(_deflated(base), b"/data/0", 0x7FFFFFFF)
    yield "stored_size_mismatch", _declared_size(base, b"/data/0", 20)


def _to_engine(torch, engine, obj, bases: dict):
    """obj with every torch value replaced by the engine's: tensors over one engine tensor per torch storage
    (as_strided views of it, so sharing survives), Size, dtype, device; containers keep their types and _metadata."""
    if isinstance(obj, torch.Tensor):
        storage = obj.untyped_storage()
        base = bases.get(storage.data_ptr())
        if base is None:
            flat = torch.empty(0, dtype=obj.dtype).set_(storage, 0, (storage.nbytes() // obj.element_size(),), (1,))
            base = bases[storage.data_ptr()] = engine.from_numpy(flat.detach().numpy().copy())
        view = base.as_strided(tuple(obj.shape), obj.stride(), obj.storage_offset())
        if isinstance(obj, torch.nn.Parameter):
            return engine.nn.Parameter(view, obj.requires_grad)
        return view.requires_grad_(True) if obj.requires_grad else view
    if isinstance(obj, torch.Size):
        return engine.Size(obj)
    if isinstance(obj, torch.dtype):
        return getattr(engine, str(obj).split(".")[1])
    if isinstance(obj, torch.device):
        return engine.device(str(obj))
    if isinstance(obj, dict):
        out = type(obj)((_to_engine(torch, engine, k, bases), _to_engine(torch, engine, v, bases)) for k, v in obj.items())
        if getattr(obj, "_metadata", None) is not None:
            out._metadata = obj._metadata
        return out
    if type(obj) in (list, tuple):
        return type(obj)(_to_engine(torch, engine, item, bases) for item in obj)
    return obj


def _engine_saved(torch, obj) -> bytes:
    import engine

    buffer = io.BytesIO()
    engine.save(_to_engine(torch, engine, obj, {}), buffer)
    return buffer.getvalue()


def _source(program: Callable) -> str:
    return textwrap.dedent(inspect.getsource(program))


def _blob(torch, data: bytes):
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).clone() if data else torch.zeros(0, dtype=torch.uint8)


def serialization_specs(torch, families: set, seed: int) -> Iterator[CaseSpec]:
    def spec(family, dtype_name, label, program, data, strides="exact"):
        return CaseSpec(op=family, dtype=dtype_name, source=SOURCE, label=label,
                        call=Call("program", program.__name__, source=_source(program)),
                        args=[_blob(torch, data)], stride_check=strides)

    if "serialization.load" in families:
        torch.manual_seed(stable_seed(seed, "serialization.load", ""))
        for label, dtype_name, obj in _tensor_checkpoints(torch):
            blob = _saved(torch, obj)
            yield spec("serialization.load", dtype_name, label, load_checkpoint, blob)
            if label.endswith(":views"):
                yield spec("serialization.load", dtype_name, label + ":mmap", load_mmap, blob)
                yield spec("serialization.load", dtype_name, label + ":big_endian", load_checkpoint,
                           _big_endian(torch, blob))
            if label in ("float32:views", "int64:views", "nested"):
                yield spec("serialization.load", dtype_name, label + ":deflated", load_checkpoint, _deflated(blob))
                yield spec("serialization.load", dtype_name, label + ":no_crc32", load_checkpoint,
                           _without_crc32(torch, obj))
    if "serialization.state_dict" in families:
        torch.manual_seed(stable_seed(seed, "serialization.state_dict", ""))
        for label, state in _module_states(torch):
            blob = _saved(torch, state)
            yield spec("serialization.state_dict", "float32", label, load_checkpoint, blob)
            yield spec("serialization.state_dict", "float32", label + ":resave", resave_records, blob)
    if "serialization.roundtrip" in families:
        torch.manual_seed(stable_seed(seed, "serialization.roundtrip", ""))
        for label, dtype_name, obj in _tensor_checkpoints(torch):
            if label.endswith((":views", ":expanded")) or label in ("requires_grad", "shared_across_containers"):
                yield spec("serialization.roundtrip", dtype_name, label, resave_records, _saved(torch, obj))
    if "serialization.engine_file" in families:
        torch.manual_seed(stable_seed(seed, "serialization.engine_file", ""))
        checkpoints = list(_tensor_checkpoints(torch))
        checkpoints += [(label, "float32", state) for label, state in _module_states(torch)]
        for label, dtype_name, obj in checkpoints:
            yield CaseSpec(op="serialization.engine_file", dtype=dtype_name, source=SOURCE, label=label,
                           call=Call("program", "load_engine_file", source=_source(load_engine_file)),
                           args=[_blob(torch, _engine_saved(torch, obj)), _blob(torch, _saved(torch, obj))],
                           stride_check="exact")
    if "serialization.hostile" in families:
        for label, blob in _hostile(torch):
            yield spec("serialization.hostile", "uint8", label, load_checkpoint, blob, strides="none")
