"""Sorting and selection: `torch.sort`, `argsort`, `msort`, `topk`, `kthvalue`, `median`,
`nanmedian`, `mode`, `unique`, `unique_consecutive`, `searchsorted`, `bucketize`, over the
kernels in csrc/sort.c.

torch's semantics: NaN sorts above every number; stable=True is a stable merge sort, and the
default unstable sort, topk and mode run the algorithms torch's CPU kernels run (libstdc++'s
introsort, nth_element, partial_sort; kthvalue torch's quickselect), so equal keys come out
with torch's indices; value-selecting ops return named tuples with int64 indices; median is the
lower median and propagates NaN (the first NaN's index), nanmedian skips NaNs; mode picks
the smallest of the most frequent values and the last index holding it. The derivative
rules are in engine/autograd/rules/scan_sort.py.
"""
from __future__ import annotations

import builtins

from engine import _dtype as dt
from engine import return_types
from engine._kernel import check, ffi, lib
from engine._ops.reduction import _into
from engine._ops.reduction import out_pair as _out_pair
from engine._ops.scan import _as_dtype, check_int, check_tensor, row_box
from engine._registry import ALL, FLOATING, op
from engine._shape import contiguous_strides, is_non_overlapping_and_dense, numel, wrap_dim
from engine._tensor import Tensor, empty_tensor

_NULL = ffi.NULL


def _work(dtype, length):
    size = lib.ft_sort_work_bytes(dtype.code, length)
    return empty_tensor((builtins.max(size, 1),), dt.uint8), size


def _check_bool(name, value, what):
    if not isinstance(value, builtins.bool):
        raise TypeError(f"{name}(): argument '{what}' must be bool, not {type(value).__name__}")


def sort_along(input, d, descending=False, *, values=True, layout_of_input=True, stable=True):
    """(values or None, indices) of input sorted along dim d (NaN largest); stable=False sorts as
    torch's unstable sort does (its introsort), so equal keys land where torch puts them."""
    shape = input._shape
    if layout_of_input and is_non_overlapping_and_dense(shape, input._stride):
        stride = input._stride
    else:
        stride = contiguous_strides(shape)
    value_t = empty_tensor(shape, input._dtype, stride) if values else None
    index_t = empty_tensor(shape, dt.int64, stride)
    n_outer, sizes, length, operands = row_box(shape, d, input._stride, stride, stride)
    work, work_bytes = _work(input._dtype, length)
    check(lib.ft_sort(input._dtype.code, n_outer, sizes, length, input._addr, operands[0][0], operands[0][1],
                      value_t._addr if values else 0, operands[1][0], operands[1][1],
                      index_t._addr, operands[2][0], operands[2][1], builtins.int(descending),
                      builtins.int(bool(stable)), work._addr, work_bytes))
    return value_t, index_t


class _NotGiven:
    """sort's `stable` when the caller left it out: torch then takes the sort overload without it
    (SortBackward0 rather than SortBackward1)."""

    def __bool__(self):
        return False

    def __repr__(self):
        return "False"


NOT_GIVEN = _NotGiven()


@op("sort", dtypes=ALL, method=True, family="sorting")
def sort(input, dim=-1, descending=False, stable=NOT_GIVEN, *, out=None):
    """`torch.sort`: https://pytorch.org/docs/stable/generated/torch.sort.html"""
    check_tensor("sort", input)
    dim = check_int("sort", dim, "dim", 2)
    _check_bool("sort", descending, "descending")
    if stable is not None and stable is not NOT_GIVEN:
        _check_bool("sort", stable, "stable")
    d = wrap_dim(dim, len(input._shape))
    values, indices = sort_along(input, d, descending, stable=builtins.bool(stable))
    return _out_pair(return_types.sort, values, indices, out, input._dtype)


@op("argsort", dtypes=ALL, method=True, family="sorting")
def argsort(input, dim=-1, descending=False, stable=False):
    """`torch.argsort`: https://pytorch.org/docs/stable/generated/torch.argsort.html"""
    check_tensor("argsort", input)
    dim = check_int("argsort", dim, "dim", 2)
    _check_bool("argsort", descending, "descending")
    _check_bool("argsort", stable, "stable")
    d = wrap_dim(dim, len(input._shape))
    return sort_along(input, d, descending, values=False, stable=stable)[1]


@op("msort", dtypes=ALL, method=True, family="sorting")
def msort(input, *, out=None):
    """`torch.msort`: sort along dim 0, the values only."""
    check_tensor("msort", input)
    values = sort(input, 0).values
    return _into(values, out)


@op("topk", dtypes=ALL, method=True, family="sorting")
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """`torch.topk`: https://pytorch.org/docs/stable/generated/torch.topk.html"""
    check_tensor("topk", input)
    k = check_int("topk", k, "k", 2)
    dim = check_int("topk", dim, "dim", 3)
    shape = input._shape
    d = wrap_dim(dim, len(shape))
    size = shape[d] if shape else 1
    if k < 0 or k > size:
        raise RuntimeError("selected index k out of range")
    if input._dtype is dt.bool:
        raise RuntimeError("\"topk_cpu\" not implemented for 'Bool'")
    if not shape:  # torch copies a 0-dim input whatever k is
        values, indices = input.clone(), empty_tensor((), dt.int64, zero=True)
        return _out_pair(return_types.topk, values, indices, out, input._dtype)
    out_shape = shape[:d] + (k,) + shape[d + 1:]
    values = empty_tensor(out_shape, input._dtype)
    indices = empty_tensor(out_shape, dt.int64)
    n_outer, sizes, length, operands = row_box(shape, d, input._stride, values._stride, indices._stride)
    work, work_bytes = _work(input._dtype, length)
    check(lib.ft_topk(input._dtype.code, n_outer, sizes, length, input._addr, operands[0][0], operands[0][1],
                      values._addr, operands[1][0], operands[1][1], indices._addr, operands[2][0], operands[2][1],
                      k, builtins.int(bool(largest)), builtins.int(bool(sorted)), work._addr, work_bytes))
    return _out_pair(return_types.topk, values, indices, out, input._dtype)


def _select(name, code, input, dim, keepdim, k=0):
    """One (value, index) per row along dim by ft_select; shapes as torch's reductions."""
    shape = input._shape
    d = wrap_dim(dim, len(shape))
    if shape and shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if shape:
        out_shape = shape[:d] + (1,) + shape[d + 1:] if keepdim else shape[:d] + shape[d + 1:]
        squeezed = shape[:d] + shape[d + 1:]
        out_strides = list(contiguous_strides(squeezed))
        out_strides.insert(d, 0)
    else:
        out_shape, out_strides = (), ()
    values = empty_tensor(out_shape, input._dtype)
    indices = empty_tensor(out_shape, dt.int64)
    n_outer, sizes, length, operands = row_box(shape, d, input._stride, out_strides, out_strides)
    work, work_bytes = _work(input._dtype, length)
    check(lib.ft_select(code, input._dtype.code, n_outer, sizes, length, input._addr, operands[0][0],
                        operands[0][1], values._addr, operands[1][0], indices._addr, operands[2][0], k,
                        work._addr, work_bytes))
    return values, indices


def _check_keepdim(name, keepdim):
    if not isinstance(keepdim, builtins.bool):
        raise TypeError(f"{name}(): argument 'keepdim' must be bool, not {type(keepdim).__name__}")


@op("kthvalue", dtypes=ALL - {"bool"}, method=True, family="sorting")
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """`torch.kthvalue`: https://pytorch.org/docs/stable/generated/torch.kthvalue.html"""
    check_tensor("kthvalue", input)
    k = check_int("kthvalue", k, "k", 2)
    dim = check_int("kthvalue", dim, "dim", 3)
    _check_keepdim("kthvalue", keepdim)
    shape = input._shape
    d = wrap_dim(dim, len(shape))
    if shape and shape[d] == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    size = shape[d] if shape else 1
    if k < 1 or k > size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if out is not None and isinstance(out, (tuple, list)) and out and isinstance(out[0], Tensor) and \
            out[0]._storage is input._storage:
        raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor refer "
                           "to a single memory location. Please clone() the tensor before performing the operation.")
    values, indices = _select("kthvalue", lib.FT_SELECT_KTH, input, d, keepdim, k)
    return _out_pair(return_types.kthvalue, values, indices, out, input._dtype)


def _median_like(name, code, result_type, input, dim, keepdim, out):
    check_tensor(name, input)
    _check_keepdim(name, keepdim)
    if dim is None:
        if keepdim:
            raise TypeError(f"{name}() received an invalid combination of arguments - got (keepdim=bool, )")
        if numel(input._shape) == 0:
            return _into(empty_tensor((), input._dtype).fill_(float("nan")) if input._dtype.is_floating_point
                         else _empty_median_error(name), out)
        flat = input.reshape(-1) if input._shape else input
        values, _ = _select(name, code, flat, 0, False)
        return _into(values, out)
    dim = check_int(name, dim, "dim", 2)
    values, indices = _select(name, code, input, dim, keepdim)
    return _out_pair(result_type, values, indices, out, input._dtype)


def _empty_median_error(name):
    raise RuntimeError(f"{name}() operation does not have an identity for empty input tensor")


@op("median", dtypes=ALL - {"bool"}, method=True, family="sorting")
def median(input, dim=None, keepdim=False, *, out=None):
    """`torch.median`: https://pytorch.org/docs/stable/generated/torch.median.html"""
    return _median_like("median", lib.FT_SELECT_MEDIAN, return_types.median, input, dim, keepdim, out)


@op("nanmedian", dtypes=ALL - {"bool"}, method=True, family="sorting")
def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """`torch.nanmedian`: https://pytorch.org/docs/stable/generated/torch.nanmedian.html"""
    return _median_like("nanmedian", lib.FT_SELECT_NANMEDIAN, return_types.nanmedian, input, dim, keepdim, out)


@op("mode", dtypes=ALL, method=True, family="sorting")
def mode(input, dim=-1, keepdim=False, *, out=None):
    """`torch.mode`: https://pytorch.org/docs/stable/generated/torch.mode.html"""
    check_tensor("mode", input)
    dim = check_int("mode", dim, "dim", 2)
    _check_keepdim("mode", keepdim)
    values, indices = _select("mode", lib.FT_SELECT_MODE, input, dim, keepdim)
    return _out_pair(return_types.mode, values, indices, out, input._dtype)


# ---- unique: sort (lexicographically, for dim=), then runs of equal rows ----
def _runs(rows, n_rows, row_length, dtype):
    """(group id of each row, first row of each group, count of each group) for contiguous rows in order."""
    group = empty_tensor((n_rows,), dt.int64)
    first = empty_tensor((n_rows,), dt.int64)
    counts = empty_tensor((n_rows,), dt.int64)
    n_groups = ffi.new("int64_t[1]")
    check(lib.ft_unique_runs(dtype.code, n_rows, row_length, rows._addr, group._addr, first._addr, counts._addr,
                             n_groups))
    g = n_groups[0]
    return group, first.narrow(0, 0, g), counts.narrow(0, 0, g)


def _gather_rows(rows, index):
    from engine.autograd.rules.scan_sort import gather_dim

    return gather_dim(rows, 0, index.reshape(-1, 1).expand(index._shape[0], rows._shape[1]))


def _scatter_rows(values, index, n):
    from engine.autograd.rules.scan_sort import scatter_add_dim

    return scatter_add_dim(empty_tensor((n,), dt.int64, zero=True), 0, index, values)


def _unique_impl(input, dim, do_sort, return_inverse, return_counts):
    shape = input._shape
    if dim is None:
        flat = input.reshape(-1).contiguous()
        rows = flat.reshape(-1, 1)
        out_row_shape = None
    else:
        d = wrap_dim(dim, len(shape))
        rows = input.movedim(d, 0).contiguous()
        out_row_shape = rows._shape[1:]
        rows = rows.reshape(rows._shape[0], numel(out_row_shape))
    n_rows, row_length = rows._shape
    if do_sort and n_rows > 0:
        perm = None
        # least significant column first: stable sorts leave a lexicographic order
        for column in range(row_length - 1, -1, -1):
            keys = rows.narrow(1, column, 1).reshape(-1)
            if perm is not None:
                keys = _gather_rows(keys.reshape(-1, 1), perm).reshape(-1)
            _, order = sort_along(keys, 0)
            perm = order if perm is None else _gather_rows(perm.reshape(-1, 1), order).reshape(-1)
        if perm is None:
            perm = empty_tensor((n_rows,), dt.int64)
            check(lib.ft_iota(perm._addr, n_rows))
        ordered = _gather_rows(rows, perm).contiguous()
    else:
        perm, ordered = None, rows
    group, first, counts = _runs(ordered, n_rows, row_length, rows._dtype)
    unique_rows = _gather_rows(ordered, first) if n_rows else ordered
    if dim is None:
        values = unique_rows.reshape(-1).contiguous()
        inverse_shape = shape
    else:
        # torch's result is the unique slices stacked along dim 0, moved to dim: not contiguous
        values = unique_rows.reshape((unique_rows._shape[0],) + out_row_shape).movedim(0, d)
        inverse_shape = (shape[d],)
    inverse = None
    if return_inverse:
        inverse = _scatter_rows(group, perm, n_rows) if perm is not None else group
        inverse = inverse.reshape(inverse_shape)
    return values, inverse, counts.contiguous()


def _unique_result(values, inverse, counts, return_inverse, return_counts):
    if return_inverse and return_counts:
        return values, inverse, counts
    if return_inverse:
        return values, inverse
    if return_counts:
        return values, counts
    return values


@op("unique", dtypes=ALL, method=True, family="sorting", aten=("_unique2", "unique_dim"))
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """`torch.unique`: https://pytorch.org/docs/stable/generated/torch.unique.html (always sorted, as
    torch's CPU kernel is)."""
    check_tensor("unique", input)
    if dim is not None:
        dim = check_int("unique", dim, "dim", 5)
        wrap_dim(dim, len(input._shape))
        if not input._shape:
            raise IndexError(f"Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    values, inverse, counts = _unique_impl(input, dim, True, return_inverse, return_counts)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


@op("unique_consecutive", dtypes=ALL, method=True, family="sorting")
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """`torch.unique_consecutive`: https://pytorch.org/docs/stable/generated/torch.unique_consecutive.html"""
    check_tensor("unique_consecutive", input)
    if dim is not None:
        dim = check_int("unique_consecutive", dim, "dim", 4)
    values, inverse, counts = _unique_impl(input, dim, False, return_inverse, return_counts)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


# ---- searchsorted / bucketize ----
def _shape_list(shape):
    return "[" + ", ".join(map(str, shape)) + "]"


@op("searchsorted", dtypes=ALL - {"bool"}, family="sorting")
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """`torch.searchsorted`: https://pytorch.org/docs/stable/generated/torch.searchsorted.html"""
    check_tensor("searchsorted", sorted_sequence, "sorted_sequence")
    scalar = not isinstance(input, Tensor)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    boundaries = sorted_sequence
    if scalar:
        from engine._factories import scalar_tensor

        if isinstance(input, builtins.bool) or not isinstance(input, (builtins.int, builtins.float)):
            raise TypeError(f"searchsorted(): argument 'input' must be Tensor or Number, not {type(input).__name__}")
        # torch wraps the scalar in a 0-dim tensor (int64 or float64) and then promotes with the boundaries
        values = scalar_tensor(input, dtype=dt.float64 if isinstance(input, builtins.float) else dt.int64)
    else:
        values = input
    bshape, vshape = boundaries._shape, values._shape
    if len(bshape) != 1 and (len(bshape) == 0 or bshape[:-1] != vshape[:-1] or len(bshape) != len(vshape)):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {_shape_list(bshape)} and input value tensor {_shape_list(vshape)}")
    if sorter is not None:
        if not isinstance(sorter, Tensor):
            raise TypeError(f"searchsorted(): argument 'sorter' must be Tensor, not {type(sorter).__name__}")
        if sorter._dtype is not dt.int64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{_type_label(sorter._dtype)}")
        if sorter._shape != bshape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {_shape_list(bshape)}and got sorter tensor "
                               f"{_shape_list(sorter._shape)}")
    result_dtype = dt.int32 if out_int32 else dt.int64
    if out is not None:
        if not isinstance(out, Tensor):
            raise TypeError(f"searchsorted(): argument 'out' must be Tensor, not {type(out).__name__}")
    common = dt.promote_types(boundaries._dtype, values._dtype)
    b = _as_dtype(boundaries, common).contiguous()
    v = _as_dtype(values, common).contiguous()
    s = sorter.contiguous() if sorter is not None else None
    result = empty_tensor(vshape, result_dtype)
    length = bshape[-1] if bshape else 1
    if len(bshape) <= 1:
        n_rows, per_row, b_row, v_row = 1, numel(vshape), 0, 0
    else:
        per_row = vshape[-1]
        n_rows = numel(vshape[:-1])
        b_row, v_row = length, per_row
    if numel(vshape):
        check(lib.ft_searchsorted(common.code, n_rows, length, per_row, b._addr, b_row, 1,
                                  s._addr if s is not None else 0, b_row, 1, v._addr, v_row, 1,
                                  result._addr, builtins.int(bool(out_int32)), builtins.int(bool(right))))
    return _into(result, out)


def _type_label(d):
    from engine._iter import _type_name

    return _type_name(d)


@op("bucketize", dtypes=ALL - {"bool"}, family="sorting")
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """`torch.bucketize`: https://pytorch.org/docs/stable/generated/torch.bucketize.html"""
    check_tensor("bucketize", boundaries, "boundaries")
    if len(boundaries._shape) != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({len(boundaries._shape)})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


@op("histc", dtypes=FLOATING, method=True, family="sorting")
def histc(input, bins=100, min=0, max=0, *, out=None):
    """`torch.histc`: https://pytorch.org/docs/stable/generated/torch.histc.html"""
    import math

    check_tensor("histc", input)
    bins = check_int("histc", bins, "bins", 2)
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_type_label(input._dtype)}'")
    low, high = builtins.float(min), builtins.float(max)
    if low == high and numel(input._shape) > 0:
        from engine import aminmax

        low_t, high_t = aminmax(input.detach())
        low, high = low_t.item(), high_t.item()
    if low == high:
        low, high = low - 1, high + 1
    if math.isinf(low) or math.isinf(high) or math.isnan(low) or math.isnan(high):
        raise RuntimeError(f"torch.histc: range of [{_c_float(low)}, {_c_float(high)}] is not finite")
    if not low < high:
        raise RuntimeError("torch.histc: max must be larger than min")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    x = input.contiguous()
    hist = empty_tensor((bins,), input._dtype, zero=True)
    check(lib.ft_histc(input._dtype.code, numel(x._shape), x._addr, bins, low, high, hist._addr))
    return _into(hist, out)


def _c_float(value):
    """A double as C++'s ostream prints it in torch's messages (nan prints as -nan from aminmax)."""
    if value != value:
        return "-nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return f"{value:g}"
