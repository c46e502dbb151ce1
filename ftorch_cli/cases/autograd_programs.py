"""FT-P2C-004 semantic cases: small autograd programs run against `lib` (torch or the engine).

Each program is a plain function `name(lib, *inputs)` below; its source text is
stored with the case (a `program` call, cases.program) and compiled with only
builtins in scope, so it may use nothing but `lib` and its arguments. What it
returns (tensors, gradients, grad_fn names, flags, hook events) is the
observation; when torch raises, the exception type is the expectation. Nothing
here states an outcome: every expected value comes from running torch.

The cases group into families, which stand in for the op name of the case:
graph shape, retain_graph, the version counter, in-place rebasing, hooks, grad
modes, .grad accumulation, autograd.grad against backward(inputs=...), and custom
autograd.Function. Programs avoid ops beyond elementwise arithmetic, views and
`ones_like`, so they test autograd itself rather than op coverage.
"""
from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from typing import Callable, Iterator

from ftorch_cli.cases.opinfo import stable_seed
from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec

SOURCE = "generated.autograd_programs"


# ---- graph shape ---------------------------------------------------------------------------

def diamond(lib, x):
    y = x * 2
    a = y.sin()
    b = y.cos()
    z = a * b
    z.backward(lib.ones_like(z))
    return x.grad, z.grad_fn.name()


def shared_input(lib, x):
    y = x * x + x
    y.backward(lib.ones_like(y))
    return x.grad


def same_tensor_twice(lib, x):
    y = lib.mul(x, x)
    z = lib.add(y, y)
    return lib.autograd.grad(z, x, lib.ones_like(z))


def unused_input_allowed(lib, x, w):
    y = x.exp()
    return lib.autograd.grad(y, (x, w), lib.ones_like(y), allow_unused=True)


def unused_input_refused(lib, x, w):
    y = x.exp()
    return lib.autograd.grad(y, (x, w), lib.ones_like(y))


def unused_input_materialized(lib, x, w):
    y = x.exp()
    return lib.autograd.grad(y, (x, w), lib.ones_like(y), materialize_grads=True)


def non_scalar_needs_gradient(lib, x):
    y = x * 3
    y.backward()


def non_scalar_explicit_gradient(lib, x, upstream):
    y = x.sin() * 3
    y.backward(upstream)
    return x.grad


def scalar_implicit_gradient(lib, x):
    y = (x * x).exp()
    y.backward()
    return x.grad


def multiple_roots(lib, x, first, second):
    a = x.sin()
    b = x.cos()
    lib.autograd.backward([a, b], [first, second])
    return x.grad


def detach_stops_gradient(lib, x):
    y = x.detach() * x
    y.backward(lib.ones_like(y))
    return x.grad, y.grad_fn.name()


def through_non_differentiable(lib, x):
    mask = x > 0
    y = lib.where(mask, x * 2, x * -1)
    y.backward(lib.ones_like(y))
    return x.grad, mask.requires_grad


def requires_grad_propagation(lib, x, c):
    a = x + c
    b = c * 2
    return a.requires_grad, a.is_leaf, b.requires_grad, b.is_leaf, b.grad_fn is None, x.is_leaf, x.grad_fn is None


def next_functions_chain(lib, x):
    y = (x * 2).sin().exp()
    chain = []
    node = y.grad_fn
    while node is not None:
        edges = [(None if function is None else function.name(), slot) for function, slot in node.next_functions]
        chain.append((node.name(), edges))
        following = [function for function, _ in node.next_functions if function is not None]
        node = following[0] if following else None
    return chain


# ---- retain_graph and freed graphs ----------------------------------------------------------

def backward_twice_retained(lib, x):
    y = x.sin() * x
    y.backward(lib.ones_like(y), retain_graph=True)
    first = x.grad.clone()
    y.backward(lib.ones_like(y))
    return first, x.grad


def backward_twice_freed(lib, x):
    y = x.sin() * x
    y.backward(lib.ones_like(y))
    y.backward(lib.ones_like(y))


def backward_twice_nothing_saved(lib, x):
    z = (x + 1).view(-1).neg()
    z.backward(lib.ones_like(z))
    z.backward(lib.ones_like(z))
    return x.grad


def backward_twice_scalar_operand(lib, x):
    z = x * 2
    z.backward(lib.ones_like(z))
    z.backward(lib.ones_like(z))
    return x.grad


def grad_twice_freed(lib, x):
    y = x.exp()
    lib.autograd.grad(y, x, lib.ones_like(y))
    return lib.autograd.grad(y, x, lib.ones_like(y))


def create_graph_retains(lib, x):
    y = x.exp()
    (first,) = lib.autograd.grad(y, x, lib.ones_like(y), create_graph=True)
    (again,) = lib.autograd.grad(y, x, lib.ones_like(y))
    return first.requires_grad, again


def double_backward(lib, x, v):
    y = x.sin() * x
    (first,) = lib.autograd.grad(y, x, lib.ones_like(y), create_graph=True)
    (second,) = lib.autograd.grad(first, x, v)
    return first, second, first.grad_fn is not None


def double_backward_into_grad(lib, x):
    y = x * x * x
    (first,) = lib.autograd.grad(y, x, lib.ones_like(y), create_graph=True)
    first.backward(lib.ones_like(first))
    return x.grad


# ---- the version counter ---------------------------------------------------------------------

def saved_output_modified(lib, x):
    a = x.sigmoid()
    a.mul_(2)
    a.backward(lib.ones_like(a))


def saved_input_modified(lib, x):
    b = x * 1
    y = b * b
    b.add_(1)
    y.backward(lib.ones_like(y))


def unsaved_input_modified(lib, x, w):
    b = x * 1
    y = b + w
    b.add_(1)
    y.backward(lib.ones_like(y))
    return x.grad, w.grad, b._version


def leaf_modified_under_no_grad(lib, x):
    y = x * x
    with lib.no_grad():
        x.mul_(2)
    y.backward(lib.ones_like(y))


def version_counts(lib, x):
    x_before = x._version  # an input's starting version depends on how it was built: compare deltas
    y = x * 1
    before = y._version
    y.add_(1)
    y.mul_(2)
    view = y[0]
    view.add_(1)
    return before, y._version, view._version, x._version - x_before


def saved_result_modified_through_view(lib, x):
    y = x * 1
    z = y.exp()
    z[0].mul_(2)
    z.backward(lib.ones_like(z))


# ---- in-place operations -----------------------------------------------------------------------

def inplace_on_leaf(lib, x):
    x.add_(1)


def inplace_on_leaf_under_no_grad(lib, x):
    before = x._version
    with lib.no_grad():
        x.add_(1)
    return x, x.requires_grad, x.is_leaf, x._version - before


def inplace_on_view_of_leaf(lib, x):
    x[0].add_(1)


def inplace_rebases_non_leaf(lib, x):
    y = x * 2
    y.add_(1)
    after_add = y.grad_fn.name()
    y.mul_(3)
    y.backward(lib.ones_like(y))
    return after_add, y.grad_fn.name(), x.grad, y.is_leaf


def inplace_with_grad_argument(lib, x):
    c = lib.zeros_like(x)
    before = c.requires_grad
    c.add_(x * 2)
    c.backward(lib.ones_like(c))
    return before, c.requires_grad, c.grad_fn.name(), x.grad


def inplace_through_view_of_non_leaf(lib, x):
    y = x * 1
    v = y[1]
    v.mul_(2)
    names = (y.grad_fn.name(), v.grad_fn.name())
    y.backward(lib.ones_like(y))
    return names, x.grad, y


def inplace_through_transposed_view(lib, x, w):
    y = x * 1
    v = y.t()
    v.add_(w)
    y.backward(lib.ones_like(y))
    return x.grad, w.grad, y.grad_fn.name()


def inplace_through_view_backward_from_view(lib, x):
    y = x * 1
    v = y.narrow(0, 1, 2)
    v.mul_(3)
    v.backward(lib.ones_like(v))
    return x.grad


def inplace_unary_then_use(lib, x):
    y = x * 1
    y.exp_()
    z = y * 2
    z.backward(lib.ones_like(z))
    return x.grad, y.grad_fn.name()


# ---- hooks -------------------------------------------------------------------------------------

def tensor_hooks_in_order(lib, x):
    events = []
    y = x * 2
    y.register_hook(lambda grad: events.append(("first", grad.clone())))
    y.register_hook(lambda grad: events.append(("second", grad.clone())))
    z = y.sin()
    z.backward(lib.ones_like(z))
    return events, x.grad


def hook_replaces_gradient(lib, x):
    y = x * 2
    y.register_hook(lambda grad: grad * 10)
    y.backward(lib.ones_like(y))
    return x.grad


def leaf_hook(lib, x):
    events = []

    def hook(grad):
        events.append(grad.clone())
        return grad * 2

    x.register_hook(hook)
    y = x.exp()
    y.backward(lib.ones_like(y))
    return events, x.grad


def retain_grad_sees_hooked_gradient(lib, x):
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda grad: grad * 3)
    z = y * y
    z.backward(lib.ones_like(z))
    return y.grad, x.grad, y.retains_grad


def non_leaf_grad_without_retain(lib, x):
    y = x * 2
    z = y.exp()
    x.retain_grad()
    z.backward(lib.ones_like(z))
    return y.grad, y.retains_grad, x.retains_grad, x.grad


def removed_hook(lib, x):
    events = []
    y = x * 2
    handle = y.register_hook(lambda grad: events.append("called"))
    handle.remove()
    y.backward(lib.ones_like(y))
    return events, x.grad


def hook_on_tensor_without_grad(lib, x):
    c = x.detach()
    c.register_hook(lambda grad: grad)


def node_and_tensor_hooks(lib, x):
    events = []
    y = x.exp()
    y.grad_fn.register_prehook(lambda grad_outputs: events.append("node pre-hook"))
    y.grad_fn.register_hook(lambda grad_inputs, grad_outputs: events.append("node hook"))
    y.register_hook(lambda grad: events.append("tensor hook"))
    y.backward(lib.ones_like(y))
    return events


def post_accumulate_grad_hook(lib, x):
    events = []
    x.register_post_accumulate_grad_hook(lambda leaf: events.append(leaf.grad.clone()))
    y = x * 3
    y.backward(lib.ones_like(y))
    return events


# ---- grad modes --------------------------------------------------------------------------------

def no_grad_context(lib, x):
    with lib.no_grad():
        y = x * 2
        inside = lib.is_grad_enabled()
    return y.requires_grad, y.grad_fn is None, inside, lib.is_grad_enabled()


def enable_grad_inside_no_grad(lib, x):
    with lib.no_grad():
        with lib.enable_grad():
            y = x * 2
        z = x * 2
    return y.requires_grad, z.requires_grad


def set_grad_enabled_context_and_call(lib, x):
    with lib.set_grad_enabled(False):
        a = x * 2
    lib.set_grad_enabled(False)
    b = x * 2
    lib.set_grad_enabled(True)
    c = x * 2
    return a.requires_grad, b.requires_grad, c.requires_grad


def inference_mode_context(lib, x):
    with lib.inference_mode():
        y = x * 2
        inside = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
    return y.requires_grad, inside, lib.is_inference_mode_enabled()


def inference_mode_tensor(lib, x):
    with lib.inference_mode():
        y = x * 2
    return y.is_inference(), x.is_inference()


def inference_tensor_saved_for_backward(lib, x):
    with lib.inference_mode():
        y = x * 2
    return y * x


def grad_mode_decorators(lib, x):
    @lib.no_grad()
    def doubled(t):
        return t * 2

    @lib.enable_grad()
    def tripled(t):
        return t * 3

    @lib.no_grad
    def bare(t):
        return t * 4

    @lib.inference_mode()
    def inferred(t):
        return t * 5

    with lib.no_grad():
        enabled = tripled(x)
    return doubled(x).requires_grad, enabled.requires_grad, bare(x).requires_grad, inferred(x).requires_grad, lib.is_grad_enabled()


def set_grad_enabled_decorator(lib, x):
    @lib.set_grad_enabled(False)
    def doubled(t):
        return t * 2

    return lib.is_grad_enabled(), doubled(x).requires_grad, lib.is_grad_enabled()


def mode_restored_after_exception(lib, x):
    try:
        with lib.no_grad():
            raise ValueError("inside no_grad")
    except ValueError:
        pass
    return lib.is_grad_enabled(), (x * 2).requires_grad


def factory_requires_grad_under_no_grad(lib):
    with lib.no_grad():
        t = lib.zeros(3, requires_grad=True)
    return t.requires_grad, t.is_leaf


# ---- .grad accumulation --------------------------------------------------------------------------

def grad_accumulates(lib, x):
    for _ in range(2):
        y = x.sin()
        y.backward(lib.ones_like(y))
    return x.grad


def grad_reset_to_none(lib, x):
    y = x.sin()
    y.backward(lib.ones_like(y))
    x.grad = None
    z = x * 3
    z.backward(lib.ones_like(z))
    return x.grad


def grad_accumulates_in_place(lib, x):
    y = x.sin()
    y.backward(lib.ones_like(y))
    first = x.grad
    first.zero_()
    z = x * 3
    z.backward(lib.ones_like(z))
    return x.grad, first


def broadcast_gradients_sum(lib, x, b):
    y = x * b
    y.backward(lib.ones_like(y))
    z = x + b
    z.backward(lib.ones_like(z))
    return x.grad, b.grad


def grad_none_before_backward(lib, x):
    return x.grad, x.is_leaf


def grad_layout_follows_leaf(lib, x):
    y = x.exp()
    y.backward(lib.ones_like(y))
    return x.grad.stride(), x.grad


def grad_layout_of_transposed_gradient(lib, x):
    y = x.t() * 2
    y.backward(lib.ones_like(y))
    return x.grad.stride(), x.grad.is_contiguous(), x.grad


# ---- autograd.grad against backward(inputs=...) ---------------------------------------------------

def grad_leaves_dot_grad_alone(lib, x, w):
    y = x * w
    gx, gw = lib.autograd.grad(y, (x, w), lib.ones_like(y))
    return gx, gw, x.grad, w.grad


def backward_inputs_subset(lib, x, w):
    y = x * w
    y.backward(lib.ones_like(y), inputs=[x])
    return x.grad, w.grad


def backward_inputs_non_leaf(lib, x):
    h = x * 2
    y = h.exp()
    y.backward(lib.ones_like(y), inputs=[h])
    return h.grad, x.grad


def backward_empty_inputs(lib, x):
    y = x * 2
    y.backward(lib.ones_like(y), inputs=[])


def grad_outputs_shape_mismatch(lib, x):
    y = x * 2
    return lib.autograd.grad(y, x, lib.ones(5, dtype=x.dtype))


def grad_of_tensor_not_requiring_grad(lib, x):
    c = x.detach()
    y = x * c
    return lib.autograd.grad(y, c, lib.ones_like(y))


def grad_several_outputs_and_inputs(lib, x, w):
    a = x * w
    b = x.exp()
    return lib.autograd.grad([a, b], [x, w], [lib.ones_like(a), lib.ones_like(b)])


def grad_create_graph_records(lib, x):
    y = x.sin()
    (first,) = lib.autograd.grad(y, x, lib.ones_like(y), create_graph=True)
    return first.requires_grad, first.grad_fn.name()


def backward_without_grad_fn(lib, x):
    c = x.detach() * 2
    c.backward(lib.ones_like(c))


def integer_tensor_requires_grad(lib):
    t = lib.zeros(3, dtype=lib.int64)
    t.requires_grad_()


def requires_grad_off_on_non_leaf(lib, x):
    y = x * 2
    y.requires_grad_(False)


# ---- custom autograd.Function ---------------------------------------------------------------------

def function_save_for_backward(lib, x):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            result = t.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            (result,) = ctx.saved_tensors
            return grad * result

    y = Exp.apply(x)
    y.backward(lib.ones_like(y))
    return y, x.grad, y.grad_fn.name()


def function_needs_input_grad(lib, x, c):
    seen = []

    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t, s, factor):
            ctx.save_for_backward(t, s)
            ctx.factor = factor
            return t * s * factor

        @staticmethod
        def backward(ctx, grad):
            seen.append(tuple(ctx.needs_input_grad))
            t, s = ctx.saved_tensors
            grad_t = grad * s * ctx.factor if ctx.needs_input_grad[0] else None
            grad_s = grad * t * ctx.factor if ctx.needs_input_grad[1] else None
            return grad_t, grad_s, None

    y = Scale.apply(x, c, 2.0)
    y.backward(lib.ones_like(y))
    return seen, x.grad, c.grad


def function_mark_dirty(lib, x, on_leaf):
    class AddOneInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            t.add_(1)
            ctx.mark_dirty(t)
            return t

        @staticmethod
        def backward(ctx, grad):
            return grad

    if on_leaf:
        return AddOneInPlace.apply(x)
    y = x * 2
    before = y._version
    z = AddOneInPlace.apply(y)
    z.backward(lib.ones_like(z))
    return z is y, y._version - before, y.grad_fn.name(), x.grad, z


def function_mark_non_differentiable(lib, x):
    class WithFloor(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            floor = t.floor()
            ctx.mark_non_differentiable(floor)
            return t * 2, floor

        @staticmethod
        def backward(ctx, grad, grad_floor):
            return grad * 2

    doubled, floor = WithFloor.apply(x)
    doubled.backward(lib.ones_like(doubled))
    return doubled.requires_grad, floor.requires_grad, x.grad


def function_wrong_gradient_count(lib, x):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    y = Bad.apply(x)
    y.backward(lib.ones_like(y))


def function_materialize_grads(lib, x, materialize):
    seen = []

    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.set_materialize_grads(materialize)
            return t * 2, t * 3

        @staticmethod
        def backward(ctx, grad_a, grad_b):
            seen.append((grad_a is None, grad_b is None))
            return grad_a * 2 if grad_b is None else grad_a * 2 + grad_b * 3

    a, b = Two.apply(x)
    a.backward(lib.ones_like(a))
    return seen, x.grad


def function_without_grad(lib, x):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    with lib.no_grad():
        y = Double.apply(x)
    z = Double.apply(x.detach())
    return y.requires_grad, y.grad_fn is None, z.requires_grad


def function_double_backward(lib, x, v):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t * t

        @staticmethod
        def backward(ctx, grad):
            (t,) = ctx.saved_tensors
            return grad * 3 * t * t

    y = Cube.apply(x)
    (first,) = lib.autograd.grad(y, x, lib.ones_like(y), create_graph=True)
    (second,) = lib.autograd.grad(first, x, v)
    return first, second


def function_once_differentiable(lib, x):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            (t,) = ctx.saved_tensors
            return grad * 2 * t

    y = Square.apply(x)
    (first,) = lib.autograd.grad(y, x, lib.ones_like(y), create_graph=True)
    return lib.autograd.grad(first, x, lib.ones_like(first))


# ---- the case table ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Input:
    """A program argument: random normal values of `shape`, a leaf requiring grad when `grad`,
    laid out transposed (strides of the reversed shape) when `transposed`."""

    shape: tuple = (3, 4)
    grad: bool = True
    transposed: bool = False

    def build(self, torch, dtype):
        if self.transposed:
            return torch.randn(tuple(reversed(self.shape)), dtype=dtype).t().requires_grad_(self.grad)
        return torch.randn(self.shape, dtype=dtype, requires_grad=self.grad)


LEAF, PLAIN, SCALAR, ROW = Input(), Input(grad=False), Input(shape=()), Input(shape=(4,))

# family -> (program, its arguments: Input specs for tensors, plain values as they are)
FAMILIES: dict[str, tuple[tuple[Callable, tuple], ...]] = {
    "autograd.graph": (
        (diamond, (LEAF,)), (shared_input, (LEAF,)), (same_tensor_twice, (LEAF,)),
        (unused_input_allowed, (LEAF, LEAF)), (unused_input_refused, (LEAF, LEAF)), (unused_input_materialized, (LEAF, LEAF)),
        (non_scalar_needs_gradient, (LEAF,)), (non_scalar_explicit_gradient, (LEAF, PLAIN)),
        (scalar_implicit_gradient, (SCALAR,)), (multiple_roots, (LEAF, PLAIN, PLAIN)),
        (detach_stops_gradient, (LEAF,)), (through_non_differentiable, (LEAF,)),
        (requires_grad_propagation, (LEAF, PLAIN)), (next_functions_chain, (LEAF,)),
    ),
    "autograd.retain_graph": (
        (backward_twice_retained, (LEAF,)), (backward_twice_freed, (LEAF,)), (backward_twice_nothing_saved, (LEAF,)),
        (backward_twice_scalar_operand, (LEAF,)), (grad_twice_freed, (LEAF,)), (create_graph_retains, (LEAF,)),
        (double_backward, (LEAF, PLAIN)), (double_backward_into_grad, (LEAF,)),
    ),
    "autograd.version_counter": (
        (saved_output_modified, (LEAF,)), (saved_input_modified, (LEAF,)), (unsaved_input_modified, (LEAF, LEAF)),
        (leaf_modified_under_no_grad, (LEAF,)), (version_counts, (LEAF,)), (saved_result_modified_through_view, (LEAF,)),
    ),
    "autograd.inplace": (
        (inplace_on_leaf, (LEAF,)), (inplace_on_leaf_under_no_grad, (LEAF,)), (inplace_on_view_of_leaf, (LEAF,)),
        (inplace_rebases_non_leaf, (LEAF,)), (inplace_with_grad_argument, (LEAF,)),
        (inplace_through_view_of_non_leaf, (LEAF,)), (inplace_through_transposed_view, (LEAF, Input(shape=(4, 3)))),
        (inplace_through_view_backward_from_view, (LEAF,)), (inplace_unary_then_use, (LEAF,)),
    ),
    "autograd.hooks": (
        (tensor_hooks_in_order, (LEAF,)), (hook_replaces_gradient, (LEAF,)), (leaf_hook, (LEAF,)),
        (retain_grad_sees_hooked_gradient, (LEAF,)), (non_leaf_grad_without_retain, (LEAF,)), (removed_hook, (LEAF,)),
        (hook_on_tensor_without_grad, (LEAF,)), (node_and_tensor_hooks, (LEAF,)), (post_accumulate_grad_hook, (LEAF,)),
    ),
    "autograd.grad_mode": (
        (no_grad_context, (LEAF,)), (enable_grad_inside_no_grad, (LEAF,)), (set_grad_enabled_context_and_call, (LEAF,)),
        (inference_mode_context, (LEAF,)), (inference_mode_tensor, (LEAF,)), (inference_tensor_saved_for_backward, (LEAF,)),
        (grad_mode_decorators, (LEAF,)), (set_grad_enabled_decorator, (LEAF,)), (mode_restored_after_exception, (LEAF,)),
        (factory_requires_grad_under_no_grad, ()),
    ),
    "autograd.accumulation": (
        (grad_accumulates, (LEAF,)), (grad_reset_to_none, (LEAF,)), (grad_accumulates_in_place, (LEAF,)),
        (broadcast_gradients_sum, (LEAF, ROW)), (grad_none_before_backward, (LEAF,)),
        (grad_layout_follows_leaf, (Input(transposed=True),)), (grad_layout_of_transposed_gradient, (LEAF,)),
    ),
    "autograd.grad_api": (
        (grad_leaves_dot_grad_alone, (LEAF, LEAF)), (backward_inputs_subset, (LEAF, LEAF)), (backward_inputs_non_leaf, (LEAF,)),
        (backward_empty_inputs, (LEAF,)), (grad_outputs_shape_mismatch, (LEAF,)), (grad_of_tensor_not_requiring_grad, (LEAF,)),
        (grad_several_outputs_and_inputs, (LEAF, LEAF)), (grad_create_graph_records, (LEAF,)),
        (backward_without_grad_fn, (LEAF,)), (integer_tensor_requires_grad, ()), (requires_grad_off_on_non_leaf, (LEAF,)),
    ),
    "autograd.function": (
        (function_save_for_backward, (LEAF,)), (function_needs_input_grad, (LEAF, PLAIN)),
        (function_mark_dirty, (LEAF, False)), (function_mark_dirty, (LEAF, True)), (function_mark_non_differentiable, (LEAF,)),
        (function_wrong_gradient_count, (LEAF,)), (function_materialize_grads, (LEAF, False)),
        (function_materialize_grads, (LEAF, True)), (function_without_grad, (LEAF,)), (function_double_backward, (LEAF, PLAIN)),
        (function_once_differentiable, (LEAF,)),
    ),
}


def program_source(program: Callable) -> str:
    return textwrap.dedent(inspect.getsource(program))


def _label(program: Callable, inputs: tuple) -> str:
    """The program's name, with its plain (non-tensor) arguments: `function_mark_dirty(on_leaf=True)`."""
    names = list(inspect.signature(program).parameters)[1:]
    plain = [f"{name}={value!r}" for name, value in zip(names, inputs) if not isinstance(value, Input)]
    return f"{program.__name__}({', '.join(plain)})" if plain else program.__name__


def program_specs(torch, families: set[str], dtype_name: str, seed: int) -> Iterator[CaseSpec]:
    """One spec per program (and plain arguments) of the named families, tensor inputs seeded per case."""
    dtype = getattr(torch, dtype_name)
    for family, programs in FAMILIES.items():
        if family not in families:
            continue
        for program, inputs in programs:
            label = _label(program, inputs)
            torch.manual_seed(stable_seed(seed, family, label))
            call = Call("program", program.__name__, source=program_source(program))
            args = [value.build(torch, dtype) if isinstance(value, Input) else value for value in inputs]
            yield CaseSpec(op=family, dtype=dtype_name, source=SOURCE, label=label, call=call, args=args, stride_check="none")
