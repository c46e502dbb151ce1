"""Scans along a dim: `torch.cumsum`, `cumprod`, `logcumsumexp`, `cummax`, `cummin`
(functions, Tensor methods, cumsum_/cumprod_), and `torch.diff`, over the kernel in
csrc/scan.c.

torch's semantics: integer and bool inputs of cumsum/cumprod give int64 unless dtype=
says otherwise (dtype= converts the input first); results are contiguous; a 0-dim input
takes dims -1 and 0; cummax/cummin return (values, indices) named tuples with int64
indices, the later index on a tie and a NaN kept once seen. The derivative rules are in
engine/autograd/rules/scan_sort.py.
"""
from __future__ import annotations

import builtins

from engine import _dtype as dt
from engine import return_types
from engine._iter import _type_name, cast
from engine._kernel import check, ffi, lib
from engine._ops.reduction import _expect_out_dtype, _into, out_pair
from engine._registry import ALL, FLOATING, NUMERIC, op, tensor_method
from engine._shape import wrap_dim
from engine._tensor import Tensor, empty_tensor

_NULL = ffi.NULL


def _int64_array(values):
    return ffi.new("int64_t[]", values) if values else _NULL


def row_box(shape, dim, *strides):
    """The kernels' description of the rows along `dim` (api/scan.h): the outer sizes and, per
    operand, its outer strides and its step along dim. A 0-dim shape is one row of one element."""
    if not shape:
        return 0, _NULL, 1, [(_NULL, 1) for _ in strides]
    outer = [d for d in range(len(shape)) if d != dim]
    sizes = _int64_array([shape[d] for d in outer])
    operands = [(_int64_array([s[d] for d in outer]), s[dim]) for s in strides]
    return len(outer), sizes, shape[dim], operands


def check_tensor(name, x, what="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{what}' (position 1) must be Tensor, not {type(x).__name__}")


def check_int(name, value, what, position):
    if isinstance(value, builtins.bool) or not isinstance(value, builtins.int):
        if hasattr(value, "__index__") and not isinstance(value, (Tensor, builtins.bool)):
            return value.__index__()
        raise TypeError(f"{name}(): argument '{what}' (position {position}) must be int, not {type(value).__name__}")
    return value


def scan_into(code, x, dim, result, indices=None, reverse=False):
    """Run the scan kernel of x (of result's dtype) along dim into result (and indices);
    reverse walks each row from its end (the reversed scans of the backward rules)."""
    shape = x._shape
    strides = [x._stride, result._stride] + ([indices._stride] if indices is not None else [])
    n_outer, sizes, length, operands = row_box(shape, dim, *strides)
    item = x._dtype.itemsize
    x_addr, x_step = x._addr, operands[0][1]
    y_addr, y_step = result._addr, operands[1][1]
    i_addr, i_outer, i_step = 0, _NULL, 0
    if indices is not None:
        i_addr, (i_outer, i_step) = indices._addr, operands[2]
    if reverse and length > 0:
        x_addr += (length - 1) * x_step * item
        y_addr += (length - 1) * y_step * result._dtype.itemsize
        x_step, y_step = -x_step, -y_step
        if indices is not None:
            i_addr += (length - 1) * i_step * 8
            i_step = -i_step
    check(lib.ft_scan(code, result._dtype.code, n_outer, sizes, length, x_addr, operands[0][0], x_step,
                      y_addr, operands[1][0], y_step, i_addr, i_outer, i_step))
    return result


def _as_dtype(x, dtype):
    return x if x._dtype is dtype else cast(x, dtype)


def _sum_like_dtype(x, dtype):
    if dtype is not None:
        if not isinstance(dtype, dt.dtype):
            raise TypeError(f"argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")
        return dtype
    return dt.int64 if not x._dtype.is_floating_point else x._dtype


def _sum_like(name, code, input, dim, dtype, out):
    check_tensor(name, input)
    dim = check_int(name, dim, "dim", 2)
    d = wrap_dim(dim, len(input._shape))
    result_dtype = _sum_like_dtype(input, dtype)
    if out is not None:
        if dtype is None:
            result_dtype = out._dtype  # torch's cum ops compute in out's dtype
        _expect_out_dtype(out, result_dtype)
    x = _as_dtype(input, result_dtype)
    result = empty_tensor(input._shape, result_dtype)
    return _into(scan_into(code, x, d, result), out)


@op("cumsum", dtypes=ALL, method=True, inplace="cumsum_", family="scan")
def cumsum(input, dim, *, dtype=None, out=None):
    """`torch.cumsum`: https://pytorch.org/docs/stable/generated/torch.cumsum.html"""
    return _sum_like("cumsum", lib.FT_SCAN_CUMSUM, input, dim, dtype, out)


@op("cumprod", dtypes=ALL, method=True, inplace="cumprod_", family="scan")
def cumprod(input, dim, *, dtype=None, out=None):
    """`torch.cumprod`: https://pytorch.org/docs/stable/generated/torch.cumprod.html"""
    return _sum_like("cumprod", lib.FT_SCAN_CUMPROD, input, dim, dtype, out)


def _inplace_scan(function):
    def inplace(self, dim, *, dtype=None):
        from engine._tensor import copy_into

        result = function(self, dim, dtype=dtype)
        copy_into(self, result)
        self._bump_version()
        return self

    return inplace


tensor_method("cumsum_")(_inplace_scan(cumsum))
tensor_method("cumprod_")(_inplace_scan(cumprod))


@op("logcumsumexp", dtypes=FLOATING, method=True, family="scan")
def logcumsumexp(input, dim, *, out=None):
    """`torch.logcumsumexp`: https://pytorch.org/docs/stable/generated/torch.logcumsumexp.html"""
    check_tensor("logcumsumexp", input)
    dim = check_int("logcumsumexp", dim, "dim", 2)
    d = wrap_dim(dim, len(input._shape))
    result_dtype = input._dtype
    if not result_dtype.is_floating_point:
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_type_name(result_dtype)}'")
    result = empty_tensor(input._shape, result_dtype)
    return _into(scan_into(lib.FT_SCAN_LOGCUMSUMEXP, input, d, result), out)


def _cum_extreme(name, code, result_type, input, dim, out):
    check_tensor(name, input)
    dim = check_int(name, dim, "dim", 2)
    d = wrap_dim(dim, len(input._shape))
    values = empty_tensor(input._shape, input._dtype)
    indices = empty_tensor(input._shape, dt.int64)
    scan_into(code, input, d, values, indices)
    return out_pair(result_type, values, indices, out, input._dtype)


@op("cummax", dtypes=ALL, method=True, family="scan")
def cummax(input, dim, *, out=None):
    """`torch.cummax`: https://pytorch.org/docs/stable/generated/torch.cummax.html"""
    return _cum_extreme("cummax", lib.FT_SCAN_CUMMAX, return_types.cummax, input, dim, out)


@op("cummin", dtypes=ALL, method=True, family="scan")
def cummin(input, dim, *, out=None):
    """`torch.cummin`: https://pytorch.org/docs/stable/generated/torch.cummin.html"""
    return _cum_extreme("cummin", lib.FT_SCAN_CUMMIN, return_types.cummin, input, dim, out)


# ---- diff: differences of neighbours, built from narrow and sub (so autograd sees SubBackward0) ----
def _concatenate(pieces, dim):
    """pieces joined along dim (diff's prepend/append), as one differentiable sum of padded pieces."""
    from engine.autograd.rules.scan_sort import concatenate

    return concatenate(pieces, dim)


@op("diff", dtypes=ALL, method=True, family="scan")
def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """`torch.diff`: https://pytorch.org/docs/stable/generated/torch.diff.html"""
    check_tensor("diff", input)
    n = check_int("diff", n, "n", 2)
    dim = check_int("diff", dim, "dim", 3)
    ndim = len(input._shape)
    if ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, ndim)
    if n == 0:
        from engine._factories import empty_like

        copy = empty_like(input, memory_format=None)
        copy.copy_(input)  # torch copies the input (CopyBackwards), leaving prepend/append out
        return _into(copy, out)
    pieces = []
    for name, extra in (("prepend", prepend), ("append", append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor):
            raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(extra).__name__}")
        if len(extra._shape) != ndim:
            raise RuntimeError(f"diff expects prepend or append to be the same dimension as input")
        for k in range(ndim):
            if k != d and extra._shape[k] != input._shape[k]:
                raise RuntimeError("diff expects the shape of tensor to prepend or append to match that of input "
                                   f"except along the differencing dimension; input.size({k}) = "
                                   f"{input._shape[k]}, but got tensor.size({k}) = {extra._shape[k]}")
    if prepend is not None or append is not None:
        if prepend is not None and prepend._dtype is not input._dtype or \
                append is not None and append._dtype is not input._dtype:
            common = input._dtype
            for extra in (prepend, append):
                if extra is not None:
                    common = dt.promote_types(common, extra._dtype)
            input = _as_dtype(input, common)
            prepend = _as_dtype(prepend, common) if prepend is not None else None
            append = _as_dtype(append, common) if append is not None else None
        pieces = [t for t in (prepend, input, append) if t is not None]
        input = _concatenate(pieces, d)
    result = input
    for _ in range(n):
        length = result._shape[d]
        if length == 0:
            break
        hi, lo = result.narrow(d, 1, length - 1), result.narrow(d, 0, length - 1)
        result = hi.logical_xor(lo) if result._dtype is dt.bool else hi - lo
    return _into(result, out)


# ---- trapezoid rules, torch's composites (aten/src/ATen/native/Integration.cpp) ----
def _x_spacing(name, y, x, d):
    """x viewed so that its differences along d broadcast against y's (torch's x_viewed)."""
    if len(x._shape) == 1:
        if x._shape[0] != y._shape[d]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        sizes = [1] * len(y._shape)
        sizes[d] = x._shape[0]
        x = x.view(tuple(sizes))
    elif len(x._shape) < len(y._shape):
        x = x.view((1,) * (len(y._shape) - len(x._shape)) + x._shape)
    length = x._shape[d]
    return x.narrow(d, 1, length - 1) - x.narrow(d, 0, length - 1)


def _check_dx(name, dx):
    if isinstance(dx, builtins.bool) or not isinstance(dx, (builtins.int, builtins.float)):
        raise RuntimeError(f"{name}: Currently, we only support dx as a real number.")
    return builtins.float(dx)


@op("trapezoid", dtypes=ALL - {"bool"}, family="scan")
def trapezoid(y, x=None, *, dx=None, dim=-1):
    """`torch.trapezoid`: https://pytorch.org/docs/stable/generated/torch.trapezoid.html"""
    from engine._factories import zeros
    from engine.autograd.rules.scan_sort import div_scalar, mul_scalar

    check_tensor("trapezoid", y, "y")
    if x is not None and dx is not None:
        raise TypeError("trapezoid() received an invalid combination of arguments - got (Tensor, Tensor, dx=float)")
    dim = check_int("trapezoid", dim, "dim", 3)
    d = wrap_dim(dim, len(y._shape))
    if y._shape[d] == 0:
        return zeros(y._shape[:d] + y._shape[d + 1:], dtype=y._dtype)
    if y._dtype is dt.bool or (isinstance(x, Tensor) and x._dtype is dt.bool):
        raise RuntimeError("trapezoid: received a bool input for `x` or `y`, but bool is not supported")
    length = y._shape[d]
    if isinstance(x, Tensor):
        spacing = _x_spacing("trapezoid", y, x, d)
        return div_scalar((spacing * (y.narrow(d, 1, length - 1) + y.narrow(d, 0, length - 1))).sum(d), 2.0)
    step = _check_dx("trapezoid", 1.0 if dx is None and x is None else (dx if dx is not None else x))
    ends = y.select(d, 0) + y.select(d, -1)
    return mul_scalar(y.sum(d) - mul_scalar(ends, 0.5), step)


@op("cumulative_trapezoid", dtypes=ALL - {"bool"}, family="scan")
def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """`torch.cumulative_trapezoid`: https://pytorch.org/docs/stable/generated/torch.cumulative_trapezoid.html"""
    from engine.autograd.rules.scan_sort import div_scalar, mul_scalar

    check_tensor("cumulative_trapezoid", y, "y")
    dim = check_int("cumulative_trapezoid", dim, "dim", 3)
    d = wrap_dim(dim, len(y._shape))
    length = y._shape[d]
    left = y.narrow(d, 0, builtins.max(length - 1, 0))
    right = y.narrow(d, 1, length - 1) if length else left
    if isinstance(x, Tensor):
        spacing = _x_spacing("cumulative_trapezoid", y, x, d)
        return div_scalar((spacing * (left + right)).cumsum(d), 2.0)  # torch halves after the sum
    step = _check_dx("cumulative_trapezoid", 1.0 if dx is None and x is None else (dx if dx is not None else x))
    return mul_scalar(left + right, step / 2.0).cumsum(d)
