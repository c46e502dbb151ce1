"""The data.pkl torch.save writes, emitted opcode by opcode (pickle protocol 2).

Written by hand rather than with pickle.Pickler so the engine can name torch's
globals (`torch._utils._rebuild_tensor_v2`, `torch FloatStorage`, `torch Size`,
...) without importing torch, and so only what torch's weights-only unpickler
admits is ever written. The layout matches what torch emits for the same
object: a tensor is

    GLOBAL torch._utils _rebuild_tensor_v2
    ( ('storage', GLOBAL torch <T>Storage, key, 'cpu', numel) BINPERSID,
      storage_offset, size, stride, requires_grad, OrderedDict() ) REDUCE

with one persistent id (and one data/<key> record) per storage, so views keep
sharing it. Containers and tensors are memoized (BINPUT/BINGET), so an object
reached twice loads as one object.
"""
from __future__ import annotations

import collections
import pickle
import struct

from engine import _dtype as dt
from engine._device import device as _device
from engine._tensor import Size, Tensor

STORAGE_TYPES = {
    dt.bool: "BoolStorage", dt.uint8: "ByteStorage", dt.int8: "CharStorage", dt.int16: "ShortStorage",
    dt.int32: "IntStorage", dt.int64: "LongStorage", dt.float32: "FloatStorage", dt.float64: "DoubleStorage",
}

_MEMO_LIMIT = 0xFFFFFFFF


class _Emitter:
    """Memoizes as CPython's C pickler does for these types (strings, globals, non-empty tuples, lists,
    dicts and REDUCE results get a BINPUT; numbers, None, bools and () do not), so the bytes match
    torch.save's for the same object where Python would share the same string objects."""

    def __init__(self):
        self.out = bytearray(b"\x80\x02")  # PROTO 2
        self.memo: dict = {}  # ("id", id(obj)) / ("str", text) / ("global", module, name) -> memo index
        self.count = 0
        self.keep: list = []  # objects memoized by id() stay alive while pickling
        self.storages: dict[int, tuple] = {}  # id(storage) -> (key, storage, dtype)

    # -- memo --
    def put(self, key=None) -> None:
        index = self.count
        self.count += 1
        if key is not None:
            self.memo[key] = index
        self.out += b"q" + bytes((index,)) if index < 256 else b"r" + struct.pack("<I", index)

    def put_obj(self, obj) -> None:
        self.keep.append(obj)
        self.put(("id", id(obj)))

    def get(self, key) -> bool:
        index = self.memo.get(key)
        if index is None:
            return False
        self.out += b"h" + bytes((index,)) if index < 256 else b"j" + struct.pack("<I", index)
        return True

    # -- primitives --
    def glob(self, module: str, name: str) -> None:
        key = ("global", module, name)
        if not self.get(key):
            self.out += b"c" + module.encode("ascii") + b"\n" + name.encode("ascii") + b"\n"
            self.put(key)

    def integer(self, value: int) -> None:
        if 0 <= value < 256:
            self.out += b"K" + bytes((value,))
        elif 0 <= value < 65536:
            self.out += b"M" + struct.pack("<H", value)
        elif -0x80000000 <= value <= 0x7FFFFFFF:
            self.out += b"J" + struct.pack("<i", value)
        else:
            encoded = pickle.encode_long(value)
            if len(encoded) >= 256:  # LONG4: torch's weights-only unpickler does not read it
                raise OverflowError(f"engine.save: integer of {value.bit_length()} bits is too large to serialize")
            self.out += b"\x8a" + bytes((len(encoded),)) + encoded

    def string(self, value: str) -> None:
        key = ("str", value)
        if not self.get(key):
            encoded = value.encode("utf-8", "surrogatepass")
            self.out += b"X" + struct.pack("<I", len(encoded)) + encoded
            self.put(key)

    def tuple_of(self, items) -> None:
        items = tuple(items)
        if not items:
            self.out += b")"
            return
        if len(items) > 3:
            self.out += b"("
        for item in items:
            self.save(item)
        self.out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(items), b"t")
        self.put()

    def reduce(self, module: str, name: str, args, obj=None) -> None:
        self.glob(module, name)
        self.tuple_of(args)
        self.out += b"R"
        if obj is not None:
            self.put_obj(obj)
        else:
            self.put()

    # -- objects --
    def save(self, obj) -> None:
        if obj is None:
            self.out += b"N"
        elif obj is True:
            self.out += b"\x88"
        elif obj is False:
            self.out += b"\x89"
        elif type(obj) is int:
            self.integer(obj)
        elif type(obj) is float:
            self.out += b"G" + struct.pack(">d", obj)
        elif type(obj) is str:
            self.string(obj)
        elif self.get(("id", id(obj))):
            return
        elif isinstance(obj, Tensor):
            self.tensor(obj)
        elif isinstance(obj, Size):
            self.reduce("torch", "Size", [tuple(int(s) for s in obj)], obj)
        elif type(obj) is tuple:
            self.tuple_of(obj)
            if obj:  # tuple_of put it last
                self.memo[("id", id(obj))] = self.count - 1
                self.keep.append(obj)
        elif type(obj) is list:
            self.out += b"]"
            self.put_obj(obj)
            self.items(obj, b"a", b"e")
        elif type(obj) is dict:
            self.out += b"}"
            self.put_obj(obj)
            self.items(list(obj.items()), b"s", b"u")
        elif type(obj) in (collections.OrderedDict, collections.Counter):
            self.glob("collections", type(obj).__name__)
            self.out += b")R"
            self.put_obj(obj)
            self.items(list(obj.items()), b"s", b"u")
            state = getattr(obj, "__dict__", None)
            if state:  # a module state_dict's `_metadata`
                self.save(dict(state))
                self.out += b"b"  # BUILD
        elif isinstance(obj, dt.dtype):
            self.glob("torch", obj.name)
        elif isinstance(obj, _device):
            self.reduce("torch", "device", [str(obj)], obj)
        elif type(obj) is bytes:
            self.reduce("_codecs", "encode", [obj.decode("latin1"), "latin1"], obj)
        elif type(obj) is bytearray:
            self.reduce("__builtin__", "bytearray", [bytes(obj)], obj)
        elif type(obj) is complex:
            self.reduce("__builtin__", "complex", [obj.real, obj.imag], obj)
        elif type(obj) is set:
            self.reduce("__builtin__", "set", [list(obj)], obj)
        else:
            raise TypeError(
                f"engine.save cannot serialize an object of type {type(obj).__module__}.{type(obj).__qualname__}: "
                "only what torch.load(weights_only=True) reads back (tensors, dtypes, devices, Size, "
                "dict/OrderedDict/list/tuple/set, int/float/complex/bool/str/bytes/None)"
            )

    def items(self, items, single: bytes, batch: bytes) -> None:
        """List items (APPEND/APPENDS) or dict pairs (SETITEM/SETITEMS) in batches of 1000, as pickle does."""
        pairs = single == b"s"
        for start in range(0, len(items), 1000):
            chunk = items[start:start + 1000]
            if len(chunk) > 1:
                self.out += b"("
            for item in chunk:
                if pairs:
                    self.save(item[0])
                    self.save(item[1])
                else:
                    self.save(item)
            self.out += batch if len(chunk) > 1 else single

    def tensor(self, t: Tensor) -> None:
        from engine.nn.parameter import Parameter

        if isinstance(t, Parameter):  # torch: _rebuild_parameter(self.data, self.requires_grad, OrderedDict())
            from engine._tensor import make_tensor

            data = make_tensor(t._storage, t._shape, t._stride, t._offset, t._dtype)
            self.glob("torch._utils", "_rebuild_parameter")
            self.keep.append(data)
            self.tensor(data)
            self.out += b"\x88" if t._requires_grad else b"\x89"
            self.glob("collections", "OrderedDict")
            self.out += b")R"
            self.put()
            self.out += b"\x87"  # TUPLE3
            self.put()
            self.out += b"R"
            self.put_obj(t)
            return
        storage, dtype = t._storage, t._dtype
        entry = self.storages.get(id(storage))
        if entry is None:
            entry = self.storages[id(storage)] = (str(len(self.storages)), storage, dtype)
        elif entry[2] is not dtype:
            raise RuntimeError("Cannot save multiple tensors or storages that view the same data as different types")
        key = entry[0]
        self.glob("torch._utils", "_rebuild_tensor_v2")
        self.out += b"("
        self.out += b"("
        self.string("storage")
        self.glob("torch", STORAGE_TYPES[dtype])
        self.string(key)
        self.string("cpu")
        self.integer(storage._nbytes // dtype.itemsize)
        self.out += b"t"
        self.put()
        self.out += b"Q"  # BINPERSID
        self.integer(t._offset)
        self.tuple_of(tuple(int(s) for s in t._shape))
        self.tuple_of(tuple(int(s) for s in t._stride))
        self.out += b"\x88" if t._requires_grad else b"\x89"
        self.glob("collections", "OrderedDict")
        self.out += b")R"  # backward hooks: always empty
        self.put()
        self.out += b"t"
        self.put()
        self.out += b"R"
        self.put_obj(t)


def dumps(obj) -> tuple[bytes, list]:
    """(data.pkl bytes, [(key, storage, dtype), ...] in key order)."""
    emitter = _Emitter()
    emitter.save(obj)
    emitter.out += b"."
    return bytes(emitter.out), list(emitter.storages.values())
