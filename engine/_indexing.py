"""Indexing: `Tensor.__getitem__` / `__setitem__`.

Basic indices (ints, slices with step, None, Ellipsis) produce views. Advanced
indices (integer and bool tensors, lists, Python bools) follow torch's
applySlicing: the basic part is applied first as a view (each tensor standing
for a full slice of the dims it indexes), then aten::index / index_put_ run on
that view (`index_view`, `index_put_view`): bool masks become their nonzero
coordinates, index tensors broadcast together, and their result dims go where
the indexed dims were when those are adjacent, else first. The work is done by
ft_index (csrc/index.c), which checks every index before writing."""
from __future__ import annotations

import builtins

from engine._iter import fill
from engine._registry import op
from engine._tensor import Tensor, check_no_internal_overlap, copy_into, view_of
from engine._shape import iterator_output_strides


def _normalize(index):
    if not isinstance(index, tuple):
        index = (index,)
    return index


def _as_int(value):
    if isinstance(value, Tensor):
        if value._dtype.is_floating_point or value.numel() != 1 or value._shape:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return builtins.int(value.item())
    if hasattr(value, "__index__") and not isinstance(value, builtins.bool):
        return value.__index__()
    return None


def basic_index(t: Tensor, index, bool_dims=None) -> Tensor:
    """The view basic indexing gives; bool_dims, if a list, collects the result dims
    that Python bools created (advanced-indexing dims in torch)."""
    index = _normalize(index)
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis and not isinstance(i, builtins.bool))
    ndim = len(t._shape)
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    shape, strides = [], []
    offset = t._offset
    dim = 0
    empty_from_bool = False
    ellipsis_seen = False
    for item in index:
        if item is Ellipsis:
            # torch lets only the first ellipsis stand for dims; later ones stand for none
            for _ in range(0 if ellipsis_seen else ndim - consumed):
                shape.append(t._shape[dim])
                strides.append(t._stride[dim])
                dim += 1
            ellipsis_seen = True
            continue
        if item is None:
            shape.append(1)
            # torch gives the new dim the stride of the dim that follows (or 1 at the end)
            strides.append(t._shape[dim] * t._stride[dim] if dim < ndim else 1)
            continue
        if isinstance(item, builtins.bool):
            if bool_dims is not None:
                bool_dims.append(len(shape))
            shape.append(1 if item else 0)
            strides.append(t._shape[dim] * t._stride[dim] if dim < ndim else 1)
            empty_from_bool = empty_from_bool or not item
            continue
        if isinstance(item, slice):
            size = t._shape[dim]
            start, stop, step = item.start, item.stop, item.step
            step = 1 if step is None else _as_int(step)
            if step is None or step <= 0:
                raise ValueError("step must be greater than zero")
            start = 0 if start is None else _as_int(start)
            stop = size if stop is None else _as_int(stop)
            if start < 0:
                start += size
            if stop < 0:
                stop += size
            start = min(max(start, 0), size)
            stop = min(max(stop, start), size)
            length = (stop - start + step - 1) // step
            shape.append(length)
            strides.append(t._stride[dim] * step)
            offset += start * t._stride[dim]
            dim += 1
            continue
        i = _as_int(item)
        if i is None:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
                f"(got {type(item).__name__})"
            )
        size = t._shape[dim]
        if not -size <= i < size:
            raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
        offset += (i + size if i < 0 else i) * t._stride[dim]
        dim += 1
    while dim < ndim:
        shape.append(t._shape[dim])
        strides.append(t._stride[dim])
        dim += 1
    return view_of(t, tuple(shape), tuple(strides), offset)


# ---- advanced indexing ----
def _is_sequence(x) -> bool:
    return isinstance(x, (list, tuple))


def _treat_sequence_as_tuple(index) -> bool:
    """torch's treatSequenceAsTuple: a list holding a tensor, sequence, slice, Ellipsis or None
    (and shorter than 32) is a multi-dim index, with a deprecation warning."""
    if isinstance(index, tuple):
        return True
    if not isinstance(index, list) or len(index) >= 32:
        return False
    return any(isinstance(i, (Tensor, list, tuple, slice)) or i is Ellipsis or i is None for i in index)


def _index_items(index) -> tuple:
    if isinstance(index, list) and _treat_sequence_as_tuple(index):
        import warnings

        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in "
                      "pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as "
                      "tensor index, x[torch.tensor(seq)], which will result either in an error or a different result",
                      UserWarning, stacklevel=_user_stacklevel())
        return tuple(index)
    return _normalize(index)


def _user_stacklevel() -> int:
    """The stacklevel that points a warning at the first caller outside the engine."""
    import os
    import sys

    root = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(root):
        frame, level = frame.f_back, level + 1
    return level


def _list_to_index(value) -> Tensor:
    """A list index as torch's indexing_tensor_from_data makes it: bool stays bool, the rest is long."""
    import engine
    from engine import _dtype as dt

    t = engine.tensor(value)
    if t._dtype is not dt.bool and t._dtype is not dt.uint8:
        t = t.to(dt.int64)
    return t


def _long_tensor(values) -> Tensor:
    import engine
    from engine import _dtype as dt

    return engine.tensor(values, dtype=dt.int64)


def _is_advanced(index) -> bool:
    for item in (index if isinstance(index, tuple) else (index,)):
        if isinstance(item, list):
            return True
        if isinstance(item, Tensor):
            from engine import _dtype as dt

            if item._shape or item._dtype in (dt.bool, dt.uint8) or item._dtype.is_floating_point:
                return True
    return isinstance(index, list)


def split_index(t: Tensor, index):
    """torch's applySlicing: (basic index tuple, {dim of the basic view: index tensor}) where
    each tensor (or list, Python bool, 0-dim bool tensor) stands for the view dims it indexes."""
    from engine import _dtype as dt

    items = _index_items(index)
    converted = []
    for item in items:
        if isinstance(item, list) or (isinstance(item, tuple)):
            item = _list_to_index(list(item))
        if isinstance(item, Tensor) and not item._shape and item._dtype is not dt.bool and item._dtype is not dt.uint8 \
                and not item._dtype.is_floating_point:
            item = builtins.int(item.item())  # a 0-dim integer tensor selects
        converted.append(item)
    count = 0
    for item in converted:
        if item is None or item is Ellipsis or isinstance(item, builtins.bool):
            continue
        if isinstance(item, Tensor) and item._dtype in (dt.bool, dt.uint8):
            count += len(item._shape)
        else:
            count += 1
    ndim = len(t._shape)
    if count > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, tensors = [], {}
    dim = 0
    ellipsis_seen = False
    for item in converted:
        if item is Ellipsis:
            basic.append(Ellipsis)
            if not ellipsis_seen:
                dim += ndim - count
            ellipsis_seen = True
        elif item is None or isinstance(item, slice):
            basic.append(item)
            dim += 1
        elif isinstance(item, builtins.bool) or (isinstance(item, Tensor) and not item._shape and
                                                  item._dtype in (dt.bool, dt.uint8)):
            basic.append(None)
            tensors[dim] = _long_tensor([0] if builtins.bool(item) else [])
            dim += 1
        elif isinstance(item, Tensor):
            if item._dtype not in (dt.int64, dt.int32, dt.bool, dt.uint8):
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            k = len(item._shape) if item._dtype in (dt.bool, dt.uint8) else 1
            basic.extend([slice(None)] * k)
            tensors[dim] = item
            dim += k
        else:
            basic.append(item)
    return tuple(basic), tensors


def _shape_str(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def expand_indices(view: Tensor, tensors: dict) -> list:
    """aten's expandTensors: one Optional long/int tensor per dim of view, masks as their nonzero."""
    import warnings

    from engine import _dtype as dt

    out = [None] * len(view._shape)
    for dim, idx in sorted(tensors.items()):
        if idx._dtype in (dt.bool, dt.uint8):
            if idx._dtype is dt.uint8:
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
                              "instead.", UserWarning, stacklevel=_user_stacklevel())
            for j, size in enumerate(idx._shape):
                if dim + j >= len(view._shape) or size != view._shape[dim + j]:
                    raise IndexError(
                        f"The shape of the mask {_shape_str(idx._shape)} at index {j} does not match the shape of the "
                        f"indexed tensor {_shape_str(view._shape)} at index {dim + j}")
            coords = nonzero_coords(idx)
            for j in range(len(idx._shape)):
                out[dim + j] = view_of(coords, (coords._shape[0],), (coords._stride[0],),
                                       coords._offset + j * coords._stride[1])
        else:
            out[dim] = idx
    return out


def nonzero_coords(t: Tensor) -> Tensor:
    """torch.nonzero(t): (count, ndim) int64 coordinates in row-major order, strides (1, count)."""
    from engine import _dtype as dt
    from engine._kernel import check, ffi, lib
    from engine._tensor import empty_tensor

    count = ffi.new("int64_t *")
    check(lib.ft_nonzero_count(t._dtype.code, len(t._shape), t._shape, t._addr, t._stride, count))
    n, ndim = count[0], len(t._shape)
    out = empty_tensor((n, ndim), dt.int64, (1, n))
    if n and ndim:
        check(lib.ft_nonzero(t._dtype.code, ndim, t._shape, t._addr, t._stride, n, out._addr, 1, n))
    return out


class _IndexPlan:
    """How aten::index / index_put_ walk src with a list of Optional index tensors."""

    def __init__(self, src: Tensor, indices: list):
        from engine._shape import broadcast_shapes

        if len(indices) > len(src._shape):
            raise IndexError(f"too many indices for tensor of dimension {len(src._shape)} (got {len(indices)})")
        indices = list(indices) + [None] * (len(src._shape) - len(indices))
        defined = [i for i, x in enumerate(indices) if x is not None]
        try:
            shape = broadcast_shapes(*(indices[i]._shape for i in defined))
        except RuntimeError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join(_shape_str(indices[i]._shape) for i in defined)) from None
        sizes, strides = list(src._shape), list(src._stride)
        if defined != list(range(defined[0], defined[-1] + 1)):
            # not adjacent: torch's transposeToFront moves the indexed dims first
            order = defined + [i for i in range(len(indices)) if indices[i] is None]
            sizes = [sizes[i] for i in order]
            strides = [strides[i] for i in order]
            indices = [indices[i] for i in order]
            defined = list(range(len(defined)))
        for i in defined:
            if sizes[i] == 0 and indices[i].numel():
                raise IndexError("index is out of bounds for dimension with size 0")
        start, n = defined[0], len(defined)
        self.shape = tuple(sizes[:start]) + shape + tuple(sizes[start + n:])
        before, after = start, len(sizes) - start - n
        self.src_strides = tuple(strides[:start]) + (0,) * len(shape) + tuple(strides[start + n:])
        from engine._shape import broadcast_strides

        self.tensors = [indices[i] for i in defined]
        self.index_strides = []
        for t in self.tensors:
            # torch views each index as (1,)*before + shape + (1,)*after; TensorIterator zeroes the
            # strides of its size-1 dims where the result is wider
            inner = broadcast_strides(t._shape, t._stride, shape)
            lead = shape[0] * inner[0] if shape else 1
            trail = inner[-1] if shape else 1
            full = (lead,) * before + inner + (trail,) * after
            self.index_strides.append(tuple(0 if (k < before or k >= before + len(shape)) and self.shape[k] != 1
                                            else st for k, st in enumerate(full)))
        self.index_sizes = [sizes[i] for i in defined]
        self.index_src_strides = [strides[i] for i in defined]
        self.index_shape = shape

    def run(self, mode, a: Tensor, a_strides, b: Tensor, err_kind=0, allow_negative=1, err_dims=None):
        from engine._kernel import check, lib

        ndim = len(self.shape)
        flat = []
        for s in self.index_strides:
            flat.extend(s)
        check(lib.ft_index(mode, a._dtype.code, ndim, self.shape, a._addr, a_strides, b._addr, self.src_strides,
                           len(self.tensors), [t._addr for t in self.tensors],
                           [t._dtype.code for t in self.tensors], flat, self.index_sizes, self.index_src_strides,
                           err_dims if err_dims is not None else list(range(len(self.tensors))),
                           allow_negative, err_kind))


def index_view(src: Tensor, indices: list) -> Tensor:
    """aten::index(src, indices): indices one Optional int64/int32 tensor per leading dim (masks expanded)."""
    from engine._kernel import lib
    from engine._tensor import empty_tensor

    plan = _IndexPlan(src, indices)
    out_strides = iterator_output_strides(plan.shape, (plan.src_strides,) + tuple(plan.index_strides))
    out = empty_tensor(plan.shape, src._dtype, out_strides)
    plan.run(lib.FT_INDEX_GATHER, out, out._stride, src)
    return out


def index_put_view(dst: Tensor, indices: list, values: Tensor, accumulate: bool) -> None:
    """aten::index_put_(dst, indices, values, accumulate) on dst itself (values already of dst's dtype)."""
    from engine._kernel import lib
    from engine._shape import broadcast_pair, broadcast_strides

    plan = _IndexPlan(dst, indices)
    vshape = values._shape
    while len(vshape) > len(plan.shape) and vshape[0] == 1:  # torch strips leading 1s of the value
        vshape = vshape[1:]
    vstrides = values._stride[len(values._shape) - len(vshape):]
    try:
        ok = broadcast_pair(plan.shape, vshape) == plan.shape
    except RuntimeError:
        ok = False
    if not ok:
        raise RuntimeError(f"shape mismatch: value tensor of shape {_shape_str(values._shape)} cannot be broadcast "
                           f"to indexing result of shape {_shape_str(plan.shape)}")
    if any(st == 0 and n > 1 for n, st in zip(dst._shape, dst._stride)):
        import warnings

        warnings.warn("Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor before "
                      "performing this operation. This also applies to advanced indexing e.g. tensor[indices] = "
                      "tensor", UserWarning, stacklevel=_user_stacklevel())
    plan.run(lib.FT_INDEX_ADD if accumulate else lib.FT_INDEX_ASSIGN, values,
             broadcast_strides(vshape, vstrides, plan.shape), dst)


def _trivial(basic: tuple) -> bool:
    return all(isinstance(i, slice) and i == slice(None) or i is Ellipsis for i in basic)


@op("__getitem__", method="__getitem__", public=False, family="view")
def getitem(self, index):
    """`Tensor.__getitem__`: basic indexing gives a view (recorded by autograd like torch's
    select/slice chain); advanced indexing copies (IndexBackward0)."""
    if _is_advanced(index):
        basic, tensors = split_index(self, index)
        view = self if _trivial(basic) else basic_index(self, basic)
        return index_view(view, expand_indices(view, tensors))
    if not _has_bool(index):
        return basic_index(self, index)
    # a Python bool is advanced indexing in torch (an index tensor [0] or [] on a new dim)
    basic, tensors = split_index(self, index)
    view = basic_index(self, basic)
    return index_view(view, expand_indices(view, tensors))


def _has_bool(index) -> bool:
    if isinstance(index, builtins.bool):
        return True
    return isinstance(index, tuple) and any(isinstance(i, builtins.bool) for i in index)


def _records_autograd(self, value) -> bool:
    from engine.autograd.grad_mode import STATE

    return STATE.enabled and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad))


def _check_value_shape(target, value):
    if isinstance(value, Tensor):
        from engine._shape import broadcast_pair

        if broadcast_pair(target._shape, value._shape) != target._shape:
            raise RuntimeError(
                f"shape mismatch: value tensor of shape [{', '.join(map(str, value._shape))}] cannot be broadcast to "
                f"indexing result of shape [{', '.join(map(str, target._shape))}]"
            )


def indices_by_dim(self: Tensor, indices) -> list:
    """index_put's indices (a tuple of tensors, masks covering their dims) as expand_indices' input."""
    from engine import _dtype as dt

    tensors, dim = {}, 0
    for t in indices:
        if t is None:
            dim += 1
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {len(tensors)} in argument 1, but got {type(t).__name__}")
        if t._dtype not in (dt.int64, dt.int32, dt.bool, dt.uint8):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        tensors[dim] = t
        dim += len(t._shape) if t._dtype in (dt.bool, dt.uint8) else 1
    if dim > len(self._shape):
        raise IndexError(f"too many indices for tensor of dimension {len(self._shape)} (got {dim})")
    return expand_indices(self, tensors)


def _setitem_advanced(self, index, value):
    from engine._iter import scalar_tensor

    basic, tensors = split_index(self, index)
    if isinstance(value, Tensor):
        if value._dtype is not self._dtype:
            raise RuntimeError(
                "Index put requires the source and destination dtypes match, got "
                f"{_dtype_title(self._dtype)} for the destination and {_dtype_title(value._dtype)} for the source.")
    else:
        from engine._ops._elementwise import check_scalar_fits

        check_scalar_fits(value, self._dtype)
        value = scalar_tensor(value, self._dtype)
    if _records_autograd(self, value):
        view = self if _trivial(basic) else getitem(self, basic)
        view._index_put_impl_(tuple(_pending_indices(view, tensors)), value)
        return
    view = self if _trivial(basic) else basic_index(self, basic)
    index_put_view(view, expand_indices(view, tensors), value, False)
    self._bump_version()


def _pending_indices(view, tensors) -> list:
    """tensors by view dim as index_put_'s tuple (None where a dim is not indexed; masks cover their dims)."""
    from engine import _dtype as dt

    out, dim = [], 0
    while dim < len(view._shape):
        t = tensors.get(dim)
        out.append(t)
        dim += len(t._shape) if t is not None and t._dtype in (dt.bool, dt.uint8) and t._shape else 1
    while out and out[-1] is None:
        out.pop()
    return out


_TITLES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
           "float32": "Float", "float64": "Double"}


def _dtype_title(d) -> str:
    return _TITLES[d.name]


@op("__setitem__", method="__setitem__", public=False, family="view")
def setitem(self, index, value):
    if _is_advanced(index):
        return _setitem_advanced(self, index, value)
    if not isinstance(value, Tensor):
        from engine._ops._elementwise import check_scalar_fits

        check_scalar_fits(value, self._dtype)
    target = basic_index(self, index)
    check_no_internal_overlap(target)
    _check_value_shape(target, value)
    if _records_autograd(self, value):
        # The differentiable in-place copy through a recorded view: self's history becomes
        # CopySlices. A bool index makes getitem copy, so it is spelled with None here.
        if target.numel() == 0:
            return
        index = tuple(None if isinstance(i, builtins.bool) else i for i in _normalize(index))
        target = getitem(self, index)
        if isinstance(value, Tensor):
            target.copy_(value)
        else:
            target.fill_(value)
        return
    if isinstance(value, Tensor):
        copy_into(target, value)
    else:
        fill(target, value)
    self._bump_version()
