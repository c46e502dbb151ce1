"""The indexing family: index_select, index_add/copy/fill/put/reduce, gather,
scatter (src, value, reduce=), scatter_add, scatter_reduce, masked_fill,
masked_select, masked_scatter, take, take_along_dim, put, nonzero, argwhere,
and their in-place Tensor methods, over ft_index / ft_nonzero (csrc/index.c).

Every op reduces to one strided walk (`_walk`): a box of sizes, the iterated
tensor `a`, the indexed tensor `b` whose indexed dim has stride 0 in the box,
and index tensors whose values, times b's stride of that dim, pick the element.
The kernel checks all indices before it writes and raises torch's error for
the op (IndexError or RuntimeError, its message). Out-of-place forms clone
self then run the in-place form, as torch does. Derivative rules are in
engine/autograd/rules/indexing.py.
"""
from __future__ import annotations

import builtins
import warnings

from engine import _dtype as dt
from engine._indexing import (
    _dtype_title, _shape_str, index_put_view, index_view, indices_by_dim, nonzero_coords,
)
from engine._iter import scalar_tensor
from engine._kernel import check, lib
from engine._registry import ALL, _install_public as _registry_install_public, op, tensor_method
from engine._shape import broadcast_shapes, broadcast_strides, contiguous_strides, wrap_dim
from engine._tensor import Tensor, copy_into, empty_tensor, view_of

_MISSING = object()

# torch's C++ type names in a few messages ("but got mask with dtype long int")
_CPP_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int",
              "int32": "int", "int64": "long int", "float32": "float", "float64": "double"}


def _walk(mode, box, a, a_strides, b, b_strides, index, index_strides, index_size, index_b_stride, err_kind,
          err_dim, allow_negative):
    ndim = len(box)
    check(lib.ft_index(mode, b._dtype.code, ndim, box, a._addr, a_strides, b._addr, b_strides,
                       1, [index._addr], [index._dtype.code], index_strides, [index_size], [index_b_stride],
                       [err_dim], 1 if allow_negative else 0, err_kind))


def _clone(x: Tensor) -> Tensor:
    """A contiguous copy (torch's clone for the out-of-place forms of these ops)."""
    out = empty_tensor(x._shape, x._dtype)
    copy_into(out, x)
    return out


def _clone_preserve(x: Tensor) -> Tensor:
    from engine._shape import preserve_format_strides

    out = empty_tensor(x._shape, x._dtype, preserve_format_strides(x._shape, x._stride))
    copy_into(out, x)
    return out


def _require_tensor(name, arg, position, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not {type(value).__name__}")


def _dim_arg(name, dim):
    if isinstance(dim, builtins.bool) or not isinstance(dim, builtins.int):
        raise TypeError(f"{name}(): argument 'dim' (position 2) must be int, not {type(dim).__name__}")
    return dim


def _scalar_value(name, value, dtype, what="value"):
    """A 0-dim tensor of dtype holding a scalar or a 0-dim tensor value."""
    if isinstance(value, Tensor):
        if value._shape:
            raise RuntimeError(f"{name} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{len(value._shape)} dimension(s).")
        out = empty_tensor((), dtype)
        copy_into(out, value)
        return out
    if isinstance(value, complex):
        raise RuntimeError(f"value cannot be converted to type {_CPP_NAMES[dtype.name]} without overflow")
    from engine._ops._elementwise import check_scalar_fits

    check_scalar_fits(value, dtype)
    return scalar_tensor(value, dtype)


def _finish_inplace(self):
    self._bump_version()
    return self


# ---- index_select ----
def _index_vector_box(self, d, index):
    """(box, b strides, index strides) walking self with dim d replaced by the index's elements."""
    n = index.numel()
    shape = list(self._shape)
    strides = list(self._stride)
    if not shape:
        return (), (), ()
    shape[d] = n
    strides[d] = 0
    istr = [0] * len(shape)
    istr[d] = index._stride[0] if index._shape else 0
    return tuple(shape), tuple(strides), tuple(istr)


@op("index_select", dtypes=ALL, method=True, family="indexing")
def index_select(input, dim, index, *, out=None):
    """`torch.index_select`: https://pytorch.org/docs/stable/generated/torch.index_select.html"""
    _require_tensor("index_select", "input", 1, input)
    _require_tensor("index_select", "index", 3, index)
    if index._dtype not in (dt.int64, dt.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if len(index._shape) > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = wrap_dim(_dim_arg("index_select", dim), len(input._shape))
    if not input._shape and index.numel() != 1:
        raise IndexError("index_select(): Index to scalar can have only 1 value, got "
                         f"{index.numel()} value(s)")
    box, b_strides, istr = _index_vector_box(input, d, index)
    result = empty_tensor(box, input._dtype)
    size = input._shape[d] if input._shape else 1
    bstride = input._stride[d] if input._shape else 0
    _walk(lib.FT_INDEX_GATHER, box, result, result._stride, input, b_strides, index, istr, size, bstride,
          lib.FT_INDEX_ERR_SELECT, d, False)
    return _into(result, out, (input, index))


def _into(result, out, inputs=()):
    if out is None:
        return result
    _check_out_overlap(out, inputs)
    if out._dtype is not result._dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {result._dtype.name}, but got {out._dtype.name} instead")
    from engine._iter import resize_out

    resize_out(out, result._shape)
    copy_into(out, result)
    out._bump_version()
    return out


def _check_out_overlap(out, inputs):
    """torch's assert_no_internal_overlap(out) and assert_no_overlap(out, input) for out= forms."""
    from engine._shape import is_non_overlapping_and_dense, numel
    from engine._tensor import check_no_internal_overlap

    check_no_internal_overlap(out)
    if not numel(out._shape) or not is_non_overlapping_and_dense(out._shape, out._stride):
        return
    begin = out._addr
    end = begin + numel(out._shape) * out._dtype.itemsize
    for t in inputs:
        if not isinstance(t, Tensor) or t._storage is not out._storage or not numel(t._shape):
            continue
        if not is_non_overlapping_and_dense(t._shape, t._stride):
            continue
        t_begin = t._addr
        t_end = t_begin + numel(t._shape) * t._dtype.itemsize
        if t_begin < end and begin < t_end:
            raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor "
                               "refer to a single memory location. Please clone() the tensor before performing the "
                               "operation.")


# ---- index_add / index_copy / index_fill ----
def _check_vector_index(name, index):
    if index._dtype not in (dt.int64, dt.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: {_dtype_title(index._dtype)}")
    if len(index._shape) > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")


def _check_index_func(name, self, d, index, source):
    """torch's index_func_meta_impl (index_add, index_reduce), after the index and dtype checks."""
    sdim = len(source._shape)
    n = index.numel()
    if not (d == 0 or d < sdim):
        raise RuntimeError(f"{name}_(): Indexing dim {d} is out of bounds of the source tensor with dim {sdim}")
    source_n = source._shape[d] if sdim else 1
    if n != source_n:
        raise RuntimeError(f"{name}_(): Number of indices ({n}) should be equal to source.size(dim): ({source_n}), "
                         f"for dim: {d}")
    self_rest, source_rest = list(self._shape), list(source._shape)
    if self._shape and source._shape:
        del self_rest[d], source_rest[d]
    if self_rest != source_rest:
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the specified dimension. Got "
                           f"self.shape = {_shape_str(self._shape)} source.shape = {_shape_str(source._shape)}")


def _check_index_copy(self, d, index, source):
    n = index.numel()
    if self._shape and source._shape:
        if len(self._shape) != len(source._shape):
            raise IndexError("index_copy_(): When source and destination are not scalars, their dimensionality must "
                             f"match. Source dimensionality ({len(source._shape)}), destination dimensionality "
                             f"({len(self._shape)})")
        self_rest = [s for k, s in enumerate(self._shape) if k != d]
        source_rest = [s for k, s in enumerate(source._shape) if k != d]
        for k, (a, b) in enumerate(zip(self_rest, source_rest)):
            if a != b:
                raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. "
                                   f"Destination slice shape: {a} at dimension {k} and source slice shape: {b} at "
                                   f"dimension {k}.")
    source_n = source._shape[d] if source._shape else 1
    if n != source_n:
        raise IndexError(f"index_copy_(): Number of indices ({n}) should be equal to source.size(dim) ({source_n})")


def _index_write(mode, self, d, index, source, err_kind, allow_negative):
    """self[..., index[i], ...] (op)= source[..., i, ...] along dim d."""
    if self._shape and source._shape:
        box = source._shape
        b_strides = list(self._stride)
        b_strides[d] = 0
        istr = [0] * len(box)
        istr[d] = index._stride[0] if index._shape else 0
        a_strides = source._stride
    else:
        box = (index.numel(),) if index.numel() != 1 else ()
        box = ()
        b_strides, istr, a_strides = (), (), ()
        if self._shape:  # self n-dim, source 0-dim: a one-element slice (self must then be 1-dim)
            box = (1,) * len(self._shape)
            b_strides = tuple(0 if k == d else s for k, s in enumerate(self._stride))
            istr = (0,) * len(box)
            a_strides = (0,) * len(box)
    size = self._shape[d] if self._shape else 1
    bstride = self._stride[d] if self._shape else 0
    _walk(mode, box, source, tuple(a_strides), self, tuple(b_strides), index, tuple(istr), size, bstride, err_kind,
          d, allow_negative)


def index_add_(self, dim, index, source, *, alpha=1):
    _require_tensor("index_add_", "index", 2, index)
    _require_tensor("index_add_", "source", 3, source)
    d = wrap_dim(_dim_arg("index_add_", dim), len(self._shape))
    _check_vector_index("index_add_", index)
    if source._dtype is not self._dtype:
        raise RuntimeError(f"index_add_(): self ({_dtype_title(self._dtype)}) and source "
                           f"({_dtype_title(source._dtype)}) must have the same scalar type")
    _check_index_func("index_add", self, d, index, source)
    if alpha != 1:
        import engine

        source = engine.mul(source, alpha)
        if source._dtype is not self._dtype:
            source = source.to(self._dtype)
    from engine._tensor import check_no_internal_overlap

    check_no_internal_overlap(self)
    _index_write(lib.FT_INDEX_ADD, self, d, index, source, lib.FT_INDEX_ERR_RUNTIME, False)
    return _finish_inplace(self)


@op("index_add", dtypes=ALL, method=True, inplace=True, family="indexing")
def index_add(input, dim, index, source, *, alpha=1, out=None):
    """`torch.index_add`: https://pytorch.org/docs/stable/generated/torch.index_add.html"""
    _require_tensor("index_add", "input", 1, input)
    return _into(index_add_(_clone(input), dim, index, source, alpha=alpha), out)


def index_copy_(self, dim, index, source):
    _require_tensor("index_copy_", "index", 2, index)
    _require_tensor("index_copy_", "source", 3, source)
    d = wrap_dim(_dim_arg("index_copy_", dim), len(self._shape))
    if len(index._shape) > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {len(index._shape)})")
    if index._dtype is not dt.int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {_dtype_title(index._dtype)}")
    if source._dtype is not self._dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_dtype_title(self._dtype)} and (source) {_dtype_title(source._dtype)}")
    _check_index_copy(self, d, index, source)
    _index_write(lib.FT_INDEX_ASSIGN, self, d, index, source, lib.FT_INDEX_ERR_COPY, False)
    return _finish_inplace(self)


@op("index_copy", dtypes=ALL, method=True, inplace=True, family="indexing")
def index_copy(input, dim, index, source):
    """`torch.index_copy`: https://pytorch.org/docs/stable/generated/torch.index_copy.html"""
    _require_tensor("index_copy", "input", 1, input)
    return index_copy_(_clone(input), dim, index, source)


def index_fill_(self, dim, index, value):
    _require_tensor("index_fill_", "index", 2, index)
    d = wrap_dim(_dim_arg("index_fill_", dim), len(self._shape))
    if index._dtype is not dt.int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if len(index._shape) > 1:
        raise IndexError("index_fill_(): Index is supposed to be a vector")
    v = _scalar_value("index_fill_", value, self._dtype)
    box, b_strides, istr = _index_vector_box(self, d, index)
    if not self._shape and index.numel() != 1:
        box = (index.numel(),)
        b_strides, istr = (0,), ((index._stride[0] if index._shape else 0),)
    size = self._shape[d] if self._shape else 1
    bstride = self._stride[d] if self._shape else 0
    _walk(lib.FT_INDEX_ASSIGN, box, v, (0,) * len(box), self, b_strides, index, istr, size, bstride,
          lib.FT_INDEX_ERR_INDEX, d, True)
    return _finish_inplace(self)


@op("index_fill", dtypes=ALL, method=True, inplace=True, family="indexing")
def index_fill(input, dim, index, value):
    """`torch.index_fill`: https://pytorch.org/docs/stable/generated/torch.index_fill.html"""
    _require_tensor("index_fill", "input", 1, input)
    return index_fill_(_clone_preserve(input), dim, index, value)


# ---- index_put ----
def _reject_none(indices, argument):
    if isinstance(indices, (tuple, list)):
        for k, t in enumerate(indices):
            if not isinstance(t, Tensor):
                raise TypeError(f"expected Tensor as element {k} in argument {argument}, but got {type(t).__name__}")


def index_put_(self, indices, values, accumulate=False):
    _reject_none(indices, 0)
    return _index_put_impl_(self, indices, values, accumulate)


def _index_put_impl_(self, indices, values, accumulate=False):
    """index_put_ whose indices may hold None (a dim not indexed), as aten's takes them."""
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"index_put_(): argument 'indices' (position 1) must be tuple of Tensors, not "
                        f"{type(indices).__name__}")
    _require_tensor("index_put_", "values", 2, values)
    if values._dtype is not self._dtype:
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{_dtype_title(self._dtype)} for the destination and {_dtype_title(values._dtype)} for "
                           "the source.")
    expanded = indices_by_dim(self, indices)
    if all(i is None for i in expanded):
        # no index at all: torch copies (or adds) values into self
        from engine._tensor import check_no_internal_overlap

        check_no_internal_overlap(self)
        if accumulate:
            import engine

            copy_into(self, engine.add(self, values))
        else:
            copy_into(self, values)
        return _finish_inplace(self)
    index_put_view(self, expanded, values, builtins.bool(accumulate))
    return _finish_inplace(self)


@op("index_put", dtypes=ALL, method=True, inplace=True, family="indexing")
def index_put(input, indices, values, accumulate=False):
    """`torch.index_put`: https://pytorch.org/docs/stable/generated/torch.index_put.html"""
    _require_tensor("index_put", "input", 1, input)
    _reject_none(indices, 1)
    return index_put_(_clone_preserve(input), indices, values, accumulate)


# ---- gather / scatter ----
def _check_gather_shapes(name, self, d, index, src=None):
    ndim = len(self._shape)
    if len(index._shape) != ndim and not (ndim <= 1 and len(index._shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as "
                           f"{'input' if name == 'gather' else 'self'} tensor")
    if index.numel() == 0:
        return
    if name == "gather":
        for k in range(len(index._shape)):
            if k != d and index._shape[k] > (self._shape[k] if self._shape else 1):
                raise RuntimeError(f"Size does not match at dimension {k} expected index {_shape_str(index._shape)} "
                                   f"to be no larger than self {_shape_str(self._shape)} apart from dimension {d}")
        return
    if src is not None and len(src._shape) != len(index._shape) and not (len(src._shape) <= 1 and len(index._shape) <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for k in range(len(index._shape)):
        too_big_self = k != d and index._shape[k] > (self._shape[k] if self._shape else 1)
        too_big_src = src is not None and index._shape[k] > (src._shape[k] if src._shape else 1)
        if too_big_self or too_big_src:
            if src is None:
                raise RuntimeError(f"Expected index {_shape_str(index._shape)} to be no larger than self "
                                   f"{_shape_str(self._shape)} apart from dimension {d}")
            raise RuntimeError(f"Expected index {_shape_str(index._shape)} to be no larger than self "
                               f"{_shape_str(self._shape)} apart from dimension {d} and to be no larger size than src "
                               f"{_shape_str(src._shape)}")


def _box_of(t, n):
    """t's strides over an n-dim box (a 0-dim tensor standing for a 1-element 1-dim one)."""
    if len(t._shape) == n:
        return t._stride
    return (0,) * n


def _gather_into(mode, self, d, index, a, a_strides, err_kind=None):
    """The scatter/gather walk over index's shape: b = self with dim d chosen by index."""
    box = index._shape
    n = len(box)
    b_strides = tuple(0 if k == d else s for k, s in enumerate(_box_of(self, n)))
    size = self._shape[d] if self._shape else 1
    bstride = self._stride[d] if self._shape else 0
    _walk(mode, box, a, a_strides, self, b_strides, index, index._stride, size, bstride,
          lib.FT_INDEX_ERR_RUNTIME if err_kind is None else err_kind, d, False)


@op("gather", dtypes=ALL, method=True, family="indexing")
def gather(input, dim, index, *, sparse_grad=False, out=None):
    """`torch.gather`: https://pytorch.org/docs/stable/generated/torch.gather.html"""
    _require_tensor("gather", "input", 1, input)
    _require_tensor("gather", "index", 3, index)
    d = wrap_dim(_dim_arg("gather", dim), len(input._shape))
    if index.numel() == 0:  # torch checks nothing for an empty index
        return _into(empty_tensor(index._shape, input._dtype), out)
    if index._dtype not in (dt.int64, dt.int32):
        raise RuntimeError("gather(): Expected dtype int32/int64 for index")
    _check_gather_shapes("gather", input, d, index)
    result = empty_tensor(index._shape, input._dtype)
    if result.numel():
        _gather_into(lib.FT_INDEX_GATHER, input, d, index, result, result._stride)
    return _into(result, out, (input, index))


_SCATTER_REDUCE_MODES = {"sum": lib.FT_INDEX_ADD, "prod": lib.FT_INDEX_MUL, "mean": lib.FT_INDEX_ADD,
                         "amax": lib.FT_INDEX_MAX, "amin": lib.FT_INDEX_MIN}


def _scatter_checks(name, self, dim, index, src):
    d = wrap_dim(_dim_arg(name, dim), len(self._shape))
    if index.numel() and index._dtype not in (dt.int64, dt.int32):
        raise RuntimeError("scatter(): Expected dtype int32/int64 for index")
    if src is not None and src._dtype is not self._dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    if index.numel() == 0:
        return d
    _check_gather_shapes(name, self, d, index, src)
    return d


def _scatter_impl(self, dim, index, src, value, reduce, name="scatter"):
    _require_tensor(name, "index", 2, index)
    d = _scatter_checks(name, self, dim, index, src)
    mode = lib.FT_INDEX_ASSIGN
    if reduce is not None:
        if reduce == "add":
            mode = lib.FT_INDEX_ADD
        elif reduce == "multiply":
            mode = lib.FT_INDEX_MUL
        else:
            raise RuntimeError("reduce argument must be either add or multiply.")
    if index.numel() == 0:
        return _finish_inplace(self)
    from engine._tensor import check_no_internal_overlap

    check_no_internal_overlap(self)
    if src is not None:
        a, a_strides = src, _box_of(src, len(index._shape))
    else:
        a = _scalar_value(name, value, self._dtype)
        a_strides = (0,) * len(index._shape)
    _gather_into(mode, self, d, index, a, a_strides)
    return _finish_inplace(self)


def scatter_(self, dim, index, src=_MISSING, value=_MISSING, *, reduce=None):
    if src is _MISSING and value is _MISSING:
        raise TypeError("scatter_() missing required argument 'src' or 'value'")
    if src is _MISSING:
        src = value
    if isinstance(src, Tensor):
        if reduce is not None:
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated and will be removed in "
                          "a future PyTorch release. Use torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=3)
        return _scatter_impl(self, dim, index, src, None, reduce)
    return _scatter_impl(self, dim, index, None, src, reduce)


@op("scatter", dtypes=ALL, method=True, inplace=True, family="indexing")
def scatter(input, dim, index, src=_MISSING, value=_MISSING, *, reduce=None, out=None):
    """`torch.scatter`: https://pytorch.org/docs/stable/generated/torch.scatter.html"""
    _require_tensor("scatter", "input", 1, input)
    return _into(scatter_(_clone(input), dim, index, src, value, reduce=reduce), out)


def scatter_add_(self, dim, index, src):
    _require_tensor("scatter_add_", "index", 2, index)
    _require_tensor("scatter_add_", "src", 3, src)
    d = _scatter_checks("scatter_add", self, dim, index, src)
    if index.numel():
        from engine._tensor import check_no_internal_overlap

        check_no_internal_overlap(self)
        _gather_into(lib.FT_INDEX_ADD, self, d, index, src, _box_of(src, len(index._shape)))
    return _finish_inplace(self)


@op("scatter_add", dtypes=ALL, method=True, inplace=True, family="indexing")
def scatter_add(input, dim, index, src, *, out=None):
    """`torch.scatter_add`: https://pytorch.org/docs/stable/generated/torch.scatter_add.html"""
    _require_tensor("scatter_add", "input", 1, input)
    return _into(scatter_add_(_clone(input), dim, index, src), out)


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.is_floating_point:
        return float("-inf") if reduce == "amax" else float("inf")
    if dtype is dt.bool:
        return reduce != "amax"
    info = dt.iinfo(dtype) if hasattr(dt, "iinfo") else None
    bits = dtype.itemsize * 8
    if dtype is dt.uint8:
        lo, hi = 0, 255
    elif info is not None:
        lo, hi = info.min, info.max
    else:
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return lo if reduce == "amax" else hi


def _reduce_with_counts(self, d, index, src, reduce, include_self, walk):
    """torch's scatter_reduce_two / index_reduce: identity-fill the written places unless
    include_self, reduce, then divide by the counts for mean."""
    if not include_self:
        walk(lib.FT_INDEX_ASSIGN, scalar_tensor(_identity(reduce, self._dtype), self._dtype), zero_strides=True)
    walk(_SCATTER_REDUCE_MODES[reduce], src, zero_strides=False)
    if reduce == "mean":
        import engine

        counts = engine.ones(self._shape, dtype=self._dtype) if include_self else engine.zeros(self._shape,
                                                                                              dtype=self._dtype)
        walk(lib.FT_INDEX_ADD, scalar_tensor(1, self._dtype), zero_strides=True, target=counts)
        counts = engine.where(counts == 0, scalar_tensor(1, self._dtype), counts)
        if self._dtype.is_floating_point:
            result = engine.div(self, counts)
        else:
            result = engine.div(self, counts, rounding_mode="floor")
        copy_into(self, result)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    _require_tensor("scatter_reduce_", "index", 2, index)
    _require_tensor("scatter_reduce_", "src", 3, src)
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch still takes the old names
    if reduce not in _SCATTER_REDUCE_MODES:
        raise RuntimeError("reduce argument must be either sum, prod, mean, amax or amin, got " + str(reduce))
    d = _scatter_checks("scatter_reduce", self, dim, index, src)
    if reduce == "mean" and self._dtype is dt.bool:
        raise NotImplementedError("\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'")
    if index.numel() == 0:
        return _finish_inplace(self)
    from engine._tensor import check_no_internal_overlap

    check_no_internal_overlap(self)
    n = len(index._shape)

    def walk(mode, a, zero_strides, target=None):
        _gather_into(mode, self if target is None else target, d, index, a,
                     (0,) * n if zero_strides else _box_of(a, n))

    _reduce_with_counts(self, d, index, src, reduce, include_self, walk)
    return _finish_inplace(self)


@op("scatter_reduce", dtypes=ALL, method=True, inplace=True, family="indexing")
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    """`torch.scatter_reduce`: https://pytorch.org/docs/stable/generated/torch.scatter_reduce.html"""
    _require_tensor("scatter_reduce", "input", 1, input)
    return _into(scatter_reduce_(_clone(input), dim, index, src, reduce, include_self=include_self), out)


def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    warnings.warn("index_reduce() is in beta and the API may change at any time.", UserWarning, stacklevel=2)
    _require_tensor("index_reduce_", "index", 2, index)
    _require_tensor("index_reduce_", "source", 3, source)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    d = wrap_dim(_dim_arg("index_reduce_", dim), len(self._shape))
    _check_vector_index("index_reduce_", index)
    if source._dtype is not self._dtype:
        raise RuntimeError(f"index_reduce_(): self ({_dtype_title(self._dtype)}) and source "
                           f"({_dtype_title(source._dtype)}) must have the same scalar type")
    _check_index_func("index_reduce", self, d, index, source)

    def walk(mode, a, zero_strides, target=None):
        src = a
        if zero_strides:
            src = view_of(a, source._shape, (0,) * len(source._shape), a._offset) if source._shape else a
        _index_write(mode, self if target is None else target, d, index, src, lib.FT_INDEX_ERR_RUNTIME, False)

    _reduce_with_counts(self, d, index, source, reduce, include_self, walk)
    return _finish_inplace(self)


@op("index_reduce", dtypes=ALL, method=True, inplace=True, family="indexing")
def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """`torch.index_reduce`: https://pytorch.org/docs/stable/generated/torch.index_reduce.html"""
    _require_tensor("index_reduce", "input", 1, input)
    return _into(index_reduce_(_clone(input), dim, index, source, reduce, include_self=include_self), out)


# ---- masked ----
def _check_mask(name, mask):
    if mask._dtype is not dt.bool:
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype {_CPP_NAMES[mask._dtype.name]}")


def masked_fill_(self, mask, value):
    _require_tensor("masked_fill_", "mask", 1, mask)
    _check_mask("masked_fill_", mask)
    v = _scalar_value("masked_fill_", value, self._dtype)
    shape = broadcast_shapes(self._shape, mask._shape)
    if shape != self._shape:
        raise RuntimeError(f"output with shape {_shape_str(self._shape)} doesn't match the broadcast shape "
                           f"{_shape_str(shape)}")
    from engine._tensor import check_no_internal_overlap

    check_no_internal_overlap(self)
    n = len(shape)
    check(lib.ft_where(self._dtype.code, n, shape, self._addr, self._stride,
                       mask._addr, broadcast_strides(mask._shape, mask._stride, shape),
                       v._addr, (0,) * n, self._addr, self._stride))
    return _finish_inplace(self)


@op("masked_fill", dtypes=ALL, method=True, inplace=True, family="indexing")
def masked_fill(input, mask, value):
    """`torch.masked_fill`: https://pytorch.org/docs/stable/generated/torch.masked_fill.html"""
    _require_tensor("masked_fill", "input", 1, input)
    _require_tensor("masked_fill", "mask", 2, mask)
    _check_mask("masked_fill_", mask)
    shape = broadcast_shapes(input._shape, mask._shape)
    result = empty_tensor(shape, input._dtype)
    copy_into(result, input)
    return masked_fill_(result, mask, value)


@op("masked_select", dtypes=ALL, method=True, family="indexing")
def masked_select(input, mask, *, out=None):
    """`torch.masked_select`: https://pytorch.org/docs/stable/generated/torch.masked_select.html"""
    _require_tensor("masked_select", "input", 1, input)
    _require_tensor("masked_select", "mask", 2, mask)
    if mask._dtype is not dt.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shapes(input._shape, mask._shape)
    x = view_of(input, shape, broadcast_strides(input._shape, input._stride, shape), input._offset)
    m = view_of(mask, shape, broadcast_strides(mask._shape, mask._stride, shape), mask._offset)
    if not shape:
        x = view_of(x, (1,), (0,), x._offset)
        m = view_of(m, (1,), (0,), m._offset)
    coords = nonzero_coords(m)
    indices = [view_of(coords, (coords._shape[0],), (coords._stride[0],), coords._offset + j * coords._stride[1])
               for j in range(len(m._shape))]
    result = index_view(x, indices)
    result = _clone(result) if result._stride != contiguous_strides(result._shape) else result
    return _into(result, out, (input, mask))


def masked_scatter_(self, mask, source):
    _require_tensor("masked_scatter_", "mask", 1, mask)
    _require_tensor("masked_scatter_", "source", 2, source)
    if mask._dtype is not dt.bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_CPP_NAMES[mask._dtype.name]}")
    if source._dtype is not self._dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got "
                           f"{_dtype_title(self._dtype)} and {_dtype_title(source._dtype)}")
    shape = broadcast_shapes(self._shape, mask._shape)
    if shape != self._shape:
        raise RuntimeError(f"output with shape {_shape_str(self._shape)} doesn't match the broadcast shape "
                           f"{_shape_str(shape)}")
    m = view_of(mask, shape, broadcast_strides(mask._shape, mask._stride, shape), mask._offset)
    target = self
    if not shape:
        m = view_of(m, (1,), (0,), m._offset)
        target = view_of(self, (1,), (0,), self._offset)
    coords = nonzero_coords(m)
    count = coords._shape[0]
    if source.numel() < count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if count:
        flat = _clone(source) if source._stride != contiguous_strides(source._shape) else source
        values = view_of(flat, (count,), (1,), flat._offset)
        indices = [view_of(coords, (count,), (coords._stride[0],), coords._offset + j * coords._stride[1])
                   for j in range(len(m._shape))]
        index_put_view(target, indices, values, False)
    return _finish_inplace(self)


@op("masked_scatter", dtypes=ALL, method=True, inplace=True, family="indexing")
def masked_scatter(input, mask, source):
    """`torch.masked_scatter`: https://pytorch.org/docs/stable/generated/torch.masked_scatter.html"""
    _require_tensor("masked_scatter", "input", 1, input)
    _require_tensor("masked_scatter", "mask", 2, mask)
    if mask._dtype is not dt.bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                           f"{_CPP_NAMES[mask._dtype.name]}")
    shape = broadcast_shapes(input._shape, mask._shape)
    result = empty_tensor(shape, input._dtype)
    copy_into(result, input)
    return masked_scatter_(result, mask, source)


# ---- take / put / take_along_dim ----
def _flat(x):
    """x as a contiguous 1-dim tensor (a view when it already is contiguous)."""
    if x._stride != contiguous_strides(x._shape):
        x = _clone(x)
    return view_of(x, (x.numel(),), (1,), x._offset)


@op("take", dtypes=ALL, method=True, family="indexing")
def take(input, index, *, out=None):
    """`torch.take`: https://pytorch.org/docs/stable/generated/torch.take.html"""
    _require_tensor("take", "input", 1, input)
    _require_tensor("take", "index", 2, index)
    if index._dtype is not dt.int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {_dtype_title(index._dtype)}")
    result = empty_tensor(index._shape, input._dtype)
    if result.numel():
        n = input.numel()
        if n == 0:
            raise IndexError("take(): tried to take from an empty tensor")
        flat = _flat(input)
        box = index._shape
        _walk(lib.FT_INDEX_GATHER, box, result, result._stride, flat, (0,) * len(box), index, index._stride, n, 1,
              lib.FT_INDEX_ERR_TAKE, 0, True)
    return _into(result, out, (input, index))


def put_(self, index, source, accumulate=False):
    _require_tensor("put_", "index", 1, index)
    _require_tensor("put_", "source", 2, source)
    if index._dtype is not dt.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {_dtype_title(index._dtype)}")
    if source._dtype is not self._dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{_dtype_title(self._dtype)} and source.dtype = {_dtype_title(source._dtype)}")
    if source.numel() != index.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source.numel()}, index.numel() = {index.numel()}")
    if index.numel() == 0:
        return _finish_inplace(self)
    n = self.numel()
    if n == 0:
        raise IndexError("put_(): Tried to put elements into an empty tensor")
    contiguous = self._stride == contiguous_strides(self._shape)
    target = view_of(self, (n,), (1,), self._offset) if contiguous else _flat(self)
    idx = _flat(index)
    src = _flat(source)
    box = (idx._shape[0],)
    _walk(lib.FT_INDEX_ADD if accumulate else lib.FT_INDEX_ASSIGN, box, src, (1,), target, (0,), idx, (1,), n, 1,
          lib.FT_INDEX_ERR_TAKE, 0, True)
    if not contiguous:
        copy_into(self, view_of(target, self._shape, contiguous_strides(self._shape), target._offset))
    return _finish_inplace(self)


@op("put", dtypes=ALL, method=True, inplace=True, family="indexing")
def put(input, index, source, accumulate=False):
    """`torch.put`: https://pytorch.org/docs/stable/generated/torch.put.html"""
    _require_tensor("put", "input", 1, input)
    return put_(_clone_preserve(input), index, source, accumulate)


@op("take_along_dim", dtypes=ALL, method=True, family="indexing")
def take_along_dim(input, indices, dim=None, *, out=None):
    """`torch.take_along_dim`: https://pytorch.org/docs/stable/generated/torch.take_along_dim.html"""
    _require_tensor("take_along_dim", "input", 1, input)
    _require_tensor("take_along_dim", "indices", 2, indices)
    if dim is None:
        return _into(gather(input.view(-1), 0, indices.view(-1)), out)
    if indices._dtype is not dt.int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{_dtype_title(indices._dtype)}")
    if len(input._shape) != len(indices._shape):
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {len(input._shape)} dimensions for input, and {len(indices._shape)} dimensions "
                           "for indices")
    d = wrap_dim(dim, len(input._shape))
    sizes = list(input._shape)
    sizes[d] = indices._shape[d]
    shape = broadcast_shapes(tuple(sizes), indices._shape)
    idx = indices.broadcast_to(shape)
    sizes = list(shape)
    sizes[d] = input._shape[d]
    x = input.broadcast_to(tuple(sizes))
    if x._shape[d]:
        import engine

        idx = engine.remainder(idx, x._shape[d])  # take_along_dim wraps negative indices
    return _into(gather(x, d, idx), out)


# ---- nonzero / argwhere ----
@op("nonzero", dtypes=ALL, method=True, family="indexing")
def nonzero(input, *, out=None, as_tuple=False):
    """`torch.nonzero`: https://pytorch.org/docs/stable/generated/torch.nonzero.html"""
    _require_tensor("nonzero", "input", 1, input)
    if as_tuple:
        x = input if input._shape else view_of(input, (1,), (0,), input._offset)
        coords = nonzero_coords(x)
        n = coords._shape[0]
        return tuple(view_of(coords, (n,), (1,), coords._offset + j * n) for j in range(len(x._shape)))
    return _into(nonzero_coords(input), out)


@op("nonzero_static", dtypes=ALL, method=True, family="indexing")
def nonzero_static(input, *, size, fill_value=-1):
    """`torch.nonzero_static`: nonzero's first `size` rows, padded with fill_value."""
    _require_tensor("nonzero_static", "input", 1, input)
    if isinstance(size, builtins.bool) or not isinstance(size, builtins.int):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not {type(size).__name__}")
    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, but got size = {size}")
    from engine._iter import fill

    coords = nonzero_coords(input)
    ndim = len(input._shape)
    result = empty_tensor((size, ndim), dt.int64)
    fill(result, fill_value)
    n = min(size, coords._shape[0])
    if n and ndim:
        copy_into(view_of(result, (n, ndim), result._stride, result._offset),
                  view_of(coords, (n, ndim), coords._stride, coords._offset))
    return result


@op("argwhere", dtypes=ALL, method=True, family="indexing")
def argwhere(input):
    """`torch.argwhere`: https://pytorch.org/docs/stable/generated/torch.argwhere.html"""
    _require_tensor("argwhere", "input", 1, input)
    return nonzero_coords(input)


# ---- the in-place methods ----
for _fn in (index_add_, index_copy_, index_fill_, index_put_, _index_put_impl_, scatter_, scatter_add_, scatter_reduce_,
            index_reduce_, masked_fill_, masked_scatter_, put_):
    _fn.__doc__ = _fn.__doc__ or f"`Tensor.{_fn.__name__}`: the in-place form of torch.{_fn.__name__[:-1]}."
    globals()[_fn.__name__] = tensor_method(_fn.__name__)(_fn)
del _fn
_registry_install_public("index_put_", index_put_)  # torch.index_put_ is public too
