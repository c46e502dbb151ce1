"""The engine's TensorIterator: binds an elementwise call to one kernel call.

It computes the result dtype (torch's promotion with wrapped scalars), the
broadcast shape, the output layout torch would allocate, handles `out=` and
in-place outputs (shape and cast checks, resize, version bump), casts inputs
to the compute dtype, and then calls the C kernel once. Everything op-specific
(which dtype an op computes in, error rules) stays in the op modules.
"""
from __future__ import annotations

import builtins

from engine import _dtype as dt
from engine._kernel import check, lib
from engine._shape import (
    broadcast_pair, broadcast_strides, contiguous_strides, elementwise_output_strides, is_contiguous,
    is_non_overlapping_and_dense, numel,
)
from engine._tensor import Tensor, check_no_internal_overlap, copy_into, empty_tensor, flat_step

_scalar_cache: dict = {}


def scalar_tensor(value, dtype) -> Tensor:
    """A 0-dim tensor holding value in dtype (torch's wrapped number)."""
    t = empty_tensor((), dtype)
    fill(t, value)
    return t


def fill(t: Tensor, value) -> None:
    """Write one Python scalar into every element of t (no version bump)."""
    if t._dtype.is_floating_point:
        check(lib.ft_fill(t._dtype.code, len(t._shape), t._shape, t._addr, t._stride, builtins.float(value), 0))
    else:
        if isinstance(value, builtins.float):
            if value != value or value in (float("inf"), float("-inf")):
                iv = -(1 << 63)  # what the x86 conversion gives torch for NaN/inf
            else:
                iv = builtins.int(value)
        else:
            iv = builtins.int(value)
        if not -(1 << 63) <= iv < (1 << 64):
            raise RuntimeError(f"value cannot be converted to type {t._dtype.name} without overflow")
        if iv >= (1 << 63):
            iv -= 1 << 64
        check(lib.ft_fill(t._dtype.code, len(t._shape), t._shape, t._addr, t._stride, 0.0, iv))


def as_operand(x, dtype) -> Tensor:
    """x as a tensor of dtype: Python scalars become 0-dim tensors, tensors are cast if needed."""
    if isinstance(x, Tensor):
        if x._dtype is dtype:
            return x
        return cast(x, dtype)
    return scalar_tensor(x, dtype)


def cast(x: Tensor, dtype) -> Tensor:
    """A copy of x converted to dtype, keeping x's layout when it is dense."""
    stride = elementwise_output_strides(x._shape, ((x._shape, x._stride),))
    out = empty_tensor(x._shape, dtype, stride)
    copy_into(out, x)
    return out


def _type_name(d) -> str:
    return {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
            "float32": "Float", "float64": "Double"}[d.name]


def check_out(out: Tensor, shape: tuple, result_dtype, *, inplace: bool) -> None:
    """torch's checks for a given output: castable dtype, and for in-place the exact broadcast shape."""
    if not isinstance(out, Tensor):
        raise TypeError(f"argument 'out' must be Tensor, not {type(out).__name__}")
    if not dt.can_cast(result_dtype, out._dtype):
        raise RuntimeError(
            f"result type {_type_name(result_dtype)} can't be cast to the desired output type {_type_name(out._dtype)}"
        )
    if inplace and out._shape != shape:
        raise RuntimeError(
            f"output with shape [{', '.join(map(str, out._shape))}] doesn't match the broadcast shape "
            f"[{', '.join(map(str, shape))}]"
        )


def resize_out(out: Tensor, shape: tuple) -> None:
    """torch resizes a wrong-shaped out= tensor (warning if it had elements)."""
    if out._shape == shape:
        return
    from engine._views import resize_

    if numel(out._shape) != 0:
        import warnings

        warnings.warn(
            "An output with one or more elements was resized since it had shape "
            f"[{', '.join(map(str, out._shape))}], which does not match the required output shape "
            f"[{', '.join(map(str, shape))}]. This behavior is deprecated, and in a future PyTorch release outputs "
            "will not be resized unless they have zero elements. You can explicitly reuse an out tensor t by "
            "resizing it, inplace, to zero elements with t.resize_(0).",
            UserWarning,
            stacklevel=4,
        )
    resize_(out, shape)


def prepare_output(out, shape, operands, result_dtype, *, inplace=False):
    """Returns (target, final): target is what the kernel writes (in result_dtype);
    final is the tensor handed back. They differ only when out= has another dtype."""
    if out is None:
        stride = elementwise_output_strides(shape, tuple((o._shape, o._stride) for o in operands))
        t = empty_tensor(shape, result_dtype, stride)
        return t, t
    check_out(out, shape, result_dtype, inplace=inplace)
    check_no_internal_overlap(out)
    if not inplace and out._shape != shape:
        resize_out(out, shape)
        # torch restrides an out= tensor it had to resize to the layout it would have allocated
        out._stride = elementwise_output_strides(shape, tuple((o._shape, o._stride) for o in operands))
        out._flat_step = flat_step(out._shape, out._stride)
    if out._dtype is result_dtype:
        return out, out
    stride = elementwise_output_strides(shape, tuple((o._shape, o._stride) for o in operands))
    return empty_tensor(shape, result_dtype, stride), out


def finish_output(target, final):
    if target is not final:
        copy_into(final, target)
    if final is not None:
        pass
    return final


def check_no_partial_overlap(out: Tensor, inputs) -> None:
    """torch's assert_no_partial_overlap: an output may be exactly an input (in-place), but may not
    share only part of its memory with one (the result would depend on the order of writes)."""
    if not numel(out._shape) or not is_non_overlapping_and_dense(out._shape, out._stride):
        return
    begin = out._addr
    end = begin + numel(out._shape) * out._dtype.itemsize
    for t in inputs:
        if t is out or not isinstance(t, Tensor) or t._storage is not out._storage or not numel(t._shape):
            continue
        if not is_non_overlapping_and_dense(t._shape, t._stride):
            continue  # torch's "too hard to tell": allowed
        t_begin = t._addr
        t_end = t_begin + numel(t._shape) * t._dtype.itemsize
        if (t_begin, t_end) == (begin, end) and t._stride == out._stride:
            continue
        if t_begin < end and begin < t_end:
            raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor "
                               "refer to a single memory location. Please clone() the tensor before performing the "
                               "operation.")


def unary(op_code: int, x: Tensor, *, compute_dtype=None, result_dtype=None, out=None, inplace=False):
    """out = op(x): x is cast to compute_dtype; result_dtype is compute_dtype or bool (predicates)."""
    compute_dtype = compute_dtype or x._dtype
    result_dtype = result_dtype or compute_dtype
    a = x if x._dtype is compute_dtype else cast(x, compute_dtype)
    if inplace:
        out = x
    # torch casts CPU inputs to the compute dtype first (`.to()`), so the cast copy's layout decides the output's
    target, final = prepare_output(out, x._shape, (a,), result_dtype, inplace=inplace)
    if out is not None:
        check_no_partial_overlap(out, (x,))
    if (is_contiguous(target._shape, target._stride) and is_contiguous(a._shape, a._stride)):
        check(lib.ft_unary_contig(op_code, result_dtype.code, compute_dtype.code, numel(a._shape), target._addr, a._addr))
    else:
        check(lib.ft_unary(op_code, result_dtype.code, compute_dtype.code, len(a._shape), a._shape,
                           target._addr, target._stride, a._addr, a._stride))
    if out is not None:
        final._bump_version()
    return finish_output(target, final)


def binary(op_code: int, a, b, *, compute_dtype=None, result_dtype=None, out=None, inplace=False,
           alpha_f=1.0, alpha_i=1):
    """out = op(a, b) with broadcasting. compute_dtype defaults to torch's result_type(a, b);
    result_dtype is compute_dtype or bool (comparisons, logical ops)."""
    if compute_dtype is None:
        compute_dtype = dt.result_type_of((a, b))
    result_dtype = result_dtype or compute_dtype
    if inplace:
        out = a
    ta = as_operand(a, compute_dtype)
    tb = as_operand(b, compute_dtype)
    shape = broadcast_pair(ta._shape, tb._shape)
    # the cast copies decide the layout, as torch casts CPU inputs before computing it (wrapped scalars don't count)
    layout_operands = tuple(t for o, t in ((a, ta), (b, tb)) if isinstance(o, Tensor)) or (ta,)
    target, final = prepare_output(out, shape, layout_operands, result_dtype, inplace=inplace)
    if out is not None:
        check_no_partial_overlap(out, (a, b))
    n = numel(shape)
    tc = is_contiguous(target._shape, target._stride)
    if tc and (ta._shape == shape and is_contiguous(shape, ta._stride) or numel(ta._shape) == 1) and \
            (tb._shape == shape and is_contiguous(shape, tb._stride) or numel(tb._shape) == 1):
        check(lib.ft_binary_contig(op_code, result_dtype.code, compute_dtype.code, n, target._addr,
                                   ta._addr, 1 if ta._shape == shape and n != 1 else 0,
                                   tb._addr, 1 if tb._shape == shape and n != 1 else 0, alpha_f, alpha_i))
    else:
        check(lib.ft_binary(op_code, result_dtype.code, compute_dtype.code, len(shape), shape,
                            target._addr, target._stride,
                            ta._addr, broadcast_strides(ta._shape, ta._stride, shape),
                            tb._addr, broadcast_strides(tb._shape, tb._stride, shape), alpha_f, alpha_i))
    if out is not None:
        final._bump_version()
    return finish_output(target, final)
