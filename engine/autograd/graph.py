"""The autograd graph: nodes (torch's grad_fn objects), saved tensors with
version checks, and AccumulateGrad for leaves.

A node's `apply(grads)` takes the gradients of its outputs and returns the
gradients of its inputs, one per entry of `next_functions`.
"""
from __future__ import annotations

import itertools

from engine._tensor import _InferenceVersionCounter, make_tensor, version_counter


SECOND_BACKWARD_ERROR = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second "
    "time or if you need to access saved tensors after calling backward."
)


class SavedTensor:
    """A tensor saved for backward, with the version it had when saved."""

    __slots__ = ("tensor", "version", "is_output", "_released")

    def __init__(self, tensor, is_output=False):
        if type(tensor._version_counter) is _InferenceVersionCounter:
            raise RuntimeError(
                "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference mode "
                "in computation tracked by autograd. To work around this, you can make a clone to get a normal "
                "tensor and use it in autograd, or use `torch.no_grad()` instead of `torch.inference_mode()`."
            )
        self.tensor = tensor
        vc = tensor._version_counter
        self.version = 0 if vc is None else vc.value
        self.is_output = is_output
        self._released = False

    def unpack(self, node):
        if self._released:
            raise RuntimeError(
                SECOND_BACKWARD_ERROR
            )
        t = self.tensor
        vc = t._version_counter
        if (0 if vc is None else vc.value) != self.version:
            shape = "[" + ", ".join(str(d) for d in t._shape) + "]"
            produced_by = ""
            if self.is_output and node is not None:
                produced_by = f", which is output 0 of {node.name()},"
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"[torch.{_type_name(t)} {shape}]{produced_by} is at version {t._version}; expected "
                f"version {self.version} instead. Hint: enable anomaly detection to find the operation that failed "
                "to compute its gradient, with torch.autograd.set_detect_anomaly(True)."
            )
        return t

    def release(self):
        self._released = True
        self.tensor = None


class SavedOutput(SavedTensor):
    """An output saved by the node that produced it (`exp` saves its result). Holding the
    output itself would close a reference cycle (node -> saved output -> its grad_fn -> node)
    that only the cyclic GC could free, with the output's memory; so, like torch, it keeps
    an alias of the output's memory (sharing its version counter) and, unpacked while grad
    mode is on (create_graph), gives back a tensor whose history is the node again."""

    __slots__ = ("output_nr",)

    def __init__(self, tensor, output_nr=0):
        if type(tensor._version_counter) is _InferenceVersionCounter:
            SavedTensor.__init__(self, tensor)  # raises torch's error
        vc = version_counter(tensor)
        self.tensor = make_tensor(tensor._storage, tensor._shape, tensor._stride, tensor._offset, tensor._dtype,
                                  tensor._base, vc)
        self.version = vc.value
        self.is_output = True
        self._released = False
        self.output_nr = output_nr

    def unpack(self, node):
        t = SavedTensor.unpack(self, node)
        if node is None or not t._dtype.is_floating_point or not _grad_enabled():
            return t
        attached = make_tensor(t._storage, t._shape, t._stride, t._offset, t._dtype, t._base, t._version_counter)
        attached.grad_fn = node
        attached._requires_grad = True
        if self.output_nr:
            from engine.autograd.meta import autograd_meta

            autograd_meta(attached).output_nr = self.output_nr
        return attached


def _grad_enabled() -> bool:
    from engine.autograd.grad_mode import STATE

    return STATE.enabled


class SavedScalar:
    """A Python number an op saved where torch saves a wrapped-number tensor
    (`x * 2` saves 2): like a saved tensor, it is freed after backward, so a
    second backward without retain_graph fails the same way."""

    __slots__ = ("value", "_released")

    def __init__(self, value):
        self.value = value
        self._released = False

    def unpack(self, node):
        if self._released:
            raise RuntimeError(SECOND_BACKWARD_ERROR)
        return self.value

    def release(self):
        self._released = True


def _type_name(t) -> str:
    return {"float32": "FloatTensor", "float64": "DoubleTensor"}.get(t._dtype.name, "Tensor")


# torch numbers nodes in creation order; the engine runs ready nodes highest number first.
_next_sequence_nr = itertools.count(1).__next__


class Node:
    """Base of every grad_fn. Subclasses set `_name` and implement `backward(grads)`."""

    __slots__ = ("next_functions", "_tensor_pre_hooks", "_pre_hooks", "_hooks", "_retained", "_metadata", "_saved",
                 "__weakref__",
                 "_sequence_nr")
    _name = "Node"
    _num_outputs = 1  # subclasses with several outputs keep their own count

    def __init__(self, next_functions=()):
        # torch's next_functions holds (node, slot) pairs, (None, 0) for an input outside the graph.
        self.next_functions = next_functions if None not in next_functions else tuple(
            (None, 0) if edge is None else edge for edge in next_functions)
        self._pre_hooks = None
        self._tensor_pre_hooks = None  # hooks of the tensors this node produces: they run first, like torch's
        self._hooks = None
        self._retained = None  # output slot -> weakref of the tensor whose .grad is retained
        self._metadata = None
        self._saved = ()
        self._sequence_nr = _next_sequence_nr()

    @property
    def metadata(self) -> dict:
        """torch's grad_fn.metadata: a dict for the user, made on first access."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def name(self) -> str:
        return self._name

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    def register_hook(self, hook):
        """hook(grad_inputs, grad_outputs) -> new grad_inputs or None, after the node runs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _RemovableHandle(self._hooks, hook)

    def register_prehook(self, hook):
        """hook(grad_outputs) -> new grad_outputs or None, before the node runs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(hook)
        return _RemovableHandle(self._pre_hooks, hook)

    def release_saved(self):
        for s in self._saved:
            s.release()

    def apply(self, grads):
        return self.backward(grads)

    def __call__(self, *grads):
        return self.apply(grads)


class _RemovableHandle:
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class AccumulateGrad(Node):
    """The sink for a leaf: adds the incoming gradient into leaf.grad."""

    __slots__ = ("variable",)
    _name = "struct torch::autograd::AccumulateGrad"

    def __init__(self, variable):
        super().__init__(())
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def backward(self, grads):
        return ()
