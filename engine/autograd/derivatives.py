"""Derivative rules, one per differentiable op, in one table (tinygrad's
pm_gradient, torch's derivatives.yaml). A rule gets the context of the forward
call and the output gradient(s), and returns one gradient per differentiable
input (positions 0, 1, ... of the op's signature). Broadcast reduction and
dtype casts are done by the recorder, so rules state only the math; they are
written with engine ops, so they are themselves differentiable
(create_graph=True gives double backward).

The formulas are torch's (tools/autograd/derivatives.yaml and
torch/csrc/autograd/FunctionsManual.cpp), including its conventions at the
edges: which side of a tie or a bound gets the gradient, what 0 * inf gives.
Node names are torch's grad_fn names; where torch picks among overloads
(`SumBackward0` for sum() and `SumBackward1` for sum(dim)), `name` is a
function of the bound arguments.

Ops registered but absent here are not differentiable in torch either
(comparisons, predicates, bitwise and logical ops, factories, detach);
`composite` marks ops whose gradient flows through the differentiable ops
they are built from, as torch's CompositeImplicitAutograd ops do.
"""
from __future__ import annotations

import itertools
import math

from engine._tensor import view_of
from engine.autograd.grad_mode import STATE
from engine.autograd.recording import Rule, differentiable

RULES: dict = {}
INPLACE_RULES: dict = {}  # in-place Tensor methods that are not ops of their own (copy_, fill_, zero_)


def _camel(op: str) -> str:
    short = op.rsplit(".", 1)[-1].strip("_")
    return "".join(part.capitalize() for part in short.split("_"))


def rule(*ops, inputs=(0,), save=(), name=None, outputs=(0,), list_input=False, keep=None):
    """Register `backward` as the rule of each op in `ops`.

    save: a tuple of what to save (input positions, "result", "result1" for the
    second output), or {key: input positions whose gradient needs it}.
    name: torch's node name, or a function of the bound arguments.
    outputs: the output positions the node covers; None for every output of the call,
    however many it returns (split, unbind: backward(ctx, *grads)).
    keep: a function of the bound arguments returning facts the backward needs
    that are not tensors to save (torch's saved sizes and strides); they join
    the arguments the rule reads, under their own keys.
    """
    def decorate(backward):
        for op in ops:
            node_name = name or f"{_camel(op)}Backward0"
            if keep is not None:
                node_name = _with_facts(node_name, keep)
            RULES[op] = Rule(op, inputs, save, backward, node_name, outputs, list_input)
        return backward

    return decorate


def _with_facts(name, keep):
    # The recorder calls the name function once per recorded call, with the bound
    # arguments that become the context's: the place to add forward-time facts.
    def name_with_facts(values):
        values.update(keep(values))
        return name(values) if callable(name) else name

    return name_with_facts


def inplace_rule(*methods, inputs=(0,), save=(), name=None):
    """A rule for in-place Tensor methods with no registered op (copy_, fill_, zero_)."""
    def decorate(backward):
        for method in methods:
            INPLACE_RULES[method] = Rule(method, inputs, save, backward, name)
        return backward

    return decorate


def composite(*ops):
    """Mark ops as differentiable through the ops they call: no node of their own."""
    for op in ops:
        RULES[op] = Rule(op, (), (), None, None)


def _engine():
    import engine

    return engine


def _is_tensor(x):
    from engine._tensor import Tensor

    return isinstance(x, Tensor)


def _arg(values, position):
    """The bound argument at `position` of the op's signature (in-place methods name self differently)."""
    for i, value in enumerate(values.values()):
        if i == position:
            return value
    return None


def _zeros(grad):
    return _engine().zeros_like(grad)


# torch records a node for some ops whose derivative it does not implement; its backward raises.
NOT_IMPLEMENTED = "torch::autograd::NotImplemented"


def _not_implemented(aten):
    raise RuntimeError(f"derivative for aten::{aten} is not implemented")


# ---- differentiable helpers the rules share ----
def _to_copy_forward(input, dtype, memory_format=None):
    from engine._methods import convert

    return convert(input, dtype, memory_format)


def _to_copy_backward(ctx, grad):
    return grad  # the recorder casts it back to the input's dtype


# Tensor.to / .float() / .double() with grad: torch's ToCopyBackward0. The recorder's
# gradient casts go through it too, so double backward sees them.
to_copy = differentiable(_to_copy_forward, Rule("to", (0,), (), _to_copy_backward, "ToCopyBackward0"))


def _scatter_forward(grad, shape, locate, name, region=None):
    """zeros(shape) with `grad` added into the region `locate` selects of it
    (`region` locates it as a view when `locate` may copy)."""
    out = _engine().zeros(shape, dtype=grad._dtype)
    _add_into((region or locate)(out), grad)
    return out


def _scatter_backward(ctx, grad):
    return ctx._values["locate"](grad)


# The backward of every view that selects part of its input (select, narrow,
# diagonal, unfold, as_strided, indexing): torch's select_backward and friends.
# Its own backward is the view again, so views stay differentiable twice.
_scatter = differentiable(_scatter_forward, Rule("view_scatter", (0,), (), _scatter_backward,
                                                 lambda values: values["name"]))


def _add_into(region, grad):
    """region += grad where region may overlap itself (unfold, as_strided): the
    dims that make it overlap are looped over, the rest added in one go."""
    sizes, strides = region._shape, region._stride
    loop, extent = [], 0
    for d in sorted((d for d in range(len(sizes)) if sizes[d] > 1), key=lambda d: strides[d]):
        if strides[d] > extent:
            extent += (sizes[d] - 1) * strides[d]
        else:
            loop.append(d)
    if not loop:
        region.add_(grad)
        return
    for point in itertools.product(*(range(sizes[d]) for d in loop)):
        index = [slice(None)] * len(sizes)
        for d, i in zip(loop, point):
            index[d] = i
        index = tuple(index)
        region[index].add_(grad[index])


def _view_backward(ctx, grad, locate, region=None):
    name = ctx._node.name()
    return _scatter(grad, ctx.input_shapes[0], locate, name[:-1] + "Backward0", region)


def _dims(dim, ndim):
    """Reduced dims, wrapped and sorted; None and () mean all of them."""
    from engine._shape import wrap_dim

    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dim = (dim,)
    dims = tuple(dim)
    if not dims:
        return tuple(range(ndim))
    return tuple(sorted(wrap_dim(d, max(ndim, 1)) for d in dims))


def _restore(grad, dims, ndim, keepdim):
    """Put back the reduced dims (as size 1) so grad broadcasts against the input."""
    if keepdim or ndim == 0:
        return grad
    for d in dims:
        grad = grad.unsqueeze(d)
    return grad


def _reduced_count(shape, dims):
    count = 1
    for d in dims:
        count *= shape[d] if shape else 1
    return count


# ---- arithmetic ----
@rule("add", "__radd__", inputs=(0, 1), name="AddBackward0")
def _add(ctx, grad):
    alpha = ctx._values.get("alpha", 1)
    return grad, (grad if alpha == 1 else grad * alpha)


@rule("sub", "subtract", inputs=(0, 1), name="SubBackward0")
def _sub(ctx, grad):
    alpha = ctx._values.get("alpha", 1)
    return grad, (-grad if alpha == 1 else -grad * alpha)


@rule("rsub", "__rsub__", inputs=(0, 1),
      name=lambda values: "RsubBackward0" if _is_tensor(_arg(values, 1)) else "RsubBackward1")
def _rsub(ctx, grad):
    alpha = ctx._values.get("alpha", 1)
    return (-grad if alpha == 1 else -grad * alpha), grad


@rule("mul", "multiply", "__rmul__", inputs=(0, 1), save={0: (1,), 1: (0,)}, name="MulBackward0")
def _mul(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    return (grad * b if ctx.needs_input_grad[0] else None), (grad * a if ctx.needs_input_grad[1] else None)


@rule("div", "divide", "true_divide", inputs=(0, 1), save={0: (1,), 1: (0, 1)},
      name=lambda values: "DivBackward0" if values.get("rounding_mode") is None else "DivBackward2")
def _div(ctx, grad):
    if ctx._values.get("rounding_mode") is not None:
        return _zeros(grad), (_zeros(grad) if ctx.needs_input_grad[1] else None)  # piecewise constant
    a, b = ctx.saved(0), ctx.saved(1)
    ga = grad / b if ctx.needs_input_grad[0] else None
    gb = -grad * ((a / b) / b) if ctx.needs_input_grad[1] else None
    return ga, gb


@rule("floor_divide", inputs=(0, 1), name=NOT_IMPLEMENTED)
def _floor_divide(ctx, grad):
    _not_implemented("floor_divide")


@rule("remainder", inputs=(0, 1), save={0: (1,), 1: (0, 1)},
      name=lambda values: (NOT_IMPLEMENTED if not _is_tensor(_arg(values, 0))
                           else "RemainderBackward1" if _is_tensor(_arg(values, 1)) else "RemainderBackward0"))
def _remainder(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    if not _is_tensor(a):
        _not_implemented("remainder")  # remainder(Scalar, Tensor)
    gb = -grad * a.div(b, rounding_mode="floor") if ctx.needs_input_grad[1] else None
    return grad, gb


@rule("fmod", inputs=(0, 1), save={0: (1,), 1: (0, 1)},
      name=lambda values: "FmodBackward1" if _is_tensor(_arg(values, 1)) else "FmodBackward0")
def _fmod(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    gb = -grad * a.div(b, rounding_mode="trunc") if ctx.needs_input_grad[1] else None
    return grad, gb


@rule("neg", "negative", name="NegBackward0")
def _neg(ctx, grad):
    return -grad


@rule("positive", name="PositiveBackward0")
def _positive(ctx, grad):
    return grad  # positive hands its input back, so this node is never recorded (as in torch)


# ---- powers ----
def _pow_name(values):
    base, exponent = _arg(values, 0), _arg(values, 1)
    if not _is_tensor(base):
        return "PowBackward2"
    return "PowBackward1" if _is_tensor(exponent) else "PowBackward0"


@rule("pow", "float_power", inputs=(0, 1), save={0: (0, 1), 1: (0, 1), "result": (1,)}, name=_pow_name)
def _pow(ctx, grad):
    engine = _engine()
    base, exponent = ctx.saved(0), ctx.saved(1)
    if ctx._node.rule.op == "float_power":
        # float_power is pow in float64 on float64 copies of its tensor arguments
        base = base.to(engine.float64) if _is_tensor(base) else base
        exponent = exponent.to(engine.float64) if _is_tensor(exponent) else exponent
    if not _is_tensor(exponent):
        # pow_backward: a zero exponent has a zero gradient, even at a zero base
        if exponent == 0:
            return engine.zeros_like(base), None
        e = float(exponent)
        return grad * (e * base.pow(e - 1)), None
    grad_base = grad_exponent = None
    if ctx.needs_input_grad[0]:
        # pow_backward_self
        grad_base = engine.where(exponent == 0.0, 0.0, grad * (exponent * base.pow(exponent - 1)))
    if ctx.needs_input_grad[1]:
        result = ctx.result
        if _is_tensor(base):
            # pow_backward_exponent: 0 ** e with e >= 0 has a zero gradient in e (not 0 * -inf)
            zero_base = (base == 0).logical_and(exponent >= 0)
            grad_exponent = grad * engine.where(zero_base, 0.0, result * base.log())
        elif base == 0:
            # log(0) = -inf: 0 ** e with e >= 0 has a zero gradient, with e < 0 it is inf * -inf
            grad_exponent = grad * engine.where(exponent >= 0, 0.0, result * -math.inf)
        else:
            grad_exponent = grad * (result * math.log(base))
    return grad_base, grad_exponent


@rule("square", save=(0,), name="PowBackward0")
def _square(ctx, grad):
    return grad * (2.0 * ctx.saved(0))


# ---- unary math ----
@rule("exp", save=("result",), name="ExpBackward0")
def _exp(ctx, grad):
    return grad * ctx.result


@rule("exp2", "special.exp2", save=("result",), name="Exp2Backward0")
def _exp2(ctx, grad):
    return grad * ctx.result * math.log(2.0)


@rule("expm1", "special.expm1", save=("result",), name="Expm1Backward0")
def _expm1(ctx, grad):
    return grad * (ctx.result + 1)


@rule("log", save=(0,), name="LogBackward0")
def _log(ctx, grad):
    return grad / ctx.saved(0)


@rule("log2", save=(0,), name="Log2Backward0")
def _log2(ctx, grad):
    return grad / (ctx.saved(0) * 0.6931471805599453)


@rule("log10", save=(0,), name="Log10Backward0")
def _log10(ctx, grad):
    return grad / (ctx.saved(0) * 2.3025850929940456)


@rule("log1p", "special.log1p", save=(0,), name="Log1PBackward0")
def _log1p(ctx, grad):
    return grad / (ctx.saved(0) + 1)


@rule("sqrt", save=("result",), name="SqrtBackward0")
def _sqrt(ctx, grad):
    return grad / (2 * ctx.result)  # inf at 0, like torch


@rule("rsqrt", save=("result",), name="RsqrtBackward0")
def _rsqrt(ctx, grad):
    return -0.5 * grad * ctx.result.pow(3)


@rule("reciprocal", save=("result",), name="ReciprocalBackward0")
def _reciprocal(ctx, grad):
    y = ctx.result
    return -grad * (y * y)


@rule("sin", save=(0,), name="SinBackward0")
def _sin(ctx, grad):
    return grad * ctx.saved(0).cos()


@rule("cos", save=(0,), name="CosBackward0")
def _cos(ctx, grad):
    return grad * -ctx.saved(0).sin()


@rule("tan", save=("result",), name="TanBackward0")
def _tan(ctx, grad):
    return grad * (1 + ctx.result.pow(2))


@rule("asin", "arcsin", save=(0,), name="AsinBackward0")
def _asin(ctx, grad):
    x = ctx.saved(0)
    return grad * (-x * x + 1).rsqrt()


@rule("acos", "arccos", save=(0,), name="AcosBackward0")
def _acos(ctx, grad):
    x = ctx.saved(0)
    return grad * -((-x * x + 1).rsqrt())


@rule("atan", "arctan", save=(0,), name="AtanBackward0")
def _atan(ctx, grad):
    x = ctx.saved(0)
    return grad / (x * x + 1)


@rule("sinh", save=(0,), name="SinhBackward0")
def _sinh(ctx, grad):
    return grad * ctx.saved(0).cosh()


@rule("cosh", save=(0,), name="CoshBackward0")
def _cosh(ctx, grad):
    return grad * ctx.saved(0).sinh()


@rule("tanh", "nn.functional.tanh", save=("result",), name="TanhBackward0")
def _tanh(ctx, grad):
    y = ctx.result
    return grad * (1 - y * y)


@rule("asinh", "arcsinh", save=(0,), name="AsinhBackward0")
def _asinh(ctx, grad):
    return grad * (ctx.saved(0).pow(2) + 1).rsqrt()


@rule("acosh", "arccosh", save=(0,), name="AcoshBackward0")
def _acosh(ctx, grad):
    return grad * (ctx.saved(0).pow(2) - 1).rsqrt()


@rule("atanh", "arctanh", save=(0,), name="AtanhBackward0")
def _atanh(ctx, grad):
    return grad * 1 / (1 - ctx.saved(0).pow(2))


@rule("sigmoid", "nn.functional.sigmoid", "special.expit", save=("result",), name="SigmoidBackward0")
def _sigmoid(ctx, grad):
    y = ctx.result
    return grad * (1 - y) * y


@rule("erf", "special.erf", save=(0,), name="ErfBackward0")
def _erf(ctx, grad):
    x = ctx.saved(0)
    return 2.0 / math.sqrt(math.pi) * (-(x.pow(2))).exp() * grad


@rule("erfc", "special.erfc", save=(0,), name="ErfcBackward0")
def _erfc(ctx, grad):
    x = ctx.saved(0)
    return -2.0 / math.sqrt(math.pi) * (-(x.pow(2))).exp() * grad


@rule("nn.functional.gelu", save=(0,), name="GeluBackward0")
def _gelu(ctx, grad):
    # torch's gelu_backward (GeluKernel.cpp), written with engine ops so it is differentiable itself
    x = ctx.saved(0)
    if ctx._values.get("approximate", "none") == "tanh":
        beta, kappa = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5, 0.044715
        x_sq = x * x
        tanh_inner = (beta * (x + kappa * (x_sq * x))).tanh()
        left_derivative = 0.5 * (1 + tanh_inner)
        right_derivative = (0.5 * x) * (1 - tanh_inner * tanh_inner) * (beta * (1 + 3 * kappa * x_sq))
        return grad * (left_derivative + right_derivative)
    cdf = 0.5 * (1 + (x * math.sqrt(0.5)).erf())
    pdf = (1.0 / math.sqrt(2.0 * math.pi)) * (x * x * -0.5).exp()
    return grad * (cdf + x * pdf)


@rule("deg2rad", name="Deg2RadBackward0")
def _deg2rad(ctx, grad):
    return grad * (math.pi / 180.0)


@rule("rad2deg", name="Rad2DegBackward0")
def _rad2deg(ctx, grad):
    return grad * (180.0 / math.pi)


@rule("relu", "nn.functional.relu", save=("result",), name="ReluBackward0")
def _relu(ctx, grad):
    # threshold_backward: zero where the output is <= 0 (so 0 at 0; NaN passes the gradient)
    return _engine().where(ctx.result <= 0, 0.0, grad)


@rule("abs", "absolute", save=(0,), name="AbsBackward0")
def _abs(ctx, grad):
    return grad * ctx.saved(0).sgn()  # sgn(0) = 0: no gradient at 0


@rule("nan_to_num", save=(0,), name="NanToNumBackward0")
def _nan_to_num(ctx, grad):
    return grad * ctx.saved(0).isfinite()


@rule("frac", name="FracBackward0")
def _frac(ctx, grad):
    return grad


# Piecewise-constant ops: a zero gradient everywhere (torch's zeros_like(grad)).
@rule("floor", name="FloorBackward0")
def _floor(ctx, grad):
    return _zeros(grad)


@rule("ceil", name="CeilBackward0")
def _ceil(ctx, grad):
    return _zeros(grad)


@rule("trunc", "fix", name="TruncBackward0")
def _trunc(ctx, grad):
    return _zeros(grad)


@rule("round", "special.round",
      name=lambda values: "RoundBackward0" if values.get("decimals") is None else "RoundBackward1")
def _round(ctx, grad):
    return _zeros(grad)


@rule("sign", name="SignBackward0")
def _sign(ctx, grad):
    return _zeros(grad)


@rule("sgn", name="SgnBackward0")
def _sgn(ctx, grad):
    return _zeros(grad)


# ---- binary math ----
@rule("atan2", "arctan2", inputs=(0, 1), save=(0, 1), name="Atan2Backward0")
def _atan2(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    denominator = a * a + b * b
    recip = _engine().where(denominator == 0, 0.0, denominator.reciprocal())  # 0 at the origin, not 0 * inf
    return (grad * b * recip if ctx.needs_input_grad[0] else None), (grad * -a * recip if ctx.needs_input_grad[1] else None)


@rule("hypot", inputs=(0, 1), save={0: (0,), 1: (1,), "result": (0, 1)}, name="HypotBackward0")
def _hypot(ctx, grad):
    result = ctx.result
    return ((grad * ctx.saved(0) / result if ctx.needs_input_grad[0] else None),
            (grad * ctx.saved(1) / result if ctx.needs_input_grad[1] else None))


@rule("copysign", inputs=(0, 1), save={0: (0,), "result": (0,)},
      name=lambda values: "CopysignBackward0" if _is_tensor(_arg(values, 1)) else "CopysignBackward1")
def _copysign(ctx, grad):
    ga = None
    if ctx.needs_input_grad[0]:
        a = ctx.saved(0)
        ratio = _engine().where(a == 0, 0.0, ctx.result / a)
        ga = grad * ratio
    gb = _zeros(grad) if ctx.needs_input_grad[1] else None
    return ga, gb


@rule("xlogy", "special.xlogy", inputs=(0, 1), save={0: (0, 1), 1: (0, 1)},
      name=lambda values: ("XlogyBackward1" if not _is_tensor(_arg(values, 0))
                           else "XlogyBackward0" if _is_tensor(_arg(values, 1)) else "XlogyBackward2"))
def _xlogy(ctx, grad):
    engine = _engine()
    a, b = ctx.saved(0), ctx.saved(1)
    ga = gb = None
    if ctx.needs_input_grad[0]:
        # d/dx x*log(y) = log(y); at x = 0 with y <= 0 (not differentiable) torch picks 0,
        # the derivative along x = 0 (pytorch#80770)
        ga = engine.xlogy(grad, b)
        if _is_tensor(b):
            ga = engine.where((a == 0).logical_and(b <= 0), 0.0, ga)
        elif not b > 0:
            ga = engine.where(a == 0, 0.0, ga)
    if ctx.needs_input_grad[1]:
        gb = grad * a / b
    return ga, gb


@rule("nextafter", inputs=(0, 1), name="NextafterBackward0")
def _nextafter(ctx, grad):
    return grad, (_zeros(grad) if ctx.needs_input_grad[1] else None)


def _split_ties(grad, a, b, keep_a_when):
    """maximum/minimum: grad to the winner, half to each side of a tie."""
    engine = _engine()
    shared = engine.where(a == b, grad / 2, grad)
    return engine.where(keep_a_when(a, b), 0.0, shared)


@rule("maximum", inputs=(0, 1), save=(0, 1), name="MaximumBackward0")
def _maximum(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    return ((_split_ties(grad, a, b, lambda x, y: x < y) if ctx.needs_input_grad[0] else None),
            (_split_ties(grad, a, b, lambda x, y: x > y) if ctx.needs_input_grad[1] else None))


@rule("minimum", inputs=(0, 1), save=(0, 1), name="MinimumBackward0")
def _minimum(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    return ((_split_ties(grad, a, b, lambda x, y: x > y) if ctx.needs_input_grad[0] else None),
            (_split_ties(grad, a, b, lambda x, y: x < y) if ctx.needs_input_grad[1] else None))


def _fmax_fmin(ctx, grad, wins):
    # The NaN-ignoring max/min: all of grad to self where it wins or the other is NaN, else to other.
    engine = _engine()
    a, b = ctx.saved(0), ctx.saved(1)
    to_self = wins(a, b).logical_or(b.isnan())
    return ((engine.where(to_self, grad, 0.0) if ctx.needs_input_grad[0] else None),
            (engine.where(to_self, 0.0, grad) if ctx.needs_input_grad[1] else None))


@rule("fmax", inputs=(0, 1), save=(0, 1), name="FmaxBackward0")
def _fmax(ctx, grad):
    return _fmax_fmin(ctx, grad, lambda a, b: a >= b)


@rule("fmin", inputs=(0, 1), save=(0, 1), name="FminBackward0")
def _fmin(ctx, grad):
    return _fmax_fmin(ctx, grad, lambda a, b: a <= b)


# ---- selection ----
@rule("where", inputs=(1, 2), save=(0,), name="WhereBackward0")
def _where(ctx, grad):
    engine = _engine()
    condition = ctx.condition
    return ((engine.where(condition, grad, 0.0) if ctx.needs_input_grad[0] else None),
            (engine.where(condition, 0.0, grad) if ctx.needs_input_grad[1] else None))


def _clamp_name(values):
    low, high = _arg(values, 1), _arg(values, 2)
    return "ClampBackward0" if _is_tensor(low) or _is_tensor(high) else "ClampBackward1"


@rule("clamp", "clip", inputs=(0, 1, 2), save=(0, 1, 2), name=_clamp_name)
def _clamp(ctx, grad):
    # The input keeps the gradient at the bounds (min <= x <= max); a bound gets it where it
    # is the value (strictly outside), and with min > max the max wins.
    engine = _engine()
    x, low, high = ctx.saved(0), ctx.saved(1), ctx.saved(2)
    gx = glow = ghigh = None
    if ctx.needs_input_grad[0]:
        if low is not None and high is not None:
            inside = (x >= low).logical_and(x <= high)
        elif low is not None:
            inside = x >= low
        else:
            inside = x <= high
        gx = engine.where(inside, grad, 0.0)
    if low is not None and high is not None:
        if ctx.needs_input_grad[1]:
            glow = engine.where((x < low).logical_and(low < high), grad, 0.0)
        if ctx.needs_input_grad[2]:
            ghigh = engine.where((x > high).logical_or(high < low), grad, 0.0)
    elif low is not None and ctx.needs_input_grad[1]:
        glow = engine.where(x < low, grad, 0.0)
    elif high is not None and ctx.needs_input_grad[2]:
        ghigh = engine.where(x > high, grad, 0.0)
    return gx, glow, ghigh


@rule("clamp_min", inputs=(0, 1), save=(0, 1),
      name=lambda values: "ClampMinBackward1" if _is_tensor(_arg(values, 1)) else "ClampMinBackward0")
def _clamp_min(ctx, grad):
    engine = _engine()
    x, low = ctx.saved(0), ctx.saved(1)
    return ((engine.where(x >= low, grad, 0.0) if ctx.needs_input_grad[0] else None),
            (engine.where(x < low, grad, 0.0) if ctx.needs_input_grad[1] else None))


@rule("clamp_max", inputs=(0, 1), save=(0, 1),
      name=lambda values: "ClampMaxBackward1" if _is_tensor(_arg(values, 1)) else "ClampMaxBackward0")
def _clamp_max(ctx, grad):
    engine = _engine()
    x, high = ctx.saved(0), ctx.saved(1)
    return ((engine.where(x <= high, grad, 0.0) if ctx.needs_input_grad[0] else None),
            (engine.where(x > high, grad, 0.0) if ctx.needs_input_grad[1] else None))


# ---- views ----
def _reshape_name(target_shape):
    """ViewBackward0 when the reshape is a view, UnsafeViewBackward0 when it copies."""
    def name(values):
        from engine._shape import infer_size, numel, view_strides

        x = _arg(values, 0)
        shape = infer_size(tuple(target_shape(values)), numel(x._shape))
        return "ViewBackward0" if view_strides(x._shape, x._stride, shape) is not None else "UnsafeViewBackward0"

    return name


def _size_arg(values):
    from engine._views import _size_args

    return _size_args(tuple(_arg(values, 1)))


def _flatten_shape(values):
    from engine._shape import numel, wrap_dim

    shape = _arg(values, 0)._shape
    if not shape:
        return (1,)
    s, e = wrap_dim(values.get("start_dim", 0), len(shape)), wrap_dim(values.get("end_dim", -1), len(shape))
    return shape[:s] + (numel(shape[s:e + 1]),) + shape[e + 1:]


def _back_to_input_shape(ctx, grad):
    return grad.reshape(ctx.input_shapes[0])


rule("view", "view_as", "unflatten", name="ViewBackward0")(_back_to_input_shape)
rule("reshape", name=_reshape_name(_size_arg))(_back_to_input_shape)
rule("reshape_as", name=_reshape_name(lambda values: _arg(values, 1)._shape))(_back_to_input_shape)
rule("flatten", name=_reshape_name(_flatten_shape))(_back_to_input_shape)


@rule("squeeze", name=lambda values: ("SqueezeBackward0" if values.get("dim") is None else
                                      "SqueezeBackward2" if isinstance(values["dim"], (tuple, list)) else
                                      "SqueezeBackward1"))
def _squeeze(ctx, grad):
    return grad.reshape(ctx.input_shapes[0])


@rule("unsqueeze", name="UnsqueezeBackward0")
def _unsqueeze(ctx, grad):
    return grad.squeeze(ctx._values["dim"])


@rule("t", name="TBackward0")
def _t(ctx, grad):
    return grad.t()


@rule("transpose", name="TransposeBackward0")
def _transpose(ctx, grad):
    return grad.transpose(ctx._values["dim0"], ctx._values["dim1"])


@rule("mT", name="TransposeBackward0")
def _mT(ctx, grad):
    return grad.transpose(-2, -1)


@rule("permute", name="PermuteBackward0")
def _permute(ctx, grad):
    dims = ctx._values["dims"]
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    n = len(dims)
    inverse = [0] * n
    for i, d in enumerate(dims):
        inverse[d % n] = i
    return grad.permute(inverse)


@rule("T", name="PermuteBackward0")
def _T(ctx, grad):
    return grad.permute(tuple(range(len(ctx.input_shapes[0]) - 1, -1, -1)))


@rule("movedim", name="PermuteBackward0")
def _movedim(ctx, grad):
    return grad.movedim(ctx._values["destination"], ctx._values["source"])


@rule("expand", "expand_as", "broadcast_to", name="ExpandBackward0")
def _expand(ctx, grad):
    return grad  # the recorder sums the broadcast dims back


@rule("clone", "contiguous", name="CloneBackward0")
def _clone(ctx, grad):
    return grad  # contiguous() of a contiguous tensor hands it back: no node, as in torch


@rule("select", name="SelectBackward0")
def _select(ctx, grad):
    dim, index = ctx._values["dim"], ctx._values["index"]
    return _view_backward(ctx, grad, lambda t: t.select(dim, index))


@rule("narrow", name="SliceBackward0")
def _narrow(ctx, grad):
    dim, start, length = ctx._values["dim"], ctx._values["start"], ctx._values["length"]
    return _view_backward(ctx, grad, lambda t: t.narrow(dim, start, length))


@rule("diagonal", name="DiagonalBackward0")
def _diagonal(ctx, grad):
    offset, dim1, dim2 = ctx._values["offset"], ctx._values["dim1"], ctx._values["dim2"]
    return _view_backward(ctx, grad, lambda t: t.diagonal(offset, dim1, dim2))


@rule("unfold", name="UnfoldBackward0")
def _unfold(ctx, grad):
    dimension, size, step = ctx._values["dimension"], ctx._values["size"], ctx._values["step"]
    return _view_backward(ctx, grad, lambda t: t.unfold(dimension, size, step))


def _getitem_name(values):
    """The node torch's indexing ends with: the last select/slice/unsqueeze it applies
    (a full slice inside a tuple is skipped), AliasBackward0 when it applies none, and
    IndexBackward0 for a bool index (torch indexes with a tensor for it)."""
    import builtins

    index = _arg(values, 1)
    if not isinstance(index, tuple):
        if index is None:
            return "UnsqueezeBackward0"
        if index is Ellipsis:
            return "AliasBackward0"
        if isinstance(index, builtins.bool):
            return "IndexBackward0"
        return "SliceBackward0" if isinstance(index, slice) else "SelectBackward0"
    if any(isinstance(i, builtins.bool) for i in index):
        return "IndexBackward0"
    shape = _arg(values, 0)._shape
    consumed = sum(1 for i in index if i is not None and i is not Ellipsis)
    name, dim = "AliasBackward0", 0
    for item in index:
        if item is Ellipsis:
            dim += len(shape) - consumed
        elif item is None:
            name = "UnsqueezeBackward0"
        elif isinstance(item, slice):
            if range(*item.indices(shape[dim])) != range(shape[dim]):
                name = "SliceBackward0"
            dim += 1
        else:
            name = "SelectBackward0"
            dim += 1
    return name


@rule("__getitem__", name=_getitem_name)
def _getitem(ctx, grad):
    from engine._indexing import basic_index

    index = ctx._values["index"]
    # t[index] copies for a bool index; the gradient is written through the view it copies
    return _view_backward(ctx, grad, lambda t: t[index], lambda t: basic_index(t, index))


# ---- in-place writes (torch's CopySlices wraps these when they write through a view) ----
@inplace_rule("copy_", inputs=(0, 1), name="torch::autograd::CopyBackwards")
def _copy_(ctx, grad):
    return _zeros(grad), grad  # the recorder sums grad back to src's shape and casts it to src's dtype


@inplace_rule("fill_", inputs=(0, 1), name=lambda values: "FillBackward3" if _is_tensor(_arg(values, 1))
              else "FillBackward2")
def _fill_(ctx, grad):
    return _zeros(grad), (grad.sum() if ctx.needs_input_grad[1] else None)


@inplace_rule("zero_", name="ZeroBackward0")
def _zero_(ctx, grad):
    return _zeros(grad)


def _geometry(values):
    x = _arg(values, 0)
    return {"input_geometry": (x._shape, x._stride, x._offset)}


def _extent(shape, stride, offset):
    """One past the last storage element a geometry reaches (0 when it has no elements)."""
    if any(s == 0 for s in shape):
        return 0
    return offset + sum((s - 1) * st for s, st in zip(shape, stride)) + 1


def _as_strided_in(t, size, stride, offset):
    """t.as_strided with storage_offset relative to a contiguous copy of t."""
    t = t.contiguous()
    return t.as_strided(size, stride, t.storage_offset() + offset)


@rule("as_strided", name="AsStridedBackward0", keep=_geometry)
def _as_strided(ctx, grad):
    # as_strided indexes the storage, so the gradient is built in a storage-sized buffer
    # and read back through the input's own geometry (torch's as_strided_backward).
    in_shape, in_stride, in_offset = ctx._values["input_geometry"]
    size, stride = tuple(ctx._values["size"]), tuple(ctx._values["stride"])
    offset = ctx._values.get("storage_offset")
    offset = in_offset if offset is None else offset
    length = max(_extent(size, stride, offset), _extent(in_shape, in_stride, in_offset), 1)
    storage = _scatter(grad, (length,), lambda t: _as_strided_in(t, size, stride, offset), "AsStridedBackwardBackward0")
    return storage.as_strided(in_shape, in_stride, in_offset)


# ---- reductions ----
def _reduction_name(base, dim_key="dim"):
    return lambda values: f"{base}Backward0" if values.get(dim_key) is None else f"{base}Backward1"


@rule("sum", name=_reduction_name("Sum"))
def _sum(ctx, grad):
    shape = ctx.input_shapes[0]
    if ctx._values.get("dim") is None and not grad._shape and not STATE.enabled:
        # sum() of everything: the 0-dim gradient viewed with every stride 0, which is what
        # unsqueezing it back and expanding gives; built directly when nothing records it.
        return view_of(grad, shape, (0,) * len(shape), grad._offset)
    dims = _dims(ctx._values.get("dim"), len(shape))
    return _restore(grad, dims, len(shape), ctx._values.get("keepdim", False)).expand(shape)


@rule("mean", name=_reduction_name("Mean"))
def _mean(ctx, grad):
    return _mean_backward(grad, ctx._values, ctx.input_shapes[0])


@rule("nansum", save=(0,), name="NansumBackward0")
def _nansum(ctx, grad):
    x = ctx.saved(0)
    shape = ctx.input_shapes[0]
    dims = _dims(ctx._values.get("dim"), len(shape))
    expanded = _restore(grad, dims, len(shape), ctx._values.get("keepdim", False)).expand(shape)
    return expanded * x.isnan().logical_not()  # NaNs were skipped: no gradient


@rule("prod", save=(0, "result"), name=_reduction_name("Prod"))
def _prod(ctx, grad):
    x, result = ctx.saved(0), ctx.result
    shape = ctx.input_shapes[0]
    if not shape:
        return grad
    dim = ctx._values.get("dim")
    dims = _dims(dim, len(shape))
    keepdim = ctx._values.get("keepdim", False) if dim is not None else False
    grad = _restore(grad, dims, len(shape), keepdim)
    if int((x == 0).sum()) == 0:
        return grad * (_restore(result, dims, len(shape), keepdim) / x)
    # With zeros result / x is 0/0: use the product of the other elements of each slice,
    # written without division so that it stays differentiable at the zeros.
    return grad * _product_of_others(x, dims)


def _product_of_others(x, dims):
    """For each element, the product of the other elements of its slice over `dims`."""
    engine = _engine()
    shape = x._shape
    kept = [d for d in range(len(shape)) if d not in dims]
    order = kept + list(dims)
    n = _reduced_count(shape, dims)
    outer = tuple(shape[d] for d in kept)
    rows = x.permute(order).reshape(outer + (n,))
    square = rows.unsqueeze(-2).expand(outer + (n, n))  # square[..., i, j] = x_j
    positions = engine.arange(n)
    others = engine.where(positions.unsqueeze(1) == positions, 1.0, square).prod(-1)
    inverse = [0] * len(order)
    for i, d in enumerate(order):
        inverse[d] = i
    return others.reshape(tuple(shape[d] for d in order)).permute(inverse)


def _evenly(grad, x, value):
    """max()/min() without dim: the gradient shared evenly among the elements equal to
    the result (NaN counts as equal to a NaN result)."""
    engine = _engine()
    mask = x.isnan() if bool(value.isnan()) else x == value
    return engine.where(mask, grad / mask.sum(), 0.0)


def _share_among_ties(grad, x, result, values):
    """The gradient shared evenly among the elements equal to the result (torch's scale_grad_by_count)."""
    shape = x._shape
    dims = _dims(values.get("dim"), len(shape))
    keepdim = values.get("keepdim", False)
    grad = _restore(grad, dims, len(shape), keepdim)
    mask = x == _restore(result, dims, len(shape), keepdim)
    return (grad / mask.sum(dim=dims, keepdim=True)) * mask


def _amax_amin(ctx, grad):
    return _share_among_ties(grad, ctx.saved(0), ctx.result, ctx._values)


rule("amax", save=(0, "result"), name="AmaxBackward0")(_amax_amin)
rule("amin", save=(0, "result"), name="AminBackward0")(_amax_amin)


@rule("aminmax", save=(0, "result", "result1"), outputs=(0, 1), name="AminmaxBackward0")
def _aminmax(ctx, grad_min, grad_max):
    x, values = ctx.saved(0), ctx._values
    parts = [_share_among_ties(g, x, result, values)
             for g, result in ((grad_min, ctx.result), (grad_max, ctx.result1)) if g is not None]
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


def _max_min_name(base):
    def name(values):
        dim = values.get("dim")
        if _is_tensor(dim) or _is_tensor(values.get("other")):
            return f"{base}imumBackward0"
        return f"{base}Backward1" if dim is None else f"{base}Backward0"

    return name


def _max_min_backward(ctx, grad):
    engine = _engine()
    if _is_tensor(_arg(ctx._values, 1)):  # max(input, other) is maximum
        return (_maximum if ctx._node.rule.op == "max" else _minimum)(ctx, grad)
    x = ctx.saved(0)
    dim = ctx._values.get("dim")
    if dim is None:
        return _evenly(grad, x, ctx.result)
    # max(dim): all of the gradient to the index it returned (a one-hot scatter)
    shape = ctx.input_shapes[0]
    if not shape:
        return grad
    from engine._shape import wrap_dim

    d = wrap_dim(dim, len(shape))
    indices = ctx.result1
    if not ctx._values.get("keepdim", False):
        grad, indices = grad.unsqueeze(d), indices.unsqueeze(d)
    positions = engine.arange(shape[d]).reshape((shape[d],) + (1,) * (len(shape) - d - 1))
    return engine.where(positions == indices, grad, 0.0)


rule("max", inputs=(0, 1), save=(0, 1, "result", "result1"), name=_max_min_name("Max"))(_max_min_backward)
rule("min", inputs=(0, 1), save=(0, 1, "result", "result1"), name=_max_min_name("Min"))(_max_min_backward)


def _dim_and_correction(values):
    """The forward's own reading of var/std's overloads (x.var(True) puts unbiased in dim's place)."""
    from engine._ops.reduction import _correction

    return _correction("var", values.get("dim"), values.get("unbiased"), values.get("correction"))


def _var_backward(grad, x, values, shape):
    engine = _engine()
    dim, correction = _dim_and_correction(values)
    if not shape or dim is None:
        dof = math.prod(shape) - correction
        if dof <= 0:
            # 2 / dof is inf: inf * (x - mean), with 0 * inf = NaN where x is the mean
            return grad * engine.where(x == x.mean(), math.nan, math.inf)
        return (2.0 / dof) * grad * (x - x.mean())
    dims = _dims(dim, len(shape))
    if len(shape) > 1:
        grad = _restore(grad, dims, len(shape), values.get("keepdim", False))
    dof = _reduced_count(shape, dims) - correction
    scale = 2.0 / dof if dof else math.inf  # torch divides in floating point: 2 / 0 is inf
    return scale * grad * (x - x.mean(dim=dims, keepdim=True))


def _std_backward(grad, std, x, values):
    grad_var = _engine().where(std == 0, 0.0, grad / (std * 2))  # d sqrt(v) = dv / (2 sqrt(v)), 0 at 0
    return _var_backward(grad_var, x, values, x._shape)


def _mean_backward(grad, values, shape):
    dims = _dims(values.get("dim"), len(shape))
    grad = _restore(grad, dims, len(shape), values.get("keepdim", False)).expand(shape)
    return grad / _reduced_count(shape, dims)


@rule("var", save=(0,), name="VarBackward0")
def _var(ctx, grad):
    return _var_backward(grad, ctx.saved(0), ctx._values, ctx.input_shapes[0])


@rule("std", save=(0, "result"), name="StdBackward0")
def _std(ctx, grad):
    return _std_backward(grad, ctx.result, ctx.saved(0), ctx._values)


def _with_mean(deviation_backward):
    """var_mean / std_mean: the two outputs' gradients, each where it is defined, added."""
    def backward(ctx, grad_deviation, grad_mean):
        x = ctx.saved(0)
        parts = []
        if grad_deviation is not None:
            parts.append(deviation_backward(ctx, grad_deviation, x))
        if grad_mean is not None:
            dim, _ = _dim_and_correction(ctx._values)
            parts.append(_mean_backward(grad_mean, {**ctx._values, "dim": dim}, x._shape))
        return parts[0] if len(parts) == 1 else parts[0] + parts[1]

    return backward


rule("var_mean", save=(0,), outputs=(0, 1), name="VarMeanBackward0")(
    _with_mean(lambda ctx, grad, x: _var_backward(grad, x, ctx._values, x._shape)))
rule("std_mean", save=(0, "result"), outputs=(0, 1), name="StdMeanBackward0")(
    _with_mean(lambda ctx, grad, x: _std_backward(grad, ctx.result, x, ctx._values)))


@rule("logsumexp", save=(0, "result"), name="LogsumexpBackward0")
def _logsumexp(ctx, grad):
    x, result = ctx.saved(0), ctx.result
    shape = ctx.input_shapes[0]
    dims = _dims(ctx._values.get("dim"), len(shape))
    keepdim = ctx._values.get("keepdim", False)
    grad, result = _restore(grad, dims, len(shape), keepdim), _restore(result, dims, len(shape), keepdim)
    return grad * (x - result).exp()


def _softmax_dim(ctx):
    return ctx._values.get("dim")


@rule("softmax", save=("result",), name="SoftmaxBackward0")
def _softmax(ctx, grad):
    # torch's _softmax_backward_data: y * (grad - sum(grad * y, dim))
    y = ctx.result
    return y * (grad - (grad * y).sum(_softmax_dim(ctx), keepdim=True))


@rule("log_softmax", save=("result",), name="LogSoftmaxBackward0")
def _log_softmax(ctx, grad):
    # torch's _log_softmax_backward_data: grad - exp(y) * sum(grad, dim)
    y = ctx.result
    return grad - y.exp() * grad.sum(_softmax_dim(ctx), keepdim=True)


def _norm_order(values):
    p = values.get("p", values.get("ord", 2))
    if p is None or p == "fro":
        return 2.0
    return float(p)


@rule("norm", "linalg.vector_norm", save=(0, "result"), name="LinalgVectorNormBackward0")
def _norm(ctx, grad):
    engine = _engine()
    x, norm = ctx.saved(0), ctx.result
    shape = ctx.input_shapes[0]
    p = _norm_order(ctx._values)
    dim = ctx._values.get("dim")
    dims = _dims(dim, len(shape))
    keepdim = ctx._values.get("keepdim", False)
    grad, norm = _restore(grad, dims, len(shape), keepdim), _restore(norm, dims, len(shape), keepdim)
    if p == 0.0:
        return None
    if p == 1.0:
        return x.sgn() * grad
    if p == 2.0:
        return grad * engine.where(norm == 0, 0.0, x / norm)  # 0 at a zero norm, not 0/0
    if math.isinf(p):
        # amax(abs(x)) respecting NaN: the gradient shared among the elements at the norm
        magnitude = x.abs()
        mask = (magnitude == norm).logical_or(magnitude.isnan())
        return x.sgn() * ((grad / mask.sum(dim=dims, keepdim=True)) * mask)
    if p < 1.0:
        scaled = x.sgn() * engine.where(x == 0, 0.0, x.abs().pow(p - 1))
        return scaled * grad * norm.pow(1 - p)
    scale = engine.where(norm == 0, 0.0, grad / norm.pow(p - 1))
    if p < 2.0:
        return x.sgn() * x.abs().pow(p - 1) * scale
    return x * x.abs().pow(p - 2) * scale


# ---- linear algebra ----
@rule("mm", inputs=(0, 1), save={0: (1,), 1: (0,)}, name="MmBackward0")
def _mm(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    return ((grad.mm(b.t()) if ctx.needs_input_grad[0] else None),
            (a.t().mm(grad) if ctx.needs_input_grad[1] else None))


@rule("bmm", inputs=(0, 1), save={0: (1,), 1: (0,)}, name="BmmBackward0")
def _bmm(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    return ((grad.bmm(b.transpose(1, 2)) if ctx.needs_input_grad[0] else None),
            (a.transpose(1, 2).bmm(grad) if ctx.needs_input_grad[1] else None))


@rule("dot", inputs=(0, 1), save={0: (1,), 1: (0,)}, name="DotBackward0")
def _dot(ctx, grad):
    a, b = ctx.saved(0), ctx.saved(1)
    return (grad * b if ctx.needs_input_grad[0] else None), (grad * a if ctx.needs_input_grad[1] else None)


rule("vdot", inputs=(0, 1), save={0: (1,), 1: (0,)}, name="VdotBackward0")(_dot)  # real dtypes: no conjugate


@rule("mv", inputs=(0, 1), save={0: (1,), 1: (0,)}, name="MvBackward0")
def _mv(ctx, grad):
    a, v = ctx.saved(0), ctx.saved(1)
    return ((grad.unsqueeze(1) * v if ctx.needs_input_grad[0] else None),
            (a.t().mv(grad) if ctx.needs_input_grad[1] else None))


@rule("outer", inputs=(0, 1), save={0: (1,), 1: (0,)}, name="MulBackward0")
def _outer(ctx, grad):
    # torch's outer is self.reshape(-1, 1) * vec2: the gradients are mul's, summed back
    a, b = ctx.saved(0), ctx.saved(1)
    return (((grad * b).sum(1) if ctx.needs_input_grad[0] else None),
            ((grad * a.unsqueeze(1)).sum(0) if ctx.needs_input_grad[1] else None))


def _should_fold(a, b):
    """torch's matmul folds the batch dims of the larger operand into a matrix (mm/mv)
    instead of expanding both for bmm (aten/src/ATen/native/LinearAlgebra.cpp)."""
    from engine._shape import numel

    larger = len(a._shape) >= len(b._shape)
    if larger:
        shape, stride, small = a._shape, a._stride, b
    else:
        shape = b._shape[:-2] + (b._shape[-1], b._shape[-2])
        stride = b._stride[:-2] + (b._stride[-1], b._stride[-2])
        small = a
    if not (len(shape) >= 3 and len(small._shape) <= 2):
        return False
    if small.requires_grad:
        return True
    if len(a._shape) == 2:
        return False
    if numel(shape) == 0:
        return True
    return all(stride[i] == stride[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def _matmul_name(values):
    """The node torch's matmul ends with, following its dispatch on the operands' dims."""
    from engine._shape import contiguous_strides, is_contiguous

    a, b = _arg(values, 0), _arg(values, 1)
    d1, d2 = len(a._shape), len(b._shape)
    if d1 <= 2 and d2 <= 2:
        return {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (1, 2): "SqueezeBackward4",
                (2, 2): "MmBackward0"}.get((d1, d2), "MmBackward0")
    if _should_fold(a, b):
        if d2 > d1 and d1 == 2:
            # (b.mT folded @ a.t()) viewed back, then .mT.contiguous(): a copy unless already contiguous
            n, p = a._shape[0], b._shape[-1]
            shape = b._shape[:-2] + (p, n)
            stride = contiguous_strides(shape)
            shape, stride = shape[:-2] + (n, p), stride[:-2] + (stride[-1], stride[-2])
            return "TransposeBackward0" if is_contiguous(shape, stride) else "CloneBackward0"
        return "UnsafeViewBackward0"
    if d1 == 3 and d2 == 3 and a._shape[0] != b._shape[0]:
        if a._shape[0] == 1 and a.requires_grad:
            return _matmul_name({"a": a.squeeze(0), "b": b})
        if b._shape[0] == 1 and b.requires_grad:
            return _matmul_name({"a": a, "b": b.squeeze(0)})
    return "UnsafeViewBackward0"


@rule("matmul", "linalg.matmul", inputs=(0, 1), save={0: (1,), 1: (0,)}, name=_matmul_name)
def _matmul(ctx, grad):
    # Vectors become matrices (a row on the left, a column on the right), the products
    # are matmul's again, and the recorder sums the broadcast batch dims back.
    a, b = ctx.saved(0), ctx.saved(1)
    d1, d2 = len(ctx.input_shapes[0]), len(ctx.input_shapes[1])
    if d1 == 1:
        grad = grad.unsqueeze(-1 if d2 == 1 else -2)
    if d2 == 1:
        grad = grad.unsqueeze(-1)
    ga = gb = None
    if ctx.needs_input_grad[0]:
        right = b.unsqueeze(-1) if d2 == 1 else b
        ga = grad.matmul(right.mT)
        ga = ga.squeeze(-2) if d1 == 1 else ga
    if ctx.needs_input_grad[1]:
        left = a.unsqueeze(0) if d1 == 1 else a
        gb = left.mT.matmul(grad)
        gb = gb.squeeze(-1) if d2 == 1 else gb
    return ga, gb


# ---- fused products: beta * input + alpha * product (torch's maybe_multiply skips a factor of 1) ----
def _scaled(t, factor):
    return t if factor == 1 else t * factor


def _fused(product_grads):
    def backward(ctx, grad):
        beta, alpha = ctx._values.get("beta", 1), ctx._values.get("alpha", 1)
        first, second = ctx.saved(1), ctx.saved(2)
        grad_first, grad_second = product_grads(grad, first, second, ctx.needs_input_grad)
        return (_scaled(grad, beta) if ctx.needs_input_grad[0] else None,
                _scaled(grad_first, alpha) if grad_first is not None else None,
                _scaled(grad_second, alpha) if grad_second is not None else None)

    return backward


def _addmm_grads(grad, mat1, mat2, needs):
    return (grad.mm(mat2.t()) if needs[1] else None), (mat1.t().mm(grad) if needs[2] else None)


def _addmv_grads(grad, mat, vec, needs):
    return (grad.unsqueeze(1) * vec if needs[1] else None), (mat.t().mv(grad) if needs[2] else None)


def _baddbmm_grads(grad, batch1, batch2, needs):
    return ((grad.bmm(batch2.transpose(1, 2)) if needs[1] else None),
            (batch1.transpose(1, 2).bmm(grad) if needs[2] else None))


def _addbmm_grads(grad, batch1, batch2, needs):
    # every batch's product lands in the same output: the output gradient, once per batch
    grad = grad.unsqueeze(0).expand((batch1._shape[0],) + grad._shape)
    return _baddbmm_grads(grad, batch1, batch2, needs)


def _addr_grads(grad, vec1, vec2, needs):
    return (grad.mv(vec2) if needs[1] else None), (grad.t().mv(vec1) if needs[2] else None)


_FUSED_SAVE = {1: (2,), 2: (1,)}
rule("addmm", inputs=(0, 1, 2), save=_FUSED_SAVE, name="AddmmBackward0")(_fused(_addmm_grads))
rule("addmv", inputs=(0, 1, 2), save=_FUSED_SAVE, name="AddmvBackward0")(_fused(_addmv_grads))
rule("baddbmm", inputs=(0, 1, 2), save=_FUSED_SAVE, name="BaddbmmBackward0")(_fused(_baddbmm_grads))
rule("addbmm", inputs=(0, 1, 2), save={1: (1, 2), 2: (1, 2)}, name="AddbmmBackward0")(_fused(_addbmm_grads))
rule("addr", inputs=(0, 1, 2), save=_FUSED_SAVE, name="AddrBackward0")(_fused(_addr_grads))


# ---- composites: differentiable through the ops they call, as in torch ----
composite(
    "nn.functional.softmax",      # softmax(input, dim, dtype) after picking the implicit dim
    "nn.functional.log_softmax",  # log_softmax likewise
)
composite(
    "__rdiv__",            # reciprocal(self) * other: ReciprocalBackward0 then MulBackward0
    "__rpow__",            # pow(other, self)
    "__rmod__",            # remainder(other, self)
    "nn.functional.relu",  # relu or relu_ (inplace=True must rebase the graph like relu_)
    "__setitem__",         # copy_ or fill_ through a view: CopySlices on the indexed tensor
    "__rmatmul__",         # matmul(other, self)
    "inner",               # matmul of the flattened operands, viewed back (mul for a 0-dim operand)
    "nanmean",             # nansum / count of non-NaN: NansumBackward0 then DivBackward0
)


# ---- the families' rules (engine/autograd/rules/), into this same table ----
from engine.autograd import rules as _family_rules  # noqa: E402

_family_rules.load_all()
