"""`torch.autograd` for the engine: backward, grad, Function, grad modes.

The graph (graph.py) is built by recording.py as registered ops run; engine.py
runs it backward. Rules live in derivatives.py."""
from __future__ import annotations

import struct

from engine._tensor import Tensor, new_contiguous
from engine.autograd.engine import run_backward
from engine.autograd.function import Function, FunctionCtx  # noqa: F401
from engine.autograd.grad_mode import (  # noqa: F401
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad, set_grad_enabled,
)
from engine.autograd.graph import Node  # noqa: F401


def _make_grads(outputs, grad_outputs):
    grads = []
    for out, g in zip(outputs, grad_outputs):
        if g is None and out._shape == () and out._dtype.is_floating_point:
            g = _scalar_one(out._dtype)  # the common loss.backward(): what ones_like gives, built directly
            grads.append(g)
            continue
        import engine

        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out._dtype.is_floating_point:
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {out._dtype}")
            g = engine.ones_like(out, memory_format=engine.preserve_format)
        elif isinstance(g, engine.Tensor):
            if g._shape != out._shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {g.shape} and output[0] has a shape of {out.shape}.")
        else:
            g = engine.full_like(out, g)
        grads.append(g)
    return grads


def _scalar_one(dtype):
    """A fresh 0-dim tensor holding 1 in a floating dtype."""
    g = new_contiguous((), dtype, dtype.itemsize)
    size = dtype.itemsize
    g._storage._block[0:size] = _ONE_BYTES[size]  # a small block: its cffi array, written in place
    return g


_ONE_BYTES = {4: struct.pack("=f", 1.0), 8: struct.pack("=d", 1.0)}


def _as_tuple(x):
    if x is None:
        return None
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """`torch.autograd.backward`."""
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors) or (None,) * len(tensors)
    if len(grad_tensors) != len(tensors):
        raise RuntimeError(f"got {len(grad_tensors)} tensors and {len(tensors)} gradients")
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(tensors):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    inputs = _as_tuple(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(tensors, _make_grads(tensors, grad_tensors), retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs, accumulate_into_grad=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """`torch.autograd.grad`: gradients of outputs with respect to inputs, without touching .grad."""
    import engine

    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs) or (None,) * len(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    result = run_backward(outputs, _make_grads(outputs, grad_outputs), retain_graph=retain_graph,
                          create_graph=create_graph, inputs=inputs, allow_unused=allow_unused,
                          accumulate_into_grad=False)
    if materialize_grads:
        result = tuple(engine.zeros_like(t) if g is None else g for t, g in zip(inputs, result))
    return result
