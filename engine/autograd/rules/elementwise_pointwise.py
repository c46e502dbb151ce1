"""Derivative rules of the pointwise ops in engine/_ops/elementwise_pointwise.py and the
special functions of the unary kernels (lgamma, digamma, erfinv, sinc, angle), with
torch's formulas and node names (tools/autograd/derivatives.yaml, FunctionsManual.cpp)."""
from __future__ import annotations

import math

from engine.autograd.derivatives import NOT_IMPLEMENTED, _engine, _not_implemented, composite, rule


def _value(ctx):
    return ctx._values.get("value", 1)


@rule("addcmul", inputs=(0, 1, 2), save={1: (2,), 2: (1,)}, name="AddcmulBackward0")
def _addcmul(ctx, grad):
    needs = ctx.needs_input_grad
    value = _value(ctx)
    g1 = grad * ctx.saved(2) * value if needs[1] else None
    g2 = grad * ctx.saved(1) * value if needs[2] else None
    return grad if needs[0] else None, g1, g2


@rule("addcdiv", inputs=(0, 1, 2), save={1: (2,), 2: (1, 2)}, name="AddcdivBackward0")
def _addcdiv(ctx, grad):
    needs = ctx.needs_input_grad
    value = _value(ctx)
    t2 = ctx.saved(2)
    g1 = grad * value / t2 if needs[1] else None
    g2 = -grad * value * ctx.saved(1) / (t2 * t2) if needs[2] else None
    return grad if needs[0] else None, g1, g2


def _lerp_name(values):
    from engine._tensor import Tensor

    return "LerpBackward1" if isinstance(values.get("weight"), Tensor) else "LerpBackward0"


@rule("lerp", inputs=(0, 1, 2), save={2: (0, 1, 2), 0: (2,), 1: (2,)}, name=_lerp_name)
def _lerp(ctx, grad):
    needs = ctx.needs_input_grad
    weight = ctx.saved(2)
    g0 = grad * (1 - weight) if needs[0] else None
    g1 = grad * weight if needs[1] else None
    gw = grad * (ctx.saved(1) - ctx.saved(0)) if len(needs) > 2 and needs[2] else None
    return g0, g1, gw


@rule("logaddexp", inputs=(0, 1), save=(0, 1), name="LogaddexpBackward0")
def _logaddexp(ctx, grad):
    e = _engine()
    a, b = ctx.saved(0), ctx.saved(1)
    needs = ctx.needs_input_grad
    return (grad / (1 + e.exp(b - a)) if needs[0] else None), (grad / (1 + e.exp(a - b)) if needs[1] else None)


@rule("logaddexp2", inputs=(0, 1), save=(0, 1), name="Logaddexp2Backward0")
def _logaddexp2(ctx, grad):
    e = _engine()
    a, b = ctx.saved(0), ctx.saved(1)
    needs = ctx.needs_input_grad
    return ((grad / (1 + e.pow(2.0, b - a)) if needs[0] else None),
            (grad / (1 + e.pow(2.0, a - b)) if needs[1] else None))


@rule("logit", "special.logit", save=(0,), name="LogitBackward0")
def _logit(ctx, grad):
    # torch's logit_backward: 0 (eps given) or NaN (no eps) outside the clamp range, dy * inf at 0 and 1
    e = _engine()
    x = ctx.saved(0)
    eps = ctx._values.get("eps")
    core = grad / (x * (1 - x))
    if eps is None or eps < 0:
        outside = e.logical_or(e.lt(x, 0), e.gt(x, 1))
        return e.where(outside, e.full_like(core, math.nan), core)
    outside = e.logical_or(e.lt(x, eps), e.gt(x, 1 - eps))
    return e.where(outside, e.zeros_like(core), core)


@rule("ldexp", inputs=(0, 1), save=(0, 1), name="LdexpBackward0")
def _ldexp(ctx, grad):
    e = _engine()
    a, b = ctx.saved(0), ctx.saved(1)
    scale = e.pow(2.0, b)
    needs = ctx.needs_input_grad
    return (grad * scale if needs[0] else None), (grad * a * scale * math.log(2.0) if needs[1] else None)


@rule("heaviside", inputs=(0, 1), name=NOT_IMPLEMENTED)
def _heaviside(ctx, grad):
    _not_implemented("heaviside")


def _fill_name(values):
    from engine._tensor import Tensor

    return "FillBackward1" if isinstance(values.get("value"), Tensor) else "FillBackward0"


@rule("fill", inputs=(0, 1), name=_fill_name)
def _fill(ctx, grad):
    needs = ctx.needs_input_grad
    return (_engine().zeros_like(grad) if needs[0] else None), (grad.sum() if len(needs) > 1 and needs[1] else None)


@rule("lgamma", save=(0,), name="LgammaBackward0")
def _lgamma(ctx, grad):
    return grad * _engine().digamma(ctx.saved(0))


@rule("digamma", "special.digamma", "special.psi", save=(0,), name="DigammaBackward0")
def _digamma(ctx, grad):
    from engine._ops.elementwise_unary import trigamma

    return grad * trigamma(ctx.saved(0))  # torch: polygamma(1, x); no double backward through it here


@rule("erfinv", "special.erfinv", save=(0,), name="ErfinvBackward0")
def _erfinv(ctx, grad):
    e = _engine()
    return grad * (0.5 * math.sqrt(math.pi)) * e.exp(e.square(e.erfinv(ctx.saved(0))))


@rule("i0", "special.i0", save=(0,), name="I0Backward0")
def _i0(ctx, grad):
    from engine._ops.elementwise_unary import i1

    return grad * i1(ctx.saved(0))  # no double backward through the internal i1 kernel


@rule("sinc", "special.sinc", save=(0,), name="SincBackward0")
def _sinc(ctx, grad):
    e = _engine()
    x = ctx.saved(0)
    x_pi = x * math.pi
    x_squared_pi = x * x * math.pi
    out = grad * (x_pi * e.cos(x_pi) - e.sin(x_pi)) / x_squared_pi
    return e.where(e.eq(x_squared_pi, 0.0), e.zeros_like(out), out)


@rule("angle", name="AngleBackward0")
def _angle(ctx, grad):
    return _engine().zeros_like(grad)  # a real tensor's angle is piecewise constant


composite(
    "float", "double",  # Tensor.float()/.double(): ToCopyBackward0 through engine/_methods.py
    "conj", "conj_physical", "resolve_conj", "resolve_neg", "real",  # the tensor itself
)
