"""Tensor methods that are not ops of their own: conversions (to, type, float,
...), copy_/fill_/zero_, requires_grad_, and friends."""
from __future__ import annotations

import builtins

from engine import _dtype as dt
from engine._device import as_device, device as device_cls
from engine._iter import fill
from engine._registry import op, tensor_method
from engine._shape import broadcast_pair, preserve_format_strides
from engine._tensor import Tensor, check_no_internal_overlap, copy_into, empty_tensor


def _parse_to_args(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    for a in args:
        if isinstance(a, dt.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a._dtype, a.device
        elif isinstance(a, (str, device_cls)):
            device = a
        elif isinstance(a, builtins.bool):
            copy = a if dtype is not None else copy
        else:
            raise TypeError(f"to() received an invalid combination of arguments - got ({type(a).__name__})")
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    return dtype, device, copy


@tensor_method("to")
def to(self, *args, **kwargs):
    """`Tensor.to(dtype)`, `.to(device)`, `.to(other)`; returns self when nothing changes."""
    dtype, device, copy = _parse_to_args(args, dict(kwargs))
    if device is not None and getattr(device, "type", str(device).split(":")[0]) == "meta":
        from engine._meta import to_meta

        return to_meta(self, dtype, copy)
    as_device(device)
    if (dtype is None or dtype is self._dtype) and not copy:
        return self
    return _convert(self, dtype or self._dtype)


def _convert(self, dtype, memory_format=None):
    if self._requires_grad:
        from engine.autograd.derivatives import to_copy

        return to_copy(self, dtype, memory_format)  # records ToCopyBackward0 when grad mode is on
    return convert(self, dtype, memory_format)


def _format_strides(self, memory_format):
    from engine._memory_format import channels_last, contiguous_format, preserve_format
    from engine._shape import channels_last_strides, contiguous_strides

    if memory_format is None or memory_format is preserve_format:
        return preserve_format_strides(self._shape, self._stride)
    if memory_format is contiguous_format:
        return contiguous_strides(self._shape)
    if memory_format is channels_last and len(self._shape) == 4:
        return channels_last_strides(self._shape)
    raise RuntimeError(f"required rank 4 tensor to use channels_last format")


def convert(self, dtype, memory_format=None):
    """A copy of self in dtype with self's layout (or memory_format's), outside autograd."""
    out = empty_tensor(self._shape, dtype, _format_strides(self, memory_format))
    copy_into(out, self)
    return out


def _conversion(dtype):
    def method(self, memory_format=None):
        from engine._memory_format import preserve_format

        if self._dtype is dtype and (memory_format is None or memory_format is preserve_format or
                                     _format_strides(self, memory_format) == self._stride):
            return self  # torch's to() aliases when nothing would change
        return _convert(self, dtype, memory_format)

    method.__name__ = dtype.name
    return method


for _name, _dtype in (("float", dt.float32), ("double", dt.float64), ("half", None), ("long", dt.int64),
                      ("int", dt.int32), ("short", dt.int16), ("char", dt.int8), ("byte", dt.uint8),
                      ("bool", dt.bool)):
    if _dtype is not None:
        setattr(Tensor, _name, _conversion(_dtype))

_TYPE_NAMES = {
    "torch.FloatTensor": dt.float32, "torch.DoubleTensor": dt.float64, "torch.LongTensor": dt.int64,
    "torch.IntTensor": dt.int32, "torch.ShortTensor": dt.int16, "torch.CharTensor": dt.int8,
    "torch.ByteTensor": dt.uint8, "torch.BoolTensor": dt.bool,
}


@tensor_method("type")
def type_(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        return next(name for name, d in _TYPE_NAMES.items() if d is self._dtype)
    if isinstance(dtype, str):
        if dtype not in _TYPE_NAMES:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _TYPE_NAMES[dtype]
    return self if dtype is self._dtype else _convert(self, dtype)


@tensor_method("type_as")
def type_as(self, other):
    return self.to(other._dtype)


@tensor_method("cpu")
def cpu(self, memory_format=None):
    return self


@tensor_method("copy_")
def copy_(self, src, non_blocking=False):
    check_no_internal_overlap(self)
    if isinstance(src, Tensor):
        if broadcast_pair(self._shape, src._shape) != self._shape:
            raise RuntimeError(
                f"output with shape [{', '.join(map(str, self._shape))}] doesn't match the broadcast shape "
                f"[{', '.join(map(str, broadcast_pair(self._shape, src._shape)))}]"
            )
        copy_into(self, src)
    else:
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    self._bump_version()
    return self


@tensor_method("fill_")
def fill_(self, value):
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} dimensions.")
        value = value.item()
    check_no_internal_overlap(self)
    fill(self, value)
    self._bump_version()
    return self


@tensor_method("zero_")
def zero_(self):
    check_no_internal_overlap(self)
    fill(self, 0)
    self._bump_version()
    return self


@tensor_method("requires_grad_")
def requires_grad_(self, requires_grad=True):
    if requires_grad and not self._dtype.is_floating_point:
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    self.requires_grad = requires_grad
    return self


@tensor_method("new_tensor")
def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from engine._factories import tensor

    return tensor(data, dtype=dtype or self._dtype, requires_grad=requires_grad)


def _new_factory(name):
    def method(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
        import engine

        return getattr(engine, name)(*size, dtype=dtype or self._dtype, requires_grad=requires_grad, **kwargs)

    method.__name__ = "new_" + name
    return method


for _name in ("empty", "zeros", "ones"):
    setattr(Tensor, "new_" + _name, _new_factory(_name))


@tensor_method("new_full")
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    from engine._factories import full

    return full(size, fill_value, dtype=dtype or self._dtype, requires_grad=requires_grad)


@tensor_method("new_empty_strided")
def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False):
    from engine._factories import empty_strided

    return empty_strided(size, stride, dtype=dtype or self._dtype, requires_grad=requires_grad)


@tensor_method("is_set_to")
def is_set_to(self, other):
    return (self._storage is other._storage and self._offset == other._offset and self._shape == other._shape
            and self._stride == other._stride)


def is_tensor(obj):
    """`torch.is_tensor`."""
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def is_floating_point(input):
    return input.is_floating_point()
