"""Derivative rules of torch.nn.functional's activations, losses and friends
(engine/_ops/activation.py, loss.py, nn_misc.py).

The pointwise activations are registered ops that dispatch on `inplace=`, so
their rules are keyed by the kernel functions they call ("activation.elu",
"activation.elu_"); the public op names are `composite`. Formulas are torch's
(tools/autograd/derivatives.yaml, aten/src/ATen/native/cpu/Activation.cpp),
written with engine ops so they differentiate again. In-place forms save the
result, as torch's `*Backward1` nodes do.
"""
from __future__ import annotations

import math
import struct

from engine.autograd.derivatives import composite, rule


def _engine():
    import engine

    return engine


def _as_float32(value):
    """value rounded to the nearest float32, as a Python float."""
    return struct.unpack("f", struct.pack("f", float(value)))[0]


def _where(cond, a, b):
    return _engine().where(cond, a, b)


# ---- leaky_relu / rrelu (eval) ----
def _slope(ctx):
    v = ctx._values
    if "negative_slope" in v:
        return v["negative_slope"]
    return (v.get("lower", 1.0 / 8) + v.get("upper", 1.0 / 3)) / 2


@rule("activation.leaky_relu", save=(0,), name="LeakyReluBackward0")
@rule("activation.rrelu", save=(0,), name="RreluWithNoiseBackward0")
def _leaky_relu(ctx, grad):
    x = ctx.saved(0)
    return _where(x > 0, grad, grad * _slope(ctx))


@rule("activation.leaky_relu_", save=("result",), name="LeakyReluBackward1")
@rule("activation.rrelu_", save=("result",), name="RreluWithNoiseBackward1")
def _leaky_relu_(ctx, grad):
    slope = _slope(ctx)
    if slope < 0 and ctx._node.rule.op == "activation.leaky_relu_":
        raise RuntimeError("In-place leakyReLu backward calculation is triggered with a negative slope which is not "
                           "supported. This is caused by calling in-place forward function with a negative slope, "
                           "please call out-of-place version instead. File an issue at "
                           "https://github.com/pytorch/pytorch if you do require supporting in-place leakRelu "
                           "backward calculation with negative slope")
    return _where(ctx.result > 0, grad, grad * slope)


# ---- elu family: (alpha, scale, input_scale) as torch's elu kernel ----
def _elu_coefficients(ctx):
    v = ctx._values
    op = ctx._node.rule.op
    if op.startswith("activation.selu"):
        return 1.6732632423543772848170429916717, 1.0507009873554804934193349852946, 1.0
    alpha = v.get("alpha", 1.0)
    if op.startswith("activation.celu"):
        # derivatives.yaml: elu_backward(grad, alpha, 1, 1.0/alpha.toFloat(), ...): alpha rounded to float
        return alpha, 1.0, 1.0 / _as_float32(alpha)
    return alpha, 1.0, 1.0


@rule("activation.elu", "activation.selu", save=(0,), name="EluBackward0")
@rule("activation.celu", save=(0,), name="CeluBackward0")
def _elu(ctx, grad):
    alpha, scale, input_scale = _elu_coefficients(ctx)
    x = ctx.saved(0)
    negative = grad * input_scale * (alpha * scale) * (x * input_scale).exp()
    return _where(x <= 0, negative, grad * scale)


@rule("activation.elu_", "activation.selu_", save=("result",), name="EluBackward1")
@rule("activation.celu_", save=("result",), name="CeluBackward1")
def _elu_(ctx, grad):
    alpha, scale, input_scale = _elu_coefficients(ctx)
    y = ctx.result
    return _where(y <= 0, grad * input_scale * (y + alpha * scale), grad * scale)


@rule("activation.silu", "activation.silu_", save=(0,), name="SiluBackward0")
def _silu(ctx, grad):
    x = ctx.saved(0)
    s = (-x).exp().add(1).reciprocal()
    return grad * s * (1 + x * (1 - s))


@rule("activation.mish", "activation.mish_", save=(0,), name="MishBackward0")
def _mish(ctx, grad):
    x = ctx.saved(0)
    s = (-x).exp().add(1).reciprocal()
    t = x.exp().log1p().tanh()
    return grad * (t + x * s * (1 - t * t))


@rule("activation.hardtanh", save=(0,), name="HardtanhBackward0")
def _hardtanh(ctx, grad):
    v = ctx._values
    x = ctx.saved(0)
    return _where((x <= v.get("min_val", -1.0)).logical_or(x >= v.get("max_val", 1.0)), 0.0, grad)


@rule("activation.hardtanh_", save=("result",), name="HardtanhBackward0")
def _hardtanh_(ctx, grad):
    v = ctx._values
    y = ctx.result
    return _where((y <= v.get("min_val", -1.0)).logical_or(y >= v.get("max_val", 1.0)), 0.0, grad)


@rule("activation.hardswish", "activation.hardswish_", save=(0,), name="HardswishBackward0")
def _hardswish(ctx, grad):
    x = ctx.saved(0)
    return _where(x < -3.0, 0.0, _where(x <= 3.0, grad * (x / 3.0 + 0.5), grad))


@rule("activation.hardsigmoid", "activation.hardsigmoid_", save=(0,), name="HardsigmoidBackward0")
def _hardsigmoid(ctx, grad):
    x = ctx.saved(0)
    # torch's kernel multiplies by 1.0f / 6.0f, a float constant, for every dtype
    return _where((x > -3.0).logical_and(x < 3.0), grad * _as_float32(1.0 / 6.0), 0.0)


@rule("activation.softplus", save=(0,), name="SoftplusBackward0")
def _softplus(ctx, grad):
    v = ctx._values
    beta, threshold = v.get("beta", 1.0), v.get("threshold", 20.0)
    x = ctx.saved(0)
    z = (x * beta).exp()
    return _where(x * beta > threshold, grad, grad * z / (z + 1.0))


@rule("activation.softshrink", save=(0,), name="SoftshrinkBackward0")
@rule("activation.hardshrink", save=(0,), name="HardshrinkBackward0")
def _shrink(ctx, grad):
    lambd = ctx._values.get("lambd", 0.5)
    x = ctx.saved(0)
    return _where((x >= -lambd).logical_and(x <= lambd), 0.0, grad)


@rule("activation.logsigmoid", save=(0,), name="LogSigmoidBackward0")
def _logsigmoid(ctx, grad):
    x = ctx.saved(0)
    negative = x < 0
    z = (-x.abs()).exp()
    max_deriv = _where(negative, 1.0, 0.0)
    sign = _where(negative, 1.0, -1.0)
    return grad * (max_deriv - sign * (z / (z + 1.0)))


@rule("activation.threshold", save=(0,), name="ThresholdBackward0")
def _threshold(ctx, grad):
    x = ctx.saved(0)
    return _where(x <= ctx._values["threshold"], 0.0, grad)


@rule("activation.threshold_", save=(0,), name="ThresholdBackward1")
def _threshold_(ctx, grad):
    # torch masks by the input before the write (the recorder saves a copy of it)
    x = ctx.saved(0)
    return _where(x <= ctx._values["threshold"], 0.0, grad)


@rule("activation.prelu_kernel", inputs=(0, 1), save=(0, 1), name="PreluKernelBackward0")
def _prelu(ctx, grad):
    x, w = ctx.saved(0), ctx.saved(1)
    positive = x > 0
    gx = _where(positive, grad, w * grad) if ctx.needs_input_grad[0] else None
    gw = _where(positive, 0.0, x * grad) if ctx.needs_input_grad[1] else None
    return gx, gw


@rule("activation.glu", save=(0,), name="GluBackward0")
def _glu(ctx, grad):
    from engine._shape import wrap_dim

    x = ctx.saved(0)
    dim = wrap_dim(ctx._values.get("dim", -1), len(x._shape))
    half = x._shape[dim] // 2
    a, b = x.narrow(dim, 0, half), x.narrow(dim, half, half)
    s = b.sigmoid()
    out = _engine().zeros_like(x)
    out.narrow(dim, 0, half).copy_(grad * s)
    out.narrow(dim, half, half).copy_(grad * a * s * (1 - s))
    return out


composite(
    "nn.functional.relu6", "nn.functional.leaky_relu", "nn.functional.elu", "nn.functional.selu",
    "nn.functional.celu", "nn.functional.silu", "nn.functional.mish", "nn.functional.hardtanh",
    "nn.functional.hardswish", "nn.functional.hardsigmoid", "nn.functional.softplus", "nn.functional.softsign",
    "nn.functional.tanhshrink", "nn.functional.softshrink", "nn.functional.hardshrink", "nn.functional.logsigmoid",
    "nn.functional.prelu", "nn.functional.rrelu", "nn.functional.glu", "nn.functional.threshold",
    "nn.functional.linear", "nn.functional.softmin",
)


# ---- losses (engine/_ops/loss.py) ----
def _saved_arg(ctx, name):
    """A saved tensor argument that is not a differentiable input (target, weight), or None."""
    saved = ctx._saved.get(name)
    return saved.unpack(ctx._node) if saved is not None else ctx._values.get(name)


def _loss_scale(ctx, grad, shape):
    """The incoming gradient spread over the loss elements: /numel for mean."""
    reduction = ctx._values.get("reduction", "mean")
    if reduction == "mean":
        n = 1
        for s in shape:
            n *= s
        return grad / n
    return grad


@rule("loss.mse", inputs=(0, 1), save=(0, 1), name="MseLossBackward0")
def _mse_loss(ctx, grad):
    x, t = ctx.saved(0), ctx.saved(1)
    g = 2.0 * (x - t) * _loss_scale(ctx, grad, x._shape)
    return g, (-g if ctx.needs_input_grad[1] else None)


@rule("loss.smooth_l1", inputs=(0, 1), save=(0, 1), name="SmoothL1LossBackward0")
def _smooth_l1_loss(ctx, grad):
    beta = ctx._values.get("beta", 1.0)
    x, t = ctx.saved(0), ctx.saved(1)
    d = x - t
    g = _loss_scale(ctx, grad, x._shape)
    inner = _where(d < -beta, -g, _where(d > beta, g, d * g / beta))
    return inner, (-inner if ctx.needs_input_grad[1] else None)


@rule("loss.huber", inputs=(0, 1), save=(0, 1), name="HuberLossBackward0")
def _huber_loss(ctx, grad):
    delta = ctx._values.get("delta", 1.0)
    x, t = ctx.saved(0), ctx.saved(1)
    d = x - t
    g = _loss_scale(ctx, grad, x._shape)
    inner = _where(d < -delta, -g * delta, _where(d > delta, g * delta, d * g))
    return inner, (-inner if ctx.needs_input_grad[1] else None)


@rule("loss.soft_margin", save=(0, 1), name="SoftMarginLossBackward0")
def _soft_margin_loss(ctx, grad):
    x, t = ctx.saved(0), _saved_arg(ctx, "target")
    g = _loss_scale(ctx, grad, x._shape)
    z = (-t * x).exp()
    return -t * z / (z + 1.0) * g


@rule("loss.binary_cross_entropy", inputs=(0, 1), save=(0, 1, 2), name="BinaryCrossEntropyBackward0")
def _binary_cross_entropy(ctx, grad):
    x, t = ctx.saved(0), ctx.saved(1)
    w = _saved_arg(ctx, "weight")
    g = _loss_scale(ctx, grad, x._shape)
    if w is not None:
        g = g * w
    gx = g * (x - t) / ((1 - x) * x).clamp_min(1e-12)
    gt = None
    if ctx.needs_input_grad[1]:
        gt = g * ((1 - x).log().clamp_min(-100.0) - x.log().clamp_min(-100.0))
    return gx, gt


@rule("loss.binary_cross_entropy_with_logits", inputs=(0, 1), save=(0, 1, 2, 3),
      name="BinaryCrossEntropyWithLogitsBackward0")
def _binary_cross_entropy_with_logits(ctx, grad):
    x, t = ctx.saved(0), ctx.saved(1)
    w = _saved_arg(ctx, "weight")
    pw = _saved_arg(ctx, "pos_weight")
    g = _loss_scale(ctx, grad, x._shape)
    if w is not None:
        g = g * w
    s = x.sigmoid()
    if pw is not None:
        pt = pw * t
        gx = g * ((pt + 1 - t) * s - pt)
    else:
        gx = g * (s - t)
    gt = None
    if ctx.needs_input_grad[1]:
        from engine.nn.functional import logsigmoid

        gt = -x * g if pw is None else g * (-x - (pw - 1) * logsigmoid(x))
    return gx, gt


def _nll_name(values):
    x = values.get("input")
    return "NllLoss2DBackward0" if x is not None and x.dim() >= 3 else "NllLossBackward0"


@rule("loss.nll_loss", save=(0, 1, 2), name=_nll_name)
def _nll_loss(ctx, grad):
    from engine._ops.loss import _nll_terms, nll_grad_pattern

    x, t = ctx.saved(0), _saved_arg(ctx, "target")
    v = ctx._values
    w = _saved_arg(ctx, "weight")
    ignore_index = v.get("ignore_index", -100)
    reduction = v.get("reduction", "mean")
    pattern = nll_grad_pattern(x.detach(), t, None if w is None else w.detach(), ignore_index)
    if reduction == "none":
        g = grad.unsqueeze(1) if x.dim() >= 2 else grad
    elif reduction == "sum":
        g = grad
    else:
        _, wout = _nll_terms(x.detach(), t, None if w is None else w.detach(), ignore_index)
        g = grad / wout.sum()
    # torch's kernel writes only the targets' positions: ignored rows stay 0 even when every target
    # is ignored (total weight 0, so g is inf or NaN)
    scaled = pattern * g
    return _engine().where(pattern == 0, _engine().zeros_like(scaled), scaled)


composite(
    "nn.functional.mse_loss", "nn.functional.l1_loss", "nn.functional.smooth_l1_loss", "nn.functional.huber_loss",
    "nn.functional.soft_margin_loss", "nn.functional.binary_cross_entropy",
    "nn.functional.binary_cross_entropy_with_logits", "nn.functional.nll_loss", "nn.functional.cross_entropy",
    "nn.functional.kl_div", "nn.functional.poisson_nll_loss", "nn.functional.margin_ranking_loss",
    "nn.functional.hinge_embedding_loss", "nn.functional.multilabel_soft_margin_loss",
)


# tensor-by-Python-number products and quotients made inside torch's C++ (mul/div with a
# Scalar overload record MulBackward1 / DivBackward1, where Python's operators record *0)
@rule("loss.mul_scalar", name="MulBackward1")
def _mul_scalar(ctx, grad):
    return grad * ctx._values["other"]


@rule("loss.div_scalar", name="DivBackward1")
def _div_scalar(ctx, grad):
    return grad / ctx._values["other"]


# ---- nn_misc (engine/_ops/nn_misc.py) ----
@rule("nn.embedding", save=(1,), name="EmbeddingBackward0")
def _embedding(ctx, grad):
    from engine._ops.nn_misc import embedding_backward

    indices = _saved_arg(ctx, "input")
    return embedding_backward(grad, indices, ctx.input_shapes[0][0], ctx._values.get("padding_idx", -1))


composite(
    "nn.functional.bilinear", "nn.functional.normalize", "nn.functional.cosine_similarity",
    "nn.functional.pairwise_distance", "nn.functional.embedding",
)


def _norm_backward(ctx, grad):
    from engine.autograd.derivatives import _norm

    return _norm(ctx, grad)


# at::norm(x, p, dim, keepdim) called from C++ (pairwise_distance) records NormBackward1
rule("nn.norm_dim", save=(0, "result"), name="NormBackward1")(_norm_backward)


@rule("nn.constant_pad", name="ConstantPadNdBackward0")
def _constant_pad(ctx, grad):
    from engine._ops.nn_misc import _constant_pad as constant_pad

    return constant_pad(grad, [-p for p in ctx._values["pad"]], 0)


def _index_pad_name(values):
    kind = "Reflection" if values["mode"] == "reflect" else "Replication"
    return f"{kind}Pad{len(values['pad']) // 2}DBackward0"


@rule("nn.index_pad", name=_index_pad_name)
def _index_pad(ctx, grad):
    from engine._ops.nn_misc import _index_pad_backward

    return _index_pad_backward(grad, ctx._values["pad"], ctx._values["mode"], ctx.input_shapes[0])


def _index_pad_backward_name(values):
    kind = "Reflection" if values["mode"] == "reflect" else "Replication"
    return f"{kind}Pad{len(values['pad']) // 2}DBackwardBackward0"


@rule("nn.index_pad_backward", name=_index_pad_backward_name)
def _index_pad_backward(ctx, grad):
    from engine._ops.nn_misc import _index_pad

    return _index_pad(grad, ctx._values["pad"], ctx._values["mode"])


composite("nn.functional.pad")

composite("nn.functional.gaussian_nll_loss", "nn.functional.cosine_embedding_loss", "nn.functional.triplet_margin_loss")


@rule("nn.pdist", save=(0, "result"), name="PdistBackward0")
def _pdist(ctx, grad):
    # torch's _pdist_backward has no derivative of its own: computed outside the graph
    from engine._ops.nn_misc import pdist_backward

    return pdist_backward(grad.detach(), ctx.saved(0).detach(), ctx._values.get("p", 2), ctx.result.detach())


composite("nn.functional.pdist")
