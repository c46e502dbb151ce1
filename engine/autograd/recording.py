"""Recording ops into the graph.

Every registered op that has a derivative rule (engine/autograd/derivatives.py)
is wrapped once, at registration, by `differentiable`. The wrapper costs one
grad-mode check and a scan of the positional arguments when no input requires
grad; otherwise it runs the forward with recording off (so ops built from
other ops record one node, not many), then records an OpNode whose backward is
the rule. Broadcast reduction and dtype casts of input gradients happen here,
once, so rules only state the math.
"""
from __future__ import annotations

import functools
import inspect

from engine.autograd.grad_mode import STATE
from engine.autograd.graph import Node, SavedScalar, SavedTensor
from engine.autograd.meta import autograd_meta


class Rule:
    """A derivative rule: which arguments are differentiable inputs, what to save,
    the node name(s), and backward(ctx, *grads) -> one gradient per input."""

    __slots__ = ("op", "inputs", "save", "backward", "name", "outputs", "list_input")

    def __init__(self, op, inputs, save, backward, name, outputs=(0,), list_input=False):
        self.op = op
        self.inputs = inputs
        self.save = save
        self.backward = backward
        self.name = name
        self.outputs = outputs
        self.list_input = list_input


class Context:
    """What a rule sees: the op's arguments by name; saved tensors are unpacked
    (and version-checked) on access; unsaved tensor arguments are not visible."""

    __slots__ = ("_values", "_saved", "_node", "_input_names", "input_shapes", "input_dtypes", "needs_input_grad")

    def saved(self, position):
        """Differentiable input `position` (0 = self/input) as saved at forward time
        (a Python scalar argument comes back as it was passed)."""
        name = self._input_names[position]
        saved = self._saved.get(name)
        return saved.unpack(self._node) if saved is not None else self._values[name]

    def arg(self, position):
        """A non-tensor (or unsaved) positional argument's value."""
        return self._values[self._input_names[position]]

    @property
    def result(self):
        return self._saved["result"].unpack(self._node)

    def __getattr__(self, name):
        saved = self._saved.get(name)
        if saved is not None:
            return saved.unpack(self._node)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"derivative context has no argument {name!r}") from None


class OpNode(Node):
    __slots__ = ("rule", "ctx", "_name_str", "_num_outputs")

    def __init__(self, rule, ctx, next_functions, name, num_outputs):
        super().__init__(next_functions)
        self.rule = rule
        self.ctx = ctx
        self._name_str = name
        self._num_outputs = num_outputs

    def name(self):
        return self._name_str

    def backward(self, grads):
        if all(g is None for g in grads):
            return (None,) * len(self.next_functions)
        ctx = self.ctx
        results = self.rule.backward(ctx, *grads) if self._num_outputs > 1 else self.rule.backward(ctx, grads[0])
        if not isinstance(results, tuple):
            results = (results,)
        out = []
        for k, (g, edge) in enumerate(zip(results, self.next_functions)):
            if g is None or edge is None or edge[0] is None:
                out.append(None)
                continue
            out.append(_fit(g, ctx.input_shapes[k], ctx.input_dtypes[k]))
        return tuple(out)


def _fit(grad, shape, dtype):
    """Sum a broadcast gradient back to the input's shape and give it the input's dtype."""
    from engine._tensor import Tensor

    if not isinstance(grad, Tensor):
        return grad
    if grad._shape != shape:
        lead = len(grad._shape) - len(shape)
        dims = list(range(lead))
        for i, size in enumerate(shape):
            if size == 1 and grad._shape[lead + i] != 1:
                dims.append(lead + i)
        if dims:
            grad = grad.sum(dim=tuple(dims), keepdim=True)
        if lead:
            grad = grad.view(shape)
        elif grad._shape != shape:
            grad = grad.reshape(shape)
    if grad._dtype is not dtype and dtype is not None:
        from engine.autograd.derivatives import to_copy

        grad = to_copy(grad, dtype)  # recorded under create_graph, like torch's cast in validate_outputs
    return grad


def _edge(t):
    from engine.autograd.engine import gradient_edge

    return gradient_edge(t)


def _any_requires_grad(args, kwargs):
    from engine._tensor import Tensor

    for a in args:
        if isinstance(a, Tensor):
            if a.requires_grad:
                return True
        elif isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, Tensor) and b.requires_grad:
                    return True
    for a in kwargs.values():
        if isinstance(a, Tensor) and a.requires_grad:
            return True
    return False


def resolve(rule: Rule, signature) -> Rule:
    """Rules name inputs by position (0, 1, ...) so one rule serves functions whose
    parameters are called input/self/other; resolve positions to this function's names."""
    names = [p.name for p in signature.parameters.values()
             if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                           inspect.Parameter.VAR_POSITIONAL)]

    def name_of(key):
        return names[key] if isinstance(key, int) else key

    # save: a tuple (always saved) or {key: input positions whose gradient needs it}, like
    # torch's codegen, which saves a tensor only when an input that needs it requires grad.
    if isinstance(rule.save, dict):
        save = {name_of(k): tuple(v) for k, v in rule.save.items()}
    else:
        save = {name_of(k): None for k in rule.save}
    return Rule(rule.op, tuple(name_of(k) for k in rule.inputs), save,
                rule.backward, rule.name, rule.outputs, rule.list_input)


def _needed(rule, key, needs_input_grad):
    positions = rule.save[key]
    return positions is None or any(needs_input_grad[p] for p in positions if p < len(needs_input_grad))


def differentiable(fn, rule: Rule):
    signature = inspect.signature(fn)
    rule = resolve(rule, signature)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not STATE.enabled or not _any_requires_grad(args, kwargs):
            return fn(*args, **kwargs)
        return _record(fn, rule, signature, args, kwargs)

    wrapper.__wrapped_op__ = fn
    return wrapper


def _bind(signature, args, kwargs):
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    values = dict(bound.arguments)
    for name, param in signature.parameters.items():
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            values[name] = tuple(values.get(name, ()))
        elif param.kind is inspect.Parameter.VAR_KEYWORD:
            values.update(values.pop(name, {}))
    return values


def _record(fn, rule, signature, args, kwargs):
    from engine._tensor import Tensor

    if kwargs.get("out") is not None:
        raise RuntimeError(
            f"{rule.op}(): functions with out=... arguments don't support automatic differentiation, but one of the "
            "arguments requires grad."
        )
    STATE.enabled = False
    try:
        result = fn(*args, **kwargs)
    finally:
        STATE.enabled = True
    values = _bind(signature, args, kwargs)
    outputs = result if isinstance(result, tuple) else (result,)
    differentiable_outputs = [outputs[i] for i in rule.outputs if i < len(outputs)]
    if not any(isinstance(o, Tensor) and o._dtype.is_floating_point for o in differentiable_outputs):
        return result
    if rule.list_input:
        inputs = tuple(values[rule.inputs[0]])
    else:
        inputs = tuple(values.get(name) for name in rule.inputs)
    edges = tuple(_edge(t) if isinstance(t, Tensor) and t.requires_grad else None for t in inputs)
    if not any(edges):
        return result  # only a non-differentiable argument requires grad (x.view_as(y), where(c, 1., 2.))
    ctx = Context()
    ctx._values = values
    ctx._input_names = rule.inputs
    ctx._saved = {}
    ctx.input_shapes = tuple(t._shape if isinstance(t, Tensor) else None for t in inputs)
    ctx.input_dtypes = tuple(t._dtype if isinstance(t, Tensor) else None for t in inputs)
    ctx.needs_input_grad = tuple(e is not None for e in edges)
    name = rule.name(values) if callable(rule.name) else rule.name
    node = OpNode(rule, ctx, edges, name, len(rule.outputs))
    ctx._node = node
    saved = []
    for key in rule.save:
        if not _needed(rule, key, ctx.needs_input_grad):
            continue
        if key == "result":
            s = SavedTensor(outputs[0], is_output=True)
        elif key.startswith("result"):  # "result1": another output, e.g. the indices of max(dim)
            position = int(key[len("result"):])
            if position >= len(outputs):
                continue  # this call has fewer outputs (max() has no indices)
            s = SavedTensor(outputs[position], is_output=True)
        else:
            value = values.get(key)
            if isinstance(value, Tensor):
                s = SavedTensor(value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                s = SavedScalar(value)
            else:
                continue
        ctx._saved[key] = s
        saved.append(s)
    node._saved = tuple(saved)
    for nr, i in enumerate(rule.outputs):
        if i < len(outputs) and isinstance(outputs[i], Tensor) and outputs[i]._dtype.is_floating_point:
            out = outputs[i]
            if any(out is t for t in inputs):
                continue  # the op handed its input back (x.contiguous() on a contiguous x): no new node
            out.grad_fn = node
            out.requires_grad = True
            autograd_meta(out).output_nr = nr
    return result


def differentiable_inplace(fn, rule: Rule):
    """Wrap an in-place method (add_, mul_, ...): the tensor it modifies gets a
    new grad_fn whose inputs are its old history, as torch rebases the graph."""
    signature = inspect.signature(fn)
    rule = resolve(rule, signature)

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        if not STATE.enabled or not (self.requires_grad or _any_requires_grad(args, kwargs)):
            return fn(self, *args, **kwargs)
        return _record_inplace(fn, rule, signature, self, args, kwargs)

    wrapper.__wrapped_op__ = fn
    return wrapper


LEAF_INPLACE_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."


def _record_inplace(fn, rule, signature, self, args, kwargs):
    from engine._tensor import Tensor

    if self.requires_grad and self.grad_fn is None:
        raise RuntimeError(LEAF_INPLACE_ERROR)
    if self._base is not None and self._base.requires_grad and self._base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )
    values = _bind(signature, (self,) + args, kwargs)
    self_name = next(iter(signature.parameters))
    if not self._dtype.is_floating_point:
        return fn(self, *args, **kwargs)
    inputs = tuple(values.get(name) for name in rule.inputs)
    edges = tuple(_edge(t) if isinstance(t, Tensor) and t.requires_grad else None for t in inputs)
    ctx = Context()
    ctx._saved = {}
    ctx._input_names = rule.inputs
    ctx.input_shapes = tuple(t._shape if isinstance(t, Tensor) else None for t in inputs)
    ctx.input_dtypes = tuple(t._dtype if isinstance(t, Tensor) else None for t in inputs)
    ctx.needs_input_grad = tuple(e is not None for e in edges)
    # The rule's "self"/"input" means the value before the write: save a copy of it.
    # Other arguments are saved as they are, so `y.mul_(y)` fails at backward like torch.
    for key in rule.save:
        if not _needed(rule, key, ctx.needs_input_grad):
            continue
        value = values.get(key)
        if key != "result" and isinstance(value, Tensor):
            if key == self_name:
                # Recorded (CloneBackward0), like torch's original_self, so that double
                # backward reaches self's history through the saved value.
                value = self.clone()
                values[key] = value
            ctx._saved[key] = SavedTensor(value)
    STATE.enabled = False
    try:
        fn(self, *args, **kwargs)
    finally:
        STATE.enabled = True
    if "result" in rule.save and _needed(rule, "result", ctx.needs_input_grad):
        ctx._saved["result"] = SavedTensor(self, is_output=True)
    ctx._values = values
    name = rule.name(values) if callable(rule.name) else rule.name
    node = OpNode(rule, ctx, edges, name, 1)
    ctx._node = node
    node._saved = tuple(ctx._saved.values())
    if self._base is not None:
        # A write through a view changes its base too: the base's history becomes
        # CopySlices even when only the written value requires grad (z[0] = v).
        from engine.autograd.views import rebase_view_history

        rebase_view_history(self, node)
    else:
        self.grad_fn = node
        self.requires_grad = True
        autograd_meta(self).output_nr = 0
    return self
