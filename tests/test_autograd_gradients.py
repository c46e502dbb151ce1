"""Gradients of every differentiable op against torch (tinygrad's helper_test_op
for backward): the same computation runs in torch and in the engine on the same
numpy data, backward gets the same random upstream gradient, and every input's
.grad must match (None-ness, dtype, shape, values) along with grad_fn.name().

Plus double backward (create_graph=True, then the gradient of the gradient) for
the elementwise, reduction and matmul families, and a float64 finite-difference
gradcheck that runs on the engine alone.

One record per sample (`Case`) drives every test; special points (ties, bounds,
zeros, inf) are samples of their own. Cases whose op is not registered yet are
skipped, so the table can run ahead of the ops.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import pytest
import torch

import engine
from engine._registry import REGISTRY
from engine_helpers import assert_same, dtype_to_engine
from engine.autograd.derivatives import INPLACE_RULES, RULES

nan, inf = math.nan, math.inf

# Registered ops without a derivative rule, and why: torch records no gradient for them either.
NOT_DIFFERENTIABLE = {
    **{op: "boolean output" for op in (
        "eq", "ne", "not_equal", "lt", "less", "le", "less_equal", "gt", "greater", "ge", "greater_equal",
        "logical_and", "logical_or", "logical_xor", "logical_not",
        "isnan", "isinf", "isfinite", "isposinf", "isneginf", "signbit")},
    **{op: "integer and bool dtypes only" for op in (
        "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
        "__rand__", "__ror__", "__rxor__")},
    **{op: "factory: no tensor input to differentiate" for op in (
        "arange", "empty", "empty_like", "empty_strided", "eye", "full", "full_like", "linspace", "ones",
        "ones_like", "scalar_tensor", "tensor", "zeros", "zeros_like")},
    **{op: "integer or boolean output" for op in ("argmax", "argmin", "count_nonzero", "all", "any")},
    "detach": "returns a tensor outside the graph by definition",
    **{op: "integer or boolean output" for op in (
        "bool", "byte", "char", "short", "int", "long", "isclose", "isreal", "gcd", "lcm")},
    **{op: "Python bool output" for op in ("allclose", "equal")},
    **{op: "factory: no tensor input to differentiate" for op in (
        "logspace", "tril_indices", "triu_indices", "empty_permuted", "new_empty", "new_empty_strided", "new_full",
        "new_ones", "new_zeros")},
    "broadcast_shapes": "takes and returns shapes, not tensors",
    **{op: "integer output (indices)" for op in ("nonzero", "argwhere", "nonzero_static")},
    "nn.functional.one_hot": "int64 output",
    **{op: "integer output (indices)" for op in ("argsort", "searchsorted", "bucketize")},
    "histc": "torch records no gradient for histc (counts)",
    **{op: "random factory: samples depend on no tensor input" for op in (
        "rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "randperm")},
}

DOUBLE_BACKWARD_FAMILIES = ("elementwise", "reduction", "linalg")


@dataclass(frozen=True)
class Arr:
    """A tensor argument: random in [low, high), or the given values, in the case's float
    dtype unless `dtype` names another; a leaf requiring grad when `grad` (and floating)."""

    shape: tuple = (3, 4)
    low: float = -2.0
    high: float = 2.0
    values: Optional[tuple] = None
    dtype: Optional[str] = None
    grad: bool = True


@dataclass
class Case:
    op: str                      # the registry name this sample exercises
    fn: Callable                 # fn(lib, *args) -> output (lib is torch or engine)
    args: tuple = (Arr(),)
    family: str = "elementwise"
    variant: str = ""
    dtypes: tuple = ("float32", "float64")
    rtol: Optional[float] = None
    atol: Optional[float] = None
    backward_raises: bool = False  # torch records a node whose backward is not implemented
    gradcheck: bool = True         # smooth at its samples: finite differences apply
    double: Optional[bool] = None  # in the double-backward check (None: by family)
    needs: tuple = ()              # other ops its backward uses (sum for broadcasting), skipped until registered
    marks: tuple = field(default_factory=tuple)

    @property
    def id(self):
        return f"{self.op}-{self.variant}" if self.variant else self.op


def unary(op, call=None, low=-2.0, high=2.0, shape=(3, 4), **kw):
    call = call or (lambda lib, x, _op=op: _resolve(lib, _op)(x))
    return Case(op, call, (Arr(shape, low, high),), **kw)


def special(op, call, *values_per_arg, shape=None, **kw):
    """A sample at special points: each argument's values given explicitly."""
    args = tuple(Arr(shape or (len(v),), values=tuple(v)) if isinstance(v, (list, tuple)) else v
                 for v in values_per_arg)
    kw.setdefault("gradcheck", False)
    kw.setdefault("variant", "special")
    return Case(op, call, args, **kw)


def _resolve(lib, dotted):
    target = lib
    for part in dotted.split("."):
        target = getattr(target, part)
    return target


def binary(op, call=None, a=Arr(), b=Arr(), **kw):
    call = call or (lambda lib, x, y, _op=op: _resolve(lib, _op)(x, y))
    return Case(op, call, (a, b), **kw)


NO_DOF_WARNING = (pytest.mark.filterwarnings("ignore:var\\(\\). degrees of freedom"),)  # torch warns, by design
POS = dict(low=0.2, high=3.0)
UNIT = dict(low=-0.9, high=0.9)
BROADCAST = (Arr((3, 4)), Arr((4,)))

CASES = [
    # ---- unary elementwise ----
    unary("abs"), unary("absolute"),
    special("abs", lambda lib, x: lib.abs(x), [-1.5, 0.0, -0.0, 2.0]),
    unary("acos", **UNIT), unary("arccos", **UNIT),
    unary("asin", **UNIT), unary("arcsin", **UNIT),
    unary("atan"), unary("arctan"),
    unary("acosh", low=1.2, high=3.0), unary("arccosh", low=1.2, high=3.0),
    unary("asinh"), unary("arcsinh"),
    unary("atanh", **UNIT), unary("arctanh", **UNIT),
    unary("cos"), unary("sin"), unary("tan", low=-1.2, high=1.2),
    unary("cosh"), unary("sinh"), unary("tanh"),
    unary("exp"), unary("exp2"), unary("expm1"),
    unary("log", **POS), unary("log2", **POS), unary("log10", **POS), unary("log1p", low=-0.5, high=2.0),
    special("log", lambda lib, x: lib.log(x), [0.0, 1.0, 2.0]),
    unary("sqrt", **POS), special("sqrt", lambda lib, x: lib.sqrt(x), [0.0, 1.0, 4.0]),
    unary("rsqrt", **POS),
    unary("reciprocal", low=0.5, high=2.0), special("reciprocal", lambda lib, x: lib.reciprocal(x), [0.0, -2.0, 0.5]),
    unary("sigmoid"), unary("erf"), unary("erfc"),
    unary("nn.functional.gelu", low=-4.0, high=4.0),
    unary("nn.functional.gelu", lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"), low=-4.0, high=4.0,
          variant="tanh"),
    unary("deg2rad"), unary("rad2deg"),
    unary("neg"), unary("negative"),
    unary("positive"),
    unary("relu"), special("relu", lambda lib, x: lib.relu(x), [-1.0, 0.0, 2.0, nan]),
    unary("square"),
    unary("frac"),
    unary("nan_to_num"),
    special("nan_to_num", lambda lib, x: lib.nan_to_num(x), [nan, inf, -inf, 1.5]),
    unary("floor"), unary("ceil"), unary("trunc"), unary("fix"), unary("round"), unary("sign"), unary("sgn"),
    unary("round", lambda lib, x: lib.round(x, decimals=1), variant="decimals"),
    special("sign", lambda lib, x: lib.sign(x), [0.0, -1.0, 3.0]),
    unary("special.erf"), unary("special.erfc"), unary("special.exp2"), unary("special.expm1"),
    unary("special.log1p", low=-0.5, high=2.0), unary("special.expit"),
    unary("special.round"),
    unary("nn.functional.tanh"), unary("nn.functional.sigmoid"), unary("nn.functional.relu"),
    unary("nn.functional.relu", lambda lib, x: lib.nn.functional.relu(x * 1, inplace=True), variant="inplace"),
    unary("sigmoid", lambda lib, x: (x * 1).sigmoid_(), variant="inplace"),
    unary("exp", lambda lib, x: (x * 1).exp_(), variant="inplace"),

    # ---- binary elementwise ----
    binary("add"), binary("add", a=BROADCAST[0], b=BROADCAST[1], variant="broadcast", needs=("sum",)),
    binary("add", lambda lib, x, y: lib.add(x, y, alpha=2.5), variant="alpha"),
    unary("add", lambda lib, x: x + 2, variant="scalar"),
    unary("add", lambda lib, x: (x * 1).add_(x, alpha=3), variant="inplace"),
    binary("__radd__", lambda lib, x, y: x.__radd__(y)),
    binary("sub"), binary("subtract"), binary("sub", lambda lib, x, y: lib.sub(x, y, alpha=-1.5), variant="alpha"),
    binary("sub", a=Arr((2, 1, 4)), b=Arr((3, 1)), variant="broadcast", needs=("sum",)),
    binary("rsub", lambda lib, x, y: lib.rsub(x, y, alpha=2)),
    unary("rsub", lambda lib, x: lib.rsub(x, 3.0), variant="scalar"),
    binary("__rsub__", lambda lib, x, y: x.__rsub__(y)),
    unary("__rsub__", lambda lib, x: 2 - x, variant="scalar"),
    binary("mul"), binary("multiply"), binary("mul", a=BROADCAST[0], b=BROADCAST[1], variant="broadcast", needs=("sum",)),
    unary("mul", lambda lib, x: x * 3, variant="scalar"),
    binary("mul", lambda lib, x, y: x * y, a=Arr(), b=Arr(dtype="int64", low=-3, high=3), variant="int-other"),
    binary("mul", lambda lib, x, y: x * y, a=Arr(dtype="float32"), b=Arr(dtype="float64"), variant="mixed-dtype",
           dtypes=("float64",), gradcheck=False),
    binary("mul", lambda lib, x, y: (x * 1).mul_(y), variant="inplace"),
    binary("mul", lambda lib, x, y: mul_through_view(x, y), b=Arr((4,)), variant="inplace-view"),
    binary("__rmul__", lambda lib, x, y: x.__rmul__(y)),
    binary("div", b=Arr(low=0.5, high=2.0)), binary("divide", b=Arr(low=0.5, high=2.0)),
    binary("true_divide", b=Arr(low=0.5, high=2.0)),
    binary("div", a=BROADCAST[0], b=Arr((4,), low=0.5, high=2.0), variant="broadcast", needs=("sum",)),
    unary("div", lambda lib, x: x / 4, variant="scalar"),
    special("div", lambda lib, x, y: x / y, [1.0, 0.0, -1.0, 0.0], [0.0, 0.0, 2.0, -0.0]),
    binary("div", lambda lib, x, y: lib.div(x, y, rounding_mode="floor"), b=Arr(low=0.5, high=2.0),
           variant="floor", gradcheck=False),
    binary("div", lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"), b=Arr(low=0.5, high=2.0),
           variant="trunc", gradcheck=False),
    binary("__rdiv__", lambda lib, x, y: x.__rdiv__(y), a=Arr(low=0.5, high=2.0)),
    unary("__rdiv__", lambda lib, x: 2 / x, low=0.5, high=2.0, variant="scalar"),
    binary("floor_divide", b=Arr(low=0.5, high=2.0), backward_raises=True),
    binary("remainder", b=Arr(low=0.5, high=2.0), gradcheck=False),
    unary("remainder", lambda lib, x: x % 1.5, variant="scalar", gradcheck=False),
    binary("__rmod__", lambda lib, x, y: x.__rmod__(y), a=Arr(low=0.5, high=2.0), gradcheck=False),
    unary("__rmod__", lambda lib, x: x.__rmod__(2), low=0.5, high=2.0, variant="scalar", backward_raises=True),
    binary("fmod", b=Arr(low=0.5, high=2.0), gradcheck=False),
    unary("fmod", lambda lib, x: lib.fmod(x, 1.5), variant="scalar", gradcheck=False),
    unary("pow", lambda lib, x: x ** 3, variant="scalar"),
    unary("pow", lambda lib, x: lib.pow(x, 2.5), low=0.2, high=2.0, variant="float-scalar"),
    unary("pow", lambda lib, x: lib.pow(x, -1), low=0.5, high=2.0, variant="negative-scalar"),
    special("pow", lambda lib, x: lib.pow(x, 0), [0.0, 1.0, -2.0], variant="zero-exponent"),
    special("pow", lambda lib, x: lib.pow(x, 0.5), [0.0, 1.0, 4.0], variant="zero-base"),
    binary("pow", a=Arr(low=0.2, high=2.0), variant="tensor"),
    special("pow", lambda lib, x, y: lib.pow(x, y), [0.0, 0.0, 0.0, 2.0, -1.0], [2.0, 0.0, -1.0, 0.0, 2.0],
            variant="tensor-special"),
    unary("pow", lambda lib, x: lib.pow(2.0, x), variant="scalar-base"),
    special("pow", lambda lib, x: lib.pow(0.0, x), [1.0, 0.0, -1.0], variant="zero-scalar-base"),
    binary("pow", a=Arr(low=0.2, high=2.0), b=Arr(dtype="int64", low=0, high=4), variant="int-exponent"),
    binary("add", a=Arr(), b=Arr(dtype="int64", low=-3, high=3), variant="int-other"),
    binary("where", lambda lib, x, y: lib.where(x > 0, x, y), b=Arr(dtype="int64", low=-3, high=3),
           variant="int-other"),
    binary("__rpow__", lambda lib, x, y: x.__rpow__(y), b=Arr(low=0.2, high=2.0)),
    unary("__rpow__", lambda lib, x: 3 ** x, variant="scalar"),
    binary("float_power", a=Arr(low=0.2, high=2.0)),
    unary("float_power", lambda lib, x: lib.float_power(x, 2), variant="scalar"),
    unary("float_power", lambda lib, x: lib.float_power(2, x), variant="scalar-base"),
    binary("atan2"), binary("arctan2"),
    special("atan2", lambda lib, x, y: lib.atan2(x, y), [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]),
    binary("hypot"), special("hypot", lambda lib, x, y: lib.hypot(x, y), [0.0, 3.0], [0.0, 4.0]),
    binary("copysign", gradcheck=False), unary("copysign", lambda lib, x: lib.copysign(x, -1.0), variant="scalar"),
    special("copysign", lambda lib, x, y: lib.copysign(x, y), [0.0, -0.0, 2.0], [-1.0, 1.0, -0.0]),
    binary("xlogy", b=Arr(**POS)), binary("special.xlogy", b=Arr(**POS)),
    special("xlogy", lambda lib, x, y: lib.xlogy(x, y), [0.0, 0.0, 1.0, 2.0], [0.0, 2.0, 0.0, 3.0]),
    unary("xlogy", lambda lib, x: lib.xlogy(x, 2.0), variant="scalar-other"),
    unary("xlogy", lambda lib, x: lib.xlogy(2.0, x), low=0.2, high=2.0, variant="scalar-self"),
    binary("maximum"), binary("minimum"), binary("fmax"), binary("fmin"),
    special("maximum", lambda lib, x, y: lib.maximum(x, y), [1.0, 2.0, 3.0, nan], [1.0, 3.0, 2.0, 1.0]),
    special("minimum", lambda lib, x, y: lib.minimum(x, y), [1.0, 2.0, 3.0, nan], [1.0, 3.0, 2.0, 1.0]),
    special("fmax", lambda lib, x, y: lib.fmax(x, y), [1.0, 2.0, nan, 1.0], [1.0, nan, 1.0, 3.0]),
    special("fmin", lambda lib, x, y: lib.fmin(x, y), [1.0, 2.0, nan, 1.0], [1.0, nan, 1.0, 3.0]),
    binary("nextafter", gradcheck=False),

    # ---- selection ----
    binary("where", lambda lib, x, y: lib.where(x > y, x, y)),
    binary("where", lambda lib, x, y: x.where(y > 0, y), variant="method"),
    unary("where", lambda lib, x: lib.where(x > 0, x, 0.5), variant="scalar"),
    binary("where", lambda lib, x, y: lib.where(x > 0, x, y), a=BROADCAST[0], b=BROADCAST[1], variant="broadcast", needs=("sum",)),
    unary("clamp", lambda lib, x: lib.clamp(x, -1.0, 1.0)),
    unary("clamp", lambda lib, x: lib.clamp(x, min=-0.5), variant="min"),
    unary("clamp", lambda lib, x: lib.clamp(x, max=0.5), variant="max"),
    special("clamp", lambda lib, x: lib.clamp(x, -1.0, 1.0), [-1.0, 1.0, 0.5, 2.0, nan]),
    Case("clamp", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), (Arr(), Arr(), Arr()), variant="tensors",
         gradcheck=False),
    Case("clamp", lambda lib, x, lo: lib.clamp(x, min=lo), (Arr(), Arr((4,))), variant="tensor-min", needs=("sum",),
         gradcheck=False),
    special("clamp", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), [0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 2.5, 1.0],
            [2.0, 2.0, 2.0, 3.0], variant="tensor-special"),
    unary("clamp", lambda lib, x: (x * 1).clamp_(-1, 1), variant="inplace"),
    unary("clip", lambda lib, x: lib.clip(x, -1.0, 1.0)),
    unary("clamp_min", lambda lib, x: lib.clamp_min(x, 0.0)),
    binary("clamp_min", variant="tensor", gradcheck=False),
    unary("clamp_max", lambda lib, x: lib.clamp_max(x, 0.0)),
    binary("clamp_max", variant="tensor", gradcheck=False),
    special("clamp_min", lambda lib, x, y: lib.clamp_min(x, y), [1.0, 2.0, 0.0], [1.0, 1.0, 1.0]),

    # ---- views ----
    unary("view", lambda lib, x: x.view(2, 6), family="view"),
    unary("view_as", lambda lib, x: x.view_as(lib.zeros(4, 3)), family="view"),
    unary("reshape", lambda lib, x: lib.reshape(x, (6, -1)), family="view"),
    unary("reshape", lambda lib, x: x.t().reshape(12), family="view", variant="copy"),
    unary("reshape_as", lambda lib, x: x.t().reshape_as(lib.zeros(12)), family="view"),
    unary("flatten", lambda lib, x: lib.flatten(x), family="view"),
    unary("flatten", lambda lib, x: x.t().flatten(), family="view", variant="copy"),
    unary("flatten", lambda lib, x: lib.flatten(x[0, 0]), family="view", variant="0d"),
    unary("unflatten", lambda lib, x: x.unflatten(1, (2, 2)), family="view"),
    unary("squeeze", lambda lib, x: x.view(3, 1, 4).squeeze(), family="view"),
    unary("squeeze", lambda lib, x: x.view(3, 1, 4).squeeze(1), family="view", variant="dim"),
    unary("squeeze", lambda lib, x: x.view(1, 3, 1, 4).squeeze((0, 2)), family="view", variant="dims"),
    unary("unsqueeze", lambda lib, x: x.unsqueeze(-1), family="view"),
    unary("t", lambda lib, x: x.t(), family="view"),
    unary("t", lambda lib, x: x.t(), shape=(4,), family="view", variant="1d"),
    unary("transpose", lambda lib, x: x.transpose(0, 1), family="view"),
    unary("T", lambda lib, x: x.T, family="view"),
    unary("mT", lambda lib, x: x.mT, shape=(2, 3, 4), family="view"),
    unary("permute", lambda lib, x: x.permute(2, 0, 1), shape=(2, 3, 4), family="view"),
    unary("movedim", lambda lib, x: lib.movedim(x, 0, 2), shape=(2, 3, 4), family="view"),
    unary("expand", lambda lib, x: x.expand(2, 3, 4), shape=(3, 1), family="view", needs=("sum",)),
    unary("expand_as", lambda lib, x: x.expand_as(lib.zeros(3, 4)), shape=(4,), family="view", needs=("sum",)),
    unary("broadcast_to", lambda lib, x: lib.broadcast_to(x, (2, 3, 4)), shape=(1, 4), family="view", needs=("sum",)),
    unary("clone", lambda lib, x: lib.clone(x), family="view"),
    unary("contiguous", lambda lib, x: x.t().contiguous(), family="view"),
    unary("select", lambda lib, x: lib.select(x, 1, -1), family="view"),
    unary("narrow", lambda lib, x: lib.narrow(x, 1, 1, 2), family="view"),
    unary("diagonal", lambda lib, x: lib.diagonal(x), family="view"),
    unary("diagonal", lambda lib, x: lib.diagonal(x, 1, 1, 0), shape=(4, 3), family="view", variant="offset"),
    unary("unfold", lambda lib, x: x.unfold(1, 2, 1), family="view"),
    unary("unfold", lambda lib, x: x.unfold(0, 2, 2), shape=(5, 2), family="view", variant="step"),
    unary("as_strided", lambda lib, x: lib.as_strided(x, (2, 2), (4, 1), 1), family="view"),
    unary("as_strided", lambda lib, x: lib.as_strided(x, (3, 3), (1, 1)), family="view", variant="overlapping"),
    unary("as_strided", lambda lib, x: x[1:].as_strided((2, 2), (1, 4)), family="view", variant="of-view"),
    unary("__getitem__", lambda lib, x: x[1], family="view"),
    unary("__getitem__", lambda lib, x: x[1:], family="view", variant="slice"),
    unary("__getitem__", lambda lib, x: x[::2, 1:3], family="view", variant="steps"),
    unary("__getitem__", lambda lib, x: x[:], family="view", variant="full"),
    unary("__getitem__", lambda lib, x: x[:, :], family="view", variant="alias"),
    unary("__getitem__", lambda lib, x: x[..., 0], family="view", variant="ellipsis"),
    unary("__getitem__", lambda lib, x: x[None, 1:, None], family="view", variant="none"),
    unary("__getitem__", lambda lib, x: x[-1, 2], family="view", variant="ints"),
    unary("__getitem__", lambda lib, x: x[0, 0:4], family="view", variant="int-fullslice"),
    unary("__getitem__", lambda lib, x: x[True, 1], family="view", variant="bool"),
    binary("__setitem__", lambda lib, x, v: assign(x, 0, v), b=Arr((4,)), family="view"),
    unary("__setitem__", lambda lib, x: assign(x, (slice(1, None), 1), 2.5), family="view", variant="scalar"),
    unary("__setitem__", lambda lib, v: assign_into_zeros(lib, v, (slice(1, None), 1), (3, 4)), shape=(2,),
          family="view", variant="into-constant"),
    binary("__setitem__", lambda lib, x, v: assign(x * x, (0, slice(None, None, 2)), v * v), b=Arr((2,)),
           family="view", variant="nonlinear", double=True),
    binary("copy_", lambda lib, x, v: (x * 1).copy_(v), b=Arr((4,)), family="view", needs=("sum",)),
    binary("copy_", lambda lib, x, v: (x * 1)[1:].copy_(v), b=Arr((4,), dtype="float64"), family="view", needs=("sum",),
           variant="view-mixed-dtype", dtypes=("float32",), gradcheck=False),
    Case("fill_", lambda lib, x, v: (x * 1).fill_(v), (Arr(), Arr(())), family="view", needs=("sum",)),
    unary("fill_", lambda lib, x: (x * 1)[0].fill_(1.5), family="view", variant="scalar-view"),
    unary("zero_", lambda lib, x: (x * 1)[:, 1].zero_(), family="view"),
    unary("to", lambda lib, x: x.to(lib.float64), dtypes=("float32",), family="elementwise"),
    unary("to", lambda lib, x: (x * x).double().float(), dtypes=("float32",), family="elementwise",
          variant="round-trip"),
    unary("to", lambda lib, x: x.to(lib.float64), dtypes=("float64",), family="elementwise", variant="same"),
    # views inside nonlinear computations: their backward must be differentiable too
    unary("unfold", lambda lib, x: x.unfold(1, 2, 1) ** 2, family="view", variant="squared", double=True),
    unary("as_strided", lambda lib, x: lib.as_strided(x, (3, 3), (1, 1)) ** 3, family="view",
          variant="overlapping-cubed", double=True),
    unary("diagonal", lambda lib, x: lib.diagonal(x).exp(), family="view", variant="exp", double=True),
    unary("__getitem__", lambda lib, x: x[::2, 1:3].sin(), family="view", variant="sin", double=True),
    unary("select", lambda lib, x: x.select(0, 1) * x.select(0, 2), family="view", variant="product",
          double=True),

    # ---- reductions ----
    unary("sum", lambda lib, x: x.sum(), family="reduction"),
    unary("sum", lambda lib, x: x.sum(0), family="reduction", variant="dim"),
    unary("sum", lambda lib, x: x.sum((0, 2), keepdim=True), shape=(2, 3, 4), family="reduction", variant="dims"),
    unary("sum", lambda lib, x: x.sum(dtype=lib.float64), family="reduction", variant="dtype"),
    unary("mean", lambda lib, x: x.mean(), family="reduction"),
    unary("mean", lambda lib, x: x.mean(-1, keepdim=True), family="reduction", variant="dim"),
    unary("prod", lambda lib, x: x.prod(), low=0.5, high=1.5, family="reduction"),
    unary("prod", lambda lib, x: x.prod(1), family="reduction", variant="dim"),
    special("prod", lambda lib, x: x.prod(), [2.0, 0.0, 3.0, 4.0], family="reduction", variant="one-zero"),
    special("prod", lambda lib, x: x.prod(), [2.0, 0.0, 3.0, 0.0], family="reduction", variant="two-zeros"),
    special("prod", lambda lib, x: x.prod(1), [2.0, 0.0, 3.0, 4.0, 1.0, 5.0, 0.0, 0.0], shape=(2, 4),
            family="reduction", variant="dim-zeros"),
    unary("amax", lambda lib, x: x.amax(), family="reduction"),
    unary("amax", lambda lib, x: x.amax(1), family="reduction", variant="dim"),
    unary("amin", lambda lib, x: x.amin(0, keepdim=True), family="reduction"),
    special("amax", lambda lib, x: x.amax(1), [1.0, 3.0, 3.0, 2.0, 2.0, 2.0], shape=(2, 3), family="reduction",
            variant="ties"),
    special("amin", lambda lib, x: x.amin(), [1.0, 3.0, 1.0, 2.0], family="reduction", variant="ties"),
    unary("max", lambda lib, x: x.max(), family="reduction"),
    unary("max", lambda lib, x: x.max(1).values, family="reduction", variant="dim"),
    unary("max", lambda lib, x: x.max(0, keepdim=True)[0], family="reduction", variant="keepdim"),
    binary("max", lambda lib, x, y: lib.max(x, y), family="reduction", variant="binary"),
    special("max", lambda lib, x: x.max(), [1.0, 3.0, 3.0, 2.0], family="reduction", variant="ties"),
    special("max", lambda lib, x: x.max(0).values, [1.0, 3.0, 3.0, 2.0], family="reduction", variant="dim-ties"),
    unary("min", lambda lib, x: x.min(), family="reduction"),
    unary("min", lambda lib, x: x.min(-1).values, family="reduction", variant="dim"),
    special("min", lambda lib, x: x.min(), [1.0, 0.0, 0.0, 2.0], family="reduction", variant="ties"),
    unary("var", lambda lib, x: x.var(), family="reduction"),
    unary("var", lambda lib, x: x.var(1), family="reduction", variant="dim"),
    unary("var", lambda lib, x: x.var(0, correction=0, keepdim=True), family="reduction", variant="correction"),
    unary("var", lambda lib, x: x.var(unbiased=False), family="reduction", variant="unbiased"),
    special("var", lambda lib, x: x.var(), [1.5], family="reduction", variant="one-element", marks=NO_DOF_WARNING),
    special("var", lambda lib, x: x.var(1), [1.5, 2.0], shape=(2, 1), family="reduction", variant="dim-one-element",
            marks=NO_DOF_WARNING),
    unary("std", lambda lib, x: x.std(), family="reduction"),
    unary("std", lambda lib, x: x.std(0, correction=2), family="reduction", variant="correction"),
    special("std", lambda lib, x: x.std(1), [1.0, 1.0, 2.0, 3.0], shape=(2, 2), family="reduction", variant="zero"),
    unary("logsumexp", lambda lib, x: x.logsumexp(1), family="reduction"),
    unary("logsumexp", lambda lib, x: lib.logsumexp(x, (0, 1)), family="reduction", variant="dims"),
    special("logsumexp", lambda lib, x: x.logsumexp(1), [-inf, -inf, 0.0, -inf], shape=(2, 2), family="reduction",
            variant="neg-inf"),
    unary("softmax", lambda lib, x: lib.softmax(x, 1), family="softmax", double=True),
    unary("softmax", lambda lib, x: x.softmax(0), family="softmax", double=True, variant="dim0"),
    unary("softmax", lambda lib, x: lib.softmax(x, -1, dtype=lib.float64), family="softmax", double=True, variant="dtype"),
    unary("log_softmax", lambda lib, x: lib.log_softmax(x, 1), family="softmax", double=True),
    unary("log_softmax", lambda lib, x: x.log_softmax(0), shape=(2, 3, 4), family="softmax", double=True, variant="dim0"),
    special("log_softmax", lambda lib, x: lib.log_softmax(x, 1), [-inf, 0.0, 1.0, -inf], shape=(2, 2),
            family="softmax", double=True, variant="neg-inf"),
    unary("nn.functional.softmax", lambda lib, x: lib.nn.functional.softmax(x, dim=1), family="softmax", double=True),
    unary("nn.functional.log_softmax", lambda lib, x: lib.nn.functional.log_softmax(x, dim=0), family="softmax", double=True),
    unary("norm", lambda lib, x: x.norm(), family="reduction"),
    unary("norm", lambda lib, x: x.norm(1), family="reduction", variant="p1"),
    unary("norm", lambda lib, x: x.norm(3, dim=1), family="reduction", variant="p3"),
    unary("norm", lambda lib, x: x.norm(1.5, dim=0, keepdim=True), family="reduction", variant="p1.5"),
    unary("norm", lambda lib, x: x.norm(0.5), family="reduction", variant="p0.5"),
    unary("norm", lambda lib, x: x.norm(inf, dim=1), family="reduction", variant="inf"),
    special("norm", lambda lib, x: x.norm(), [0.0, 0.0, 0.0], family="reduction", variant="zero"),
    unary("norm", lambda lib, x: x.norm(0), family="reduction", variant="p0", gradcheck=False),
    special("norm", lambda lib, x: x.norm(inf), [1.0, -3.0, 3.0], family="reduction", variant="inf-ties"),
    unary("linalg.vector_norm", lambda lib, x: lib.linalg.vector_norm(x), family="reduction"),
    unary("linalg.vector_norm", lambda lib, x: lib.linalg.vector_norm(x, 3, dim=(0, 1), keepdim=True),
          family="reduction", variant="dims"),
    unary("norm", lambda lib, x: x.norm(dtype=lib.float64), dtypes=("float32",), family="reduction",
          variant="dtype"),
    unary("nansum", lambda lib, x: x.nansum(), family="reduction"),
    special("nansum", lambda lib, x: x.nansum(1), [1.0, nan, 2.0, 3.0], shape=(2, 2), family="reduction"),
    unary("nanmean", lambda lib, x: x.nanmean(0), family="reduction"),
    special("nanmean", lambda lib, x: x.nanmean(), [1.0, nan, 2.0, 3.0], family="reduction"),
    unary("aminmax", lambda lib, x: lib.aminmax(x).max, family="reduction"),
    unary("aminmax", lambda lib, x: lib.aminmax(x, dim=1).min, family="reduction", variant="dim"),
    special("aminmax", lambda lib, x: sum(lib.aminmax(x, dim=0, keepdim=True)), [1.0, 1.0, 3.0, 3.0],
            shape=(4, 1), family="reduction", variant="both-ties"),
    unary("var_mean", lambda lib, x: lib.var_mean(x, 1)[0], family="reduction"),
    unary("var_mean", lambda lib, x: sum(lib.var_mean(x, correction=0)), family="reduction", variant="both"),
    unary("std_mean", lambda lib, x: lib.std_mean(x, 0, keepdim=True)[1], family="reduction"),
    unary("std_mean", lambda lib, x: sum(lib.std_mean(x)), family="reduction", variant="both"),

    # ---- linear algebra ----
    binary("mm", lambda lib, a, b: lib.mm(a, b), a=Arr((3, 4)), b=Arr((4, 5)), family="linalg"),
    binary("bmm", lambda lib, a, b: lib.bmm(a, b), a=Arr((2, 3, 4)), b=Arr((2, 4, 5)), family="linalg"),
    binary("dot", lambda lib, a, b: lib.dot(a, b), a=Arr((4,)), b=Arr((4,)), family="linalg"),
    binary("mv", lambda lib, a, b: lib.mv(a, b), a=Arr((3, 4)), b=Arr((4,)), family="linalg"),
    binary("outer", lambda lib, a, b: lib.outer(a, b), a=Arr((3,)), b=Arr((4,)), family="linalg"),
    binary("vdot", lambda lib, a, b: lib.vdot(a, b), a=Arr((4,)), b=Arr((4,)), family="linalg"),
    binary("inner", lambda lib, a, b: lib.inner(a, b), a=Arr((3, 4)), b=Arr((2, 4)), family="linalg"),
    binary("inner", lambda lib, a, b: lib.inner(a, b), a=Arr((4,)), b=Arr((4,)), family="linalg", variant="1d"),
    Case("addmm", lambda lib, c, a, b: lib.addmm(c, a, b), (Arr((3, 5)), Arr((3, 4)), Arr((4, 5))), family="linalg"),
    Case("addmm", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=2.0), (Arr((5,)), Arr((3, 4)), Arr((4, 5))),
         family="linalg", variant="scaled-broadcast", needs=("sum",)),
    Case("addmv", lambda lib, c, a, b: lib.addmv(c, a, b, alpha=-1.5), (Arr((3,)), Arr((3, 4)), Arr((4,))),
         family="linalg"),
    Case("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=2.0),
         (Arr((2, 3, 5)), Arr((2, 3, 4)), Arr((2, 4, 5))), family="linalg"),
    Case("addbmm", lambda lib, c, a, b: lib.addbmm(c, a, b, alpha=0.5),
         (Arr((3, 5)), Arr((2, 3, 4)), Arr((2, 4, 5))), family="linalg"),
    Case("addr", lambda lib, c, a, b: lib.addr(c, a, b, beta=0.0), (Arr((3, 4)), Arr((3,)), Arr((4,))),
         family="linalg"),
    binary("linalg.matmul", lambda lib, a, b: lib.linalg.matmul(a, b), a=Arr((2, 3, 4)), b=Arr((4, 5)),
           family="linalg"),
    binary("__rmatmul__", lambda lib, a, b: a.__rmatmul__(b), a=Arr((4, 5)), b=Arr((3, 4)), family="linalg"),
    binary("matmul", lambda lib, a, b: a @ b, a=Arr((3, 4)), b=Arr((4, 5)), family="linalg", variant="2d"),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((4,)), b=Arr((4,)), family="linalg", variant="1d"),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((3, 4)), b=Arr((4,)), family="linalg",
           variant="mv"),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((2, 3, 4)), b=Arr((2, 4, 5)), family="linalg",
           variant="batched"),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((2, 3, 4)), b=Arr((4, 5)), family="linalg",
           variant="folded"),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((3, 4)), b=Arr((2, 4, 5)), family="linalg",
           variant="folded-transposed", needs=("sum",)),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((1, 4)), b=Arr((2, 4, 5)), family="linalg",
           variant="folded-transposed-row", needs=("sum",)),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((3, 4), grad=False), b=Arr((2, 4, 5)),
           family="linalg", variant="batched-constant-left"),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((4,)), b=Arr((2, 4, 5)), family="linalg",
           variant="vector-batched", needs=("sum",)),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((2, 3, 4)), b=Arr((4,)), family="linalg",
           variant="batched-vector", needs=("sum",)),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((2, 1, 3, 4)), b=Arr((3, 4, 2)), family="linalg",
           variant="broadcast", needs=("sum",)),
    binary("matmul", lambda lib, a, b: lib.matmul(a, b), a=Arr((1, 3, 4)), b=Arr((2, 4, 5)), family="linalg",
           variant="unit-batch", needs=("sum",)),
    # ---- pointwise extras and special functions (engine/_ops/elementwise_pointwise.py) ----
    Case("addcmul", lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5), (Arr(), Arr(), Arr((4,)))),
    Case("addcdiv", lambda lib, a, b, c: lib.addcdiv(a, b, c, value=2), (Arr(), Arr(), Arr((4,), low=0.5, high=2.0))),
    Case("lerp", lambda lib, a, b: lib.lerp(a, b, 0.3), (Arr(), Arr()), variant="scalar"),
    Case("lerp", lambda lib, a, b, w: lib.lerp(a, b, w), (Arr(), Arr(), Arr(low=0.0, high=1.0))),
    binary("logaddexp"), binary("logaddexp2"),
    unary("logit", low=0.1, high=0.9), unary("special.logit", low=0.1, high=0.9),
    unary("logit", lambda lib, x: lib.logit(x, 0.2), low=0.1, high=0.9, variant="eps"),
    binary("ldexp", b=Arr(low=-2.0, high=2.0)),
    binary("heaviside", backward_raises=True),
    unary("fill", lambda lib, x: lib.fill(x, 2.0), gradcheck=False),
    unary("lgamma", **POS), unary("digamma", **POS, double=False), unary("special.digamma", **POS, double=False),
    unary("special.psi", **POS, double=False),
    unary("erfinv", **UNIT), unary("special.erfinv", **UNIT),
    unary("i0", double=False), unary("special.i0", double=False),
    unary("sinc"), unary("special.sinc"), unary("angle", gradcheck=False),
    unary("float", lambda lib, x: x.float(), gradcheck=False), unary("double", lambda lib, x: x.double()),
    unary("conj"), unary("conj_physical"), unary("resolve_conj"), unary("resolve_neg"), unary("real"),
    # indexing (engine/autograd/rules/indexing.py); index tensors are built inside the call
    Case("index_select", lambda lib, x: lib.index_select(x, 1, lib.tensor([3, 0, 3])), family="indexing"),
    Case("gather", lambda lib, x: lib.gather(x, 1, lib.tensor([[0, 2], [3, 3], [1, 0]])), family="indexing"),
    Case("scatter", lambda lib, x, s: x.scatter(1, lib.tensor([[0, 2], [3, 1], [1, 0]]), s), (Arr(), Arr((3, 2))),
         family="indexing"),
    Case("scatter", lambda lib, x: x.scatter(0, lib.tensor([[2, 0]]), 1.5), variant="value", family="indexing"),
    Case("scatter_add", lambda lib, x, s: x.scatter_add(1, lib.tensor([[0, 0], [3, 1], [1, 1]]), s),
         (Arr(), Arr((3, 2))), family="indexing"),
    Case("scatter_reduce", lambda lib, x, s: x.scatter_reduce(1, lib.tensor([[0, 0], [3, 1], [1, 1]]), s, "mean"),
         (Arr(), Arr((3, 2))), family="indexing"),
    Case("scatter_reduce", lambda lib, x, s: x.scatter_reduce(1, lib.tensor([[0, 0], [3, 1], [1, 1]]), s, "amax",
                                                              include_self=False),
         (Arr(), Arr((3, 2))), variant="amax", family="indexing"),
    Case("index_add", lambda lib, x, s: x.index_add(0, lib.tensor([2, 2]), s, alpha=2), (Arr(), Arr((2, 4))),
         family="indexing"),
    Case("index_copy", lambda lib, x, s: x.index_copy(1, lib.tensor([3, 0]), s), (Arr(), Arr((3, 2))),
         family="indexing"),
    Case("index_fill", lambda lib, x: x.index_fill(1, lib.tensor([1, 2]), -1.0), family="indexing"),
    Case("index_put", lambda lib, x, v: x.index_put((lib.tensor([0, 2]), lib.tensor([1, 1])), v),
         (Arr(), Arr((2,))), family="indexing"),
    Case("index_put", lambda lib, x, v: x.index_put((lib.tensor([0, 0]),), v, accumulate=True),
         (Arr(), Arr((4,))), variant="accumulate", family="indexing"),
    Case("index_reduce", lambda lib, x, s: x.index_reduce(0, lib.tensor([2, 0]), s, "prod"), (Arr(), Arr((2, 4))),
         family="indexing", marks=(pytest.mark.filterwarnings("ignore:index_reduce"),)),
    Case("masked_fill", lambda lib, x: x.masked_fill(lib.tensor([True, False, False, True]), 0.5), family="indexing"),
    Case("masked_select", lambda lib, x: x.masked_select(lib.tensor([True, False, False, True])), family="indexing"),
    Case("masked_scatter", lambda lib, x, s: x.masked_scatter(lib.tensor([True, False, False, True]), s),
         (Arr(), Arr((8,))), family="indexing"),
    Case("take", lambda lib, x: x.take(lib.tensor([[0, 11], [5, 5]])), family="indexing"),
    Case("put", lambda lib, x, s: x.put(lib.tensor([0, 11, 5]), s), (Arr(), Arr((3,))), family="indexing"),
    Case("take_along_dim", lambda lib, x: lib.take_along_dim(x, lib.tensor([[0], [3], [1]]), 1), family="indexing"),
]

# ---- torch.nn.functional activations, losses and friends ----
_F = "nn.functional."
_IDX = Arr((3,), values=(0, 4, 2), dtype="int64", grad=False)
_PROB = Arr((3, 5), low=0.05, high=0.95, grad=False)
CASES += [
    *(unary(_F + name, lambda lib, x, _n=name, _a=args: getattr(lib.nn.functional, _n)(x, *_a), family="nn",
            gradcheck=name not in ("hardshrink", "threshold"))
      for name, args in (("leaky_relu", (0.2,)), ("elu", (1.5,)), ("selu", ()), ("celu", (0.7,)), ("silu", ()),
                         ("mish", ()), ("hardtanh", (-0.5, 1.5)), ("relu6", ()), ("hardswish", ()),
                         ("hardsigmoid", ()), ("softplus", (2.0, 3.0)), ("softshrink", (0.6,)),
                         ("hardshrink", (0.6,)), ("logsigmoid", ()), ("threshold", (0.3, -2.0)), ("softsign", ()),
                         ("tanhshrink", ()), ("rrelu", ()))),
    unary(_F + "glu", lambda lib, x: lib.nn.functional.glu(x, 1), family="nn"),
    unary(_F + "softmin", lambda lib, x: lib.nn.functional.softmin(x, 1), family="nn"),
    unary(_F + "normalize", lambda lib, x: lib.nn.functional.normalize(x), family="nn"),
    binary(_F + "prelu", lambda lib, x, w: lib.nn.functional.prelu(x, w), a=Arr((2, 3, 4)), b=Arr((3,)), family="nn"),
    Case(_F + "linear", lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), (Arr((2, 3, 4)), Arr((5, 4)), Arr((5,))),
         family="nn"),
    Case(_F + "bilinear", lambda lib, a, b, w: lib.nn.functional.bilinear(a, b, w), (Arr((3, 4)), Arr((3, 2)), Arr((5, 4, 2))),
         family="nn"),
    binary(_F + "cosine_similarity", lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b), family="nn"),
    binary(_F + "pairwise_distance", lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b), family="nn"),
    Case(_F + "embedding", lambda lib, i, w: lib.nn.functional.embedding(i, w, padding_idx=2),
         (Arr((2, 2), values=(0, 2, 4, 2), dtype="int64", grad=False), Arr((5, 3))), family="nn",
         gradcheck=False),  # the padding row gets no gradient, by definition
    *(binary(_F + name, lambda lib, x, t, _n=name: getattr(lib.nn.functional, _n)(x, t), a=Arr((3, 5)), b=Arr((3, 5)),
             family="nn") for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                       "binary_cross_entropy_with_logits", "multilabel_soft_margin_loss")),
    binary(_F + "soft_margin_loss", lambda lib, x, t: lib.nn.functional.soft_margin_loss(x, t), a=Arr((3, 5)),
           b=Arr((3, 5), grad=False), family="nn"),
    binary(_F + "binary_cross_entropy", lambda lib, x, t: lib.nn.functional.binary_cross_entropy(x, t),
           a=Arr((3, 5), low=0.05, high=0.95), b=_PROB, family="nn"),
    binary(_F + "kl_div", lambda lib, x, t: lib.nn.functional.kl_div(x, t, reduction="batchmean"), a=Arr((3, 5)),
           b=_PROB, family="nn"),
    binary(_F + "poisson_nll_loss", lambda lib, x, t: lib.nn.functional.poisson_nll_loss(x, t), a=Arr((3, 5)),
           b=_PROB, family="nn"),
    binary(_F + "hinge_embedding_loss", lambda lib, x, t: lib.nn.functional.hinge_embedding_loss(x, t),
           a=Arr((3, 5)), b=Arr((3, 5), values=(1, -1, 1, 1, -1) * 3, grad=False), family="nn"),
    Case(_F + "margin_ranking_loss", lambda lib, a, b, t: lib.nn.functional.margin_ranking_loss(a, b, t, margin=0.1),
         (Arr((5,)), Arr((5,)), Arr((5,), values=(1, -1, 1, 1, -1), grad=False)), family="nn"),
    binary(_F + "nll_loss", lambda lib, x, t: lib.nn.functional.nll_loss(x, t), a=Arr((3, 5)), b=_IDX, family="nn"),
    binary(_F + "cross_entropy", lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, label_smoothing=0.1),
           a=Arr((3, 5)), b=_IDX, family="nn"),
    *(unary(_F + "pad", lambda lib, x, _m=mode: lib.nn.functional.pad(x, (1, 2, 0, 1), mode=_m), shape=(1, 3, 4),
            family="nn", variant=mode) for mode in ("constant", "reflect", "replicate", "circular")),
    Case(_F + "gaussian_nll_loss", lambda lib, x, t, v: lib.nn.functional.gaussian_nll_loss(x, t, v),
         (Arr((3, 5)), Arr((3, 5)), Arr((3, 5), low=0.2, high=2.0)), family="nn"),
    Case(_F + "cosine_embedding_loss", lambda lib, a, b, t: lib.nn.functional.cosine_embedding_loss(a, b, t, margin=0.1),
         (Arr((3, 5)), Arr((3, 5)), Arr((3,), values=(1, -1, 1), grad=False)), family="nn"),
    unary(_F + "pdist", lambda lib, x: lib.nn.functional.pdist(x), shape=(4, 3), family="nn"),
    Case(_F + "triplet_margin_loss", lambda lib, a, p, n: lib.nn.functional.triplet_margin_loss(a, p, n, swap=True),
         (Arr((3, 5)), Arr((3, 5)), Arr((3, 5))), family="nn"),
]


def shape_case(op, fn, *shapes, variant="", double=False):
    return Case(op, fn, tuple(Arr(s) for s in shapes), family="shape", variant=variant, double=double)


# ---- shape and join ops (engine/_ops/shape.py): multi-output ops give one of their outputs ----
CASES += [
    shape_case("cat", lambda lib, a, b: lib.cat([a, b, a], 1), (3, 2), (3, 4), double=True),
    shape_case("cat", lambda lib, a, b: lib.cat([a, b.double()], 0), (2, 3), (1, 3), variant="promote"),
    shape_case("concat", lambda lib, a, b: lib.concat([a, b]), (2, 3), (1, 3)),
    shape_case("concatenate", lambda lib, a, b: lib.concatenate([a, b], axis=-1), (2, 3), (2, 1)),
    shape_case("stack", lambda lib, a, b: lib.stack([a, b], 1), (2, 3), (2, 3), double=True),
    shape_case("hstack", lambda lib, a, b: lib.hstack([a, b]), (3,), (2,)),
    shape_case("vstack", lambda lib, a, b: lib.vstack([a, b]), (3,), (2, 3)),
    shape_case("dstack", lambda lib, a, b: lib.dstack([a, b]), (2, 3), (2, 3)),
    shape_case("column_stack", lambda lib, a, b: lib.column_stack([a, b]), (3,), (3, 2)),
    shape_case("atleast_1d", lambda lib, x: lib.atleast_1d(x.sum()), (3,)),
    shape_case("atleast_2d", lambda lib, x: lib.atleast_2d(x), (3,)),
    shape_case("atleast_3d", lambda lib, x: lib.atleast_3d(x), (3, 2)),
    shape_case("split", lambda lib, x: x.split(2, 1)[1], (3, 5), double=True),
    shape_case("split", lambda lib, x: lib.split(x, [1, 3])[1], (4, 2), variant="sizes"),
    shape_case("split_with_sizes", lambda lib, x: x.split_with_sizes([2, 1], -1)[0], (2, 3)),
    shape_case("chunk", lambda lib, x: x.chunk(3)[2], (5, 2)),
    shape_case("tensor_split", lambda lib, x: lib.tensor_split(x, [1, 3], 1)[1], (2, 4)),
    shape_case("hsplit", lambda lib, x: lib.hsplit(x, 2)[0], (2, 4)),
    shape_case("vsplit", lambda lib, x: lib.vsplit(x, [1])[1], (3, 2)),
    shape_case("dsplit", lambda lib, x: lib.dsplit(x, 2)[1], (2, 1, 4)),
    shape_case("unsafe_split", lambda lib, x: lib.unsafe_split(x, 2)[1], (3, 2)),
    shape_case("unsafe_split_with_sizes", lambda lib, x: lib.unsafe_split_with_sizes(x, [1, 2])[1], (3, 2)),
    shape_case("unsafe_chunk", lambda lib, x: lib.unsafe_chunk(x, 2, 1)[0], (2, 3)),
    shape_case("unbind", lambda lib, x: x.unbind(1)[1], (2, 3), double=True),
    shape_case("flip", lambda lib, x: lib.flip(x, (0, 1)), (3, 4), double=True),
    shape_case("fliplr", lambda lib, x: lib.fliplr(x), (3, 4)),
    shape_case("flipud", lambda lib, x: lib.flipud(x), (3, 4)),
    shape_case("roll", lambda lib, x: lib.roll(x, (1, -2), (0, 1)), (3, 4), double=True),
    shape_case("roll", lambda lib, x: x.roll(5), (3, 4), variant="flat"),
    shape_case("rot90", lambda lib, x: lib.rot90(x, 1, (1, 0)), (3, 4), double=True),
    shape_case("repeat", lambda lib, x: x.repeat(2, 1, 3), (3, 2), double=True),
    shape_case("tile", lambda lib, x: lib.tile(x, (2,)), (3, 2)),
    shape_case("repeat_interleave", lambda lib, x: x.repeat_interleave(2, dim=1), (3, 2)),
    shape_case("repeat_interleave", lambda lib, x: x.repeat_interleave(lib.tensor([2, 0, 1]), dim=0), (3, 2),
               variant="tensor", double=True),
    shape_case("tril", lambda lib, x: lib.tril(x, -1), (4, 3), double=True),
    shape_case("triu", lambda lib, x: x.triu(1), (2, 3, 4)),
    shape_case("diag", lambda lib, x: lib.diag(x, 1), (3,)),
    shape_case("diag", lambda lib, x: lib.diag(x, -1), (3, 4), variant="matrix", double=True),
    shape_case("diag_embed", lambda lib, x: lib.diag_embed(x, 1, 0, 2), (2, 3), double=True),
    shape_case("diagflat", lambda lib, x: lib.diagflat(x), (2, 2)),
    shape_case("diagonal_scatter", lambda lib, x, y: lib.diagonal_scatter(x, y, 1), (3, 4), (3,), double=True),
    shape_case("select_scatter", lambda lib, x, y: lib.select_scatter(x, y, 1, 0), (3, 4), (3,)),
    shape_case("slice_scatter", lambda lib, x, y: lib.slice_scatter(x, y, 1, 1, 4, 2), (3, 4), (3, 2)),
    shape_case("narrow_copy", lambda lib, x: x.narrow_copy(1, 1, 2), (3, 4)),
    shape_case("meshgrid", lambda lib, a, b: lib.meshgrid(a, b, indexing="xy")[0], (3,), (2,)),
    shape_case("broadcast_tensors", lambda lib, a, b: lib.broadcast_tensors(a, b)[1], (3, 4), (4,)),
    shape_case("ravel", lambda lib, x: lib.ravel(x.t()), (3, 4)),
    shape_case("swapaxes", lambda lib, x: lib.swapaxes(x, 0, 1), (3, 4)),
    shape_case("swapdims", lambda lib, x: lib.swapdims(x, 1, 0), (3, 4)),
    shape_case("moveaxis", lambda lib, x: lib.moveaxis(x, 0, 2), (2, 3, 4)),
]
# scans, sorting and selection (engine/_ops/scan.py, engine/_ops/sorting.py, rules/scan_sort.py)
CASES += [
    Case("cumsum", lambda lib, x: lib.cumsum(x, 1), family="scan", double=True),
    Case("cumsum", lambda lib, x: x.cumsum(0, dtype=lib.float64), family="scan", variant="dtype"),
    Case("cumprod", lambda lib, x: lib.cumprod(x, 1), family="scan", double=True),
    special("cumprod", lambda lib, x: lib.cumprod(x, 0), [1.5, 0.0, -2.0, 0.5], family="scan", variant="zeros"),
    Case("logcumsumexp", lambda lib, x: lib.logcumsumexp(x, 1), family="scan", double=True),
    Case("cummax", lambda lib, x: lib.cummax(x, 1)[0], family="scan"),
    Case("cummin", lambda lib, x: lib.cummin(x, 0)[0], family="scan"),
    Case("diff", lambda lib, x: lib.diff(x, n=2, dim=1), family="scan"),
    Case("trapezoid", lambda lib, y: lib.trapezoid(y, dx=0.5), family="scan"),
    Case("cumulative_trapezoid", lambda lib, y: lib.cumulative_trapezoid(y, dim=0), family="scan"),
    Case("sort", lambda lib, x: lib.sort(x, 1, descending=True)[0], family="sorting", double=True),
    Case("sort", lambda lib, x: lib.sort(x, dim=0, stable=True)[0], family="sorting", variant="stable"),
    Case("msort", lambda lib, x: lib.msort(x), family="sorting"),
    Case("topk", lambda lib, x: lib.topk(x, 2, 1)[0], family="sorting"),
    Case("kthvalue", lambda lib, x: lib.kthvalue(x, 2, 1)[0], family="sorting"),
    Case("median", lambda lib, x: lib.median(x), family="sorting"),
    Case("median", lambda lib, x: lib.median(x, 1, keepdim=True)[0], family="sorting", variant="dim"),
    Case("nanmedian", lambda lib, x: lib.nanmedian(x), family="sorting"),
    Case("nanmedian", lambda lib, x: lib.nanmedian(x, 0)[0], family="sorting", variant="dim"),
    Case("mode", lambda lib, x: lib.mode(x, 1)[0], family="sorting"),
    Case("unique", lambda lib, x: lib.unique(x), family="sorting", backward_raises=True, gradcheck=False),
    Case("unique_consecutive", lambda lib, x: lib.unique_consecutive(x), family="sorting", backward_raises=True,
         gradcheck=False),
    # ---- convolution, pooling, normalization, interpolation (engine/autograd/rules/nn_conv.py) ----
    Case("nn.functional.conv2d", lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, stride=2, padding=1, groups=2),
         (Arr((2, 4, 5, 6)), Arr((6, 2, 3, 3)), Arr((6,))), family="conv", double=True),
    Case("nn.functional.conv1d", lambda lib, x, w: lib.nn.functional.conv1d(x, w, padding="same", dilation=2),
         (Arr((2, 3, 7)), Arr((4, 3, 3))), family="conv", double=True),
    Case("nn.functional.conv_transpose2d",
         lambda lib, x, w, b: lib.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
         (Arr((2, 3, 4, 3)), Arr((3, 2, 3, 3)), Arr((2,))), family="conv", double=True),
    Case("nn.functional.conv_transpose1d", lambda lib, x, w: lib.nn.functional.conv_transpose1d(x, w, stride=3),
         (Arr((2, 3, 4)), Arr((3, 2, 2))), family="conv", double=True),
    unary("nn.functional.max_pool2d", lambda lib, x: lib.nn.functional.max_pool2d(x, 2, padding=1), shape=(2, 3, 5, 4),
          family="pool", double=True),
    unary("nn.functional.max_pool1d", lambda lib, x: lib.nn.functional.max_pool1d(x, 3, stride=2), shape=(2, 3, 7),
          family="pool", double=True),
    unary("nn.functional.avg_pool2d", lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, stride=2, padding=1),
          shape=(2, 3, 5, 4), family="pool", double=True),
    unary("nn.functional.avg_pool1d", lambda lib, x: lib.nn.functional.avg_pool1d(x, 2), shape=(2, 3, 7),
          family="pool", double=True),
    unary("nn.functional.adaptive_avg_pool2d", lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, (2, 3)),
          shape=(2, 3, 5, 4), family="pool", double=True),
    unary("nn.functional.adaptive_avg_pool1d", lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, 3),
          shape=(2, 3, 7), family="pool", double=True),
    unary("nn.functional.adaptive_max_pool2d", lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, (2, 3)),
          shape=(2, 3, 5, 4), family="pool", double=True),
    unary("nn.functional.adaptive_max_pool1d", lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x, 3),
          shape=(2, 3, 7), family="pool", double=True),
    Case("nn.functional.layer_norm", lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (4,), w, b),
         (Arr((3, 4)), Arr((4,)), Arr((4,))), family="normalization", double=True),
    Case("nn.functional.batch_norm", lambda lib, x, w, b: lib.nn.functional.batch_norm(x, None, None, w, b, True),
         (Arr((3, 2, 4)), Arr((2,)), Arr((2,))), family="normalization", double=True),
    Case("nn.functional.batch_norm", lambda lib, x, m, v: lib.nn.functional.batch_norm(x, m, v),
         (Arr((3, 2, 4)), Arr((2,), grad=False), Arr((2,), low=0.5, high=2.0, grad=False)), family="normalization",
         double=True, variant="eval"),
    Case("nn.functional.group_norm", lambda lib, x, w, b: lib.nn.functional.group_norm(x, 2, w, b),
         (Arr((2, 4, 3)), Arr((4,)), Arr((4,))), family="normalization", double=True),
    unary("nn.functional.instance_norm", lambda lib, x: lib.nn.functional.instance_norm(x), shape=(2, 3, 4),
          family="normalization", double=True),
    unary("nn.functional.interpolate", lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
          shape=(1, 2, 3, 3), family="interpolate", double=True),
    unary("nn.functional.interpolate", lambda lib, x: lib.nn.functional.interpolate(x, size=5), shape=(1, 2, 3),
          family="interpolate", double=True, variant="nearest"),
]


def _spd(lib, x):
    return x @ x.mT + 3 * lib.eye(x.shape[-1], dtype=x.dtype)


def _seeded(lib, fn):
    lib.manual_seed(0)
    return fn()


# linear algebra over LAPACK (engine/_ops/linalg_lapack.py) and einsum / tensordot / trace, and the
# random ops with rules (their samples are seeded, identically in both libraries)
CASES += [
    Case("einsum", lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), (Arr((3, 4)), Arr((4, 2))), family="linalg"),
    Case("tensordot", lambda lib, a, b: lib.tensordot(a, b, dims=([1], [0])), (Arr((3, 4)), Arr((4, 2))),
         family="linalg"),
    Case("trace", lambda lib, a: lib.trace(a), (Arr((3, 4)),), family="linalg"),
    Case("linalg.det", lambda lib, a: lib.linalg.det(a), (Arr((2, 3, 3)),), family="linalg"),
    Case("det", lambda lib, a: lib.det(a), (Arr((3, 3)),), family="linalg"),
    Case("linalg.slogdet", lambda lib, a: lib.linalg.slogdet(a)[1], (Arr((2, 3, 3)),), family="linalg"),
    Case("slogdet", lambda lib, a: lib.slogdet(a)[1], (Arr((3, 3)),), family="linalg"),
    Case("logdet", lambda lib, a: lib.logdet(_spd(lib, a)), (Arr((3, 3)),), family="linalg"),
    Case("linalg.inv", lambda lib, a: lib.linalg.inv(_spd(lib, a)), (Arr((2, 3, 3)),), family="linalg"),
    Case("inverse", lambda lib, a: lib.inverse(_spd(lib, a)), (Arr((3, 3)),), family="linalg"),
    Case("linalg.solve", lambda lib, a, b: lib.linalg.solve(_spd(lib, a), b), (Arr((3, 3)), Arr((3, 2))),
         family="linalg"),
    Case("linalg.cholesky", lambda lib, a: lib.linalg.cholesky(_spd(lib, a)), (Arr((2, 3, 3)),), family="linalg"),
    Case("cholesky", lambda lib, a: lib.cholesky(_spd(lib, a), upper=True), (Arr((3, 3)),), family="linalg",
         marks=(pytest.mark.filterwarnings("ignore:torch.cholesky is deprecated"),)),
    Case("linalg.qr", lambda lib, a: (lambda r: r[0].sum(0) + r[1].sum(0))(lib.linalg.qr(a)), (Arr((4, 3)),),
         family="linalg", needs=("sum",)),
    Case("qr", lambda lib, a: (lambda r: r[0].sum(0) + r[1].sum(0))(lib.qr(a)), (Arr((4, 3)),),
         family="linalg", needs=("sum",), marks=(pytest.mark.filterwarnings("ignore:torch.qr is deprecated"),)),
    Case("linalg.lstsq", lambda lib, a, b: lib.linalg.lstsq(a, b).solution, (Arr((5, 3)), Arr((5, 2))),
         family="linalg"),
    Case("linalg.eigh", lambda lib, a: (lambda r: r[0] + (r[1] * r[1]).sum(0))(lib.linalg.eigh(_spd(lib, a))),
         (Arr((3, 3)),), family="linalg", needs=("sum",)),
    Case("linalg.eigvalsh", lambda lib, a: lib.linalg.eigvalsh(_spd(lib, a)), (Arr((3, 3)),), family="linalg"),
    Case("linalg.svd", lambda lib, a: (lambda r: (r[0] * r[0]).sum(0) + r[1] + (r[2] * r[2]).sum(0))(
        lib.linalg.svd(a, False)), (Arr((4, 3)),), family="linalg", needs=("sum",)),
    Case("svd", lambda lib, a: (lambda r: (r[0] * r[0]).sum(0) + r[1] + (r[2] * r[2]).sum(0))(lib.svd(a)),
         (Arr((3, 4)),), family="linalg", needs=("sum",)),
    Case("linalg.svdvals", lambda lib, a: lib.linalg.svdvals(a), (Arr((3, 4)),), family="linalg"),
    Case("linalg.matrix_norm", lambda lib, a: lib.linalg.matrix_norm(a, "nuc"), (Arr((3, 4)),), family="linalg"),
    Case("linalg.norm", lambda lib, a: lib.linalg.norm(a), (Arr((3, 4)),), family="linalg"),
    Case("bernoulli", lambda lib, p: _seeded(lib, lambda: lib.bernoulli(p)), (Arr((3, 4), 0.1, 0.9),),
         family="random", gradcheck=False),
    Case("normal", lambda lib, m, s: _seeded(lib, lambda: lib.normal(m, s)), (Arr(), Arr(low=0.5, high=1.5)),
         family="random", gradcheck=False),
    Case("nn.functional.dropout", lambda lib, x: _seeded(lib, lambda: lib.nn.functional.dropout(x, 0.3)), (Arr(),),
         family="random"),
]


# Tensor methods that are differentiable without being registry ops (casts record ToCopyBackward0).
DIFFERENTIABLE_METHODS = {"to"}


def _registered(op):
    return op in REGISTRY or op in INPLACE_RULES or op in DIFFERENTIABLE_METHODS


def assign(x, index, value):
    """x[index] = value on a copy of x (a Case fn cannot assign)."""
    x = x * 1
    x[index] = value
    return x


def mul_through_view(x, y):
    """An in-place op through a view of a non-leaf: CopySlices on its base."""
    z = x * x
    z[0].mul_(y)
    return z


def assign_into_zeros(lib, value, index, shape):
    z = lib.zeros(shape, dtype=value.dtype)
    z[index] = value
    return z


def _case_params(cases):
    return [pytest.param(case, dtype, id=f"{case.id}-{dtype}", marks=case.marks)
            for case in cases for dtype in case.dtypes]


# ---- running one case in both libraries ----
def _seed(*parts):
    return zlib.crc32("/".join(map(str, parts)).encode())


def _arrays(case, dtype, seed=0):
    rng = np.random.default_rng(_seed(case.id, dtype, seed))
    out = []
    for spec in case.args:
        if not isinstance(spec, Arr):
            out.append(spec)
            continue
        np_dtype = np.dtype(spec.dtype or dtype)
        if spec.values is not None:
            data = np.array(spec.values, dtype=np.float64).reshape(spec.shape)
        else:
            data = rng.uniform(spec.low, spec.high, size=spec.shape)
        out.append(data.astype(np_dtype))
    return out


def _leaves(lib, case, arrays):
    leaves = []
    for spec, data in zip(case.args, arrays):
        if not isinstance(spec, Arr):
            leaves.append(data)
            continue
        t = lib.from_numpy(data.copy())
        if spec.grad and data.dtype.kind == "f":
            t.requires_grad_(True)
        leaves.append(t)
    return leaves


def _numpy(t):
    return np.array(t.detach().numpy(), copy=True)


def _upstream(case, dtype, shape, np_dtype):
    rng = np.random.default_rng(_seed(case.id, dtype, "upstream"))
    return rng.uniform(-1.0, 1.0, size=shape).astype(np_dtype)


def _tolerances(case, dtype):
    rtol, atol = (1e-5, 1e-5) if dtype == "float32" else (1e-9, 1e-9)
    return (case.rtol if case.rtol is not None else rtol), (case.atol if case.atol is not None else atol)


def assert_same_grad(e_grad, t_grad, rtol, atol, what):
    """Both None, or the same dtype, shape and values (strides of gradients are not torch's contract)."""
    if t_grad is None or e_grad is None:
        assert t_grad is None and e_grad is None, f"{what}: torch {t_grad is not None}, engine {e_grad is not None}"
        return
    if t_grad._is_zerotensor():  # torch's symbolic zeros (sgn's gradient) have no data to compare
        t_grad = torch.zeros_like(t_grad)
    try:
        assert_same(e_grad.detach(), t_grad.detach(), check_stride=False, rtol=rtol, atol=atol)
    except AssertionError as error:
        raise AssertionError(f"{what}: {error}") from None


def _require(case):
    for op in (case.op,) + case.needs:
        if not _registered(op):
            pytest.skip(f"{op} is not registered yet")


def run_both(case, dtype, seed=0):
    """Forward in both libraries: (torch leaves, torch output, engine leaves, engine output)."""
    arrays = _arrays(case, dtype, seed)
    t_leaves, e_leaves = _leaves(torch, case, arrays), _leaves(engine, case, arrays)
    return t_leaves, case.fn(torch, *t_leaves), e_leaves, case.fn(engine, *e_leaves)


def _grad_leaves(leaves):
    return [t for t in leaves if isinstance(t, (torch.Tensor, engine.Tensor)) and t.requires_grad]


@pytest.mark.parametrize("case,dtype", _case_params(CASES))
def test_gradient_matches_torch(case, dtype):
    check_gradient(case, dtype)


RANDOM_CASES = [c for c in CASES if not any(isinstance(a, Arr) and a.values is not None for a in c.args)]


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 6))
@pytest.mark.parametrize("case,dtype", _case_params(RANDOM_CASES))
def test_gradient_matches_torch_more_samples(case, dtype, seed):
    check_gradient(case, dtype, seed)


def check_gradient(case, dtype, seed=0):
    _require(case)
    t_leaves, t_out, e_leaves, e_out = run_both(case, dtype, seed)
    t_name = t_out.grad_fn.name() if t_out.grad_fn is not None else None
    e_name = e_out.grad_fn.name() if e_out.grad_fn is not None else None
    assert e_out.requires_grad == t_out.requires_grad
    rtol, atol = _tolerances(case, dtype)
    assert_same_grad(e_out, t_out, rtol, atol, "forward")
    upstream = _upstream(case, dtype, tuple(t_out.shape), _numpy(t_out).dtype)
    if case.backward_raises:
        with pytest.raises(RuntimeError) as expected:
            t_out.backward(torch.from_numpy(upstream.copy()))
        with pytest.raises(RuntimeError) as got:
            e_out.backward(engine.from_numpy(upstream.copy()))
        assert str(got.value) == str(expected.value)
        assert e_name == t_name
        return
    t_out.backward(torch.from_numpy(upstream.copy()))
    e_out.backward(engine.from_numpy(upstream.copy()))
    for k, (t, e) in enumerate(zip(t_leaves, e_leaves)):
        if isinstance(t, torch.Tensor):
            assert_same_grad(e.grad, t.grad, rtol, atol, f"grad of input {k}")
    assert e_name == t_name


DOUBLE_CASES = [c for c in CASES if not c.backward_raises and
                (c.double if c.double is not None else c.family in DOUBLE_BACKWARD_FAMILIES)]


def _double_backward(lib, case, leaves, out, upstream, weights):
    """d/dinputs of sum_i <grad_i, w_i>, where grad_i = d<out, upstream>/dinput_i (create_graph)."""
    inputs = _grad_leaves(leaves)
    grads = lib.autograd.grad(out, inputs, lib.from_numpy(upstream.copy()), create_graph=True, allow_unused=True)
    pairs = [(g, lib.from_numpy(w.copy())) for g, w in zip(grads, weights) if g is not None and g.requires_grad]
    if not pairs:
        return [None] * len(inputs)
    return lib.autograd.grad([g for g, _ in pairs], inputs, [w for _, w in pairs], allow_unused=True)


@pytest.mark.parametrize("case,dtype", _case_params(DOUBLE_CASES))
def test_double_backward_matches_torch(case, dtype):
    _require(case)
    t_leaves, t_out, e_leaves, e_out = run_both(case, dtype)
    upstream = _upstream(case, dtype, tuple(t_out.shape), _numpy(t_out).dtype)
    rng = np.random.default_rng(_seed(case.id, dtype, "weights"))
    weights = [rng.uniform(-1, 1, size=tuple(t.shape)).astype(_numpy(t).dtype) for t in _grad_leaves(t_leaves)]
    t_second = _double_backward(torch, case, t_leaves, t_out, upstream, weights)
    e_second = _double_backward(engine, case, e_leaves, e_out, upstream, weights)
    rtol, atol = _tolerances(case, dtype)
    for k, (t, e, leaf) in enumerate(zip(t_second, e_second, _grad_leaves(t_leaves))):
        # A gradient that does not depend on an input is None in one library and zeros in the other.
        t = t if t is not None else torch.zeros_like(leaf)
        e = e if e is not None else engine.zeros(tuple(leaf.shape), dtype=dtype_to_engine(leaf.dtype))
        assert_same_grad(e, t, rtol * 10, atol * 10, f"second-order grad of input {k}")


# ---- finite differences on the engine alone ----
def gradcheck(fn, arrays, grad_positions, *, eps=1e-6, rtol=1e-5, atol=1e-7):
    """Compare the engine's vector-Jacobian product with central differences (float64)."""
    def evaluate(values):
        return fn(*[engine.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v for v in values])

    leaves = [engine.from_numpy(a.copy()).requires_grad_(i in grad_positions) if isinstance(a, np.ndarray) else a
              for i, a in enumerate(arrays)]
    out = fn(*leaves)
    upstream = np.random.default_rng(_seed("gradcheck", out.shape)).uniform(-1, 1, size=tuple(out.shape))
    analytical = engine.autograd.grad(out, [leaves[i] for i in grad_positions], engine.from_numpy(upstream.copy()),
                                      allow_unused=True)
    for position, got in zip(grad_positions, analytical):
        expected = np.zeros(arrays[position].shape)
        for index in np.ndindex(arrays[position].shape):
            values = list(arrays)
            plus, minus = arrays[position].copy(), arrays[position].copy()
            plus[index] += eps
            minus[index] -= eps
            values[position] = plus
            f_plus = float(np.sum(_numpy(evaluate(values)) * upstream))
            values[position] = minus
            f_minus = float(np.sum(_numpy(evaluate(values)) * upstream))
            expected[index] = (f_plus - f_minus) / (2 * eps)
        got = np.zeros(expected.shape) if got is None else _numpy(got)
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=f"input {position}")


GRADCHECK_CASES = [c for c in CASES if c.gradcheck and not c.backward_raises and "float64" in c.dtypes]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in GRADCHECK_CASES])
def test_finite_differences(case):
    _require(case)
    arrays = _arrays(case, "float64")
    positions = [i for i, (spec, a) in enumerate(zip(case.args, arrays))
                 if isinstance(spec, Arr) and spec.grad and a.dtype.kind == "f"]
    gradcheck(lambda *xs: case.fn(engine, *xs), arrays, positions)


# ---- the table covers the registry ----
def test_every_registered_op_is_classified():
    unclassified = sorted(op for op in REGISTRY if op not in RULES and op not in NOT_DIFFERENTIABLE)
    assert not unclassified, f"ops with neither a derivative rule nor a reason to have none: {unclassified}"
    contradicted = sorted(op for op in NOT_DIFFERENTIABLE if op in RULES)
    assert not contradicted


def test_every_rule_has_a_case():
    covered = {c.op for c in CASES}
    missing = sorted(op for op in REGISTRY if op in RULES and op not in covered)
    assert not missing, f"ops with a rule but no gradient sample: {missing}"


def test_registry_marks_differentiable_ops():
    wrong = sorted(op for op, entry in REGISTRY.items() if entry.has_backward != (op in RULES))
    assert not wrong


NON_DIFFERENTIABLE_CALLS = {
    "eq": lambda lib, x: lib.eq(x, 0.5), "ne": lambda lib, x: lib.ne(x, 0.5), "lt": lambda lib, x: lib.lt(x, 0.5),
    "le": lambda lib, x: lib.le(x, 0.5), "gt": lambda lib, x: lib.gt(x, 0.5), "ge": lambda lib, x: lib.ge(x, 0.5),
    "logical_not": lambda lib, x: lib.logical_not(x), "logical_and": lambda lib, x: lib.logical_and(x, x),
    "isnan": lambda lib, x: lib.isnan(x), "isfinite": lambda lib, x: lib.isfinite(x),
    "signbit": lambda lib, x: lib.signbit(x), "detach": lambda lib, x: x.detach(),
    "argmax": lambda lib, x: x.argmax(), "argmin": lambda lib, x: lib.argmin(x, 0),
    "any": lambda lib, x: x.any(), "all": lambda lib, x: lib.all(x), "count_nonzero": lambda lib, x: lib.count_nonzero(x),
}


@pytest.mark.parametrize("op", sorted(NON_DIFFERENTIABLE_CALLS))
def test_non_differentiable_ops_record_nothing(op):
    results = []
    for lib in (torch, engine):
        x = lib.from_numpy(np.array([0.0, 1.0, nan])).requires_grad_(True)
        out = NON_DIFFERENTIABLE_CALLS[op](lib, x)
        results.append((out.requires_grad, out.grad_fn is None))
    assert results[0] == results[1] == (False, True)
