"""Derivative rules of the indexing family (engine/_ops/indexing.py and advanced
`__getitem__`), torch's formulas from tools/autograd/derivatives.yaml and
FunctionsManual.cpp, written with engine ops so they differentiate again."""
from __future__ import annotations

from engine.autograd import derivatives as _d
from engine.autograd.derivatives import _arg, _is_tensor, composite, rule


def _engine():
    import engine

    return engine


def _zeros_of(shape, grad):
    return _engine().zeros(shape, dtype=grad._dtype)


# ---- advanced __getitem__: IndexBackward0 (basic indexing keeps its view rule) ----
_basic_name = _d._getitem_name
_basic_backward = _d._getitem


def _getitem_name(values):
    from engine._indexing import _is_advanced

    if _is_advanced(_arg(values, 1)):
        return "IndexBackward0"
    return _basic_name(values)


@rule("__getitem__", name=_getitem_name)
def _getitem(ctx, grad):
    from engine._indexing import _is_advanced, _pending_indices, _trivial, basic_index, split_index

    index = ctx._values["index"]
    if not _is_advanced(index):
        return _basic_backward(ctx, grad)
    engine = _engine()
    shape = ctx.input_shapes[0]
    probe = engine.empty(shape, dtype=grad._dtype)
    basic, tensors = split_index(probe, index)
    view = probe if _trivial(basic) else basic_index(probe, basic)
    indices = tuple(_pending_indices(view, tensors))
    grad_view = _zeros_of(view._shape, grad)._index_put_impl_(indices, grad, accumulate=True)
    if _trivial(basic):
        return grad_view
    return _d._scatter(grad_view, shape, lambda t: basic_index(t, basic), "IndexBackward0")


# ---- index_select / gather / take ----
@rule("index_select", save=(2,), name="IndexSelectBackward0")
def _index_select(ctx, grad):
    shape = ctx.input_shapes[0]
    if not shape:
        return grad.reshape(())
    return _engine().index_add(_zeros_of(shape, grad), ctx._values["dim"], ctx.index, grad)


@rule("gather", save=(2,), name="GatherBackward0")
def _gather(ctx, grad):
    return _engine().scatter_add(_zeros_of(ctx.input_shapes[0], grad), ctx._values["dim"], ctx.index, grad)


@rule("take", save=(1,), name="TakeBackward0")
def _take(ctx, grad):
    return _engine().put(_zeros_of(ctx.input_shapes[0], grad), ctx.index, grad, accumulate=True)


composite("take_along_dim")  # broadcast_to views then gather: GatherBackward0


# ---- scatter family ----
def _scatter_name(values):
    return "ScatterBackward0" if _is_tensor(_arg(values, 3)) else "ScatterBackward1"


@rule("scatter", inputs=(0, 3), save=(2,), name=_scatter_name)
def _scatter(ctx, grad):
    engine = _engine()
    dim, index = ctx._values["dim"], ctx.index
    self_grad = engine.scatter(grad, dim, index, 0) if ctx.needs_input_grad[0] else None
    src_grad = None
    if len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1]:
        src_grad = engine.gather(grad, dim, index)
    return self_grad, src_grad


@rule("scatter_add", inputs=(0, 3), save=(2,), name="ScatterAddBackward0")
def _scatter_add(ctx, grad):
    src_grad = _engine().gather(grad, ctx._values["dim"], ctx.index) if ctx.needs_input_grad[1] else None
    return grad, src_grad


@rule("scatter_reduce", inputs=(0, 3), save=(0, 2, 3, "result"), name="ScatterReduceBackward0")
def _scatter_reduce(ctx, grad):
    # torch's scatter_reduce_backward
    engine = _engine()
    dim, index = ctx._values["dim"], ctx.index
    reduce, include_self = ctx._values["reduce"], ctx._values.get("include_self", True)
    self_, src, result = ctx.saved(0), ctx.saved(1), ctx.result
    if reduce == "sum":
        grad_self, grad_src = grad, grad.gather(dim, index)
    elif reduce == "mean":
        n = engine.ones_like(grad) if include_self else engine.zeros_like(grad)
        n = n.scatter_add(dim, index, engine.ones_like(src))
        n = n.masked_fill(n == 0, 1)
        grad_self = grad / n
        grad_src = grad.gather(dim, index) / n.gather(dim, index)
    elif reduce == "prod":
        masked_self = self_.masked_fill(self_ == 0, 1)
        masked_self_result = masked_self.scatter_reduce(dim, index, src, reduce, include_self=include_self)
        grad_self = grad * masked_self_result / masked_self
        src_zero = src == 0
        src_num_zeros = engine.zeros_like(self_).scatter_add(dim, index, src_zero.to(self_.dtype)).gather(dim, index)
        src_single_zero = src_zero & (src_num_zeros == 1)
        masked_src = src.masked_fill(src_single_zero, 1)
        masked_src_result = self_.scatter_reduce(dim, index, masked_src, reduce, include_self=include_self)
        grad_src = engine.where(src_single_zero, (grad * masked_src_result).gather(dim, index),
                                (grad * result).gather(dim, index) / src.masked_fill(src_zero, 1))
    else:
        # amax / amin: the gradient is split evenly among the elements equal to the result
        value = result.gather(dim, index)
        self_is_result = (self_ == result).to(self_.dtype)
        src_is_result = (src == value).to(self_.dtype)
        n = self_is_result.scatter_add(dim, index, src_is_result)
        grad_distributed = grad / n
        grad_self = (self_ == result) * grad_distributed
        grad_src = (src == value) * grad_distributed.gather(dim, index)
    if not include_self:
        grad_self = grad_self.scatter(dim, index, 0)
    return grad_self, grad_src


# ---- index_add / index_copy / index_fill / index_put ----
def _source_grad(grad, dim, index, source_shape):
    g = grad.index_select(dim, index) if grad._shape else grad.reshape(-1)
    return g.reshape(source_shape)


@rule("index_add", inputs=(0, 3), save=(2,), name="IndexAddBackward0")
def _index_add(ctx, grad):
    src_grad = None
    if ctx.needs_input_grad[1]:
        src_grad = _source_grad(grad, ctx._values["dim"], ctx.index, ctx.input_shapes[1])
        alpha = ctx._values.get("alpha", 1)
        if alpha != 1:
            src_grad = src_grad * alpha
    return grad, src_grad


@rule("index_copy", inputs=(0, 3), save=(2,), name="IndexCopyBackward0")
def _index_copy(ctx, grad):
    dim, index = ctx._values["dim"], ctx.index
    self_grad = grad.index_fill(dim, index, 0) if ctx.needs_input_grad[0] else None
    src_grad = _source_grad(grad, dim, index, ctx.input_shapes[1]) if ctx.needs_input_grad[1] else None
    return self_grad, src_grad


def _index_fill_name(values):
    return "IndexFillBackward1" if _is_tensor(_arg(values, 3)) else "IndexFillBackward0"


@rule("index_fill", inputs=(0, 3), save=(2,), name=_index_fill_name)
def _index_fill(ctx, grad):
    dim, index = ctx._values["dim"], ctx.index
    self_grad = grad.index_fill(dim, index, 0) if ctx.needs_input_grad[0] else None
    value_grad = None
    if len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1]:
        unique = sorted(set(int(i) for i in index.reshape(-1).tolist()))
        size = grad._shape[dim] if grad._shape else 1
        unique = _engine().tensor(sorted(set(i % size for i in unique)), dtype=index.dtype)
        value_grad = (grad.index_select(dim, unique) if grad._shape else grad).sum()
    return self_grad, value_grad


@rule("index_put", inputs=(0, 2), save=(1,), name="IndexPutBackward0")
def _index_put(ctx, grad):
    engine = _engine()
    indices = ctx._values["indices"]
    accumulate = ctx._values.get("accumulate", False)
    self_grad = None
    if ctx.needs_input_grad[0]:
        if accumulate:
            self_grad = grad
        else:
            self_grad = grad.clone()._index_put_impl_(indices, engine.zeros((), dtype=grad._dtype), False)
    values_grad = None
    if ctx.needs_input_grad[1]:
        values_grad = _index_of(grad, indices)
    return self_grad, values_grad


# Tensor._index_put_impl_ (index_put_ taking None for dims not indexed; __setitem__ uses it) records the same node
_d.INPLACE_RULES["_index_put_impl_"] = _d.RULES["index_put"]


def _index_of(t, indices):
    """aten::index(t, indices) for index_put's indices tuple (None: a full slice)."""
    from engine._indexing import index_view, indices_by_dim

    if t.requires_grad:
        return t[tuple(slice(None) if i is None else i for i in indices)]
    return index_view(t, indices_by_dim(t, indices))


# ---- masked ----
def _masked_fill_name(values):
    return "MaskedFillBackward1" if _is_tensor(_arg(values, 2)) else "MaskedFillBackward0"


@rule("masked_fill", inputs=(0, 2), save=(1,), name=_masked_fill_name)
def _masked_fill(ctx, grad):
    mask = ctx.mask
    self_grad = grad.masked_fill(mask, 0) if ctx.needs_input_grad[0] else None
    value_grad = None
    if len(ctx.needs_input_grad) > 1 and ctx.needs_input_grad[1]:
        value_grad = grad.masked_select(mask).sum()
    return self_grad, value_grad


@rule("masked_select", save=(1,), name="MaskedSelectBackward0")
def _masked_select(ctx, grad):
    from engine._shape import broadcast_shapes

    mask = ctx.mask
    shape = broadcast_shapes(ctx.input_shapes[0], mask._shape)
    return _engine().zeros(shape, dtype=grad._dtype).masked_scatter(mask, grad)


@rule("masked_scatter", inputs=(0, 2), save=(1,), name="MaskedScatterBackward0")
def _masked_scatter(ctx, grad):
    engine = _engine()
    mask = ctx.mask
    self_grad = grad.masked_fill(mask, 0) if ctx.needs_input_grad[0] else None
    src_grad = None
    if ctx.needs_input_grad[1]:
        source_shape = ctx.input_shapes[1]
        n = 1
        for s in source_shape:
            n *= s
        selected = grad.masked_select(mask)
        pad = n - selected.numel()
        if pad:
            selected = engine.cat([selected, engine.zeros(pad, dtype=grad._dtype)]) if hasattr(engine, "cat") else \
                engine.zeros(n, dtype=grad._dtype).index_add(0, engine.arange(selected.numel()), selected)
        src_grad = selected.reshape(source_shape)
    return self_grad, src_grad


# ---- put ----
@rule("put", inputs=(0, 2), save=(1,), name="PutBackward0")
def _put(ctx, grad):
    engine = _engine()
    index = ctx.index
    accumulate = ctx._values.get("accumulate", False)
    self_grad = None
    if ctx.needs_input_grad[0]:
        self_grad = grad if accumulate else grad.put(index, engine.zeros(ctx.input_shapes[1], dtype=grad._dtype))
    src_grad = grad.take(index).reshape(ctx.input_shapes[1]) if ctx.needs_input_grad[1] else None
    return self_grad, src_grad


@rule("index_reduce", inputs=(0, 3), save=(0, 2, 3, "result"), name="IndexReduceBackward0")
def _index_reduce(ctx, grad):
    # torch's index_reduce_backward
    engine = _engine()
    dim, index = ctx._values["dim"], ctx.index
    reduce, include_self = ctx._values["reduce"], ctx._values.get("include_self", True)
    self_, source, result = ctx.saved(0), ctx.saved(1), ctx.result
    if reduce == "prod":
        masked_self = self_.masked_fill(self_ == 0, 1)
        masked_self_result = masked_self.index_reduce(dim, index, source, reduce, include_self=include_self)
        grad_self = grad * masked_self_result / masked_self
        src_zero = source == 0
        src_num_zeros = engine.zeros_like(self_).index_add(dim, index, src_zero.to(self_.dtype)).index_select(dim, index)
        src_single_zero = src_zero & (src_num_zeros == 1)
        masked_src = source.masked_fill(src_single_zero, 1)
        masked_src_result = self_.index_reduce(dim, index, masked_src, reduce, include_self=include_self)
        grad_src = engine.where(src_single_zero, (grad * masked_src_result).index_select(dim, index),
                                (grad * result).index_select(dim, index) / source.masked_fill(src_zero, 1))
    elif reduce == "mean":
        n = engine.ones_like(grad) if include_self else engine.zeros_like(grad)
        n = n.index_add(dim, index, engine.ones_like(source))
        n = n.masked_fill(n == 0, 1)
        grad_self = grad / n
        grad_src = grad.index_select(dim, index) / n.index_select(dim, index)
    else:
        value = result.index_select(dim, index)
        self_is_result = (self_ == result).to(self_.dtype)
        source_is_result = (source == value).to(self_.dtype)
        n = self_is_result.index_add(dim, index, source_is_result)
        grad_distributed = grad / n
        grad_self = self_is_result * grad_distributed
        grad_src = source_is_result * grad_distributed.index_select(dim, index)
    if not include_self:
        grad_self = grad_self.index_fill(dim, index, 0)
    return grad_self, grad_src
