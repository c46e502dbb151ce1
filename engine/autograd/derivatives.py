"""Derivative rules, one per differentiable op, in one table (tinygrad's
pm_gradient, torch's derivatives.yaml). A rule gets the context of the forward
call and the output gradient(s), and returns one gradient per differentiable
input (positions 0, 1, ... of the op's signature). Broadcast reduction and
dtype casts are done by the recorder, so rules state only the math; they are
written with engine ops, so they are themselves differentiable
(create_graph=True gives double backward)."""
from __future__ import annotations

from engine.autograd.recording import Rule

RULES: dict = {}


def _camel(op: str) -> str:
    short = op.rsplit(".", 1)[-1].strip("_")
    return "".join(part.capitalize() for part in short.split("_"))


def rule(*ops, inputs=(0,), save=(), name=None, outputs=(0,), list_input=False):
    def decorate(backward):
        for op in ops:
            RULES[op] = Rule(op, inputs, save, backward, name or f"{_camel(op)}Backward0", outputs, list_input)
        return backward

    return decorate


def _engine():
    import engine

    return engine


def _is_tensor(x):
    from engine._tensor import Tensor

    return isinstance(x, Tensor)


# ---- arithmetic ----
@rule("add", "__radd__", inputs=(0, 1), name="AddBackward0")
def _add(ctx, grad):
    alpha = ctx._values.get("alpha", 1)
    return grad, (grad if alpha == 1 else grad * alpha)


@rule("sub", "subtract", inputs=(0, 1), name="SubBackward0")
def _sub(ctx, grad):
    alpha = ctx._values.get("alpha", 1)
    return grad, -grad if alpha == 1 else grad * (-alpha)


@rule("rsub", "__rsub__", inputs=(0, 1), name="RsubBackward1")
def _rsub(ctx, grad):
    alpha = ctx._values.get("alpha", 1)
    return -grad if alpha == 1 else grad * (-alpha), grad


@rule("mul", "multiply", "__rmul__", inputs=(0, 1), save=(0, 1), name="MulBackward0")
def _mul(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    return (grad * b if ctx.needs_input_grad[0] else None), (grad * a if ctx.needs_input_grad[1] else None)


@rule("div", "divide", "true_divide", inputs=(0, 1), save=(0, 1), name="DivBackward0")
def _div(ctx, grad):
    if ctx._values.get("rounding_mode") is not None:
        return grad * 0, None  # piecewise constant
    a, b = ctx.saved(0), ctx.saved(1)
    ga = grad / b if ctx.needs_input_grad[0] else None
    gb = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
    return ga, gb


@rule("neg", "negative", name="NegBackward0")
def _neg(ctx, grad):
    return -grad


@rule("positive", name="PositiveBackward0")
def _positive(ctx, grad):
    return grad


# ---- unary math ----
@rule("exp", save=("result",), name="ExpBackward0")
def _exp(ctx, grad):
    return grad * ctx.result


@rule("log", save=(0,), name="LogBackward0")
def _log(ctx, grad):
    return grad / ctx.saved(0)


@rule("sqrt", save=("result",), name="SqrtBackward0")
def _sqrt(ctx, grad):
    return grad / (2 * ctx.result)


@rule("sin", save=(0,), name="SinBackward0")
def _sin(ctx, grad):
    return grad * ctx.saved(0).cos()


@rule("cos", save=(0,), name="CosBackward0")
def _cos(ctx, grad):
    return grad * -ctx.saved(0).sin()


@rule("tanh", "nn.functional.tanh", save=("result",), name="TanhBackward0")
def _tanh(ctx, grad):
    y = ctx.result
    return grad * (1 - y * y)


@rule("sigmoid", "nn.functional.sigmoid", "special.expit", save=("result",), name="SigmoidBackward0")
def _sigmoid(ctx, grad):
    y = ctx.result
    return grad * (y * (1 - y))


@rule("relu", "nn.functional.relu", save=("result",), name="ReluBackward0")
def _relu(ctx, grad):
    return grad * (ctx.result > 0)


@rule("abs", "absolute", save=(0,), name="AbsBackward0")
def _abs(ctx, grad):
    return grad * ctx.saved(0).sgn()


# ---- views ----
@rule("view", "reshape", "view_as", "reshape_as", name="ViewBackward0")
def _view(ctx, grad):
    return grad.reshape(ctx.input_shapes[0])


@rule("t", name="TBackward0")
def _t(ctx, grad):
    return grad.t()


@rule("transpose", name="TransposeBackward0")
def _transpose(ctx, grad):
    return grad.transpose(ctx.dim0, ctx.dim1)


@rule("permute", name="PermuteBackward0")
def _permute(ctx, grad):
    dims = ctx._values["dims"]
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    n = len(dims)
    inverse = [0] * n
    for i, d in enumerate(dims):
        inverse[d % n if n else 0] = i
    return grad.permute(inverse)


@rule("expand", "expand_as", "broadcast_to", name="ExpandBackward0")
def _expand(ctx, grad):
    return grad  # the recorder sums the broadcast dims back


@rule("clone", name="CloneBackward0")
def _clone(ctx, grad):
    return grad


@rule("contiguous", name="CloneBackward0")
def _contiguous(ctx, grad):
    return grad


@rule("squeeze", "unsqueeze", "flatten", "unflatten", name=lambda v: "ViewBackward0")
def _reshape_like(ctx, grad):
    return grad.reshape(ctx.input_shapes[0])
