"""Selection-style elementwise ops: `torch.where`, `torch.clamp` (and clip,
clamp_min, clamp_max), `torch.nan_to_num`."""
from __future__ import annotations

import warnings

from engine import _dtype as dt
from engine._iter import as_operand, binary, check_no_partial_overlap, finish_output, prepare_output, resize_out
from engine._kernel import check, lib
from engine._ops._elementwise import (
    check_scalar_fits, not_tensor_error, register, require_tensor_or_number, torch_type_name, type_name,
)
from engine._registry import ALL, NUMERIC, tensor_method
from engine._shape import broadcast_shapes, broadcast_strides
from engine._tensor import Tensor, copy_into

_MISSING = object()


# ---- where ----
def _check_condition(condition):
    if not isinstance(condition, Tensor):
        raise not_tensor_error("where", "condition", 1, condition)
    if condition._dtype is dt.uint8:
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be removed in "
                      "a future version of PyTorch. Use a boolean condition instead.", UserWarning, stacklevel=3)
    elif condition._dtype is not dt.bool:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{torch_type_name(condition._dtype)}")


def where(condition, input=_MISSING, other=_MISSING, *, out=None):
    """`torch.where`: input where condition holds, else other; where(condition) is nonzero(as_tuple=True)."""
    if input is _MISSING and other is _MISSING:
        import engine

        nonzero = getattr(engine, "nonzero", None)
        if nonzero is None:
            raise NotImplementedError("where(condition) is nonzero(condition, as_tuple=True); the engine has no nonzero yet")
        return nonzero(condition, as_tuple=True)
    if input is _MISSING or other is _MISSING:
        raise TypeError("where() missing required argument 'other' (pos 3)" if other is _MISSING
                        else "where() missing required argument 'input' (pos 2)")
    _check_condition(condition)
    if out is not None:  # only where(Tensor condition, Tensor input, Tensor other) takes out=
        for value, arg, position in ((input, "input", 2), (other, "other", 3)):
            if not isinstance(value, Tensor):
                raise not_tensor_error("where", arg, position, value)
    a = require_tensor_or_number("where", "input", 2, input)
    b = require_tensor_or_number("where", "other", 3, other)
    dtype = dt.result_type_of((a, b))
    for value in (a, b):
        if not isinstance(value, Tensor):
            check_scalar_fits(value, dtype)  # torch converts the scalar with an overflow check here
    if out is not None and out._dtype is not dtype:
        raise RuntimeError(f"Expected out type to be {torch_type_name(dtype)} but got {torch_type_name(out._dtype)}")
    ta, tb = as_operand(a, dtype), as_operand(b, dtype)
    shape = broadcast_shapes(condition._shape, ta._shape, tb._shape)
    layout = (condition,) + tuple(x for x in (a, b) if isinstance(x, Tensor))
    target, final = prepare_output(out, shape, layout, dtype)
    if out is not None:
        check_no_partial_overlap(out, (condition,) + layout)
    check(lib.ft_where(dtype.code, len(shape), shape, target._addr, target._stride,
                       condition._addr, broadcast_strides(condition._shape, condition._stride, shape),
                       ta._addr, broadcast_strides(ta._shape, ta._stride, shape),
                       tb._addr, broadcast_strides(tb._shape, tb._stride, shape)))
    if out is not None:
        final._bump_version()
    return finish_output(target, final)


def _where_method(self, condition, other):
    """`Tensor.where(condition, other)` is where(condition, self, other)."""
    return where(condition, self, other)


register("where", where, dtypes=ALL, method=False)
tensor_method("where")(_where_method)


# ---- clamp family ----
# Scalar bounds follow torch's clamp_min/clamp_max kernels: the input wins ties (-0.0 stays),
# and a NaN bound makes every element NaN; that is maximum(min, x) / minimum(max, x) with the
# bound first. Tensor bounds follow torch's clamp kernel: maximum(x, min) then minimum(., max).
_SCALAR_KERNEL_NAMES = {(True, True): "clamp_scalar_cpu", (True, False): "clamp_min_scalar_cpu",
                        (False, True): "clamp_max_scalar_cpu"}


def _clamp_out_check(out, dtype):
    if out is not None and out._dtype is not dtype:
        raise RuntimeError(f"Found dtype {torch_type_name(out._dtype)} but expected {torch_type_name(dtype)}")


def _clamp_scalars(x, low, high, out, inplace):
    dtype = dt.result_type_of((x, low, high))
    if dtype is dt.bool:
        kernel = _SCALAR_KERNEL_NAMES[low is not None, high is not None]
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    for bound in (low, high):
        if bound is not None:
            check_scalar_fits(bound, dtype)
    target = x if inplace else out
    if not inplace:
        _clamp_out_check(out, dtype)
    if high is None:
        return binary(lib.FT_BINARY_MAXIMUM, low, x, compute_dtype=dtype, out=target)
    if low is None:
        return binary(lib.FT_BINARY_MINIMUM, high, x, compute_dtype=dtype, out=target)
    lowered = binary(lib.FT_BINARY_MAXIMUM, low, x, compute_dtype=dtype)
    return binary(lib.FT_BINARY_MINIMUM, high, lowered, compute_dtype=dtype, out=lowered if target is None else target)


def _clamp_tensors(x, low, high, out, inplace):
    dtype = dt.result_type_of((x, low, high))
    if dtype is dt.bool and low is not None and high is not None:
        raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
    if inplace:
        shape = broadcast_shapes(*(t._shape for t in (x, low, high) if t is not None))
        if shape != x._shape:
            raise RuntimeError(f"output with shape [{', '.join(map(str, x._shape))}] doesn't match the broadcast "
                               f"shape [{', '.join(map(str, shape))}]")
        out = x
    if high is None:
        return binary(lib.FT_BINARY_MAXIMUM, x, low, compute_dtype=dtype, out=out)
    if low is None:
        return binary(lib.FT_BINARY_MINIMUM, x, high, compute_dtype=dtype, out=out)
    lowered = binary(lib.FT_BINARY_MAXIMUM, x, low, compute_dtype=dtype)
    return binary(lib.FT_BINARY_MINIMUM, lowered, high, compute_dtype=dtype, out=out)


def _clamp(name, x, low, high, out, inplace):
    if not isinstance(x, Tensor):
        raise not_tensor_error(name, "input", 1, x)
    if low is None and high is None:
        raise RuntimeError(f"torch.{name}: At least one of 'min' or 'max' must not be None")
    low_tensor, high_tensor = isinstance(low, Tensor), isinstance(high, Tensor)
    if low_tensor or high_tensor:
        if (low is not None and not low_tensor) or (high is not None and not high_tensor):
            raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, "
                            f"min={type_name(low)}, max={type_name(high)}), but expected one of:\n"
                            " * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)\n"
                            " * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)")
        return _clamp_tensors(x, low, high, out, inplace)
    low = None if low is None else require_tensor_or_number(name, "min", 2, low)
    high = None if high is None else require_tensor_or_number(name, "max", 3, high)
    return _clamp_scalars(x, low, high, out, inplace)


def clamp(input, min=None, max=None, *, out=None):
    """`torch.clamp`: min(max(input, min), max), elementwise."""
    return _clamp("clamp", input, min, max, out, False)


def clamp_(self, min=None, max=None):
    return _clamp("clamp", self, min, max, None, True)


def clamp_min(input, min, *, out=None):
    """`torch.clamp_min`"""
    return _clamp("clamp_min", input, min, None, out, False)


def clamp_min_(self, min):
    return _clamp("clamp_min", self, min, None, None, True)


def clamp_max(input, max, *, out=None):
    """`torch.clamp_max`"""
    return _clamp("clamp_max", input, None, max, out, False)


def clamp_max_(self, max):
    return _clamp("clamp_max", self, None, max, None, True)


register("clamp", clamp, dtypes=NUMERIC, inplace_fn=clamp_, aliases=("clip",), torch_inplace=True)
register("clamp_min", clamp_min, dtypes=ALL, inplace_fn=clamp_min_, torch_inplace=True)
register("clamp_max", clamp_max, dtypes=ALL, inplace_fn=clamp_max_, torch_inplace=True)


# ---- nan_to_num ----
_FLOAT_LIMITS = {dt.float32: 3.4028234663852886e38, dt.float64: 1.7976931348623157e308}


def _nan_to_num(x, nan, posinf, neginf, out, inplace):
    if not isinstance(x, Tensor):
        raise not_tensor_error("nan_to_num", "input", 1, x)
    if inplace:
        out = x
    elif out is not None and out._dtype is not x._dtype:
        raise RuntimeError(f"nan_to_num: dtype of out: {torch_type_name(out._dtype)} should be same as input: "
                           f"{torch_type_name(x._dtype)}")
    if not x._dtype.is_floating_point:
        return _copy(x, out)  # integers and bool have nothing to replace
    target, final = prepare_output(out, x._shape, (x,), x._dtype, inplace=inplace)
    if out is not None:
        check_no_partial_overlap(out, (x,))
    limit = _FLOAT_LIMITS[x._dtype]
    check(lib.ft_nan_to_num(x._dtype.code, len(x._shape), x._shape, target._addr, target._stride,
                            x._addr, x._stride, 0.0 if nan is None else float(nan),
                            limit if posinf is None else float(posinf), -limit if neginf is None else float(neginf)))
    if out is not None:
        final._bump_version()
    return finish_output(target, final)


def _copy(x, out):
    """torch's clone / out.copy_(x): a fresh copy keeps x's layout, a resized out= is contiguous."""
    if out is None:
        from engine import clone

        return clone(x)
    if out is not x:
        if out._shape != x._shape:
            resize_out(out, x._shape)
        copy_into(out, x)
    out._bump_version()
    return out


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """`torch.nan_to_num`"""
    return _nan_to_num(input, nan, posinf, neginf, out, False)


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    return _nan_to_num(self, nan, posinf, neginf, None, True)


register("nan_to_num", nan_to_num, dtypes=ALL, inplace_fn=nan_to_num_, torch_inplace=True)
