"""Tensor factories: tensor, empty, zeros, ones, full, arange, linspace, eye and the *_like forms."""
from __future__ import annotations

import builtins
import math

from engine import _dtype as dt
from engine._device import as_device
from engine._iter import fill
from engine._kernel import check, ffi, lib
from engine._registry import op
from engine._shape import contiguous_strides, numel, preserve_format_strides, size_args
from engine._tensor import Tensor, copy_into, empty_tensor, make_tensor

FACTORY = "factory"


def _shape_args(size, name="size"):
    out = size_args(size, name)
    for s in out:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: [{', '.join(map(str, out))}]")
    total = 1
    for s in out:
        total *= s
    if total * 8 >= 1 << 63:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={out}")
    return tuple(out)


def _finish(t: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        t.requires_grad_(True)
    return t


def _check_factory_args(device, layout=None):
    as_device(device)


@op("empty", family=FACTORY, aten=("empty",))
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    if not size:
        raise TypeError('empty() missing 1 required positional arguments: "size"')
    _check_factory_args(device)
    shape = _shape_args(size)
    dtype = dtype or dt.get_default_dtype()
    stride = None
    if memory_format is not None:
        from engine._memory_format import channels_last

        if memory_format is channels_last:
            from engine._shape import channels_last_strides

            stride = channels_last_strides(shape)
    if out is not None:
        from engine._views import resize_

        return resize_(out, shape)
    return _finish(empty_tensor(shape, dtype, stride), requires_grad)


@op("empty_strided", family=FACTORY)
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    _check_factory_args(device)
    shape = _shape_args((size,))
    stride = tuple(int(s) for s in stride)
    if len(stride) != len(shape):
        raise RuntimeError(f"mismatch in length of strides and shape")
    return _finish(empty_tensor(shape, dtype or dt.get_default_dtype(), stride), requires_grad)


def _filled(shape, dtype, value, requires_grad):
    t = empty_tensor(shape, dtype, zero=(value == 0 and not isinstance(value, builtins.float) or value == 0.0
                                         and math.copysign(1.0, value) > 0))
    if not (value == 0 and (not isinstance(value, builtins.float) or math.copysign(1.0, value) > 0)):
        fill(t, value)
    return _finish(t, requires_grad)


@op("zeros", family=FACTORY)
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    if not size:
        raise TypeError('zeros() missing 1 required positional arguments: "size"')
    _check_factory_args(device)
    shape = _shape_args(size)
    if out is not None:
        return _fill_out(out, shape, 0)
    return _filled(shape, dtype or dt.get_default_dtype(), 0, requires_grad)


@op("ones", family=FACTORY)
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    if not size:
        raise TypeError('ones() missing 1 required positional arguments: "size"')
    _check_factory_args(device)
    shape = _shape_args(size)
    if out is not None:
        return _fill_out(out, shape, 1)
    return _filled(shape, dtype or dt.get_default_dtype(), 1, requires_grad)


def _fill_out(out, shape, value):
    from engine._views import resize_

    resize_(out, shape)
    fill(out, value)
    out._bump_version()
    return out


def _scalar_value(v):
    if isinstance(v, Tensor):
        return v.item()
    return v


@op("full", family=FACTORY)
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    _check_factory_args(device)
    shape = _shape_args((size,))
    fill_value = _scalar_value(fill_value)
    if dtype is None:
        d = dt.scalar_dtype(fill_value)
        dtype = dt.get_default_dtype() if d.is_floating_point else d
    if out is not None:
        return _fill_out(out, shape, fill_value)
    return _filled(shape, dtype, fill_value, requires_grad)


def _like_layout(input, memory_format):
    from engine._memory_format import contiguous_format

    if memory_format is contiguous_format:
        return contiguous_strides(input._shape)
    return preserve_format_strides(input._shape, input._stride)


@op("empty_like", family=FACTORY)
def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return _finish(empty_tensor(input._shape, dtype or input._dtype, _like_layout(input, memory_format)), requires_grad)


@op("zeros_like", family=FACTORY)
def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    t = empty_tensor(input._shape, dtype or input._dtype, _like_layout(input, memory_format), zero=True)
    return _finish(t, requires_grad)


@op("ones_like", family=FACTORY)
def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return full_like(input, 1, dtype=dtype, requires_grad=requires_grad, memory_format=memory_format)


@op("full_like", family=FACTORY)
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    t = empty_tensor(input._shape, dtype or input._dtype, _like_layout(input, memory_format))
    fill(t, _scalar_value(fill_value))
    return _finish(t, requires_grad)


def _is_float_scalar(v):
    return isinstance(v, builtins.float) or (isinstance(v, Tensor) and v._dtype.is_floating_point)


@op("arange", family=FACTORY)
def arange(start=None, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False):
    _check_factory_args(device)
    if start is None:
        if end is None:
            raise TypeError('arange() missing 1 required positional arguments: "end"')
        start = 0
    if end is None:
        start, end = 0, start
    start, end, step = _scalar_value(start), _scalar_value(end), _scalar_value(step)
    if dtype is None:
        dtype = dt.get_default_dtype() if any(isinstance(v, builtins.float) for v in (start, end, step)) else dt.int64
    if not dtype.is_floating_point and dtype is not dt.bool:
        # torch converts the bounds to the integral accumulate type (truncation) before sizing the range
        start, end, step = (builtins.int(v) if isinstance(v, builtins.float) and math.isfinite(v) else v
                            for v in (start, end, step))
    for v in (start, end):
        if isinstance(v, builtins.float) and not math.isfinite(v):
            raise RuntimeError("unsupported range: " + f"{start} -> {end}")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and start > end) or (step < 0 and start < end):
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype.is_floating_point or any(isinstance(v, builtins.float) for v in (start, end, step)):
        # torch sizes the range in double: ceil((end - start) / step)
        n = math.ceil((builtins.float(end) - builtins.float(start)) / builtins.float(step))
    else:
        n = -((start - end) // step)
    n = builtins.max(n, 0)
    t = empty_tensor((n,), dtype) if out is None else _resized(out, (n,))
    if dtype is dt.bool:
        raise RuntimeError("\"arange_cpu\" not implemented for 'Bool'")
    if dtype.is_floating_point:
        check(lib.ft_arange(dtype.code, n, t._addr, builtins.float(start), builtins.float(step), 0, 0))
    else:
        if isinstance(start, builtins.float) or isinstance(step, builtins.float):
            # torch evaluates start + i*step in double and truncates
            tmp = empty_tensor((n,), dt.float64)
            check(lib.ft_arange(dt.float64.code, n, tmp._addr, builtins.float(start), builtins.float(step), 0, 0))
            copy_into(t, tmp)
        else:
            check(lib.ft_arange(dtype.code, n, t._addr, 0.0, 0.0, int(start), int(step)))
    if out is not None:
        out._bump_version()
    return _finish(t, requires_grad)


def _resized(out, shape):
    from engine._views import resize_

    return resize_(out, shape)


@op("linspace", family=FACTORY)
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    _check_factory_args(device)
    start, end = _scalar_value(start), _scalar_value(end)
    if isinstance(steps, Tensor):
        steps = steps.item()
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or dt.get_default_dtype()
    t = empty_tensor((steps,), dtype) if out is None else _resized(out, (steps,))
    check(lib.ft_linspace(dtype.code, steps, t._addr, builtins.float(start), builtins.float(end)))
    return _finish(t, requires_grad)


@op("eye", family=FACTORY)
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    _check_factory_args(device)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is None:
        m = n
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    dtype = dtype or dt.get_default_dtype()
    t = empty_tensor((n, m), dtype, zero=True) if out is None else _fill_out(out, (n, m), 0)
    k = builtins.min(n, m)
    if k:
        diag = make_tensor(t._storage, (k,), (m + 1,), t._offset, dtype)
        fill(diag, 1)
    return _finish(t, requires_grad)


@op("scalar_tensor", family=FACTORY)
def scalar_tensor(s, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    t = empty_tensor((), dtype or dt.get_default_dtype())
    fill(t, _scalar_value(s))
    return _finish(t, requires_grad)


# ---- tensor(data) ----
def _infer(data, shape, depth, flat, kinds):
    """Walk nested sequences: record the shape at each depth and collect the leaves."""
    if isinstance(data, Tensor):
        if data._shape:
            _infer(data.tolist(), shape, depth, flat, kinds)
            kinds.add(data._dtype)
            return
        value = data.item()
        kinds.add(data._dtype)
        flat.append(value)
        if len(shape) > depth:
            raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got 0)")
        return
    if isinstance(data, (list, tuple)):
        n = len(data)
        if len(shape) == depth:
            shape.append(n)
        elif shape[depth] != n:
            raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got {n})")
        for item in data:
            _infer(item, shape, depth + 1, flat, kinds)
        return
    if hasattr(data, "__array_interface__") or type(data).__module__ == "numpy":
        import numpy as np

        arr = np.asarray(data)
        if arr.ndim:
            _infer(arr.tolist(), shape, depth, flat, kinds)
            kinds.add(_numpy_kind(arr))
            return
        data = arr.item()
        kinds.add(_numpy_kind(arr))
    if len(shape) > depth:
        raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got 0)" if False else
                         f"Could not infer dtype of {type(data).__name__}" if not isinstance(data, (builtins.bool, builtins.int, builtins.float))
                         else f"expected sequence of length {shape[depth]} at dim {depth} (got {type(data).__name__})")
    if isinstance(data, builtins.bool):
        kinds.add(dt.bool)
    elif isinstance(data, builtins.int):
        kinds.add(dt.int64)
    elif isinstance(data, builtins.float):
        kinds.add(None)  # a Python float: the default dtype
    else:
        raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    flat.append(data)


def _numpy_kind(arr):
    from engine._interop import _NUMPY_TO_ENGINE

    d = _NUMPY_TO_ENGINE.get(arr.dtype.name)
    if d is None:
        raise TypeError(f"can't convert np.ndarray of type numpy.{arr.dtype.name}.")
    return d


def _inferred_dtype(kinds):
    result = None
    for k in kinds:
        k = dt.get_default_dtype() if k is None else k
        result = k if result is None else dt.promote_types(result, k)
    return result or dt.get_default_dtype()


def _from_flat(flat, shape, dtype) -> Tensor:
    n = len(flat)
    t = empty_tensor(tuple(shape), dtype)
    if n == 0:
        return t
    if any(isinstance(v, builtins.float) for v in flat):
        src = ffi.new("double[]", [builtins.float(v) for v in flat])
        src_dtype = dt.float64
    else:
        ints = [builtins.int(v) for v in flat]
        for v in ints:
            if not -(1 << 63) <= v < (1 << 64):
                raise RuntimeError("Overflow when unpacking long")
        if dtype is dt.int64 or not dtype.is_floating_point:
            ints = [v - (1 << 64) if v >= (1 << 63) else v for v in ints]
            if any(v >= (1 << 63) for v in flat):
                raise RuntimeError("Overflow when unpacking long")
        src = ffi.new("int64_t[]", ints)
        src_dtype = dt.int64
    check(lib.ft_copy(1, (n,), t._addr, dtype.code, (1,), int(ffi.cast("intptr_t", src)), src_dtype.code, (1,)))
    return t


@op("tensor", family=FACTORY, aten=("tensor",))
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """`torch.tensor`: always copies; dtype inferred like torch (bool < int64 < default float)."""
    _check_factory_args(device)
    if isinstance(data, Tensor):
        out = data.clone().detach() if dtype is None else data.to(dtype).clone().detach()
        return _finish(out, requires_grad)
    if type(data).__module__ == "numpy" and hasattr(data, "dtype") and getattr(data, "ndim", 0) > 0:
        from engine._interop import from_numpy
        import numpy as np

        src = from_numpy(np.ascontiguousarray(data))
        out = empty_tensor(src._shape, dtype or src._dtype)
        copy_into(out, src)
        return _finish(out, requires_grad)
    shape, flat, kinds = [], [], set()
    _infer(data, shape, 0, flat, kinds)
    return _finish(_from_flat(flat, shape, dtype or _inferred_dtype(kinds)), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """`torch.as_tensor`: no copy when data already is a tensor of that dtype (or a numpy array)."""
    if isinstance(data, Tensor):
        return data if dtype is None or dtype is data._dtype else data.to(dtype)
    if type(data).__module__ == "numpy" and hasattr(data, "dtype") and getattr(data, "ndim", 0) > 0:
        from engine._interop import from_numpy

        t = from_numpy(data)
        return t if dtype is None or dtype is t._dtype else t.to(dtype)
    return tensor(data, dtype=dtype)


def _legacy_tensor_constructor(cls, args, kwargs):
    dtype = dt.get_default_dtype()
    if not args:
        return empty_tensor((0,), dtype)
    if len(args) == 1 and isinstance(args[0], (list, tuple)) or (len(args) == 1 and not isinstance(args[0], int)):
        return tensor(args[0], dtype=dtype)
    return empty_tensor(_shape_args(args), dtype)


def _deepcopy_tensor(t: Tensor, memo):
    if id(t) in memo:
        return memo[id(t)]
    out = t.clone()
    out.requires_grad = t.requires_grad
    memo[id(t)] = out
    return out
