"""Per-tensor autograd facts, created only for tensors that take part in a graph,
so tensors outside autograd pay one None slot."""
from __future__ import annotations


class AutogradMeta:
    __slots__ = ("output_nr", "grad_accumulator", "retains_grad", "leaf_hooks", "post_accumulate_hooks")

    def __init__(self):
        self.output_nr = 0
        self.grad_accumulator = None
        self.retains_grad = False
        self.leaf_hooks = None
        self.post_accumulate_hooks = None


def autograd_meta(t) -> AutogradMeta:
    meta = t._autograd
    if meta is None:
        meta = t._autograd = AutogradMeta()
    return meta
