"""Reductions: sum, mean, prod, amax/amin, max/min (values and indices),
argmax/argmin, all/any, count_nonzero, nansum/nanmean, var/std (and their
_mean forms), logsumexp, aminmax and vector norms, over `dim` (an int, a
tuple of ints or None) with `keepdim`, `dtype=` and `out=` where torch has them.

One driver binds every call to one ft_reduce kernel call: the kept dims form
the kernel's outer box and the reduced dims its inner box, both read straight
from the input's shape and strides (no permute or copy), and the result is the
contiguous tensor torch allocates. The op functions only decide torch's dtype
rules, argument forms and error messages.
"""
from __future__ import annotations

import builtins
import math
import operator
import warnings
from functools import lru_cache

from engine import _dtype as dt
from engine import return_types
from engine._iter import _type_name, cast, resize_out
from engine._kernel import check, ffi, lib
from engine._registry import ALL, FLOATING, NUMERIC, op, tensor_method
from engine._shape import contiguous_strides, numel, wrap_dim
from engine._tensor import Tensor, copy_into, empty_tensor

# torch's C++ type names in "Expected out tensor to have dtype ..." messages
_C_TYPE_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
                 "int32": "int", "int64": "long int", "float32": "float", "float64": "double"}


# ---- argument handling ----
def _as_dim(name, value):
    if isinstance(value, builtins.bool):
        raise TypeError(f"{name}(): argument 'dim' must be tuple of ints, not bool")
    if isinstance(value, builtins.int):
        return value
    if isinstance(value, Tensor) and not value._dtype.is_floating_point and numel(value._shape) == 1:
        return builtins.int(value.item())
    if hasattr(value, "__index__") and not isinstance(value, Tensor):
        return operator.index(value)
    raise TypeError(f"{name}(): argument 'dim' must be tuple of ints, not {type(value).__name__}")


def _dim_list(name, dim, ndim):
    """dim (an int or a tuple/list of ints) as sorted wrapped dims; None stays None, () stays ()."""
    if dim is None:
        return None
    items = dim if isinstance(dim, (tuple, list)) else (dim,)
    wrapped = []
    for d in items:
        w = wrap_dim(_as_dim(name, d), ndim)
        if w in wrapped:
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        wrapped.append(w)
    return tuple(sorted(wrapped)) if ndim else ()


def _all_or(name, dim, ndim):
    """Reduced dims where None and () both mean every dim (sum, mean, amax, var, norm, ...)."""
    dims = _dim_list(name, dim, ndim)
    return tuple(range(ndim)) if not dims else dims


def _single_dim(name, dim, ndim):
    """One int dim (max(dim), argmax, prod): the wrapped dim as a 1-tuple (() for a 0-dim input)."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    if isinstance(dim, builtins.bool):
        raise TypeError(f"{name}(): argument 'dim' must be int, not bool")
    d = wrap_dim(_as_dim(name, dim), ndim)
    return (d,) if ndim else ()


def _check_keepdim(name, keepdim):
    if not isinstance(keepdim, builtins.bool):
        raise TypeError(f"{name}(): argument 'keepdim' must be bool, not {type(keepdim).__name__}")


def _check_dtype_arg(name, dtype):
    if dtype is not None and not isinstance(dtype, dt.dtype):
        raise TypeError(f"{name}(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")


def _check_nonempty(name, x, dims, full):
    """torch's errors for reductions without an identity (amax, max, argmax, aminmax, ...)."""
    if numel(x._shape) != 0:
        return
    if full:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument.")
    for d in dims:
        if x._shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _expect_out_dtype(out, dtype):
    if out is not None and out._dtype is not dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {_C_TYPE_NAMES[dtype.name]}, "
                           f"but got {_C_TYPE_NAMES[out._dtype.name]} instead")


# ---- the driver ----
@lru_cache(maxsize=8192)
def _plan(shape, stride, dims, keepdim):
    """The result shape and the kernel's outer/inner boxes for reducing `dims` of a (shape, stride) input,
    as the kernel's int64 arrays (built once per layout, so a call converts no Python tuples)."""
    reduced = set(dims)
    kept = tuple(d for d in range(len(shape)) if d not in reduced)
    if keepdim:
        out_shape = tuple(1 if d in reduced else size for d, size in enumerate(shape))
        out_kept_strides = tuple(contiguous_strides(out_shape)[d] for d in kept)
    else:
        out_shape = tuple(shape[d] for d in kept)
        out_kept_strides = contiguous_strides(out_shape)

    def array(values):
        return ffi.new("int64_t[]", values) if values else ffi.NULL

    return (out_shape, len(kept), array([shape[d] for d in kept]), array([stride[d] for d in kept]),
            array(out_kept_strides), len(dims), array([shape[d] for d in dims]), array([stride[d] for d in dims]))


def _reduce(code, x, dims, keepdim, result_dtype, *, param=0.0, values=True, indices=False):
    """Run one reduction: returns the values tensor, the indices tensor, or both (values, indices)."""
    out_shape, n_outer, outer, in_outer, out_outer, n_inner, inner, in_inner = _plan(x._shape, x._stride, dims, keepdim)
    value_t = empty_tensor(out_shape, result_dtype) if values else None
    index_t = empty_tensor(out_shape, dt.int64) if indices else None
    check(lib.ft_reduce(code, result_dtype.code, x._dtype.code, n_outer, outer, n_inner, inner,
                        x._addr, in_outer, in_inner,
                        value_t._addr if values else 0, out_outer,
                        index_t._addr if indices else 0, out_outer, param))
    if values and indices:
        return value_t, index_t
    return value_t if values else index_t


def _to(x, dtype):
    return x if x._dtype is dtype else cast(x, dtype)


def _into(result, out):
    """Hand result back through out= (resized like torch, cast to out's dtype)."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if not dt.can_cast(result._dtype, out._dtype):
        raise RuntimeError(f"result type {_type_name(result._dtype)} can't be cast to the desired output type "
                           f"{_type_name(out._dtype)}")
    resize_out(out, result._shape)
    copy_into(out, result)
    out._bump_version()
    return out


def out_pair(result_type, values, indices, out, dtype):
    """A (values, indices) result as the named tuple result_type, through out=(values, indices) when given."""
    if out is not None:
        out_values, out_indices = out
        _expect_out_dtype(out_values, dtype)
        _expect_out_dtype(out_indices, dt.int64)
        values, indices = _into(values, out_values), _into(indices, out_indices)
    return result_type((values, indices))


def _check_tensor(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")


# ---- sums and products ----
def _accumulate_dtype(name, x, dtype, out):
    """sum/prod/nansum: dtype= (or out's dtype) else int64 for integers and bool, else x's dtype."""
    _check_dtype_arg(name, dtype)
    if out is not None:
        if dtype is None:
            dtype = out._dtype
        else:
            _expect_out_dtype(out, dtype)
    if dtype is None:
        dtype = x._dtype if x._dtype.is_floating_point else dt.int64
    return dtype


def _reduced_dims_of(name, input, dim, keepdim):
    """The checks every dim-list reduction starts with; returns the reduced dims (None and () = all)."""
    _check_tensor(name, input)
    _check_keepdim(name, keepdim)
    return _all_or(name, dim, len(input._shape))


def _sum_like(code, x, dims, keepdim, dtype):
    # Integer inputs accumulate in int64 inside the kernel and convert on store; a floating
    # input or result computes in the result dtype (torch casts the input first).
    compute = x._dtype if not (x._dtype.is_floating_point or dtype.is_floating_point) else dtype
    return _reduce(code, _to(x, compute), dims, keepdim, dtype)


@lru_cache(maxsize=1024)
def _sum_all_plan(shape):
    """_plan for reducing every dim of a contiguous tensor of this shape (any contiguous
    strides address it the same way, so the canonical ones stand for all)."""
    return _plan(shape, contiguous_strides(shape), tuple(range(len(shape))), False)


def _fast_sum(slow):
    """sum(x) of a contiguous tensor: straight to the kernel, then recorded like the slow
    path would (the registry installs this over `sum`; every other call goes to slow)."""
    from engine._tensor import new_contiguous
    from engine.autograd.grad_mode import STATE

    reduce = lib.ft_reduce
    int64 = dt.int64
    record = getattr(slow, "__record__", None)

    def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
        if dim is None and dtype is None and out is None and keepdim is False and type(input) is Tensor and \
                input._flat_step == 1:
            d = input._dtype
            result_dtype = d if d.is_floating_point else int64
            plan = _sum_all_plan(input._shape)
            result = new_contiguous((), result_dtype, result_dtype.itemsize)
            if not reduce(lib.FT_REDUCE_SUM, result_dtype.code, d.code, 0, plan[2], plan[5], plan[6], input._addr,
                          plan[3], plan[7], result._addr, plan[4], 0, plan[4], 0.0):
                if input._requires_grad and STATE.enabled:
                    record(result, (input,))
                return result
        if type(dim) is builtins.int and dtype is None and out is None and keepdim is False and \
                type(input) is Tensor and input._flat_step == 1 and not (input._requires_grad and STATE.enabled):
            # sum(x, dim) of a contiguous tensor outside autograd: one kernel call, as for mean and amax
            plan = _single_plan(input._shape, dim)
            if plan is not None:
                d = input._dtype
                result_dtype = d if d.is_floating_point else int64
                out_shape = plan[0]
                result = new_contiguous(out_shape, result_dtype, numel(out_shape) * result_dtype.itemsize)
                if not reduce(lib.FT_REDUCE_SUM, result_dtype.code, d.code, plan[1], plan[2], plan[5], plan[6],
                              input._addr, plan[3], plan[7], result._addr, plan[4], 0, plan[4], 0.0):
                    return result
        return slow(input, dim, keepdim, dtype=dtype, out=out)

    return sum


@op("sum", dtypes=ALL, method=True, family="reduction", fast=_fast_sum)
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """`torch.sum`: https://pytorch.org/docs/stable/generated/torch.sum.html"""
    dims = _reduced_dims_of("sum", input, dim, keepdim)
    dtype = _accumulate_dtype("sum", input, dtype, out)
    return _into(_sum_like(lib.FT_REDUCE_SUM, input, dims, keepdim, dtype), out)


@op("nansum", dtypes=ALL, method=True, family="reduction")
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """`torch.nansum`: https://pytorch.org/docs/stable/generated/torch.nansum.html"""
    dims = _reduced_dims_of("nansum", input, dim, keepdim)
    if dtype is None and isinstance(out, Tensor) and input._dtype.is_floating_point and not out._dtype.is_floating_point:
        # torch computes in out's dtype here, and has no integer kernel for a floating input
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for '{_type_name(out._dtype)}'")
    dtype = _accumulate_dtype("nansum", input, dtype, out)
    return _into(_sum_like(lib.FT_REDUCE_NANSUM, input, dims, keepdim, dtype), out)


@op("prod", dtypes=ALL, method=True, family="reduction")
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """`torch.prod`: https://pytorch.org/docs/stable/generated/torch.prod.html"""
    _check_tensor("prod", input)
    _check_keepdim("prod", keepdim)
    dtype = _accumulate_dtype("prod", input, dtype, out)
    ndim = len(input._shape)
    dims = tuple(range(ndim)) if dim is None else _single_dim("prod", dim, ndim)
    return _into(_sum_like(lib.FT_REDUCE_PROD, input, dims, keepdim if dim is not None else False, dtype),
                 out)


# ---- fast paths: whole-tensor and single-dim reductions of contiguous tensors ----
# The commonest calls, x.amax(), x.argmax(dim=-1), x.mean(), go straight to the kernel; every
# other call (out=, keepdim=True, dim lists, empty or non-contiguous inputs, anything needing
# autograd, any error) goes to the op's full implementation (`slow`), so results are identical.
_ALL_DIMS = object()  # the dim argument meant "every dim"


@lru_cache(maxsize=4096)
def _single_plan(shape, dim):
    """(result shape, _plan arrays) for reducing every dim (dim _ALL_DIMS) or one int dim of a
    contiguous non-empty tensor of this shape; None when the slow path must decide (errors)."""
    if numel(shape) == 0:
        return None
    ndim = len(shape)
    if dim is _ALL_DIMS:
        dims = tuple(range(ndim))
    else:
        rank = ndim if ndim else 1
        if not -rank <= dim < rank:
            return None
        dims = (dim % rank,) if ndim else ()
    return _plan(shape, contiguous_strides(shape), dims, False)


@lru_cache(maxsize=4096)
def _rows_of(shape, dim):
    """(rows, row length, result shape) when reducing every dim (_ALL_DIMS) or the last one of a
    contiguous non-empty tensor of this shape: the case ft_reduce_rows takes; else None (the slow
    path decides, including torch's errors for more dims than its kernels take)."""
    if numel(shape) == 0 or len(shape) > lib.FT_MAX_DIMS:
        return None
    if dim is _ALL_DIMS:
        return 1, numel(shape), ()
    if not shape:
        return (1, 1, ()) if dim in (-1, 0) else None  # a 0-dim tensor takes dims -1 and 0
    if dim != -1 and dim != len(shape) - 1:
        return None
    return numel(shape) // shape[-1], shape[-1], shape[:-1]


def _fast_single(code, *, all_dims, index=False, floating_only=False):
    """A `fast=` factory for amax/amin (all_dims=()), argmax/argmin (all_dims=None, index=True)
    and mean (all_dims=None, floating_only=True): dim is all_dims or an int, no keepdim, out=
    or dtype=, and no gradient to record."""

    def make(slow):
        from engine._tensor import new_contiguous
        from engine.autograd.grad_mode import STATE

        reduce = lib.ft_reduce
        reduce_rows = lib.ft_reduce_rows
        int64 = dt.int64

        def reduction(input, dim=all_dims, keepdim=False, *, out=None, **dtype):
            if out is None and keepdim is False and not dtype and type(input) is Tensor and \
                    input._flat_step == 1 and not (input._requires_grad and STATE.enabled) and \
                    (dim is all_dims or type(dim) is builtins.int):
                d = input._dtype
                which = _ALL_DIMS if dim is all_dims else dim
                if d.is_floating_point:
                    # whole tensor or last dim: the contiguous-rows entry, 7 arguments instead of 15
                    rows = _rows_of(input._shape, which)
                    if rows is not None:
                        result_dtype = int64 if index else d
                        result = new_contiguous(rows[2], result_dtype, rows[0] * result_dtype.itemsize)
                        value, indices = (0, result._addr) if index else (result._addr, 0)
                        if not reduce_rows(code, d.code, rows[0], rows[1], input._addr, value, indices):
                            return result
                plan = _single_plan(input._shape, which)
                if plan is not None and (d.is_floating_point or not floating_only) and not (index and d is dt.bool):
                    result_dtype = int64 if index else d
                    out_shape = plan[0]
                    result = new_contiguous(out_shape, result_dtype, numel(out_shape) * result_dtype.itemsize)
                    value, indices = (0, result._addr) if index else (result._addr, 0)
                    if not reduce(code, result_dtype.code, d.code, plan[1], plan[2], plan[5], plan[6], input._addr,
                                  plan[3], plan[7], value, plan[4], indices, plan[4], 0.0):
                        return result
            return slow(input, dim, keepdim, out=out, **dtype)

        return reduction

    return make


def _mean_dtype(name, x, dtype, out):
    _check_dtype_arg(name, dtype)
    if dtype is None:
        if not x._dtype.is_floating_point:
            raise RuntimeError(f"{name}(): could not infer output dtype. Input dtype must be either a floating point "
                               f"or complex dtype. Got: {_type_name(x._dtype)}")
        return out._dtype if out is not None and out._dtype.is_floating_point else x._dtype
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name}(): could not infer output dtype. Optional dtype must be either a floating point "
                           f"or complex dtype. Got: {_type_name(dtype)}")
    _expect_out_dtype(out, dtype)
    return dtype


@op("mean", dtypes=FLOATING, method=True, family="reduction",
    fast=_fast_single(lib.FT_REDUCE_MEAN, all_dims=None, floating_only=True))
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """`torch.mean`: https://pytorch.org/docs/stable/generated/torch.mean.html"""
    _check_tensor("mean", input)
    dtype = _mean_dtype("mean", input, dtype, out)  # torch checks the dtype before the dims
    dims = _reduced_dims_of("mean", input, dim, keepdim)
    return _into(_reduce(lib.FT_REDUCE_MEAN, _to(input, dtype), dims, keepdim, dtype), out)


@op("nanmean", dtypes=FLOATING, method=True, family="reduction")
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """`torch.nanmean`: https://pytorch.org/docs/stable/generated/torch.nanmean.html"""
    _check_tensor("nanmean", input)
    if not input._dtype.is_floating_point:
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_type_name(input._dtype)}")
    dtype = _mean_dtype("nanmean", input, dtype, out)
    dims = _reduced_dims_of("nanmean", input, dim, keepdim)
    if input.requires_grad:  # torch's composite: nansum / number of non-NaN elements
        kept = (input == input).sum(dims, keepdim)
        return _into(nansum(input, dims, keepdim, dtype=dtype) / kept, out)
    return _into(_reduce(lib.FT_REDUCE_NANMEAN, _to(input, dtype), dims, keepdim, dtype), out)


# ---- extremes ----
def _extreme(code, name, input, dim, keepdim, out):
    _check_tensor(name, input)
    _check_keepdim(name, keepdim)
    ndim = len(input._shape)
    if numel(input._shape) == 0 and dim is not None and dim != ():
        # torch checks each given dim for emptiness before looking for duplicates
        items = dim if isinstance(dim, (tuple, list)) else (dim,)
        _check_nonempty(name, input, [wrap_dim(_as_dim(name, d), ndim) for d in items], False)
    dims = _dim_list(name, dim, ndim)
    full = not dims
    if full:
        dims = tuple(range(ndim))
    _check_nonempty(name, input, dims, full)
    if out is not None and isinstance(out, Tensor) and out._dtype is not input._dtype:
        raise RuntimeError(f"Expected the dtype for input and out to match, but got {_type_name(input._dtype)} for "
                           f"input's dtype and {_type_name(out._dtype)} for out's dtype.")
    return _into(_reduce(code, input, dims, keepdim, input._dtype), out)


def _register_pair(names, codes, implementation, signature_of, *, dtypes, fast=None):
    """Register two ops that differ only in their kernel (amax/amin, argmax/argmin, all/any, var/std);
    fast(code) gives the `fast=` factory of each (see _fast_single)."""
    made = []
    for name, code in zip(names, codes):
        fn = signature_of(name, code, implementation)
        fn.__name__ = fn.__qualname__ = name
        fn.__doc__ = f"`torch.{name}`: https://pytorch.org/docs/stable/generated/torch.{name}.html"
        made.append(op(name, dtypes=dtypes, method=True, family="reduction",
                       fast=fast(code) if fast is not None else None)(fn))
    return made


def _dim_keepdim_out(name, code, implementation):
    def reduction(input, dim=None, keepdim=False, *, out=None):
        return implementation(code, name, input, dim, keepdim, out)

    return reduction


def _amax_signature(name, code, implementation):
    def reduction(input, dim=(), keepdim=False, *, out=None):  # torch's default dim is () here
        return implementation(code, name, input, dim, keepdim, out)

    return reduction


amax, amin = _register_pair(("amax", "amin"), (lib.FT_REDUCE_AMAX, lib.FT_REDUCE_AMIN), _extreme, _amax_signature,
                            dtypes=ALL, fast=lambda code: _fast_single(code, all_dims=()))


def _max_min(name, code, binary, result_type, input, dim, keepdim, out):
    _check_tensor(name, input)
    if isinstance(dim, Tensor):  # max(input, other): the elementwise maximum
        if keepdim is not False:
            raise TypeError(f"{name}() received an invalid combination of arguments - got (Tensor, Tensor, bool)")
        return binary(input, dim, out=out)
    _check_keepdim(name, keepdim)
    ndim = len(input._shape)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}() received an invalid combination of arguments - got (keepdim=bool, )")
        _check_nonempty(name, input, (), True)
        return _into(_reduce(code, input, tuple(range(ndim)), False, input._dtype), out)
    if not isinstance(dim, (builtins.int, Tensor)) or isinstance(dim, builtins.bool):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(dim).__name__})")
    dims = _single_dim(name, dim, ndim)
    _check_nonempty(name, input, dims, False)
    values, indices = _reduce(code, input, dims, keepdim, input._dtype, indices=True)
    return out_pair(result_type, values, indices, out, input._dtype)


@op("max", dtypes=ALL, method=True, family="reduction")
def max(input, dim=None, keepdim=False, *, out=None):
    """`torch.max`: max(), max(dim, keepdim) -> (values, indices), max(other) = maximum."""
    from engine import maximum

    return _max_min("max", lib.FT_REDUCE_MAX if dim is not None else lib.FT_REDUCE_AMAX, maximum,
                    return_types.max, input, dim, keepdim, out)


@op("min", dtypes=ALL, method=True, family="reduction")
def min(input, dim=None, keepdim=False, *, out=None):
    """`torch.min`: min(), min(dim, keepdim) -> (values, indices), min(other) = minimum."""
    from engine import minimum

    return _max_min("min", lib.FT_REDUCE_MIN if dim is not None else lib.FT_REDUCE_AMIN, minimum,
                    return_types.min, input, dim, keepdim, out)


def _arg_extreme(code, name, input, dim, keepdim, out):
    _check_tensor(name, input)
    _check_keepdim(name, keepdim)
    if input._dtype is dt.bool:
        raise RuntimeError(f"{name}(): does not support bool input")
    ndim = len(input._shape)
    if dim is None:
        if numel(input._shape) == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        dims = tuple(range(ndim))
    else:
        dims = _single_dim(name, dim, ndim)
        _check_nonempty(name, input, dims, False)
    _expect_out_dtype(out, dt.int64)
    return _into(_reduce(code, input, dims, keepdim, dt.int64, values=False, indices=True), out)


argmax, argmin = _register_pair(("argmax", "argmin"), (lib.FT_REDUCE_ARGMAX, lib.FT_REDUCE_ARGMIN), _arg_extreme,
                                _dim_keepdim_out, dtypes=NUMERIC,
                                fast=lambda code: _fast_single(code, all_dims=None, index=True))


@op("aminmax", dtypes=ALL, method=True, family="reduction")
def aminmax(input, *, dim=None, keepdim=False, out=None):
    """`torch.aminmax` -> (min, max); built from amin and amax, so it is differentiable through them."""
    _check_tensor("aminmax", input)
    ndim = len(input._shape)
    if dim is None:
        if numel(input._shape) == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                               "identity.")
        dims = ()
    else:
        dims = _single_dim("aminmax", dim, ndim)
        for d in dims:
            if input._shape[d] == 0:
                raise IndexError(f"aminmax: Expected reduction dim {d} to have non-zero size.")
    if dim is None and keepdim:
        low, high = amin(input, dims, True), amax(input, dims, True)
    else:
        low, high = amin(input, dims, keepdim), amax(input, dims, keepdim)
    if out is not None:
        _expect_out_dtype(out[0], input._dtype)
        _expect_out_dtype(out[1], input._dtype)
        low, high = _into(low, out[0]), _into(high, out[1])
    return return_types.aminmax((low, high))


# ---- logical and counting ----
def _logical(code, name, input, dim, keepdim, out):
    _check_tensor(name, input)
    _check_keepdim(name, keepdim)
    ndim = len(input._shape)
    dims = tuple(range(ndim)) if dim is None else _dim_list(name, dim, ndim)  # () reduces nothing
    result_dtype = dt.uint8 if input._dtype is dt.uint8 else dt.bool
    if out is not None and isinstance(out, Tensor) and out._dtype not in (dt.bool, dt.uint8):
        raise RuntimeError(f"{name} only supports bool tensor for result, got: {_type_name(out._dtype)}")
    return _into(_reduce(code, input, dims, keepdim, result_dtype), out)


all, any = _register_pair(("all", "any"), (lib.FT_REDUCE_ALL, lib.FT_REDUCE_ANY), _logical, _dim_keepdim_out,
                          dtypes=ALL)


@op("count_nonzero", dtypes=ALL, method=True, family="reduction")
def count_nonzero(input, dim=None):
    """`torch.count_nonzero`: https://pytorch.org/docs/stable/generated/torch.count_nonzero.html"""
    _check_tensor("count_nonzero", input)
    dims = _all_or("count_nonzero", dim, len(input._shape))
    return _reduce(lib.FT_REDUCE_COUNT_NONZERO, input, dims, False, dt.int64)


# ---- variance ----
def _correction(name, dim, unbiased, correction):
    """torch's three forms: var(unbiased), var(dim, unbiased, keepdim), var(dim, *, correction)."""
    if isinstance(dim, builtins.bool):  # x.var(True): the legacy unbiased flag in dim's place
        if unbiased is not None:
            raise TypeError(f"{name}() received an invalid combination of arguments - got (bool, {type(unbiased).__name__})")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got (unbiased=bool, correction=Number)")
    if correction is not None:
        value = builtins.float(correction.item() if isinstance(correction, Tensor) else correction)
    else:
        value = 0.0 if unbiased is False else 1.0
    return dim, value


def _var_std(code, name, input, dim, unbiased, keepdim, correction, out):
    _check_tensor(name, input)
    dim, corr = _correction(name, dim, unbiased, correction)
    _check_keepdim(name, keepdim)
    if not input._dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dims = _all_or(name, dim, len(input._shape))
    n = math.prod(input._shape[d] for d in dims)
    if n - corr <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      "factor (input numel divided by output numel).", UserWarning, stacklevel=3)
    return _into(_reduce(code, input, dims, keepdim, input._dtype, param=corr), out)


def _var_std_signature(name, code, implementation):
    def reduction(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
        return implementation(code, name, input, dim, unbiased, keepdim, correction, out)

    return reduction


var, std = _register_pair(("var", "std"), (lib.FT_REDUCE_VAR, lib.FT_REDUCE_STD), _var_std, _var_std_signature,
                          dtypes=FLOATING)


@op("var_mean", dtypes=FLOATING, family="reduction")
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """`torch.var_mean` -> (var, mean), from var and mean (differentiable through them)."""
    _check_tensor("var_mean", input)
    dim, corr = _correction("var_mean", dim, unbiased, correction)
    return var(input, dim, keepdim=keepdim, correction=corr), mean(input, dim, keepdim)


@op("std_mean", dtypes=FLOATING, family="reduction")
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """`torch.std_mean` -> (std, mean), from std and mean (differentiable through them)."""
    _check_tensor("std_mean", input)
    dim, corr = _correction("std_mean", dim, unbiased, correction)
    return std(input, dim, keepdim=keepdim, correction=corr), mean(input, dim, keepdim)


# ---- logsumexp ----
@op("logsumexp", dtypes=ALL, method=True, family="reduction")
def logsumexp(input, dim, keepdim=False, *, out=None):
    """`torch.logsumexp`: max + log(sum(exp(x - max))); integer inputs compute in the default dtype."""
    _check_tensor("logsumexp", input)
    _check_keepdim("logsumexp", keepdim)
    ndim = len(input._shape)
    dims = _dim_list("logsumexp", dim, ndim)
    if dims == () and ndim and numel(input._shape) == 0:
        dims = tuple(range(ndim))  # torch's empty-input path sums over every dim
    elif dims == () and ndim:
        # torch reduces nothing into a 0-dim result here and fails; so do we
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape [{', '.join(['1'] * ndim)}]")
    if out is not None and isinstance(out, Tensor) and not out._dtype.is_floating_point:
        raise RuntimeError(f"logsumexp(): Expected floating point type for result tensor, but got: {_type_name(out._dtype)}")
    dtype = input._dtype if input._dtype.is_floating_point else dt.get_default_dtype()
    return _into(_reduce(lib.FT_REDUCE_LOGSUMEXP, _to(input, dtype), dims, keepdim, dtype), out)


# ---- norms ----
def _format_order(order):
    return f"{builtins.float(order):g}"


@op("linalg.vector_norm", dtypes=FLOATING, family="reduction", aten=("linalg_vector_norm",))
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """`torch.linalg.vector_norm`: https://pytorch.org/docs/stable/generated/torch.linalg.vector_norm.html"""
    _check_tensor("linalg_vector_norm", x)
    if isinstance(ord, Tensor):
        ord = ord.item()
    if not isinstance(ord, (builtins.int, builtins.float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    _check_keepdim("linalg_vector_norm", keepdim)
    _check_dtype_arg("linalg_vector_norm", dtype)
    if not x._dtype.is_floating_point:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {_type_name(x._dtype)}")
    if dtype is not None:
        if not dtype.is_floating_point:
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got {_type_name(dtype)}")
        if dtype.itemsize < x._dtype.itemsize:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({_type_name(x._dtype)}) should be "
                               f"convertible without narrowing to the specified dtype ({_type_name(dtype)})")
        x = _to(x, dtype)
    ndim = len(x._shape)
    dims = _dim_list("linalg_vector_norm", dim, ndim)
    order = builtins.float(ord)
    if (order < 0 or math.isinf(order)) and numel(x._shape) == 0:
        if not dims:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {_format_order(ord)} norm on an empty tensor "
                               "because the operation does not have an identity")
        for d in dims:
            if x._shape[d] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {_format_order(ord)} norm on the dimension "
                                   f"{d}because this dimension is empty and the operation does not have an identity")
    if not dims:
        dims = tuple(range(ndim))
    _expect_out_dtype(out, x._dtype)
    return _into(_reduce(lib.FT_REDUCE_NORM, x, dims, keepdim, x._dtype, param=order), out)


def _nuclear_norm_first(slow):
    """norm(p='nuc') is torch's linalg.matrix_norm(ord='nuc'): the sum of singular values, no norm
    node of its own (its graph is LinalgSvdBackward0 then SumBackward1)."""

    def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
        if isinstance(p, str) and p == "nuc":
            from engine._ops.linalg_lapack import linalg_matrix_norm

            if dim is None:
                dim = tuple(range(input.dim()))
            if len(dim) != 2:
                raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
            return linalg_matrix_norm(input, "nuc", tuple(dim), keepdim, dtype=dtype, out=out)
        return slow(input, p, dim, keepdim, out=out, dtype=dtype)

    return norm


@op("norm", dtypes=FLOATING, family="reduction", fast=_nuclear_norm_first)
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """`torch.norm`: vector norms (p a number; 'fro' and None mean 2) over dim; 'nuc' is the matrix nuclear norm."""
    if p is None:
        p = 2
    if isinstance(p, str):
        if p == "nuc":
            from engine._ops.linalg_lapack import linalg_matrix_norm

            if dim is None:
                dim = tuple(range(input.dim()))
            if len(dim) != 2:
                raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
            return linalg_matrix_norm(input, "nuc", tuple(dim), keepdim, dtype=dtype, out=out)
        if p != "fro":
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
        if isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype, out=out)


@tensor_method("norm")
def _norm_method(self, p="fro", dim=None, keepdim=False, dtype=None):
    """`Tensor.norm` (dtype is its fourth parameter, where torch.norm has out)."""
    return norm(self, p, dim, keepdim, dtype=dtype)
