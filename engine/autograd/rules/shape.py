"""Derivative rules of the shape and join family (engine/_ops/shape.py), with
torch's node names and formulas (tools/autograd/derivatives.yaml): a join's
gradient is the matching slice of the output gradient, a split's is the join
of its outputs' gradients (zeros for outputs that got none), a reordering's
is the inverse reordering."""
from __future__ import annotations

from engine.autograd.derivatives import _scatter, _view_backward, composite, rule
from engine.autograd.recording import Rule


def _engine():
    import engine

    return engine


def _wrap(dim, ndim):
    from engine._shape import wrap_dim

    return wrap_dim(dim, ndim)


# ---- joins ----
@rule("cat", list_input=True, name="CatBackward0")
def _cat(ctx, grad):
    from engine._ops.shape import _is_legacy_shape

    shapes = ctx.input_shapes
    d = _wrap(ctx._values["dim"], len(grad._shape))
    grads, offset = [], 0
    for shape in shapes:
        if _is_legacy_shape(shape):
            grads.append(None)
            continue
        grads.append(grad.narrow(d, offset, shape[d]))
        offset += shape[d]
    return tuple(grads)


@rule("stack", list_input=True, name="StackBackward0")
def _stack(ctx, grad):
    d = _wrap(ctx._values["dim"], len(grad._shape))
    return tuple(grad.select(d, i) for i in range(len(ctx.input_shapes)))


# ---- splits ----
def _split_name(values):
    sections = values["split_size_or_sections"]
    return "SplitWithSizesBackward0" if isinstance(sections, (list, tuple)) else "SplitBackward0"


def _join_grads(ctx, grads, d, pieces_shape):
    """The output gradients joined along d, zeros where an output got none."""
    engine = _engine()
    dtype = ctx.input_dtypes[0]
    filled = [g if g is not None else engine.zeros(shape, dtype=dtype) for g, shape in zip(grads, pieces_shape)]
    return engine.cat(filled, d)


def _pieces(shape, d, sizes):
    return [shape[:d] + (s,) + shape[d + 1:] for s in sizes]


@rule("split", name=_split_name, outputs=None)
def _split(ctx, *grads):
    from engine._ops.shape import _split_sizes

    shape = ctx.input_shapes[0]
    d = _wrap(ctx._values["dim"], len(shape))
    sections = ctx._values["split_size_or_sections"]
    sizes = list(sections) if isinstance(sections, (list, tuple)) else _split_sizes(shape[d], int(sections))
    return _join_grads(ctx, grads, d, _pieces(shape, d, sizes))


@rule("split_with_sizes", name="SplitWithSizesBackward0", outputs=None)
def _split_with_sizes(ctx, *grads):
    shape = ctx.input_shapes[0]
    d = _wrap(ctx._values["dim"], len(shape))
    return _join_grads(ctx, grads, d, _pieces(shape, d, list(ctx._values["split_sizes"])))


@rule("unsafe_split", name="UnsafeSplitBackward0", outputs=None)
def _unsafe_split(ctx, *grads):
    from engine._ops.shape import _split_sizes

    shape = ctx.input_shapes[0]
    d = _wrap(ctx._values["dim"], len(shape))
    return _join_grads(ctx, grads, d, _pieces(shape, d, _split_sizes(shape[d], int(ctx._values["split_size"]))))


@rule("unsafe_split_with_sizes", name="UnsafeSplitWithSizesBackward0", outputs=None)
def _unsafe_split_with_sizes(ctx, *grads):
    shape = ctx.input_shapes[0]
    d = _wrap(ctx._values["dim"], len(shape))
    return _join_grads(ctx, grads, d, _pieces(shape, d, list(ctx._values["split_sizes"])))


@rule("unbind", name="UnbindBackward0", outputs=None)
def _unbind(ctx, *grads):
    engine = _engine()
    shape = ctx.input_shapes[0]
    d = _wrap(ctx._values["dim"], len(shape))
    piece = shape[:d] + shape[d + 1:]
    dtype = ctx.input_dtypes[0]
    return engine.stack([g if g is not None else engine.zeros(piece, dtype=dtype) for g in grads], d)


# ---- reorderings ----
@rule("flip", name="FlipBackward0")
def _flip(ctx, grad):
    from engine._ops.shape import flip_dims_arg

    return grad.flip(flip_dims_arg(ctx._values["dims_args"], ctx._values["dims"]))


@rule("roll", name="RollBackward0")
def _roll(ctx, grad):
    from engine._ops.shape import _int_list

    shifts = _int_list("roll", "shifts", ctx._values["shifts"])
    dims = ctx._values["dims"]
    dims = () if dims is None else _int_list("roll", "dims", dims)
    return grad.roll(tuple(-s for s in shifts), dims)


@rule("rot90", name="Rot90Backward0")
def _rot90(ctx, grad):
    return grad.rot90(-ctx._values["k"], tuple(ctx._values["dims"]))


@rule("repeat", name="RepeatBackward0")
def _repeat(ctx, grad):
    repeats = ctx._values["repeats"]
    if len(repeats) == 1 and isinstance(repeats[0], (list, tuple)):
        repeats = tuple(repeats[0])
    shape = ctx.input_shapes[0]
    padded = (1,) * (len(repeats) - len(shape)) + tuple(shape)
    if not repeats:
        return grad
    pairs = tuple(x for r, s in zip(repeats, padded) for x in (r, s))
    return grad.reshape(pairs).sum(dim=tuple(range(0, len(pairs), 2)))  # the recorder drops the padding dims


@rule("tril", name="TrilBackward0")
def _tril(ctx, grad):
    return grad.tril(ctx._values["diagonal"])


@rule("triu", name="TriuBackward0")
def _triu(ctx, grad):
    return grad.triu(ctx._values["diagonal"])


# ---- diagonals and scatters ----
@rule("diag_embed", name="DiagEmbedBackward0")
def _diag_embed(ctx, grad):
    return grad.diagonal(ctx._values["offset"], ctx._values["dim1"], ctx._values["dim2"])


def _diagonal_copy_backward(ctx, grad):
    offset = ctx._values["offset"]
    return _scatter(grad, ctx.input_shapes[0], lambda t: t.diagonal(offset, 0, 1), "DiagonalBackwardBackward0")


# torch.diag of a matrix is diagonal_copy: its node carries the _copy suffix
DIAGONAL_COPY_RULE = Rule("diag", (0,), (), _diagonal_copy_backward, "DiagonalBackward0_copy")


def _index_select_backward(ctx, grad):
    """Each input row's gradient is the sum of the rows it was copied to; repeat_interleave's
    index is non-decreasing, so those rows are one run."""
    engine = _engine()
    d, index = ctx._values["d"], ctx._values["index"]
    size = ctx.input_shapes[0][d]
    rows, position = [], 0
    for i in range(size):
        count = 0
        while position + count < len(index) and index[position + count] == i:
            count += 1
        rows.append(grad.narrow(d, position, count).sum(dim=d, keepdim=True))
        position += count
    if not rows:
        return engine.zeros(ctx.input_shapes[0], dtype=grad._dtype)
    return engine.cat(rows, d)


# repeat_interleave with tensor repeats is index_select in torch
INDEX_SELECT_RULE = Rule("repeat_interleave", (0,), (), _index_select_backward, "IndexSelectBackward0")


@rule("diagonal_scatter", inputs=(0, 1), name="DiagonalScatterBackward0")
def _diagonal_scatter(ctx, grad):
    offset, dim1, dim2 = ctx._values["offset"], ctx._values["dim1"], ctx._values["dim2"]
    engine = _engine()
    src_shape = ctx.input_shapes[1]
    grad_input = grad.diagonal_scatter(engine.zeros(src_shape, dtype=grad._dtype), offset, dim1, dim2) \
        if ctx.needs_input_grad[0] else None
    grad_src = grad.diagonal(offset, dim1, dim2) if ctx.needs_input_grad[1] else None
    return grad_input, grad_src


@rule("select_scatter", inputs=(0, 1), name="SelectScatterBackward0")
def _select_scatter(ctx, grad):
    dim, index = ctx._values["dim"], ctx._values["index"]
    engine = _engine()
    grad_input = grad.select_scatter(engine.zeros(ctx.input_shapes[1], dtype=grad._dtype), dim, index) \
        if ctx.needs_input_grad[0] else None
    grad_src = grad.select(dim, index) if ctx.needs_input_grad[1] else None
    return grad_input, grad_src


@rule("slice_scatter", inputs=(0, 1), name="SliceScatterBackward0")
def _slice_scatter(ctx, grad):
    dim, start, end, step = ctx._values["dim"], ctx._values["start"], ctx._values["end"], ctx._values["step"]
    engine = _engine()
    grad_input = grad.slice_scatter(engine.zeros(ctx.input_shapes[1], dtype=grad._dtype), dim, start, end, step) \
        if ctx.needs_input_grad[0] else None
    grad_src = None
    if ctx.needs_input_grad[1]:
        index = [slice(None)] * len(grad._shape)
        index[_wrap(dim, len(grad._shape))] = slice(start, end, step)
        grad_src = grad[tuple(index)]
    return grad_input, grad_src


@rule("narrow_copy", name="NarrowCopyBackward0")
def _narrow_copy(ctx, grad):
    dim, start, length = ctx._values["dim"], ctx._values["start"], ctx._values["length"]
    return _view_backward(ctx, grad, lambda t: t.narrow(dim, start, length))


# ---- composites: differentiable through the ops they call, as in torch ----
composite(
    "concat", "concatenate",                    # cat
    "hstack", "vstack", "dstack", "column_stack",  # atleast_Nd / reshape, then cat
    "atleast_1d", "atleast_2d", "atleast_3d",   # reshape or unsqueeze, or the input itself
    "chunk",                                    # split (split_with_sizes for empty dims)
    "tensor_split",                             # slices: SliceBackward0
    "hsplit", "vsplit", "dsplit",               # tensor_split
    "unsafe_chunk",                             # unsafe_split (unsafe_split_with_sizes for empty dims)
    "fliplr", "flipud",                         # flip
    "tile",                                     # repeat
    "repeat_interleave",                        # unsqueeze/expand/clone/flatten, or index_select
    "diag",                                     # diag_embed, or diagonal_copy
    "diagflat",                                 # view, then diag_embed
    "meshgrid", "broadcast_tensors",            # view and expand
    "ravel",                                    # contiguous, then view
    "swapaxes", "swapdims", "moveaxis",         # transpose / movedim
)
