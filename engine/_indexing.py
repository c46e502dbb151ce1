"""Basic indexing: `Tensor.__getitem__` / `__setitem__` with ints, slices (with
step), None, Ellipsis and Python bools. Basic indices always produce views.
Advanced (tensor) indexing is not supported yet and raises IndexError."""
from __future__ import annotations

import builtins

from engine._iter import fill
from engine._registry import op
from engine._tensor import Tensor, check_no_internal_overlap, copy_into, view_of


def _normalize(index):
    if not isinstance(index, tuple):
        index = (index,)
    return index


def _as_int(value):
    if isinstance(value, Tensor):
        if value._dtype.is_floating_point or value.numel() != 1 or value._shape:
            raise IndexError(
                "tensors used as indices must be long, int, byte or bool tensors; advanced indexing is not supported "
                "by the engine yet"
            )
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
            if isinstance(item, (Tensor, list)):
                raise IndexError("advanced indexing with tensors or lists is not supported by the engine yet")
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


@op("__getitem__", method="__getitem__", public=False, family="view")
def getitem(self, index):
    """`Tensor.__getitem__` (basic indexing: a view, recorded by autograd like torch's select/slice chain).
    A Python bool in the index makes it advanced indexing in torch, which copies."""
    if not _has_bool(index):
        return basic_index(self, index)
    # torch copies, into the layout TensorIterator derives from the source, where
    # the bool-made dims are broadcast (stride 0) and so do not order the others.
    from engine._shape import dense_strides_like
    from engine._tensor import copy_into, empty_tensor

    bool_dims = []
    view = basic_index(self, index, bool_dims)
    source_strides = tuple(0 if d in bool_dims else st for d, st in enumerate(view._stride))
    out = empty_tensor(view._shape, view._dtype, dense_strides_like(view._shape, (source_strides,)))
    copy_into(out, view)
    return out


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


@op("__setitem__", method="__setitem__", public=False, family="view")
def setitem(self, index, value):
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
