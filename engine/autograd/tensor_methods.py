"""Tensor's autograd methods: backward, register_hook, retain_grad, detach_."""
from __future__ import annotations

from engine._registry import tensor_method
from engine.autograd import _scalar_one
from engine.autograd import backward as _autograd_backward
from engine.autograd.engine import run_backward
from engine.autograd.meta import autograd_meta


@tensor_method("backward")
def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """`torch.Tensor.backward`."""
    if gradient is None and inputs is None and self._requires_grad and self._shape == () and \
            self._dtype.is_floating_point:
        # loss.backward(): what autograd.backward does for it, without its argument handling
        run_backward((self,), [_scalar_one(self._dtype)], create_graph=create_graph,
                     retain_graph=create_graph if retain_graph is None else retain_graph, accumulate_into_grad=True)
        return
    _autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)


@tensor_method("register_hook")
def register_hook(self, hook):
    """hook(grad) -> new grad or None, called when this tensor's gradient is computed."""
    if not self.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is None:
        meta = autograd_meta(self)
        if meta.leaf_hooks is None:
            meta.leaf_hooks = []
        meta.leaf_hooks.append(hook)
        return _ListHandle(meta.leaf_hooks, hook)
    slot = self._autograd.output_nr if self._autograd is not None else 0

    def prehook(grads):
        g = grads[slot]
        if g is None:
            return None
        new = hook(g)
        if new is None:
            return None
        grads = list(grads)
        grads[slot] = new
        return tuple(grads)

    node = self.grad_fn
    if node._tensor_pre_hooks is None:
        node._tensor_pre_hooks = []
    node._tensor_pre_hooks.append(prehook)
    return _ListHandle(node._tensor_pre_hooks, prehook)


class _ListHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


@tensor_method("retain_grad")
def retain_grad(self):
    """Keep .grad for a non-leaf tensor (a no-op on leaves)."""
    if not self.requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    if self.grad_fn is None:
        return
    meta = autograd_meta(self)
    if meta.retains_grad:
        return
    meta.retains_grad = True
    # The engine fills .grad after this node's tensor hooks ran, as torch does.
    import weakref

    node = self.grad_fn
    if node._retained is None:
        node._retained = {}
    node._retained[meta.output_nr] = weakref.ref(self)


def _retains_grad(self):
    return self._autograd is not None and self._autograd.retains_grad


@tensor_method("detach_")
def detach_(self):
    self.grad_fn = None
    self._requires_grad = False
    return self


@tensor_method("register_post_accumulate_grad_hook")
def register_post_accumulate_grad_hook(self, hook):
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    meta = autograd_meta(self)
    if meta.post_accumulate_hooks is None:
        meta.post_accumulate_hooks = []
    meta.post_accumulate_hooks.append(hook)
    return _ListHandle(meta.post_accumulate_hooks, hook)


def install(tensor_cls):
    tensor_cls.retains_grad = property(_retains_grad)
