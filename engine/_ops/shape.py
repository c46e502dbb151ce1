"""Shape and join ops: cat/stack and their h/v/d/column forms, split/chunk/unbind
(views), flip/roll/rot90, repeat/tile/repeat_interleave, tril/triu, diag and
diag_embed, the *_scatter ops, meshgrid, atleast_Nd, broadcast_tensors.

Every copy goes through the strided copy kernel (engine._tensor.copy_into): a
join copies each input into its region of the result, a flip copies from a
negative-stride reading of its input (an internal geometry, never a Tensor
handed to the user). The derivative rules are in
engine/autograd/rules/shape.py; ops torch implements as composites are
differentiable through the ops they call.
"""
from __future__ import annotations

import builtins
import warnings

from engine import _dtype as dt
from engine._iter import _type_name
from engine._ops.reduction import _into
from engine._registry import ALL, op, tensor_method
from engine._shape import (
    broadcast_shapes as _broadcast_shape_tuples,
    contiguous_strides,
    is_contiguous,
    numel,
    preserve_format_strides,
    view_strides,
    wrap_dim,
)
from engine._tensor import Size, Tensor, check_no_internal_overlap, copy_into, empty_tensor, make_tensor, view_of
from engine._views import narrow, select, slice_dim, unsqueeze

SHAPE = "shape"


def _fmt(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _tensor_list(name, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return list(tensors)


def _int_arg(name, arg, value):
    if isinstance(value, Tensor) and not value._shape and not value._dtype.is_floating_point:
        return value.__index__()
    if isinstance(value, builtins.bool) or not isinstance(value, builtins.int):
        raise TypeError(f"{name}(): argument '{arg}' must be int, not {type(value).__name__}")
    return value


def _int_list(name, arg, values):
    if isinstance(values, builtins.int) and not isinstance(values, builtins.bool):
        return (values,)
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"{name}(): argument '{arg}' must be tuple of ints, not {type(values).__name__}")
    return tuple(_int_arg(name, arg, v) for v in values)


# ---- joins ----
def _is_legacy_shape(shape):
    """torch's cat skips 1-d tensors of size 0 whatever the other inputs' shapes."""
    return len(shape) == 1 and shape[0] == 0


def _is_legacy_empty(t):
    return _is_legacy_shape(t._shape)


def _strides_like_channels_last(shape, strides):
    """torch's is_channels_last_strides_2d / _3d: whether suggest_memory_format says channels-last(-3d)."""
    order = {4: (1, 3, 2, 0), 5: (1, 4, 3, 2, 0)}.get(len(shape))
    if order is None:
        return False
    min_stride = 0
    for d in order:
        if shape[d] == 0 or strides[d] < min_stride or (d == 0 and min_stride == strides[1]):
            return False
        min_stride = strides[d] * (shape[d] if shape[d] > 1 else 1)
    return True


def _channels_last_strides_nd(shape):
    """Dense strides with channels innermost, then the spatial dims from last to first, then the batch."""
    strides = [0] * len(shape)
    running = 1
    for d in (1,) + tuple(range(len(shape) - 1, 1, -1)) + (0,):
        strides[d] = running
        running *= max(shape[d], 1)
    return tuple(strides)


def _cat_layout(shape, inputs):
    """cat's output memory format (cat_compute_output_memory_format): channels-last(-3d) when every
    input suggests it, else contiguous."""
    if len(shape) in (4, 5) and all(len(t._shape) == len(shape) and _strides_like_channels_last(t._shape, t._stride)
                                    for t in inputs):
        return _channels_last_strides_nd(shape)
    return contiguous_strides(shape)


def _cat(tensors, dim, out, name="torch.cat"):
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise ValueError(f"{name}(): expected a non-empty list of Tensors")
    dim = _int_arg("cat", "dim", dim)
    result_dtype = tensors[0]._dtype
    for t in tensors[1:]:
        result_dtype = dt.promote_types(result_dtype, t._dtype)
    for i, t in enumerate(tensors):
        if not t._shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    kept = [t for t in tensors if not _is_legacy_empty(t)]
    if not kept:
        return _into(empty_tensor((0,), result_dtype), out)
    first = kept[0]
    ndim = len(first._shape)
    d = wrap_dim(dim, ndim)
    total = 0
    for i, t in enumerate(tensors):
        if _is_legacy_empty(t):
            continue
        if len(t._shape) != ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ndim} and {len(t._shape)}")
        for k in range(ndim):
            if k != d and t._shape[k] != first._shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{first._shape[k]} but got size {t._shape[k]} for tensor number {i} in the list.")
        total += t._shape[d]
    shape = first._shape[:d] + (total,) + first._shape[d + 1:]
    if out is not None:
        if not isinstance(out, Tensor):
            raise TypeError(f"cat(): argument 'out' must be Tensor, not {type(out).__name__}")
        if not dt.can_cast(result_dtype, out._dtype):
            raise TypeError(f"torch.cat(): input types can't be cast to the desired output type "
                            f"{_type_name(out._dtype)}")
        check_no_internal_overlap(out)
        for t in tensors:
            _check_no_overlap(out, t)
    result = empty_tensor(shape, result_dtype, _cat_layout(shape, tensors))
    offset = 0
    for t in kept:
        size = t._shape[d]
        if size:
            copy_into(slice_dim(result, d, offset, offset + size, 1), t)
        offset += size
    return _into(result, out)


def _check_no_overlap(out, t):
    """torch's assert_no_overlap: an input may not share any memory with the output it is written to."""
    if t._storage is not out._storage or not numel(t._shape) or not numel(out._shape):
        return

    def extent(x):
        last = builtins.sum((size - 1) * stride for size, stride in zip(x._shape, x._stride))
        return x._addr, x._addr + (last + 1) * x._dtype.itemsize
    begin, end = extent(out)
    t_begin, t_end = extent(t)
    if t_begin < end and begin < t_end:
        raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor "
                           "refer to a single memory location. Please clone() the tensor before performing the "
                           "operation.")


@op("cat", dtypes=ALL, family=SHAPE)
def cat(tensors, dim=0, *, out=None):
    """`torch.cat`: https://pytorch.org/docs/stable/generated/torch.cat.html"""
    return _cat(tensors, dim, out)


@op("concat", dtypes=ALL, family=SHAPE, aten=("concat",))
def concat(tensors, dim=0, *, out=None):
    """`torch.concat`, an alias of `torch.cat`."""
    return cat(tensors, dim, out=out)


@op("concatenate", dtypes=ALL, family=SHAPE, aten=("concatenate",))
def concatenate(tensors, axis=0, *, out=None):
    """`torch.concatenate`, an alias of `torch.cat`."""
    return cat(tensors, axis, out=out)


@op("stack", dtypes=ALL, family=SHAPE)
def stack(tensors, dim=0, *, out=None):
    """`torch.stack`: https://pytorch.org/docs/stable/generated/torch.stack.html"""
    tensors = _tensor_list("stack", tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    dim = _int_arg("stack", "dim", dim)
    shape = tensors[0]._shape
    d = wrap_dim(dim, len(shape) + 1)
    for i, t in enumerate(tensors[1:], 1):
        if t._shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {_fmt(shape)} at entry 0 and "
                               f"{_fmt(t._shape)} at entry {i}")
    if d == len(shape) or out is not None:
        return _cat([unsqueeze(t, d) for t in tensors], d, out)
    # torch joins along the existing dim d and splits it with a view, so the result keeps cat's layout
    joined = _cat(tensors, d, None)
    result_shape = shape[:d] + (len(tensors),) + shape[d:]
    strides = view_strides(joined._shape, joined._stride, result_shape)
    return make_tensor(joined._storage, result_shape, strides, 0, joined._dtype)


def _atleast(n, tensors):
    if len(tensors) == 1 and not isinstance(tensors[0], Tensor):
        items = tensors[0]
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"atleast_{n}d(): argument must be a Tensor or a sequence of Tensors")
        return tuple(_atleast_one(n, t) for t in items)
    if len(tensors) == 1:
        return _atleast_one(n, tensors[0])
    return tuple(_atleast_one(n, t) for t in tensors)


def _atleast_one(n, t):
    ndim = len(t._shape)
    if ndim >= n:
        return t
    if ndim == 0:
        return t.reshape((1,) * n)
    if n == 2 or ndim == 2:
        t = t.unsqueeze(0) if n == 2 else t.unsqueeze(-1)
        return t
    return t.unsqueeze(0).unsqueeze(-1)  # 1-d to 3-d: (1, n, 1)


@op("atleast_1d", dtypes=ALL, family=SHAPE)
def atleast_1d(*tensors):
    """`torch.atleast_1d`: https://pytorch.org/docs/stable/generated/torch.atleast_1d.html"""
    return _atleast(1, tensors)


@op("atleast_2d", dtypes=ALL, family=SHAPE)
def atleast_2d(*tensors):
    """`torch.atleast_2d`: https://pytorch.org/docs/stable/generated/torch.atleast_2d.html"""
    return _atleast(2, tensors)


@op("atleast_3d", dtypes=ALL, family=SHAPE)
def atleast_3d(*tensors):
    """`torch.atleast_3d`: https://pytorch.org/docs/stable/generated/torch.atleast_3d.html"""
    return _atleast(3, tensors)


def _nonempty(name, tensors):
    tensors = _tensor_list(name, tensors)
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return tensors


@op("hstack", dtypes=ALL, family=SHAPE)
def hstack(tensors, *, out=None):
    """`torch.hstack`: https://pytorch.org/docs/stable/generated/torch.hstack.html"""
    rep = atleast_1d(_nonempty("hstack", tensors))
    return cat(rep, 0 if len(rep[0]._shape) == 1 else 1, out=out)


@op("vstack", dtypes=ALL, family=SHAPE)
def vstack(tensors, *, out=None):
    """`torch.vstack`: https://pytorch.org/docs/stable/generated/torch.vstack.html"""
    return cat(atleast_2d(_nonempty("vstack", tensors)), 0, out=out)


@op("dstack", dtypes=ALL, family=SHAPE)
def dstack(tensors, *, out=None):
    """`torch.dstack`: https://pytorch.org/docs/stable/generated/torch.dstack.html"""
    return cat(atleast_3d(_nonempty("dstack", tensors)), 2, out=out)


@op("column_stack", dtypes=ALL, family=SHAPE)
def column_stack(tensors, *, out=None):
    """`torch.column_stack`: https://pytorch.org/docs/stable/generated/torch.column_stack.html"""
    tensors = _nonempty("column_stack", tensors)
    columns = [t.reshape(numel(t._shape), 1) if len(t._shape) <= 1 else t for t in tensors]
    return cat(columns, 1, out=out)


# ---- splits: views of the input ----
def _split_sizes(size, split_size):
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={split_size}")
    if split_size == 0 and size != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
    if split_size == 0:
        return [0]
    count = max((size + split_size - 1) // split_size, 1)
    return [split_size] * (count - 1) + [size - split_size * (count - 1)]


def _split_views(input, d, sizes):
    out, start = [], 0
    for s in sizes:
        out.append(slice_dim(input, d, start, start + s, 1))
        start += s
    return tuple(out)


def _split_dim(name, input, dim):
    if not len(input._shape):
        raise RuntimeError(f"{name} expects at least a 1-dimensional tensor")
    return wrap_dim(_int_arg(name, "dim", dim), len(input._shape))


def _check_split_with_sizes(input, d, sizes):
    size = input._shape[d]
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={_fmt(sizes)}")
    if builtins.sum(sizes) != size:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                           f"dimension {d}), but got split_sizes={_fmt(sizes)}")


@op("split", dtypes=ALL, method=True, family=SHAPE, aten=("split", "split_with_sizes"))
def split(tensor, split_size_or_sections, dim=0):
    """`torch.split`: https://pytorch.org/docs/stable/generated/torch.split.html"""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"split(): argument 'tensor' must be Tensor, not {type(tensor).__name__}")
    d = _split_dim("split", tensor, dim)
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = _int_list("split_with_sizes", "split_sizes", split_size_or_sections)
        _check_split_with_sizes(tensor, d, sizes)
    else:
        sizes = _split_sizes(tensor._shape[d], _int_arg("split", "split_size", split_size_or_sections))
    return _split_views(tensor, d, sizes)


@op("split_with_sizes", dtypes=ALL, method=True, family=SHAPE)
def split_with_sizes(input, split_sizes, dim=0):
    """`torch.split_with_sizes`: `torch.split` with a list of sizes."""
    d = _split_dim("split_with_sizes", input, dim)
    sizes = _int_list("split_with_sizes", "split_sizes", split_sizes)
    _check_split_with_sizes(input, d, sizes)
    return _split_views(input, d, sizes)


@op("chunk", dtypes=ALL, method=True, family=SHAPE)
def chunk(input, chunks, dim=0):
    """`torch.chunk`: https://pytorch.org/docs/stable/generated/torch.chunk.html"""
    if not len(input._shape):
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = _int_arg("chunk", "chunks", chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(_int_arg("chunk", "dim", dim), len(input._shape))
    size = input._shape[d]
    split_size = (size + chunks - 1) // chunks
    if split_size == 0 and size == 0:
        # torch gives `chunks` empty pieces here, through split_with_sizes
        return split_with_sizes(input, [0] * chunks, d)
    return split(input, split_size, d)


@op("tensor_split", dtypes=ALL, method=True, family=SHAPE)
def tensor_split(input, indices_or_sections, dim=0):
    """`torch.tensor_split`: https://pytorch.org/docs/stable/generated/torch.tensor_split.html"""
    if not len(input._shape):
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(_int_arg("tensor_split", "dim", dim), len(input._shape))
    size = input._shape[d]
    if isinstance(indices_or_sections, Tensor):
        t = indices_or_sections
        if t._dtype is not dt.int64:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{_type_name(t._dtype)}")
        if len(t._shape) > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {len(t._shape)} dims")
        indices_or_sections = t.item() if not t._shape else [int(v) for v in t.tolist()]
    if isinstance(indices_or_sections, (list, tuple)):
        indices = _int_list("tensor_split", "indices", indices_or_sections)
        bounds, start = [], 0
        for index in indices:
            bounds.append((start, index))
            start = index
        bounds.append((start, size))
    else:
        sections = _int_arg("tensor_split", "sections", indices_or_sections)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        base, extra = divmod(size, sections)
        bounds, start = [], 0
        for i in range(sections):
            length = base + (1 if i < extra else 0)
            bounds.append((start, start + length))
            start += length
    pieces = []
    for start, stop in bounds:
        # torch's slice(dim, start, stop): negative indices wrap, then both clamp to [0, size]
        start = start + size if start < 0 else start
        stop = stop + size if stop < 0 else stop
        start = min(max(start, 0), size)
        stop = min(max(stop, start), size)
        pieces.append(narrow(input, d, start, stop - start))
    return tuple(pieces)


@op("unbind", dtypes=ALL, method=True, family=SHAPE)
def unbind(input, dim=0):
    """`torch.unbind`: https://pytorch.org/docs/stable/generated/torch.unbind.html"""
    if not len(input._shape):
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(_int_arg("unbind", "dim", dim), len(input._shape))
    return tuple(select(input, d, i) for i in range(input._shape[d]))


def _directional_split(name, input, indices_or_sections, min_dims, d):
    ndim = len(input._shape)
    if ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {ndim} dimensions!")
    if isinstance(indices_or_sections, builtins.int) and not isinstance(indices_or_sections, builtins.bool):
        size = input._shape[d]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the dimension "
                               f"{size} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, d)


@op("hsplit", dtypes=ALL, method=True, family=SHAPE)
def hsplit(input, indices_or_sections):
    """`torch.hsplit`: https://pytorch.org/docs/stable/generated/torch.hsplit.html"""
    return _directional_split("hsplit", input, indices_or_sections, 1, 0 if len(input._shape) == 1 else 1)


@op("vsplit", dtypes=ALL, method=True, family=SHAPE)
def vsplit(input, indices_or_sections):
    """`torch.vsplit`: https://pytorch.org/docs/stable/generated/torch.vsplit.html"""
    return _directional_split("vsplit", input, indices_or_sections, 2, 0)


@op("dsplit", dtypes=ALL, method=True, family=SHAPE)
def dsplit(input, indices_or_sections):
    """`torch.dsplit`: https://pytorch.org/docs/stable/generated/torch.dsplit.html"""
    return _directional_split("dsplit", input, indices_or_sections, 3, 2)


def _detached_pieces(pieces):
    """split's pieces as tensors of their own for autograd (no _base, own version counters) that
    still share the input's memory: what torch's unsafe_split hands back."""
    return tuple(make_tensor(p._storage, p._shape, p._stride, p._offset, p._dtype) for p in pieces)


@op("unsafe_split", dtypes=ALL, method=True, family=SHAPE)
def unsafe_split(input, split_size, dim=0):
    """`torch.unsafe_split`: `torch.split` whose outputs autograd does not treat as views."""
    if isinstance(split_size, builtins.bool) or not isinstance(split_size, builtins.int):
        raise TypeError(f"unsafe_split(): argument 'split_size' (position 2) must be int, not "
                        f"{type(split_size).__name__}")
    return _detached_pieces(split(input, split_size, dim))


@op("unsafe_split_with_sizes", dtypes=ALL, method=True, family=SHAPE)
def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """`torch.unsafe_split_with_sizes`"""
    return _detached_pieces(split_with_sizes(input, split_sizes, dim))


@op("unsafe_chunk", dtypes=ALL, method=True, family=SHAPE)
def unsafe_chunk(input, chunks, dim=0):
    """`torch.unsafe_chunk`: `torch.chunk` through unsafe_split."""
    if not len(input._shape):
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    chunks = _int_arg("unsafe_chunk", "chunks", chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = wrap_dim(_int_arg("unsafe_chunk", "dim", dim), len(input._shape))
    size = input._shape[d]
    split_size = (size + chunks - 1) // chunks
    if split_size == 0 and size == 0:
        return unsafe_split_with_sizes(input, [0] * chunks, d)
    return unsafe_split(input, split_size, d)


# ---- reorderings: copies ----
def _flipped_reading(input, dims):
    """input's geometry walked backwards along dims (negative strides): a copy source only."""
    stride = list(input._stride)
    offset = input._offset
    for d in dims:
        if input._shape[d] > 1:
            offset += (input._shape[d] - 1) * stride[d]
            stride[d] = -stride[d]
    return make_tensor(input._storage, input._shape, tuple(stride), offset, input._dtype)


def _flip_dims(name, input, dims):
    ndim = len(input._shape)
    wrapped = [wrap_dim(_int_arg(name, "dims", d), ndim) for d in dims]
    seen = set()
    for w in wrapped:
        if w in seen:
            raise RuntimeError(f"dim {w} appears multiple times in the list of dims")
        seen.add(w)
    return wrapped


def flip_dims_arg(dims_args, dims):
    """flip's dims as given: flip(x, (0, 1)), flip(x, dims=[0]) or x.flip(0, 1)."""
    if dims is not None:
        return _int_list("flip", "dims", dims)
    if len(dims_args) == 1 and isinstance(dims_args[0], (list, tuple)):
        return tuple(dims_args[0])
    return tuple(dims_args)


@op("flip", dtypes=ALL, method=True, family=SHAPE)
def flip(input, *dims_args, dims=None):
    """`torch.flip`: https://pytorch.org/docs/stable/generated/torch.flip.html"""
    dims = flip_dims_arg(dims_args, dims)
    wrapped = _flip_dims("flip", input, dims)
    result = empty_tensor(input._shape, input._dtype, preserve_format_strides(input._shape, input._stride))
    if numel(input._shape):
        copy_into(result, _flipped_reading(input, wrapped))
    return result


@op("fliplr", dtypes=ALL, method=True, family=SHAPE)
def fliplr(input):
    """`torch.fliplr`: https://pytorch.org/docs/stable/generated/torch.fliplr.html"""
    if len(input._shape) < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


@op("flipud", dtypes=ALL, method=True, family=SHAPE)
def flipud(input):
    """`torch.flipud`: https://pytorch.org/docs/stable/generated/torch.flipud.html"""
    if len(input._shape) < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def _contiguous_copy(input):
    result = empty_tensor(input._shape, input._dtype)
    copy_into(result, input)
    return result


def _roll_into(result, input, d, shift):
    size = input._shape[d]
    shift %= size
    if shift == 0:
        copy_into(result, input)
        return
    copy_into(slice_dim(result, d, shift, size, 1), slice_dim(input, d, 0, size - shift, 1))
    copy_into(slice_dim(result, d, 0, shift, 1), slice_dim(input, d, size - shift, size, 1))


@op("roll", dtypes=ALL, method=True, family=SHAPE)
def roll(input, shifts, dims=()):
    """`torch.roll`: https://pytorch.org/docs/stable/generated/torch.roll.html"""
    shifts = _int_list("roll", "shifts", shifts)
    dims = () if dims is None else _int_list("roll", "dims", dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if not dims and len(shifts) == 1:
        # no dims: roll the flattened tensor, as torch does, and view it back
        result = empty_tensor(input._shape, input._dtype)
        total = numel(input._shape)
        if total:
            source = input if is_contiguous(input._shape, input._stride) else _contiguous_copy(input)
            flat = make_tensor(source._storage, (total,), (1,), source._offset, source._dtype)
            _roll_into(make_tensor(result._storage, (total,), (1,), 0, result._dtype), flat, 0, shifts[0])
        return result
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    wrapped = [wrap_dim(d, len(input._shape)) for d in dims]
    result = empty_tensor(input._shape, input._dtype)
    if not numel(input._shape):
        return result
    source = input
    for i, (d, shift) in enumerate(zip(wrapped, shifts)):
        target = result if i == len(wrapped) - 1 else empty_tensor(input._shape, input._dtype)
        _roll_into(target, source, d, shift)
        source = target
    return result


@op("rot90", dtypes=ALL, method=True, family=SHAPE)
def rot90(input, k=1, dims=(0, 1)):
    """`torch.rot90`: https://pytorch.org/docs/stable/generated/torch.rot90.html"""
    k = _int_arg("rot90", "k", k)
    dims = _int_list("rot90", "dims", dims)
    ndim = len(input._shape)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = wrap_dim(dims[0], ndim), wrap_dim(dims[1], ndim)  # out of range: IndexError, as torch 2.13
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k %= 4
    if k == 0:
        result = empty_tensor(input._shape, input._dtype)
        copy_into(result, input)
        return result
    if k == 2:
        return flip(input, (d0, d1))
    flipped = flip(input, (d1,) if k == 1 else (d0,))
    shape, stride = list(flipped._shape), list(flipped._stride)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    stride[d0], stride[d1] = stride[d1], stride[d0]
    return make_tensor(flipped._storage, tuple(shape), tuple(stride), 0, flipped._dtype)


# ---- repetitions ----
def _repeat_plan(input, repeats):
    ndim = len(input._shape)
    if len(repeats) < ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    padded = (1,) * (len(repeats) - ndim) + input._shape
    shape = tuple(p * r for p, r in zip(padded, repeats))
    for size in shape:
        if size < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {size}: {_fmt(shape)}")
    return padded, shape


@op("repeat", dtypes=ALL, method=True, public=False, family=SHAPE)
def repeat(self, *repeats):
    """`torch.Tensor.repeat`: https://pytorch.org/docs/stable/generated/torch.Tensor.repeat.html"""
    if len(repeats) == 1 and isinstance(repeats[0], (list, tuple)):
        repeats = tuple(repeats[0])
    repeats = tuple(_int_arg("repeat", "repeats", r) for r in repeats)
    padded, shape = _repeat_plan(self, repeats)
    result = empty_tensor(shape, self._dtype)
    if numel(shape):
        # result seen as (r0, s0, r1, s1, ...) is the input broadcast along the r dims
        pairs = tuple(x for r, s in zip(repeats, padded) for x in (r, s))
        input_strides = (0,) * (len(padded) - len(self._shape)) + self._stride
        source_strides = tuple(x for st in input_strides for x in (0, st))
        source = make_tensor(self._storage, pairs, source_strides, self._offset, self._dtype)
        copy_into(make_tensor(result._storage, pairs, contiguous_strides(pairs), 0, result._dtype), source)
    return result


@op("tile", dtypes=ALL, method=True, family=SHAPE)
def tile(input, dims):
    """`torch.tile`: https://pytorch.org/docs/stable/generated/torch.tile.html"""
    dims = _int_list("tile", "dims", dims)
    if len(dims) < len(input._shape):
        dims = (1,) * (len(input._shape) - len(dims)) + dims
    return repeat(input, dims)


def _repeats_counts(repeats, output_size):
    """torch's repeat_interleave(repeats) checks, and the counts as Python ints."""
    if len(repeats._shape) != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    if repeats._dtype not in (dt.int32, dt.int64):
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{_type_name(repeats._dtype)}'")
    counts = [int(v) for v in repeats.tolist()]
    if any(c < 0 for c in counts):
        raise RuntimeError("repeats can not be negative")
    if output_size is not None and output_size != builtins.sum(counts):
        raise RuntimeError("allocated size does not match required size")
    return counts


def _expanded_index(counts):
    """Position i repeated counts[i] times: the input index of each output row."""
    index = []
    for i, c in enumerate(counts):
        index.extend([i] * c)
    return index


def index_select_rows(input, d, index):
    """input gathered along d at the Python list `index` (one copy per run of consecutive indices)."""
    shape = input._shape[:d] + (len(index),) + input._shape[d + 1:]
    result = empty_tensor(shape, input._dtype)
    position = 0
    while position < len(index):
        start = index[position]
        run = 1
        while position + run < len(index) and index[position + run] == start + run:
            run += 1
        copy_into(slice_dim(result, d, position, position + run, 1), slice_dim(input, d, start, start + run, 1))
        position += run
    return result


@op("repeat_interleave", dtypes=ALL, method=True, family=SHAPE)
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """`torch.repeat_interleave`: https://pytorch.org/docs/stable/generated/torch.repeat_interleave.html"""
    if repeats is None:
        # repeat_interleave(repeats): the indices of `input` repeated
        from engine._factories import tensor as _tensor

        return _tensor(_expanded_index(_repeats_counts(input, output_size)), dtype=input._dtype)
    x = input if dim is not None else input.reshape(-1)
    if isinstance(repeats, Tensor):
        dim = 0 if dim is None else dim
        d = wrap_dim(_int_arg("repeat_interleave", "dim", dim), len(x._shape))
        if len(repeats._shape) == 0 or (len(repeats._shape) == 1 and repeats._shape[0] == 1):
            repeats = repeats.reshape(1).expand(x._shape[d])
        elif len(repeats._shape) == 1:
            if repeats._shape[0] != x._shape[d]:
                raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = "
                                   f"{repeats._shape[0]} and input.size({d}) = {x._shape[d]}")
        else:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        return _index_select(x, d, _expanded_index(_repeats_counts(repeats, output_size)))
    repeats = _int_arg("repeat_interleave", "repeats", repeats)
    # torch wraps dim against the input as given (a 0-dim input then fails at unsqueeze, like torch)
    d = wrap_dim(0 if dim is None else _int_arg("repeat_interleave", "dim", dim), len(input._shape))
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    # torch's int fast path: unsqueeze, expand, contiguous copy, flatten the pair of dims
    y = x.unsqueeze(d + 1)
    if output_size is not None and output_size != x._shape[d] * repeats:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {x._shape[d] * repeats} but got "
                           f"{output_size}")
    expanded_shape = x._shape[:d + 1] + (repeats,) + x._shape[d + 1:]
    return y.expand(expanded_shape).contiguous().flatten(d, d + 1)


_RECORDED: dict = {}


def _recorded(fn, rule_name):
    """fn recording the named rule of engine/autograd/rules/shape.py: the nodes torch's composites end
    with (IndexSelectBackward0, DiagonalBackward0_copy) for helpers that are not public ops."""
    wrapped = _RECORDED.get(rule_name)
    if wrapped is None:
        from engine.autograd.recording import differentiable
        from engine.autograd.rules import shape as rules

        wrapped = _RECORDED[rule_name] = differentiable(fn, getattr(rules, rule_name))
    return wrapped


def _index_select(x, d, index):
    return _recorded(index_select_rows, "INDEX_SELECT_RULE")(x, d, index)


# ---- triangles and diagonals ----
def _triangle(name, input, diagonal, lower):
    if len(input._shape) < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    diagonal = _int_arg(name, "diagonal", diagonal)
    from engine._factories import arange, zeros
    from engine._ops.elementwise_select import where

    rows, cols = input._shape[-2], input._shape[-1]
    r = arange(rows).unsqueeze(-1)
    c = arange(cols)
    keep = (c - r <= diagonal) if lower else (c - r >= diagonal)
    result = empty_tensor(input._shape, input._dtype)
    if numel(input._shape):
        copy_into(result, where(keep, input, zeros((), dtype=input._dtype)))
    return result


@op("tril", dtypes=ALL, method=True, inplace=True, family=SHAPE)
def tril(input, diagonal=0, *, out=None):
    """`torch.tril`: https://pytorch.org/docs/stable/generated/torch.tril.html"""
    return _into(_triangle("tril", input, diagonal, True), out)


@op("triu", dtypes=ALL, method=True, inplace=True, family=SHAPE)
def triu(input, diagonal=0, *, out=None):
    """`torch.triu`: https://pytorch.org/docs/stable/generated/torch.triu.html"""
    return _into(_triangle("triu", input, diagonal, False), out)


def _triangle_inplace(name, self, diagonal, lower):
    check_no_internal_overlap(self)
    result = _triangle(name, self, diagonal, lower)
    copy_into(self, result)
    self._bump_version()
    return self


@tensor_method("tril_")
def tril_(self, diagonal=0):
    """`torch.Tensor.tril_`"""
    return _triangle_inplace("tril", self, diagonal, True)


@tensor_method("triu_")
def triu_(self, diagonal=0):
    """`torch.Tensor.triu_`"""
    return _triangle_inplace("triu", self, diagonal, False)


@op("diag_embed", dtypes=ALL, method=True, family=SHAPE)
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """`torch.diag_embed`: https://pytorch.org/docs/stable/generated/torch.diag_embed.html"""
    offset = _int_arg("diag_embed", "offset", offset)
    ndim = len(input._shape) + 1
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input._shape[-1] if input._shape else 1) + builtins.abs(offset)
    rest = list(input._shape[:-1])
    shape = []
    for i in range(ndim):
        shape.append(n if i in (d1, d2) else rest.pop(0))
    result = empty_tensor(tuple(shape), input._dtype, zero=True)
    if numel(input._shape):
        from engine._views import diagonal

        copy_into(diagonal(result, offset, d1, d2), input)
    return result


@op("diagflat", dtypes=ALL, method=True, family=SHAPE)
def diagflat(input, offset=0):
    """`torch.diagflat`: https://pytorch.org/docs/stable/generated/torch.diagflat.html"""
    return diag_embed(input.contiguous().view(-1), offset)


def _diagonal_copy(input, offset):
    from engine._views import diagonal

    view = diagonal(input, offset, 0, 1)
    result = empty_tensor(view._shape, view._dtype)
    copy_into(result, view)
    return result


@op("diag", dtypes=ALL, method=True, family=SHAPE)
def diag(input, diagonal=0, *, out=None):
    """`torch.diag`: https://pytorch.org/docs/stable/generated/torch.diag.html"""
    diagonal = _int_arg("diag", "diagonal", diagonal)
    if len(input._shape) == 1:
        return _into(diag_embed(input, diagonal), out)
    if len(input._shape) == 2:
        return _into(_recorded(_diagonal_copy, "DIAGONAL_COPY_RULE")(input, diagonal), out)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {len(input._shape)}D")


# ---- scatters: the input with one region replaced ----
def _clone_preserve_strides(input):
    """torch's clone_preserve_strides: a fresh storage as large as input's, read through input's own
    strides and offset (a plain clone when input overlaps itself)."""
    if any(stride == 0 and size > 1 for size, stride in zip(input._shape, input._stride)):
        result = empty_tensor(input._shape, input._dtype, preserve_format_strides(input._shape, input._stride))
    else:
        from engine._storage import UntypedStorage

        storage = UntypedStorage(input._storage._nbytes)
        result = make_tensor(storage, input._shape, input._stride, input._offset, input._dtype)
    copy_into(result, input)
    return result


def _scatter_copy(input, src, locate):
    result = _clone_preserve_strides(input)
    region = locate(result)
    if region._shape != src._shape:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {_fmt(src._shape)}, "
                           f"slice size = {_fmt(region._shape)}")
    if numel(region._shape):
        copy_into(region, src)
    return result


def _check_src(name, src):
    if not isinstance(src, Tensor):
        raise TypeError(f"{name}(): argument 'src' (position 2) must be Tensor, not {type(src).__name__}")


@op("diagonal_scatter", dtypes=ALL, method=True, family=SHAPE)
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """`torch.diagonal_scatter`: https://pytorch.org/docs/stable/generated/torch.diagonal_scatter.html"""
    from engine._views import diagonal

    _check_src("diagonal_scatter", src)
    return _scatter_copy(input, src, lambda t: diagonal(t, offset, dim1, dim2))


@op("select_scatter", dtypes=ALL, method=True, family=SHAPE)
def select_scatter(input, src, dim, index):
    """`torch.select_scatter`: https://pytorch.org/docs/stable/generated/torch.select_scatter.html"""
    _check_src("select_scatter", src)
    return _scatter_copy(input, src, lambda t: select(t, dim, index))


def _slice_bounds(size, start, end, step):
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    start = 0 if start is None else start
    end = size if end is None else end
    start = start + size if start < 0 else start
    end = end + size if end < 0 else end
    start = min(max(start, 0), size)
    end = min(max(end, start), size)
    return start, end


@op("slice_scatter", dtypes=ALL, method=True, family=SHAPE)
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """`torch.slice_scatter`: https://pytorch.org/docs/stable/generated/torch.slice_scatter.html"""
    _check_src("slice_scatter", src)
    if not len(input._shape):
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, len(input._shape))
    lo, hi = _slice_bounds(input._shape[d], start, end, step)
    return _scatter_copy(input, src, lambda t: slice_dim(t, d, lo, hi, step))


@op("narrow_copy", dtypes=ALL, method=True, family=SHAPE)
def narrow_copy(input, dim, start, length, *, out=None):
    """`torch.narrow_copy`: https://pytorch.org/docs/stable/generated/torch.narrow_copy.html"""
    if isinstance(dim, builtins.int) and dim >= len(input._shape) > 0:
        raise RuntimeError("Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, but got false.  "
                           "(Could this error message be improved?  If so, please report an enhancement request "
                           "to PyTorch.)")
    view = narrow(input, dim, start, length)
    result = empty_tensor(view._shape, view._dtype)
    copy_into(result, view)
    return _into(result, out)


# ---- grids and broadcasting: views ----
@op("meshgrid", dtypes=ALL, family=SHAPE)
def meshgrid(*tensors, indexing=None):
    """`torch.meshgrid`: https://pytorch.org/docs/stable/generated/torch.meshgrid.html"""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = _tensor_list("meshgrid", tensors)
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if len(t._shape) > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
    for t in tensors[1:]:
        if t._dtype is not tensors[0]._dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    if swap:
        tensors[0], tensors[1] = tensors[1], tensors[0]
    shape = tuple(numel(t._shape) for t in tensors)
    grids = []
    for i, t in enumerate(tensors):
        view_shape = [1] * len(tensors)
        view_shape[i] = -1
        grids.append(t.view(view_shape).expand(shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


@op("broadcast_tensors", dtypes=ALL, family=SHAPE)
def broadcast_tensors(*tensors):
    """`torch.broadcast_tensors`: https://pytorch.org/docs/stable/generated/torch.broadcast_tensors.html"""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    shape = _broadcast_shape_tuples(*(t._shape for t in tensors))
    return tuple(t if t._shape == shape else t.expand(shape) for t in tensors)


@op("broadcast_shapes", dtypes=ALL, family=SHAPE)
def broadcast_shapes(*shapes):
    """`torch.broadcast_shapes`: https://pytorch.org/docs/stable/generated/torch.broadcast_shapes.html"""
    tuples = []
    for s in shapes:
        if isinstance(s, builtins.int) and not isinstance(s, builtins.bool):
            s = (s,)
        elif isinstance(s, Tensor):
            raise RuntimeError("Input shapes should be of type ints, a tuple of ints, or a list of ints, got "
                               f"{s}")
        elif not isinstance(s, (tuple, list)):
            raise RuntimeError("Input shapes should be of type ints, a tuple of ints, or a list of ints, got "
                               f"{s}")
        for size in s:
            if isinstance(size, builtins.bool) or not isinstance(size, builtins.int):
                raise RuntimeError("Input shapes should be of type ints, a tuple of ints, or a list of ints, got "
                                   f"{s}")
            if size < -1:
                raise RuntimeError("Trying to create tensor with negative dimension "
                                   f"({size}): ({size})")
        tuples.append(tuple(s))
    ndim = max((len(s) for s in tuples), default=0)
    result = [1] * ndim
    for i, s in enumerate(tuples):
        for k, size in enumerate(s):
            j = ndim - len(s) + k
            if size == 1 or size == result[j]:
                continue
            if result[j] == 1:
                result[j] = size
            else:
                raise RuntimeError("Shape mismatch: objects cannot be broadcast to a single shape")
    return Size(result)


@op("ravel", dtypes=ALL, method=True, family=SHAPE)
def ravel(input):
    """`torch.ravel`: https://pytorch.org/docs/stable/generated/torch.ravel.html"""
    return input.contiguous().view(-1)


@op("swapaxes", dtypes=ALL, family=SHAPE)
def swapaxes(input, axis0, axis1):
    """`torch.swapaxes`, an alias of `torch.transpose`."""
    return input.transpose(axis0, axis1)


@op("swapdims", dtypes=ALL, family=SHAPE)
def swapdims(input, dim0, dim1):
    """`torch.swapdims`, an alias of `torch.transpose`."""
    return input.transpose(dim0, dim1)


@op("moveaxis", dtypes=ALL, family=SHAPE)
def moveaxis(input, source, destination):
    """`torch.moveaxis`, an alias of `torch.movedim`."""
    return input.movedim(source, destination)
