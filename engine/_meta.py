"""The `meta` device: tensors with shape, dtype, strides and storage offset but no data (FT-P2C-007).

A meta tensor is a `MetaTensor` (a Tensor subclass, so the ops' fast paths, which take
exactly `Tensor`, never see one) over a `MetaStorage` (a byte count and no memory).

Every registered op gets meta support without code of its own: when a call involves a
meta tensor (or asks a factory for device='meta'), the registry hands it to `run`,
which runs the op's own implementation on CPU proxies of the meta inputs (same dtype,
shape, strides and offset over a storage of the same size, filled with ones; inputs
that share a storage share the proxy's) and turns the results back into meta tensors:
a result over a proxy's storage becomes a view of that meta storage, an in-place
result is the meta input itself (with the proxy's new geometry), anything else a new
meta tensor. So the output metadata is whatever the op's own shape, dtype and stride
logic computes. Proxies are capped (`PROXY_CAP_BYTES`); beyond it the call raises.

Nothing of this costs a call without meta tensors: the registry checks for them only
once one exists (`_registry._META_STATE`), and factories reach here through the
exception `as_device` raises for device='meta' (`MetaRequested`).
"""
from __future__ import annotations

from engine import _dtype as dt
from engine._device import device as _device_type
from engine._storage import UntypedStorage
from engine._tensor import Tensor, _fresh_version_counter, flat_step, make_tensor

META = _device_type("meta")
PROXY_CAP_BYTES = 64 << 20
NO_DATA = "Cannot copy out of meta tensor; no data!"


from engine._registry import _MetaRequested  # noqa: E402


class MetaRequested(_MetaRequested):
    """Raised by as_device for device='meta'; the registry answers it by running the call on the meta device."""


class MetaStorage(UntypedStorage):
    """Bytes that do not exist: a size and nothing else (data_ptr 0)."""

    __slots__ = ()

    def __init__(self, nbytes: int):
        if nbytes < 0:
            raise RuntimeError(f"Storage size calculation overflowed or is negative: {nbytes}")
        self._addr = 0
        self._block = None
        self._borrowed = False
        self._nbytes = nbytes

    @property
    def device(self):
        return META

    def resize_(self, nbytes: int) -> None:
        self._nbytes = max(self._nbytes, nbytes)

    def tobytes(self) -> bytes:
        raise NotImplementedError(NO_DATA)


def _activate():
    from engine import _registry

    _registry._META_STATE[0] = True


def new_meta(storage: MetaStorage, shape, stride, offset, dtype, base=None, version=None) -> "MetaTensor":
    _activate()
    t = object.__new__(MetaTensor)
    t._storage = storage
    t._shape = tuple(shape)
    t._stride = tuple(stride)
    t._offset = offset
    t._dtype = dtype
    t._base = base
    t._version_counter = version if version is not None else _fresh_version_counter()
    t._addr = 0
    t._requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._autograd = None
    t._flat_step = None  # no fast path ever walks a meta tensor's memory
    return t


def _span_bytes(shape, stride, offset, itemsize) -> int:
    if any(s == 0 for s in shape):
        return offset * itemsize
    return (offset + sum((s - 1) * st for s, st in zip(shape, stride)) + 1) * itemsize


class MetaTensor(Tensor):
    __slots__ = ()

    @property
    def device(self):
        return META

    @property
    def is_meta(self):
        return True

    @property
    def is_cpu(self):
        return False

    def data_ptr(self) -> int:
        return 0

    def __repr__(self, *, tensor_contents=None):
        text = f"tensor(..., device='meta', size={tuple(self._shape)!r}"
        if self._dtype is not dt.get_default_dtype():
            text += f", dtype={self._dtype!r}"
        if self._requires_grad:
            text += ", requires_grad=True"
        return text + ")"

    def item(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")

    def tolist(self):
        raise NotImplementedError(NO_DATA)

    def numpy(self, *, force=False):
        raise TypeError("can't convert meta device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host "
                        "memory first.")

    def __bool__(self):
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def cpu(self, memory_format=None):
        raise NotImplementedError(NO_DATA)

    def to(self, *args, **kwargs):
        from engine._methods import _parse_to_args

        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        dtype, device, copy = _parse_to_args(args, dict(kwargs))
        if device is not None and _device_type(device if not isinstance(device, str) else device).type != "meta":
            raise NotImplementedError(NO_DATA)
        return to_meta(self, dtype, copy)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        from engine._methods import _TYPE_NAMES

        if dtype is None:
            name = next(name for name, d in _TYPE_NAMES.items() if d is self._dtype)
            return "torch.meta." + name[len("torch."):]
        if isinstance(dtype, str):
            wanted = dtype.replace("torch.meta.", "torch.")
            if wanted not in _TYPE_NAMES:
                raise ValueError(f"invalid type: '{dtype}'")
            if not dtype.startswith("torch.meta."):
                raise NotImplementedError(NO_DATA)
            dtype = _TYPE_NAMES[wanted]
        return to_meta(self, dtype, False)

    def copy_(self, src, non_blocking=False):
        from engine._shape import broadcast_pair

        if not isinstance(src, Tensor):
            raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
        if broadcast_pair(self._shape, src._shape) != self._shape:
            raise RuntimeError(
                f"output with shape [{', '.join(map(str, self._shape))}] doesn't match the broadcast shape "
                f"[{', '.join(map(str, broadcast_pair(self._shape, src._shape)))}]"
            )
        self._bump_version()
        return self


def _meta_conversion(dtype):
    def method(self, memory_format=None):
        return to_meta(self, dtype)

    method.__name__ = dtype.name
    return method


for _name, _dtype in (("float", dt.float32), ("double", dt.float64), ("long", dt.int64), ("int", dt.int32),
                      ("short", dt.int16), ("char", dt.int8), ("byte", dt.uint8), ("bool", dt.bool)):
    setattr(MetaTensor, _name, _meta_conversion(_dtype))


def to_meta(t: Tensor, dtype=None, copy: bool = False) -> Tensor:
    """`t.to('meta', dtype)`: t itself when nothing changes, else a new meta tensor with t's layout (preserve_format)."""
    from engine._shape import preserve_format_strides

    dtype = dtype or t._dtype
    if isinstance(t, MetaTensor) and dtype is t._dtype and not copy:
        return t
    stride = preserve_format_strides(t._shape, t._stride)
    out = new_meta(MetaStorage(_span_bytes(t._shape, stride, 0, dtype.itemsize)), t._shape, stride, 0, dtype)
    if t._requires_grad:
        out._requires_grad = True
    return out


def _is_meta_device(value) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return value.split(":", 1)[0] == "meta"
    return getattr(value, "type", None) == "meta"


def involved(args, kwargs) -> bool:
    for value in args:
        if type(value) is MetaTensor:
            return True
        if type(value) in (list, tuple) and any(type(item) is MetaTensor for item in value):
            return True
    for value in kwargs.values():
        if type(value) is MetaTensor:
            return True
    return _is_meta_device(kwargs.get("device"))


def _tensors(args, kwargs):
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, Tensor):
            yield value
        elif type(value) in (list, tuple):
            for item in value:
                if isinstance(item, Tensor):
                    yield item


def check_same_device(name: str, args, kwargs) -> None:
    """Mixing meta and CPU tensors (other than 0-dim CPU tensors) raises as torch's TensorIterator does."""
    tensors = list(_tensors(args, kwargs))
    if not tensors:
        return
    first = "meta" if isinstance(tensors[0], MetaTensor) else "cpu"
    for t in tensors[1:]:
        kind = "meta" if isinstance(t, MetaTensor) else "cpu"
        if kind != first and not (kind == "cpu" and t.dim() == 0):
            if name == "copy_" and first == "cpu":
                raise NotImplementedError(NO_DATA)
            raise RuntimeError(f"Tensor on device {kind} is not on the expected device {first}!")
    if first == "cpu" and name == "copy_":
        raise NotImplementedError(NO_DATA)


class _Proxies:
    def __init__(self):
        self.by_storage: dict = {}  # id(meta storage) -> (meta storage, proxy storage)
        self.meta_of: dict = {}  # id(proxy tensor) -> meta tensor
        self.meta_storage_of: dict = {}  # id(proxy storage) -> meta storage
        self.keep: list = []

    def proxy(self, t: "MetaTensor") -> Tensor:
        key = id(t._storage)
        if key not in self.by_storage:
            nbytes = max(t._storage._nbytes, _span_bytes(t._shape, t._stride, t._offset, t._dtype.itemsize))
            if nbytes > PROXY_CAP_BYTES:
                raise NotImplementedError(
                    f"meta: the engine computes meta results on a CPU proxy of the inputs, and this input needs "
                    f"{nbytes} bytes (more than {PROXY_CAP_BYTES})")
            storage = UntypedStorage(nbytes)
            _fill_ones(storage, t._dtype)
            self.by_storage[key] = (t._storage, storage)
            self.meta_storage_of[id(storage)] = t._storage
        storage = self.by_storage[key][1]
        p = make_tensor(storage, t._shape, t._stride, t._offset, t._dtype)
        if t._requires_grad:
            p._requires_grad = True
        self.meta_of[id(p)] = t
        self.keep.append(p)
        return p

    def convert_in(self, value):
        if type(value) is MetaTensor:
            return self.proxy(value)
        if type(value) in (list, tuple) and any(type(item) is MetaTensor for item in value):
            return type(value)(self.convert_in(item) for item in value)
        return value

    def convert_out(self, value):
        if isinstance(value, Tensor):
            meta = self.meta_of.get(id(value))
            if meta is not None:  # an in-place op returned its input
                meta._shape, meta._stride, meta._offset, meta._dtype = value._shape, value._stride, value._offset, value._dtype
                return meta
            storage = self.meta_storage_of.get(id(value._storage))
            if storage is not None:  # a view of an input
                base = next((m for p_id, m in self.meta_of.items() if m._storage is storage), None)
                root = base._base if base is not None and base._base is not None else base
                out = new_meta(storage, value._shape, value._stride, value._offset, value._dtype, base=root,
                               version=base._version_counter if base is not None else None)
            elif value._base is not None:  # a view of an intermediate: a view of a meta stand-in for it
                base = value._base
                storage = MetaStorage(base._storage._nbytes)
                root = new_meta(storage, base._shape, base._stride, base._offset, base._dtype)
                out = new_meta(storage, value._shape, value._stride, value._offset, value._dtype, base=root,
                               version=root._version_counter)
            else:
                out = new_meta(MetaStorage(value._storage._nbytes), value._shape, value._stride, value._offset, value._dtype)
            out._requires_grad = value._requires_grad
            return out
        if isinstance(value, tuple) and type(value) is not tuple:
            return type(value)([self.convert_out(item) for item in value])
        if type(value) in (list, tuple):
            return type(value)(self.convert_out(item) for item in value)
        return value


def _fill_ones(storage: UntypedStorage, dtype) -> None:
    n = storage._nbytes // dtype.itemsize
    if n:
        make_tensor(storage, (n,), (1,), 0, dtype).fill_(1)


def _direct_factory(name: str, args, kwargs):
    """empty / zeros / ones / empty_strided on meta: built from their size (and stride) alone, nothing allocated."""
    from engine._factories import _shape_args
    from engine._shape import contiguous_strides

    if name not in ("empty", "zeros", "ones", "empty_strided") or kwargs.get("out") is not None:
        return None
    if name == "empty_strided":
        if len(args) != 2:
            return None
        shape, stride = _shape_args((args[0],)), tuple(int(s) for s in args[1])
        if len(stride) != len(shape):
            return None
    else:
        if not args:
            return None
        shape = _shape_args(args)
        stride = contiguous_strides(shape)
    if kwargs.get("memory_format") is not None:
        return None
    dtype = kwargs.get("dtype") or dt.get_default_dtype()
    out = new_meta(MetaStorage(_span_bytes(shape, stride, 0, dtype.itemsize)), shape, stride, 0, dtype)
    if kwargs.get("requires_grad"):
        out._requires_grad = True
    return out


def run(name: str, fn, args, kwargs):
    """Run a registered op on meta inputs (or a factory for device='meta'): its own implementation on CPU proxies."""
    _activate()
    if _is_meta_device(kwargs.get("device")) and not any(True for _ in _tensors(args, kwargs)):
        made = _direct_factory(name, args, kwargs)
        if made is not None:
            return made
    check_same_device(name, args, kwargs)
    proxies = _Proxies()
    call_args = [proxies.convert_in(value) for value in args]
    call_kwargs = {key: proxies.convert_in(value) for key, value in kwargs.items()}
    if _is_meta_device(call_kwargs.get("device")):
        call_kwargs["device"] = None
    out = fn(*call_args, **call_kwargs)
    return proxies.convert_out(out)
