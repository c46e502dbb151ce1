"""A restricted unpickler admitting what torch's weights-only unpickler admits.

It interprets the pickle opcodes itself (the same opcode set as
torch/_weights_only_unpickler.py) and never imports or calls anything named by
the file: a GLOBAL resolves only through ALLOWED below to one of the engine's
own builders, and only those builders can be called by REDUCE/NEWOBJ/BUILD.
Anything else raises pickle.UnpicklingError with torch's wording
("Unsupported global: GLOBAL os.system was not an allowed global by default",
"... whose module os is blocked", "Unsupported operand ..."), which
engine.load wraps in torch's "Weights only load failed." message. Malformed
streams (truncated data, stack underflow, a missing memo entry) are
UnpicklingErrors too; nothing partially built is ever returned.
"""
from __future__ import annotations

import _compat_pickle
import collections
import pickle
import struct
from pickle import UnpicklingError

from engine import _dtype as dt
from engine._device import device as _device
from engine._tensor import Size

_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
_MAX_STRING = 1 << 31


class StorageType:
    """The marker `torch.<X>Storage` resolves to: the dtype of a persisted storage."""

    def __init__(self, name: str, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"StorageType(dtype={self.dtype})"


class Unsupported:
    """A global torch's weights-only unpickler admits but the engine cannot build (half tensors,
    sparse/quantized/nested tensors, ...): naming it is fine, using it raises."""

    def __init__(self, full_name: str):
        self.full_name = full_name

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"engine.load: {self.full_name} is not supported by the engine")

    def __repr__(self):
        return self.full_name


class Builder:
    """An allowlisted callable: REDUCE/NEWOBJ may call only these."""

    def __init__(self, full_name: str, function):
        self.full_name, self.function = full_name, function

    def __call__(self, *args):
        return self.function(*args)

    def __repr__(self):
        return self.full_name


# ---- the builders ---------------------------------------------------------------------------

_STORAGE_DTYPES = {
    "BoolStorage": dt.bool, "ByteStorage": dt.uint8, "CharStorage": dt.int8, "ShortStorage": dt.int16,
    "IntStorage": dt.int32, "LongStorage": dt.int64, "FloatStorage": dt.float32, "DoubleStorage": dt.float64,
    "UntypedStorage": dt.uint8,
}
_TORCH_ONLY_STORAGES = (
    "HalfStorage", "BFloat16Storage", "ComplexFloatStorage", "ComplexDoubleStorage", "QInt8Storage",
    "QUInt8Storage", "QInt32Storage", "QUInt4x2Storage", "QUInt2x4Storage", "TypedStorage",
)
_TORCH_ONLY_DTYPES = (
    "float16", "bfloat16", "complex32", "complex64", "complex128", "qint8", "quint8", "qint32", "quint4x2",
    "quint2x4", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
    "float4_e2m1fn_x2", "uint16", "uint32", "uint64", "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2",
    "uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "int1", "int2", "int3", "int4", "int5",
    "int6", "int7", "cfloat", "cdouble", "half", "chalf",
)
_TORCH_ONLY_GLOBALS = (
    "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_nested_tensor",
    "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch.Tensor",
    "torch.per_tensor_affine", "torch.per_tensor_symmetric", "torch.per_channel_affine",
    "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams",
    "torch._C._TensorBase", "torch._C.TensorBase",
)


class LoadedStorage:
    """What persistent_load returns: the engine storage and the dtype the file typed it with."""

    __slots__ = ("storage", "dtype", "numel")

    def __init__(self, storage, dtype, numel):
        self.storage, self.dtype, self.numel = storage, dtype, numel


def _int_tuple(value, what: str) -> tuple:
    if type(value) not in (tuple, list, Size) or any(type(v) is not int for v in value):
        raise RuntimeError(f"engine.load: tensor {what} must be a tuple of ints, got {value!r:.200}")
    return tuple(value)


def rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None,
                   dtype=None):
    """torch._utils._rebuild_tensor_v2 for the engine, with every bound checked."""
    from engine._tensor import make_tensor

    if not isinstance(storage, LoadedStorage):
        raise RuntimeError(f"engine.load: a tensor must be rebuilt from a persisted storage, got {type(storage).__name__}")
    if type(storage_offset) is not int or storage_offset < 0:
        raise RuntimeError(f"engine.load: invalid storage offset {storage_offset!r:.100}")
    size = _int_tuple(size, "size")
    stride = _int_tuple(stride, "stride") if stride is not None else None
    if stride is None:
        from engine._shape import contiguous_strides

        stride = tuple(contiguous_strides(size))
    if len(size) != len(stride):
        raise RuntimeError(f"engine.load: tensor size {list(size)} and stride {list(stride)} differ in length")
    if len(size) > 64:
        raise RuntimeError(f"engine.load: tensor of {len(size)} dimensions (more than 64)")
    if any(s < 0 for s in size):
        raise RuntimeError(f"engine.load: negative dimension in tensor size {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"engine.load: negative stride in tensor stride {list(stride)}")
    element_type = storage.dtype if dtype is None else dtype
    if element_type is not storage.dtype:
        raise RuntimeError(f"engine.load: tensor dtype {element_type} differs from its storage's {storage.dtype}")
    itemsize = element_type.itemsize
    # Python ints do not overflow: the extent is exact, however absurd the shape.
    if 0 in size:
        extent = 0
    else:
        extent = (storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1) * itemsize
    available = storage.numel * itemsize
    if extent > available:
        raise RuntimeError(
            f"engine.load: a tensor of size {list(size)}, stride {list(stride)} and storage offset {storage_offset} "
            f"needs {extent} bytes but its storage holds {available} bytes"
        )
    if storage_offset * itemsize > available:
        raise RuntimeError(f"engine.load: storage offset {storage_offset} is past the end of a storage of "
                           f"{storage.numel} elements")
    t = make_tensor(storage.storage, size, stride, storage_offset, element_type)
    if type(requires_grad) is not bool:
        raise RuntimeError(f"engine.load: requires_grad must be a bool, got {requires_grad!r:.100}")
    if requires_grad:
        t.requires_grad = True
    if backward_hooks:
        raise RuntimeError("engine.load: tensors with backward hooks cannot be loaded")
    return t


def _rebuild_tensor_v1(storage, storage_offset, size, stride):
    return rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    return rebuild_tensor(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata, dtype)


def _check_tensor(value, what):
    from engine._tensor import Tensor

    if not isinstance(value, Tensor):
        raise RuntimeError(f"engine.load: {what} expects a tensor, got {type(value).__name__}")
    return value


def rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    """torch._utils._rebuild_parameter: an engine.nn.Parameter sharing data's storage."""
    from engine.nn.parameter import Parameter

    _check_tensor(data, "_rebuild_parameter")
    if type(requires_grad) is not bool:
        raise RuntimeError("engine.load: requires_grad must be a bool")
    if backward_hooks:
        raise RuntimeError("engine.load: parameters with backward hooks cannot be loaded")
    if state:
        raise RuntimeError("engine.load: parameters with Python attributes cannot be loaded")
    if data.grad_fn is not None or data.requires_grad:
        data = data.detach()
    return Parameter(data, requires_grad)


class _ParameterType:
    """`torch.nn.parameter.Parameter`, for NEWOBJ/REDUCE: Parameter(data, requires_grad=True)."""

    full_name = "torch.nn.parameter.Parameter"

    def __call__(self, data=None, requires_grad=True):
        return rebuild_parameter(_check_tensor(data, "Parameter"), bool(requires_grad), None)


_PARAMETER = _ParameterType()


def _rebuild_from_type_v2(func, new_type, args, state):
    if not isinstance(func, Builder) or type(args) is not tuple:
        raise UnpicklingError(f"_rebuild_from_type_v2 with an unsupported function {func!r:.100}")
    result = func(*args)
    if new_type is _PARAMETER:
        return rebuild_parameter(_check_tensor(result, "_rebuild_from_type_v2"), True, None)
    if not (isinstance(new_type, Unsupported) and new_type.full_name == "torch.Tensor"):
        raise RuntimeError(f"engine.load: tensor subclass {new_type!r:.100} is not supported")
    if state:
        raise RuntimeError("engine.load: tensors with Python attributes cannot be loaded")
    return result


def _ordered_dict(*args):
    if len(args) > 1 or (args and type(args[0]) not in (list, tuple, dict, collections.OrderedDict)):
        raise UnpicklingError("OrderedDict takes at most one list of pairs")
    return collections.OrderedDict(*args)


def _counter(*args):
    if len(args) > 1 or (args and type(args[0]) not in (list, tuple, dict, collections.OrderedDict)):
        raise UnpicklingError("Counter takes at most one mapping or list")
    return collections.Counter(*args)


def _size(*args):
    if len(args) > 1 or (args and (type(args[0]) not in (tuple, list) or any(type(v) is not int for v in args[0]))):
        raise UnpicklingError("torch.Size takes one tuple of ints")
    return Size(*args)


def _make_device(*args):
    if not 1 <= len(args) <= 2 or type(args[0]) is not str or (len(args) == 2 and type(args[1]) not in (int, type(None))):
        raise UnpicklingError("torch.device takes a device string and an optional index")
    return _device(*args)


def _encode(value, encoding="latin1"):
    if type(value) is not str or encoding not in ("latin1", "latin-1"):
        raise UnpicklingError("_codecs.encode is only allowed as protocol 2's encoding of bytes (str, 'latin1')")
    return value.encode("latin1")


def _bytearray(*args):
    if len(args) > 1 or (args and type(args[0]) not in (bytes, list)):
        raise UnpicklingError("bytearray takes one bytes or list argument")
    return bytearray(*args)


def _set(*args):
    if len(args) > 1 or (args and type(args[0]) not in (list, tuple)):
        raise UnpicklingError("set takes one list argument")
    return set(*args)


def _complex(*args):
    if len(args) > 2 or any(type(a) not in (int, float) for a in args):
        raise UnpicklingError("complex takes two real numbers")
    return complex(*args)


def _get_layout(name):
    if name != "torch.strided":
        raise RuntimeError(f"engine.load: layout {name!r:.100} is not supported by the engine")
    from engine import strided

    return strided


def _allowed() -> dict:
    rc: dict = {
        "collections.OrderedDict": Builder("collections.OrderedDict", _ordered_dict),
        "collections.Counter": Builder("collections.Counter", _counter),
        "torch.nn.parameter.Parameter": _PARAMETER,
        "torch.serialization._get_layout": Builder("torch.serialization._get_layout", _get_layout),
        "torch.Size": Builder("torch.Size", _size),
        "torch.device": Builder("torch.device", _make_device),
        "_codecs.encode": Builder("_codecs.encode", _encode),
        "builtins.bytearray": Builder("builtins.bytearray", _bytearray),
        "builtins.set": Builder("builtins.set", _set),
        "builtins.complex": Builder("builtins.complex", _complex),
        "torch._utils._rebuild_tensor": Builder("torch._utils._rebuild_tensor", _rebuild_tensor_v1),
        "torch._utils._rebuild_tensor_v2": Builder("torch._utils._rebuild_tensor_v2", rebuild_tensor),
        "torch._utils._rebuild_tensor_v3": Builder("torch._utils._rebuild_tensor_v3", _rebuild_tensor_v3),
        "torch._utils._rebuild_parameter": Builder("torch._utils._rebuild_parameter", rebuild_parameter),
        "torch._utils._rebuild_parameter_with_state": Builder("torch._utils._rebuild_parameter_with_state",
                                                              rebuild_parameter),
        "torch._tensor._rebuild_from_type_v2": Builder("torch._tensor._rebuild_from_type_v2", _rebuild_from_type_v2),
    }
    for d in dt.ALL_DTYPES:
        rc[f"torch.{d.name}"] = d
    for alias, d in (("short", dt.int16), ("int", dt.int32), ("long", dt.int64), ("float", dt.float32),
                     ("double", dt.float64)):
        rc[f"torch.{alias}"] = d
    for name, d in _STORAGE_DTYPES.items():
        rc[f"torch.{name}"] = StorageType(name, d)
    rc["torch.storage.UntypedStorage"] = rc["torch.UntypedStorage"]
    for name in _TORCH_ONLY_STORAGES:
        rc[f"torch.{name}"] = StorageType(name, Unsupported(f"torch.{name}"))
    rc["torch.storage.TypedStorage"] = rc["torch.TypedStorage"]
    for name in _TORCH_ONLY_DTYPES:
        rc[f"torch.{name}"] = Unsupported(f"torch.{name}")
    for name in _TORCH_ONLY_GLOBALS:
        rc[name] = Unsupported(name)
    for name in ("FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor", "CharTensor",
                 "ShortTensor", "IntTensor", "LongTensor", "BoolTensor"):
        rc[f"torch.{name}"] = Unsupported(f"torch.{name}")
    return rc


ALLOWED = _allowed()
_BUILDERS = tuple(v for v in ALLOWED.values() if isinstance(v, (Builder, _ParameterType, Unsupported)))


def _unsupported_global(full_path: str) -> UnpicklingError:
    if full_path.startswith("builtins"):
        rest = full_path[len("builtins"):]
        full_path = rest[1:] if rest.startswith(".") else "builtins" + rest
    return UnpicklingError(
        f"Unsupported global: GLOBAL {full_path} was not an allowed global by default. "
        f"Please use `torch.serialization.add_safe_globals([{full_path}])` or the "
        f"`torch.serialization.safe_globals([{full_path}])` context manager to allowlist this global "
        "if you trust this class/function."
    )


_INTERNAL = (Builder, StorageType, Unsupported, LoadedStorage, _ParameterType)


def _check_result(result) -> None:
    """The loaded object holds no internal marker: a global the engine cannot represent (torch.float16
    as a value) raises here rather than coming back as a stand-in object."""
    seen = set()
    pending = [result]
    while pending:
        value = pending.pop()
        if isinstance(value, Unsupported):
            raise RuntimeError(f"engine.load: {value.full_name} is not supported by the engine")
        if isinstance(value, _INTERNAL):
            raise UnpicklingError(f"the pickle data holds an internal object {value!r:.100}")
        if type(value) in (list, tuple, set, dict, collections.OrderedDict, collections.Counter) and id(value) not in seen:
            seen.add(id(value))
            if isinstance(value, dict):
                pending.extend(value.keys())
                pending.extend(value.values())
                pending.extend(getattr(value, "__dict__", {}).values())
            else:
                pending.extend(value)


# ---- the interpreter ------------------------------------------------------------------------

class Unpickler:
    def __init__(self, data, persistent_load, *, encoding: str = "utf-8"):
        self.data = bytes(data)
        self.pos = 0
        self.persistent_load = persistent_load
        self.encoding = encoding

    def read(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise UnpicklingError("pickle data was truncated")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def readline(self) -> bytes:
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            raise UnpicklingError("pickle data was truncated")
        line = self.data[self.pos:end]
        self.pos = end + 1
        return line

    def load(self):
        try:
            return self._load()
        except (IndexError, KeyError, struct.error, UnicodeDecodeError, TypeError, ValueError) as exc:
            if isinstance(exc, UnpicklingError):
                raise
            raise UnpicklingError(f"malformed pickle data ({type(exc).__name__}: {exc})") from None

    def pop_mark(self):
        items = self.stack
        if not self.metastack:
            raise UnpicklingError("could not find MARK")
        self.stack = self.metastack.pop()
        return items

    def _global(self):
        module = self.readline().decode("utf-8")
        name = self.readline().decode("utf-8")
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        full_path = f"{module}.{name}"
        if module in _BLOCKED_MODULES:
            raise UnpicklingError(f"Trying to load unsupported GLOBAL {full_path} whose module {module} is blocked.")
        if full_path in ALLOWED:
            return ALLOWED[full_path]
        raise _unsupported_global(full_path)

    def _load(self):
        self.stack: list = []
        self.metastack: list = []
        self.memo: dict = {}
        read = self.read
        while True:
            key = read(1)[0]
            stack = self.stack
            if key == 0x63:  # GLOBAL
                stack.append(self._global())
            elif key == 0x81:  # NEWOBJ
                args = stack.pop()
                cls = stack.pop()
                if cls is _PARAMETER:
                    stack.append(_PARAMETER(*args))
                elif isinstance(cls, Unsupported):
                    cls()
                else:
                    raise UnpicklingError(
                        "Can only create new object for nn.Parameter or classes allowlisted via `add_safe_globals` "
                        f"but got {cls!r:.100}"
                    )
            elif key == 0x52:  # REDUCE
                args = stack.pop()
                func = stack[-1]
                if type(args) is not tuple:
                    raise UnpicklingError("REDUCE arguments must be a tuple")
                if not isinstance(func, (Builder, _ParameterType, Unsupported)):
                    raise UnpicklingError(f"Trying to call reduce for unrecognized function {func!r:.100}")
                stack[-1] = func(*args)
            elif key == 0x62:  # BUILD
                state = stack.pop()
                inst = stack[-1]
                if type(inst) in (collections.OrderedDict, collections.Counter) and type(state) is dict \
                        and all(type(k) is str for k in state):
                    inst.__dict__.update(state)
                else:
                    raise UnpicklingError(
                        f"Can only build Tensor, Parameter, OrderedDict or types allowlisted via `add_safe_globals`, "
                        f"but got {type(inst)}"
                    )
            elif key == 0x61:  # APPEND
                item = stack.pop()
                if type(stack[-1]) is not list:
                    raise UnpicklingError(f"Can only append to lists, but got {type(stack[-1])}")
                stack[-1].append(item)
            elif key == 0x65:  # APPENDS
                items = self.pop_mark()
                if type(self.stack[-1]) is not list:
                    raise UnpicklingError(f"Can only extend lists, but got {type(self.stack[-1])}")
                self.stack[-1].extend(items)
            elif key == 0x73:  # SETITEM
                value, k = stack.pop(), stack.pop()
                self._check_set_item_target("SETITEM")
                stack[-1][k] = value
            elif key == 0x75:  # SETITEMS
                items = self.pop_mark()
                self._check_set_item_target("SETITEMS")
                if len(items) % 2:
                    raise UnpicklingError("SETITEMS with an odd number of items")
                target = self.stack[-1]
                for i in range(0, len(items), 2):
                    target[items[i]] = items[i + 1]
            elif key == 0x28:  # MARK
                self.metastack.append(stack)
                self.stack = []
            elif key == 0x74:  # TUPLE
                items = self.pop_mark()
                self.stack.append(tuple(items))
            elif key == 0x85:  # TUPLE1
                stack[-1] = (stack[-1],)
            elif key == 0x86:  # TUPLE2
                if len(stack) < 2:
                    raise UnpicklingError("stack underflow")
                stack[-2:] = [(stack[-2], stack[-1])]
            elif key == 0x87:  # TUPLE3
                if len(stack) < 3:
                    raise UnpicklingError("stack underflow")
                stack[-3:] = [(stack[-3], stack[-2], stack[-1])]
            elif key == 0x4E:  # NONE
                stack.append(None)
            elif key == 0x89:  # NEWFALSE
                stack.append(False)
            elif key == 0x88:  # NEWTRUE
                stack.append(True)
            elif key == 0x29:  # EMPTY_TUPLE
                stack.append(())
            elif key == 0x5D:  # EMPTY_LIST
                stack.append([])
            elif key == 0x7D:  # EMPTY_DICT
                stack.append({})
            elif key == 0x8F:  # EMPTY_SET
                stack.append(set())
            elif key == 0x4A:  # BININT
                stack.append(struct.unpack("<i", read(4))[0])
            elif key == 0x4B:  # BININT1
                stack.append(read(1)[0])
            elif key == 0x4D:  # BININT2
                stack.append(struct.unpack("<H", read(2))[0])
            elif key == 0x47:  # BINFLOAT
                stack.append(struct.unpack(">d", read(8))[0])
            elif key == 0x58:  # BINUNICODE
                n = struct.unpack("<I", read(4))[0]
                if n > _MAX_STRING:
                    raise UnpicklingError("String is too long")
                stack.append(str(read(n), "utf-8", "surrogatepass"))
            elif key == 0x55:  # SHORT_BINSTRING
                raw = read(read(1)[0])
                stack.append(raw if self.encoding == "bytes" else raw.decode(self.encoding, "strict"))
            elif key == 0x51:  # BINPERSID
                pid = stack.pop()
                if type(pid) is not tuple:
                    raise UnpicklingError(f"persistent_load id must be tuple, but got {type(pid)}")
                tag = pid[0] if pid else None
                if isinstance(tag, bytes):
                    tag = tag.decode("ascii", "replace")
                if tag != "storage":
                    raise UnpicklingError(f"Only persistent_load of storage is allowed, but got {type(tag)}")
                stack.append(self.persistent_load(pid))
            elif key in (0x68, 0x6A):  # BINGET, LONG_BINGET
                index = read(1)[0] if key == 0x68 else struct.unpack("<I", read(4))[0]
                if index not in self.memo:
                    raise UnpicklingError(f"Memo value not found at index {index}")
                stack.append(self.memo[index])
            elif key in (0x71, 0x72):  # BINPUT, LONG_BINPUT
                index = read(1)[0] if key == 0x71 else struct.unpack("<I", read(4))[0]
                self.memo[index] = stack[-1]
            elif key == 0x8A:  # LONG1
                n = read(1)[0]
                stack.append(pickle.decode_long(read(n)))
            elif key == 0x80:  # PROTO
                proto = read(1)[0]
                if proto > pickle.HIGHEST_PROTOCOL:
                    raise UnpicklingError(f"unsupported pickle protocol: {proto}")
            elif key == 0x2E:  # STOP
                if len(self.stack) != 1 or self.metastack:
                    raise UnpicklingError("pickle data ended with a malformed stack")
                result = self.stack.pop()
                _check_result(result)
                return result
            else:
                raise UnpicklingError(f"Unsupported operand {key}")

    def _check_set_item_target(self, opcode: str):
        if not self.stack or type(self.stack[-1]) not in (dict, collections.OrderedDict, collections.Counter):
            raise UnpicklingError(
                f"Can only {opcode} for dict, collections.OrderedDict, collections.Counter, but got "
                f"{type(self.stack[-1]) if self.stack else 'an empty stack'}"
            )
