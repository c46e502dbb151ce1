"""Recording ops into the graph.

Every registered op that has a derivative rule (engine/autograd/derivatives.py)
is wrapped once, at registration, by `differentiable`. The wrapper costs one
grad-mode check and a scan of the positional arguments when no input requires
grad; otherwise it runs the forward with recording off (so ops built from
other ops record one node, not many), then records an OpNode whose backward is
the rule. Broadcast reduction and dtype casts of input gradients happen here,
once, so rules only state the math.

What a recording needs that does not depend on the call (how arguments bind to
parameter names, what to save, the node name) is planned once per op at wrap
time (`binder`, `_RecordPlan`); the wrapper's `__record__` records a call the
op's fast path already computed (engine/_ops/_fast.py).
"""
from __future__ import annotations

import functools
import inspect

from engine._tensor import Tensor
from engine.autograd.engine import gradient_edge
from engine.autograd.grad_mode import STATE
from engine.autograd.graph import Node, SavedOutput, SavedScalar, SavedTensor
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

    __slots__ = ("_bound", "_call", "_saved", "_node", "_input_names", "input_shapes", "input_dtypes",
                 "needs_input_grad")

    @property
    def _values(self) -> dict:
        """The call's arguments by parameter name, bound when a rule first asks."""
        values = self._bound
        if values is None:
            bind, args, kwargs = self._call
            values = self._bound = bind(args, kwargs)
        return values

    @_values.setter
    def _values(self, values):
        self._bound = values

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
        Node.__init__(self, next_functions)
        self.rule = rule
        self.ctx = ctx
        self._name_str = name
        self._num_outputs = num_outputs

    def name(self):
        return self._name_str

    def backward(self, grads):
        ctx = self.ctx
        # The context knows its node only while the rule runs (for names in messages): a
        # permanent link would make every node a reference cycle, left to the cyclic GC.
        ctx._node = self
        try:
            if self._num_outputs > 1:
                if all(g is None for g in grads):
                    return (None,) * len(self.next_functions)
                results = self.rule.backward(ctx, *grads)
            else:
                grad = grads[0]
                if grad is None:
                    return (None,) * len(self.next_functions)
                results = self.rule.backward(ctx, grad)
        finally:
            ctx._node = None
        if not isinstance(results, tuple):
            results = (results,)
        out = []
        shapes, dtypes = ctx.input_shapes, ctx.input_dtypes
        for k, (g, edge) in enumerate(zip(results, self.next_functions)):
            if g is None or edge[0] is None:
                out.append(None)
            elif type(g) is Tensor and g._shape == shapes[k] and g._dtype is dtypes[k]:
                out.append(g)  # already the input's shape and dtype: what _fit would hand back
            else:
                out.append(_fit(g, shapes[k], dtypes[k]))
        return tuple(out)


def _fit(grad, shape, dtype):
    """Sum a broadcast gradient back to the input's shape and give it the input's dtype."""
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
    return gradient_edge(t)


def _any_requires_grad(args, kwargs):
    for a in args:
        if isinstance(a, Tensor):
            if a._requires_grad:
                return True
        elif isinstance(a, (list, tuple)):
            for b in a:
                if isinstance(b, Tensor) and b._requires_grad:
                    return True
    for a in kwargs.values():
        if isinstance(a, Tensor) and a._requires_grad:
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


def binder(signature):
    """bind(args, kwargs) -> {parameter: value} in the signature's order, defaults filled in,
    *args as a tuple and **kwargs merged in (what Signature.bind + apply_defaults gives, for a
    call already known to be valid), planned once per function instead of per call."""
    P = inspect.Parameter
    params = list(signature.parameters.values())
    template = {}
    positional = []
    var_positional = var_keyword = None
    for p in params:
        if p.kind is P.VAR_POSITIONAL:
            var_positional = p.name
            template[p.name] = ()
        elif p.kind is P.VAR_KEYWORD:
            var_keyword = p.name
        else:
            template[p.name] = None if p.default is P.empty else p.default
            if p.kind is not P.KEYWORD_ONLY and var_positional is None:
                positional.append(p.name)
    n_positional = len(positional)

    if var_positional is None and var_keyword is None:
        def bind(args, kwargs):
            values = template.copy()
            if len(args) == 1:
                values[positional[0]] = args[0]
            else:
                values.update(zip(positional, args))
            if kwargs:
                values.update(kwargs)
            return values
        return bind

    def bind(args, kwargs):
        values = template.copy()
        values.update(zip(positional, args))
        if var_positional is not None:
            values[var_positional] = tuple(args[n_positional:])
        if kwargs:
            if var_keyword is None:
                values.update(kwargs)
            else:
                for key, value in kwargs.items():
                    values[key] = value  # named parameters keep their place; the rest follow in call order
        return values
    return bind


def differentiable(fn, rule: Rule):
    signature = inspect.signature(fn)
    rule = resolve(rule, signature)
    bind = binder(signature)
    plan = _RecordPlan(rule, signature)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not STATE.enabled or not _any_requires_grad(args, kwargs):
            return fn(*args, **kwargs)
        if kwargs.get("out") is not None:
            raise RuntimeError(
                f"{rule.op}(): functions with out=... arguments don't support automatic differentiation, but one "
                "of the arguments requires grad."
            )
        STATE.enabled = False
        try:
            result = fn(*args, **kwargs)
        finally:
            STATE.enabled = True
        return plan.record(result, args, kwargs, bind)

    record_call = plan.record_two_inputs if plan.two_inputs else plan.record

    def record(result, args, kwargs=None):
        """Record an already computed call (the fast paths compute it themselves)."""
        return record_call(result, args, kwargs, bind)

    wrapper.__wrapped_op__ = fn
    wrapper.__record__ = record
    return wrapper


class _RecordPlan:
    """What recording a call of one op needs that does not depend on the call."""

    __slots__ = ("rule", "inputs", "input_indexes", "save", "name", "num_outputs", "outputs", "single_output",
                 "two_inputs")

    def __init__(self, rule, signature):
        self.rule = rule
        self.inputs = rule.inputs
        # Where each parameter sits among the positional arguments, so a call made with
        # positional arguments only needs no binding to find its inputs and saved values.
        index = {}
        for p in signature.parameters.values():
            if p.kind not in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
                break
            index[p.name] = len(index)
        self.input_indexes = None if rule.list_input or any(name not in index for name in rule.inputs) else \
            tuple(index[name] for name in rule.inputs)
        # (key, positions or None, kind, position): kind 0 an argument (position: its positional index
        # or None), 1 output 0, 2 another output (position: which)
        save = []
        for key, positions in rule.save.items():
            if key == "result":
                save.append((key, positions, 1, 0))
            elif key.startswith("result"):
                save.append((key, positions, 2, int(key[len("result"):])))
            else:
                save.append((key, positions, 0, index.get(key)))
        self.save = tuple(save)
        self.name = None if callable(rule.name) else rule.name
        # outputs None: every output of the call, however many it returns (split, unbind)
        self.num_outputs = None if rule.outputs is None else len(rule.outputs)
        self.outputs = rule.outputs
        self.single_output = rule.outputs == (0,)
        # The binary ops' plan (two tensor inputs first in the signature, one output, a fixed
        # name, saving inputs or the result) gets a recorder without the general loops.
        self.two_inputs = self.input_indexes == (0, 1) and self.single_output and self.name is not None and \
            all(kind == 1 or (kind == 0 and position in (0, 1)) for _, _, kind, position in self.save)

    def _output_indexes(self, outputs):
        return self.outputs if self.outputs is not None else range(len(outputs))

    def record_two_inputs(self, result, args, kwargs, bind):
        """`record` for a plan with two_inputs, given a call with both inputs as positional tensors."""
        if kwargs or len(args) < 2 or type(result) is not Tensor:
            return self.record(result, args, kwargs, bind)
        a, b = args[0], args[1]
        if type(a) is not Tensor or type(b) is not Tensor:
            return self.record(result, args, kwargs, bind)
        if not result._dtype.is_floating_point:
            return result
        a_needs, b_needs = a._requires_grad, b._requires_grad
        if not (a_needs or b_needs):
            return result
        ctx = Context()
        ctx._bound = None
        ctx._call = (bind, args, kwargs)
        ctx._input_names = self.inputs
        ctx.input_shapes = (a._shape, b._shape)
        ctx.input_dtypes = (a._dtype, b._dtype)
        ctx.needs_input_grad = needs = (a_needs, b_needs)
        ctx._node = None
        node = OpNode(self.rule, ctx, (_gradient_edge(a) if a_needs else _NO_EDGE,
                                       _gradient_edge(b) if b_needs else _NO_EDGE), self.name, 1)
        ctx._saved = saved_by_key = {}
        if self.save:
            for key, positions, kind, position in self.save:
                if positions is not None and not ((0 in positions and a_needs) or (1 in positions and b_needs)):
                    continue
                s = SavedOutput(result, 0) if kind == 1 else SavedTensor(b if position else a)
                saved_by_key[key] = s
            node._saved = tuple(saved_by_key.values())
        if result is not a and result is not b:
            result.grad_fn = node
            result._requires_grad = True
            if result._autograd is not None:
                result._autograd.output_nr = 0
        return result

    def record(self, result, args, kwargs, bind):
        """Attach a node for this call (args, kwargs; bind(args, kwargs) names them) to result's
        tensors; returns result."""
        rule = self.rule
        values = None
        positional = not kwargs  # then a parameter's value is args[its index], or its default past the end
        if self.single_output:
            if isinstance(result, Tensor):
                if not result._dtype.is_floating_point:
                    return result
                outputs = (result,)
            else:
                outputs = result if isinstance(result, tuple) else (result,)
                first = outputs[0] if outputs else None
                if not (isinstance(first, Tensor) and first._dtype.is_floating_point):
                    return result
        else:
            outputs = result if isinstance(result, tuple) else (result,)
            if not any(isinstance(outputs[i], Tensor) and outputs[i]._dtype.is_floating_point
                       for i in self._output_indexes(outputs) if i < len(outputs)):
                return result
        indexes = self.input_indexes
        if positional and indexes is not None and indexes[-1] < len(args):
            inputs = tuple([args[i] for i in indexes])
        else:
            values = bind(args, kwargs)
            inputs = tuple(values[self.inputs[0]]) if rule.list_input else \
                tuple([values.get(name) for name in self.inputs])
        edges = []
        shapes = []
        dtypes = []
        needs = []
        any_edge = False
        for t in inputs:
            if isinstance(t, Tensor):
                shapes.append(t._shape)
                dtypes.append(t._dtype)
                if t._requires_grad:
                    edges.append(_gradient_edge(t))
                    needs.append(True)
                    any_edge = True
                    continue
            else:
                shapes.append(None)
                dtypes.append(None)
            edges.append(None)
            needs.append(False)
        if not any_edge:
            return result  # only a non-differentiable argument requires grad (x.view_as(y), where(c, 1., 2.))
        if self.name is None and values is None:
            values = bind(args, kwargs)  # the node's name depends on the arguments
        ctx = Context()
        ctx._bound = values
        ctx._call = (bind, args, kwargs)
        ctx._input_names = self.inputs
        ctx._saved = saved_by_key = {}
        ctx.input_shapes = tuple(shapes)
        ctx.input_dtypes = tuple(dtypes)
        ctx.needs_input_grad = needs = tuple(needs)
        name = self.name if self.name is not None else rule.name(values)
        ctx._node = None
        node = OpNode(rule, ctx, tuple(edges), name,
                      self.num_outputs if self.num_outputs is not None else len(outputs))
        saved = []
        for key, positions, kind, position in self.save:
            if positions is not None:
                for p in positions:
                    if p < len(needs) and needs[p]:
                        break
                else:
                    continue  # no input whose gradient needs it requires grad
            if kind == 1:
                s = SavedOutput(outputs[0], 0)
            elif kind == 2:
                if position >= len(outputs):
                    continue  # this call has fewer outputs (max() has no indices)
                s = SavedOutput(outputs[position], self.outputs.index(position) if position in self.outputs else 0)
            else:
                if positional and position is not None and position < len(args):
                    value = args[position]
                else:
                    value = ctx._values.get(key)
                if isinstance(value, Tensor):
                    s = SavedTensor(value)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    s = SavedScalar(value)
                else:
                    continue
            saved_by_key[key] = s
            saved.append(s)
        node._saved = tuple(saved)
        nr = 0
        for i in self._output_indexes(outputs):
            if i < len(outputs):
                out = outputs[i]
                if isinstance(out, Tensor) and out._dtype.is_floating_point and not _is_one_of(out, inputs):
                    out.grad_fn = node
                    out._requires_grad = True
                    if nr:
                        autograd_meta(out).output_nr = nr
                    elif out._autograd is not None:
                        out._autograd.output_nr = 0
            nr += 1
        return result


_NO_EDGE = (None, 0)  # torch's next_functions entry for an input outside the graph


def _is_one_of(x, items) -> bool:
    """x is one of items (by identity): the op handed an input back (x.contiguous() on a
    contiguous x), which gets no new node."""
    for item in items:
        if item is x:
            return True
    return False


def _gradient_edge(t):
    """(node, output slot) through which gradient flows into t (engine.gradient_edge, inlined for leaves)."""
    grad_fn = t.grad_fn
    if grad_fn is not None:
        meta = t._autograd
        return (grad_fn, meta.output_nr if meta is not None else 0)
    meta = t._autograd
    if meta is not None and meta.grad_accumulator is not None:
        return (meta.grad_accumulator, 0)
    return _edge(t)


def differentiable_inplace(fn, rule: Rule):
    """Wrap an in-place method (add_, mul_, ...): the tensor it modifies gets a
    new grad_fn whose inputs are its old history, as torch rebases the graph."""
    signature = inspect.signature(fn)
    rule = resolve(rule, signature)
    bind = binder(signature)

    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        if not STATE.enabled or not (self.requires_grad or _any_requires_grad(args, kwargs)):
            return fn(self, *args, **kwargs)
        return _record_inplace(fn, rule, signature, bind, self, args, kwargs)

    wrapper.__wrapped_op__ = fn
    return wrapper


LEAF_INPLACE_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."


# torch's multi-output view functions (CreationMeta::MULTI_OUTPUT_NODE), and the view nodes through
# which a view of their outputs inherits that (propagate_creation_meta).
MULTI_OUTPUT_VIEW_NODES = frozenset({"SplitBackward0", "SplitWithSizesBackward0", "UnbindBackward0"})
_VIEW_NODES = frozenset({
    "ViewBackward0", "SliceBackward0", "SelectBackward0", "TransposeBackward0", "PermuteBackward0", "TBackward0",
    "UnsqueezeBackward0", "SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2", "ExpandBackward0",
    "AliasBackward0", "DiagonalBackward0", "UnfoldBackward0", "AsStridedBackward0",
})


def _check_not_multi_output_view(view):
    """torch refuses in-place writes to the outputs of split/unbind (and views of them) under grad."""
    node = view.grad_fn
    while node is not None:
        name = node.name()
        if name in MULTI_OUTPUT_VIEW_NODES:
            short = view.grad_fn.name()
            short = short[:-len("Backward0")] if short.endswith("Backward0") else short
            nr = view._autograd.output_nr if view._autograd is not None else 0
            raise RuntimeError(
                f"Output {nr} of {short} is a view and is being modified inplace. This view is the output of a "
                "function that returns multiple views. Such functions do not allow the output views to be modified "
                "inplace. You should replace the inplace operation by an out-of-place one.")
        if name not in _VIEW_NODES or not node.next_functions:
            return
        node = node.next_functions[0][0]


def _record_inplace(fn, rule, signature, bind, self, args, kwargs):
    if self.requires_grad and self.grad_fn is None:
        raise RuntimeError(LEAF_INPLACE_ERROR)
    if self._base is not None and self._base.requires_grad and self._base.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )
    if self._base is not None and self.grad_fn is not None:
        _check_not_multi_output_view(self)
    values = bind((self,) + args, kwargs)
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
    ctx._node = None
    node = OpNode(rule, ctx, edges, name, 1)
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
