"""In-place writes through views (torch's CopySlices).

After `v.op_()` where v is a view of base, the base's history becomes a
CopySlices node: its gradient is the incoming one, except in v's region,
where it is what op's backward gives for v's old value. The view itself then
reads its history from the base through an as_strided node."""
from __future__ import annotations

from engine.autograd.graph import Node
from engine.autograd.meta import autograd_meta


class CopySlices(Node):
    __slots__ = ("geometry", "op_node", "base_shape", "base_dtype")
    _name = "torch::autograd::CopySlices"

    def __init__(self, base_edge, op_node, geometry, base_shape, base_dtype):
        super().__init__((base_edge,) + tuple(op_node.next_functions[1:]))
        self.op_node = op_node
        self.geometry = geometry
        self.base_shape = base_shape
        self.base_dtype = base_dtype

    def backward(self, grads):
        grad = grads[0]
        if grad is None:
            return (None,) * len(self.next_functions)
        size, stride, offset = self.geometry
        result = grad.clone(memory_format=_contiguous())
        region = result.as_strided(size, stride, offset)
        op_grads = self.op_node.apply((region.clone(),))
        if op_grads[0] is None:
            region.zero_()
        else:
            region.copy_(op_grads[0])
        return (result,) + tuple(op_grads[1:])

    def release_saved(self):
        self.op_node.release_saved()


class ViewOfBase(Node):
    """The history of a view after an in-place write through it: its base's history, strided."""

    __slots__ = ("geometry", "base_shape", "base_dtype")
    _name = "AsStridedBackward0"

    def __init__(self, base_edge, geometry, base_shape, base_dtype):
        super().__init__((base_edge,))
        self.geometry = geometry
        self.base_shape = base_shape
        self.base_dtype = base_dtype

    def backward(self, grads):
        import engine

        grad = grads[0]
        if grad is None:
            return (None,)
        size, stride, offset = self.geometry
        result = engine.zeros(self.base_shape, dtype=self.base_dtype)
        region = result.as_strided(size, stride, offset)
        region.add_(grad)
        return (result,)


def _contiguous():
    from engine._memory_format import contiguous_format

    return contiguous_format


def rebase_view_history(view, op_node):
    """Make op_node's write through `view` part of its base's history."""
    from engine.autograd.engine import gradient_edge

    base = view._base
    # Geometry of the view inside a contiguous gradient of the base.
    if base._stride != _contiguous_strides(base._shape) or base._offset != 0:
        raise RuntimeError(
            "in-place operations on views of non-contiguous bases are not supported by the engine's autograd yet"
        )
    geometry = (view._shape, view._stride, view._offset - base._offset)
    base_edge = gradient_edge(base) if base.requires_grad else None
    copy_slices = CopySlices(base_edge, op_node, geometry, base._shape, base._dtype)
    copy_slices._saved = ()
    base.grad_fn = copy_slices
    base.requires_grad = True
    autograd_meta(base).output_nr = 0
    view.grad_fn = ViewOfBase((copy_slices, 0), geometry, base._shape, base._dtype)
    view.requires_grad = True
    autograd_meta(view).output_nr = 0


def _contiguous_strides(shape):
    from engine._shape import contiguous_strides

    return contiguous_strides(shape)
