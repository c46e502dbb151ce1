"""Shape and stride arithmetic with torch's exact results: contiguity, broadcasting,
view stride computation, dim wrapping and TensorIterator's output layout.

Pure functions of tuples, cached where the hot path calls them.
"""
from __future__ import annotations

from functools import lru_cache

# Operations on Python ints can grow without bound; storage offsets in the C half are int64.
INT64_MAX = (1 << 63) - 1


@lru_cache(maxsize=4096)
def contiguous_strides(shape: tuple) -> tuple:
    strides = []
    running = 1
    for size in reversed(shape):
        strides.append(running)
        running *= size if size > 1 else 1
    return tuple(reversed(strides))


@lru_cache(maxsize=4096)
def numel(shape: tuple) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


@lru_cache(maxsize=4096)
def is_contiguous(shape: tuple, strides: tuple) -> bool:
    """torch's definition: size-1 dims don't matter, and empty tensors are contiguous."""
    if 0 in shape:
        return True
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides)):
        if size == 0:
            return True
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


@lru_cache(maxsize=4096)
def is_non_overlapping_and_dense(shape: tuple, strides: tuple) -> bool:
    ndim = len(shape)
    if ndim == 1:
        return shape[0] < 2 or strides[0] == 1
    # torch sorts dims by stride with dims of size < 2 last, and stops at the first of those
    order = sorted(range(ndim), key=lambda d: (shape[d] < 2, strides[d]))
    expected = 1
    for d in order:
        size = shape[d]
        if size < 2:
            return True
        if strides[d] != expected:
            return False
        expected *= size
    return True


def size_args(size, what: str) -> tuple:
    """torch's IntArrayRef arguments: f(2, 3), f((2, 3)), f([2, 3]), f(torch.Size) and
    0-dim integer tensors as sizes; anything else is torch's TypeError."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for s in size:
        if getattr(s, "_dtype", None) is not None:
            s = s.__index__()
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"{what} must be tuple of ints, but found element of type {type(s).__name__}")
        out.append(int(s))
    return tuple(out)


def _format_shape(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


@lru_cache(maxsize=4096)
def broadcast_pair(a: tuple, b: tuple) -> tuple:
    if a == b:
        return a
    n = max(len(a), len(b))
    out = []
    for i in range(n):
        da = a[len(a) - n + i] if len(a) - n + i >= 0 else 1
        db = b[len(b) - n + i] if len(b) - n + i >= 0 else 1
        if da == db or db == 1:
            out.append(da)
        elif da == 1:
            out.append(db)
        else:
            raise RuntimeError(
                f"The size of tensor a ({da}) must match the size of tensor b ({db}) at non-singleton dimension {i}"
            )
    return tuple(out)


def broadcast_shapes(*shapes) -> tuple:
    result = ()
    for s in shapes:
        result = broadcast_pair(result, tuple(s))
    return result


@lru_cache(maxsize=8192)
def broadcast_strides(shape: tuple, strides: tuple, out_shape: tuple) -> tuple:
    """Strides of a tensor expanded to out_shape: new and broadcast dims get stride 0."""
    pad = len(out_shape) - len(shape)
    result = [0] * pad
    for i, (size, stride) in enumerate(zip(shape, strides)):
        result.append(0 if size == 1 and out_shape[pad + i] != 1 else stride)
    return tuple(result)


def wrap_dim(dim: int, ndim: int) -> int:
    """torch's maybe_wrap_dim: a 0-dim tensor accepts dims -1 and 0."""
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, not {type(dim).__name__}")
    rank = ndim if ndim > 0 else 1
    if dim < -rank or dim >= rank:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})")
    return dim + rank if dim < 0 else dim


def infer_size(shape, total: int) -> tuple:
    """Resolve one -1 in a view/reshape shape against the element count."""
    infer_at = None
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer_at is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer_at = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        else:
            known *= s
    if infer_at is None:
        if known != total:
            raise RuntimeError(f"shape '{_format_shape(shape)}' is invalid for input of size {total}")
        return tuple(shape)
    if known == 0 or total % known != 0:
        if known == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {_format_shape(shape)} because the unspecified "
                "dimension size -1 can be any value and is ambiguous"
            )
        raise RuntimeError(f"shape '{_format_shape(shape)}' is invalid for input of size {total}")
    out = list(shape)
    out[infer_at] = total // known
    return tuple(out)


@lru_cache(maxsize=4096)
def view_strides(old_shape: tuple, old_strides: tuple, new_shape: tuple):
    """torch's computeStride: strides that let new_shape view the old memory, or None."""
    if len(old_shape) == 0:
        return tuple(1 for _ in new_shape)
    total = numel(old_shape)
    if total == 0:
        if old_shape == new_shape:
            return old_strides
        return contiguous_strides(new_shape)
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_d]
        if tensor_d == 0 or (
            old_shape[tensor_d - 1] != 1 and old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride
        ):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = old_strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    if view_d != -1:
        return None
    return tuple(new_strides)


def is_channels_last_contiguous(shape: tuple, strides: tuple) -> bool:
    if len(shape) != 4:
        return False
    expected = 1
    for d in (1, 3, 2, 0):
        if shape[d] != 1:
            if strides[d] != expected:
                return False
            expected *= shape[d]
    return True


def channels_last_strides(shape: tuple) -> tuple:
    n, c, h, w = shape
    s1 = 1
    s3 = max(c, 1)
    s2 = s3 * max(w, 1)
    s0 = s2 * max(h, 1)
    return (s0, s1, s2, s3)


@lru_cache(maxsize=8192)
def elementwise_output_strides(shape: tuple, operands: tuple) -> tuple:
    """Strides TensorIterator gives a freshly allocated output.

    operands: (shape, strides) of each input, unbroadcast. When all share the
    output's shape, torch's fast setups apply (all contiguous -> contiguous,
    all channels-last -> channels-last, all the same dense strides -> those
    strides). Otherwise dims are ordered like the inputs' memory layout
    (broadcast dims ignored, ties broken by size) and packed densely."""
    ndim = len(shape)
    if all(s == shape for s, _ in operands):
        if all(is_contiguous(s, st) for s, st in operands):
            return contiguous_strides(shape)
        if ndim == 4 and all(is_channels_last_contiguous(s, st) for s, st in operands):
            return channels_last_strides(shape)
        first = operands[0][1]
        if all(is_non_overlapping_and_dense(s, st) for s, st in operands) and all(st == first for _, st in operands):
            return first
    if ndim <= 1:
        return contiguous_strides(shape)
    return dense_strides_like(shape, tuple(broadcast_strides(s, st, shape) for s, st in operands))


def _layout_order(shape: tuple, operand_strides: tuple) -> list:
    """The operands' dim order, innermost first, as TensorIterator::reorder_dimensions sorts it."""
    ndim = len(shape)
    perm = list(range(ndim - 1, -1, -1))

    def should_swap(dim0, dim1):
        for strides in operand_strides:
            s0, s1 = strides[dim0], strides[dim1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 < s1:
                return -1
            if s0 > s1:
                return 1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0

    for i in range(1, ndim):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            c = should_swap(perm[dim0], perm[dim1])
            if c > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif c < 0:
                break
    return perm


def _dense_in_order(shape: tuple, perm: list) -> tuple:
    strides = [0] * len(shape)
    running = 1
    for d in perm:
        strides[d] = running
        running *= shape[d]
    return tuple(strides)


@lru_cache(maxsize=8192)
def dense_strides_like(shape: tuple, operand_strides: tuple) -> tuple:
    """Dense strides whose dim order follows the operands' memory layout."""
    return _dense_in_order(shape, _layout_order(shape, operand_strides))


def iterator_output_strides(shape: tuple, operand_strides: tuple) -> tuple:
    """The strides TensorIterator gives a new output: contiguous (at::empty) when the operands'
    layout keeps the natural dim order, else dense in their order (zero-size dims give 0 strides)."""
    perm = _layout_order(shape, operand_strides)
    if perm == list(range(len(shape) - 1, -1, -1)):
        return contiguous_strides(shape)
    return _dense_in_order(shape, perm)


def preserve_format_strides(shape: tuple, strides: tuple) -> tuple:
    """Strides of clone/empty_like(x, memory_format=preserve_format): x's own strides when it
    is non-overlapping and dense, else the layout TensorIterator derives from x."""
    if is_non_overlapping_and_dense(shape, strides):
        return strides
    return elementwise_output_strides(shape, ((shape, strides),))
