"""`torch.autograd.Function`: custom ops with a user-written backward."""
from __future__ import annotations

from engine.autograd.grad_mode import STATE
from engine.autograd.graph import Node, SavedTensor
from engine.autograd.meta import autograd_meta


class FunctionCtx:
    def __init__(self):
        self._saved = ()
        self._node = None
        self.needs_input_grad = ()
        self._dirty = ()
        self._non_differentiable = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    @property
    def saved_tensors(self):
        return tuple(s.unpack(self._node) if s is not None else None for s in self._saved)

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = value


class BackwardCFunction(Node):
    __slots__ = ("function_cls", "ctx", "_class_name", "_num_outputs", "_input_positions", "_output_meta")

    def name(self):
        return self._class_name

    def backward(self, grads):
        import engine

        ctx = self.ctx
        if ctx.materialize_grads:
            grads = tuple(engine.zeros(shape, dtype=dtype) if g is None and shape is not None else g
                          for g, (shape, dtype) in zip(grads, self._output_meta))
        result = self.function_cls.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_args = len(ctx.needs_input_grad)
        if len(result) < n_args:
            raise RuntimeError(
                f"function {self._class_name} returned an incorrect number of gradients (expected {n_args}, "
                f"got {len(result)})")
        if len(result) > n_args:
            extra = result[n_args:]
            if any(g is not None for g in extra):
                raise RuntimeError(
                    f"function {self._class_name} returned an incorrect number of gradients (expected {n_args}, "
                    f"got {len(result)})")
        return tuple(result[i] for i in self._input_positions)


class Function:
    """Subclass with static forward(ctx, *args) and backward(ctx, *grads); call `apply`."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from engine._tensor import Tensor
        from engine.autograd.engine import gradient_edge

        ctx = FunctionCtx()
        tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = STATE.enabled and any(ctx.needs_input_grad)
        # Edges are taken before forward: mark_dirty inputs are rebased afterwards.
        edges = tuple(gradient_edge(args[i]) if args[i].requires_grad else None for i in tensor_positions) if record else ()
        prev = STATE.enabled
        STATE.enabled = False
        try:
            outputs = cls.forward(ctx, *args, **kwargs)
        finally:
            STATE.enabled = prev
        to_save = getattr(ctx, "_to_save", ())
        is_tuple = isinstance(outputs, tuple)
        outs = outputs if is_tuple else (outputs,)
        if not record:
            ctx._saved = tuple(SavedTensor(t) if t is not None else None for t in to_save)
            return outputs
        node = BackwardCFunction(edges)
        node.function_cls = cls
        node.ctx = ctx
        node._class_name = f"{cls.__name__}Backward"
        node._num_outputs = len(outs)
        node._input_positions = tuple(tensor_positions)
        node._output_meta = tuple((o._shape, o._dtype) if isinstance(o, Tensor) else (None, None) for o in outs)
        ctx._node = node
        dirty = {id(t) for t in ctx._dirty}
        for t in ctx._dirty:
            if t.requires_grad and t.grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
            t._bump_version()  # torch bumps a dirty tensor's version, so values saved before the write fail loudly
        non_diff = {id(t) for t in ctx._non_differentiable}
        final = []
        for nr, o in enumerate(outs):
            if not isinstance(o, Tensor):
                final.append(o)
                continue
            if any(o is a for a in args) and id(o) not in dirty:
                o = o.view_as(o)  # torch hands back a view of an input that is returned unchanged
            if id(o) in non_diff or not o._dtype.is_floating_point:
                o.requires_grad = False
            else:
                o.grad_fn = node
                o.requires_grad = True
                autograd_meta(o).output_nr = nr
            final.append(o)
        ctx._saved = tuple(
            (SavedTensor(t, is_output=any(t is o for o in final)) if t is not None else None) for t in to_save)
        node._saved = tuple(s for s in ctx._saved if s is not None)
        return tuple(final) if is_tuple else final[0]


class once_differentiable:  # noqa: N801 - torch's name
    """The backward runs without recording, so its gradients cannot be differentiated again (torch then
    raises when asked to; here they simply do not require grad)."""

    def __new__(cls, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(ctx, *args):
            prev = STATE.enabled
            STATE.enabled = False
            try:
                return fn(ctx, *args)
            finally:
                STATE.enabled = prev

        return wrapper
