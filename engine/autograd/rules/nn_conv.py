"""Derivative rules of convolution, pooling, normalization and interpolation
(engine/_ops/conv.py, pool.py, normalization.py, interpolate.py), with torch's
node names (tools/autograd/derivatives.yaml).

Convolutions: the public forms call `conv2d_op` / `conv_transpose2d_op`
(ConvolutionBackward0, inputs x, weight, bias); their gradients are built from
three differentiable primitives (convolution, transposed convolution, weight
gradient) whose own gradients are each other, so double backward works.
"""
from __future__ import annotations

import math

from engine.autograd.recording import Rule, differentiable


def _c():
    from engine._ops import conv

    return conv


def _sum_bias(grad):
    return grad.sum((0, 2, 3)) if grad.dim() == 4 else grad.sum((0, 2))


def _dim_of(t):
    return t.dim()


# ---- the primitives: raw forwards over 3-d or 4-d tensors ----
def _conv_raw(x, w, stride, padding, dilation, groups, out_hw):
    c = _c()
    return c.from4(c.conv2d_forward(c.to4(x), c.to4(w), None, stride, padding, dilation, groups, out_hw), x.dim())


def _convt_raw(x, w, stride, padding, dilation, groups, out_hw):
    c = _c()
    return c.from4(c.conv_transpose2d_forward(c.to4(x), c.to4(w), None, stride, padding, dilation, groups, out_hw),
                   x.dim())


def _wgrad_raw(x, g, weight_shape, stride, padding, dilation, groups):
    c = _c()
    shape4 = tuple(weight_shape) if len(weight_shape) == 4 else (weight_shape[0], weight_shape[1], 1, weight_shape[2])
    out = c.conv2d_weight_grad(c.to4(x), c.to4(g), shape4, stride, padding, dilation, groups)
    return c.from4(out, len(weight_shape))


def _hw(t):
    s = t._shape
    return (s[2], s[3]) if len(s) == 4 else (1, s[2])


def _conv_backward(ctx, grad):
    v = ctx._values
    x, w = ctx.saved(0), ctx.saved(1)
    gx = conv_transpose_prim(grad, w, v["stride"], v["padding"], v["dilation"], v["groups"], _hw(x)) \
        if ctx.needs_input_grad[0] else None
    gw = weight_grad_prim(x, grad, tuple(w._shape), v["stride"], v["padding"], v["dilation"], v["groups"]) \
        if ctx.needs_input_grad[1] else None
    return gx, gw


def _convt_backward(ctx, grad):
    v = ctx._values
    x, w = ctx.saved(0), ctx.saved(1)
    gx = conv_prim(grad, w, v["stride"], v["padding"], v["dilation"], v["groups"], _hw(x)) \
        if ctx.needs_input_grad[0] else None
    gw = weight_grad_prim(grad, x, tuple(w._shape), v["stride"], v["padding"], v["dilation"], v["groups"]) \
        if ctx.needs_input_grad[1] else None
    return gx, gw


def _wgrad_backward(ctx, grad):
    v = ctx._values
    x, g = ctx.saved(0), ctx.saved(1)
    gx = conv_transpose_prim(g, grad, v["stride"], v["padding"], v["dilation"], v["groups"], _hw(x)) \
        if ctx.needs_input_grad[0] else None
    gg = conv_prim(x, grad, v["stride"], v["padding"], v["dilation"], v["groups"], _hw(g)) \
        if ctx.needs_input_grad[1] else None
    return gx, gg


conv_prim = differentiable(_conv_raw, Rule("convolution", (0, 1), (0, 1), _conv_backward, "ConvolutionBackward0"))
conv_transpose_prim = differentiable(_convt_raw, Rule("convolution_transpose", (0, 1), (0, 1), _convt_backward,
                                                      "ConvolutionBackwardBackward0"))
weight_grad_prim = differentiable(_wgrad_raw, Rule("convolution_weight", (0, 1), (0, 1), _wgrad_backward,
                                                   "ConvolutionBackwardBackward0"))


# ---- the public forms' node: ConvolutionBackward0 over (input, weight, bias) ----
def _conv_op_raw(x, w, bias, stride, padding, dilation, groups, out_hw):
    out = _conv_raw(x, w, stride, padding, dilation, groups, out_hw)
    if bias is not None:
        out.add_(bias.view((1, -1) + (1,) * (out.dim() - 2)))
    return _c().match_format(out, x, w)


def _convt_op_raw(x, w, bias, stride, padding, dilation, groups, out_hw):
    out = _convt_raw(x, w, stride, padding, dilation, groups, out_hw)
    if bias is not None:
        out.add_(bias.view((1, -1) + (1,) * (out.dim() - 2)))
    return _c().match_format(out, x, w)


def _conv_op_backward(ctx, grad):
    gx, gw = _conv_backward(ctx, grad)
    gb = _sum_bias(grad) if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
    return gx, gw, gb


def _convt_op_backward(ctx, grad):
    gx, gw = _convt_backward(ctx, grad)
    gb = _sum_bias(grad) if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2] else None
    return gx, gw, gb


conv2d_op = differentiable(_conv_op_raw, Rule("nn.functional.conv2d", (0, 1, 2), (0, 1), _conv_op_backward,
                                              "ConvolutionBackward0"))
conv_transpose2d_op = differentiable(_convt_op_raw, Rule("nn.functional.conv_transpose2d", (0, 1, 2), (0, 1),
                                                         _convt_op_backward, "ConvolutionBackward0"))


# ---- pooling: the window kernel (engine/_ops/pool.py) forward and backward ----
def _p():
    from engine._ops import pool

    return pool


def _max_pool_raw(x, windows, node):
    out, indices = _p().pool_forward(x, windows, True)
    return _c().match_format(out, x), _c().match_format(indices, x)


def _max_pool_backward(ctx, grad):
    return max_pool_grad_prim(grad, ctx.result1, ctx._values["windows"], ctx.input_shapes[0])


def _max_pool_grad_raw(grad, indices, windows, input_shape):
    return _p().pool_backward(grad, windows, indices, input_shape)


def _max_pool_grad_backward(ctx, grad):
    return _p().pool_gather(grad, ctx.saved(1)), None


def _gather_raw(values, indices):
    return _p().pool_gather(values, indices)


max_pool_op = differentiable(_max_pool_raw, Rule("max_pool", (0,), ("result1",), _max_pool_backward,
                                                 lambda values: values["node"]))
max_pool_grad_prim = differentiable(_max_pool_grad_raw, Rule("max_pool_backward", (0, 1), (1,),
                                                             lambda ctx, grad: (gather_prim(grad, ctx.saved(1)), None),
                                                             "MaxPool2DWithIndicesBackwardBackward0"))
gather_prim = differentiable(_gather_raw, Rule("max_pool_gather", (0, 1), (1,),
                                               lambda ctx, grad: (max_pool_grad_prim(
                                                   grad, ctx.saved(1), None, ctx.input_shapes[0]), None),
                                               "GatherBackward0"))


def _avg_pool_raw(x, windows, node):
    return _c().match_format(_p().pool_forward(x, windows, False)[0], x)


def _avg_pool_grad_raw(grad, windows, input_shape):
    return _p().pool_backward(grad, windows, None, input_shape)


avg_pool_op = differentiable(_avg_pool_raw, Rule("avg_pool", (0,), (), lambda ctx, grad: avg_pool_grad_prim(
    grad, ctx._values["windows"], ctx.input_shapes[0]), lambda values: values["node"]))
avg_pool_grad_prim = differentiable(_avg_pool_grad_raw, Rule(
    "avg_pool_backward", (0,), (), lambda ctx, grad: avg_pool_op(grad, ctx._values["windows"], "AvgPool2DBackward0"),
    "AvgPool2DBackwardBackward0"))


# The public forms record through the differentiable ops above (and views, mean for a 1x1
# adaptive average pool), like torch's CompositeImplicitAutograd wrappers.
from engine.autograd.derivatives import composite  # noqa: E402

composite(
    "nn.functional.conv1d", "nn.functional.conv2d", "nn.functional.conv_transpose1d",
    "nn.functional.conv_transpose2d",
    "nn.functional.max_pool1d", "nn.functional.max_pool2d", "nn.functional.avg_pool1d", "nn.functional.avg_pool2d",
    "nn.functional.adaptive_avg_pool1d", "nn.functional.adaptive_avg_pool2d",
    "nn.functional.adaptive_max_pool1d", "nn.functional.adaptive_max_pool2d",
)


# ---- normalization: forwards in engine/_ops/normalization.py; the rules recompute the
# statistics from the saved input with engine ops, so they differentiate again ----
def _n():
    from engine._ops import normalization

    return normalization


def _normalized(x, dims, eps):
    mu = x.mean(dims, keepdim=True)
    xc = x - mu
    rstd = ((xc * xc).mean(dims, keepdim=True) + eps).rsqrt()
    return xc * rstd, rstd


def _normalize_backward(gh, xhat, rstd, dims):
    """d/dx of xhat = (x - mean) * rstd over dims, against gh."""
    return rstd * (gh - gh.mean(dims, keepdim=True) - xhat * (gh * xhat).mean(dims, keepdim=True))


def _sum_over(t, dims):
    return t.sum(dims) if dims else t


def _layer_norm_raw(input, normalized_shape, weight, bias, eps):
    return _n().layer_norm_forward(input, normalized_shape, weight, bias, eps)


def _layer_norm_backward(ctx, grad):
    v = ctx._values
    x, w = ctx.saved(0), ctx.saved(1)
    k = len(v["normalized_shape"])
    nd = x.dim()
    dims = tuple(range(nd - k, nd))
    batch = tuple(range(nd - k))
    xhat, rstd = _normalized(x, dims, v["eps"])
    needs = ctx.needs_input_grad
    gx = _normalize_backward(grad * w if w is not None else grad, xhat, rstd, dims) if needs[0] else None
    gw = _sum_over(grad * xhat, batch) if needs[1] else None
    gb = _sum_over(grad, batch) if needs[2] else None
    return gx, gw, gb


layer_norm_op = differentiable(_layer_norm_raw, Rule("nn.functional.layer_norm", (0, 2, 3), (0, 2),
                                                     _layer_norm_backward, "NativeLayerNormBackward0"))


def _batch_norm_raw(input, weight, bias, running_mean, running_var, training, momentum, eps):
    out = _n().batch_norm_forward(input, running_mean, running_var, weight, bias, training, momentum, eps)
    return _c().match_format(out, input)


def _batch_norm_backward(ctx, grad):
    v = ctx._values
    x, w = ctx.saved(0), ctx.saved(1)
    nd = x.dim()
    dims = (0,) + tuple(range(2, nd))
    shape = (1, x._shape[1]) + (1,) * (nd - 2)
    needs = ctx.needs_input_grad
    if v["training"]:
        xhat, rstd = _normalized(x, dims, v["eps"])
        gx = _normalize_backward(grad * w.view(shape) if w is not None else grad, xhat, rstd, dims) \
            if needs[0] else None
    else:
        rstd = (v["running_var"] + v["eps"]).rsqrt().view(shape)
        xhat = (x - v["running_mean"].view(shape)) * rstd
        gx = (grad * w.view(shape) if w is not None else grad) * rstd if needs[0] else None
    gw = (grad * xhat).sum(dims) if needs[1] else None
    gb = grad.sum(dims) if needs[2] else None
    return gx, gw, gb


batch_norm_op = differentiable(_batch_norm_raw, Rule("nn.functional.batch_norm", (0, 1, 2),
                                                     ("input", "weight", "running_mean", "running_var"),
                                                     _batch_norm_backward, "NativeBatchNormBackward0"))


def _group_norm_raw(input, num_groups, weight, bias, eps):
    return _c().match_format(_n().group_norm_forward(input, num_groups, weight, bias, eps), input)


def _group_norm_backward(ctx, grad):
    v = ctx._values
    x, w = ctx.saved(0), ctx.saved(1)
    g = v["num_groups"]
    n, c = x._shape[0], x._shape[1]
    nd = x.dim()
    shape = (1, c) + (1,) * (nd - 2)
    block = x.numel() // (n * g) if n * g else (c // g) * math.prod(x._shape[2:])
    xg = x.reshape(n, g, block)
    xhat, rstd = _normalized(xg, (2,), v["eps"])
    needs = ctx.needs_input_grad
    gx = None
    if needs[0]:
        gh = (grad * w.view(shape) if w is not None else grad).reshape(n, g, block)
        gx = _normalize_backward(gh, xhat, rstd, (2,)).reshape(x._shape)
    dims = (0,) + tuple(range(2, nd))
    gw = (grad * xhat.reshape(x._shape)).sum(dims) if needs[1] else None
    gb = grad.sum(dims) if needs[2] else None
    return gx, gw, gb


group_norm_op = differentiable(_group_norm_raw, Rule("nn.functional.group_norm", (0, 2, 3), (0, 2),
                                                     _group_norm_backward, "NativeGroupNormBackward0"))

composite("nn.functional.layer_norm", "nn.functional.batch_norm", "nn.functional.group_norm",
          "nn.functional.instance_norm")


# ---- interpolation (engine/_ops/interpolate.py): linear in the input, so the gradient's
# gradient is the forward again ----
def _i():
    from engine._ops import interpolate

    return interpolate


def _interpolate_raw(x, plan, node):
    return _c().match_format(_i().interpolate_forward(x, plan), x)


def _interpolate_grad_raw(grad, plan, input_shape, node):
    return _i().interpolate_backward(grad, plan, input_shape)


interpolate_op = differentiable(_interpolate_raw, Rule(
    "interpolate", (0,), (), lambda ctx, grad: interpolate_grad_prim(
        grad, ctx._values["plan"], ctx.input_shapes[0], ctx._values["node"]), lambda values: values["node"]))
interpolate_grad_prim = differentiable(_interpolate_grad_raw, Rule(
    "interpolate_backward", (0,), (), lambda ctx, grad: interpolate_op(grad, ctx._values["plan"], ctx._values["node"]),
    lambda values: values["node"][:-len("Backward0")] + "BackwardBackward0"))

composite("nn.functional.interpolate")


def _adaptive_avg_pool3d_raw(x, windows):
    over_d, over_hw = windows
    p = _p()
    xc = x if x.is_contiguous() else x.contiguous()
    lead, (d, h, w) = tuple(x._shape[:-3]), tuple(x._shape[-3:])
    mid = p.pool_forward(xc.view(lead + (d, h * w)), over_d, False)[0]
    return p.pool_forward(mid.view(lead + (over_d.out_h, h, w)), over_hw, False)[0]


def _adaptive_avg_pool3d_backward(ctx, grad):
    over_d, over_hw = ctx._values["windows"]
    shape = ctx.input_shapes[0]
    lead, (d, h, w) = tuple(shape[:-3]), tuple(shape[-3:])
    mid = avg_pool_grad_prim(grad, over_hw, lead + (over_d.out_h, h, w))
    return avg_pool_grad_prim(mid.reshape(lead + (over_d.out_h, h * w)), over_d, lead + (d, h * w)).reshape(shape)


adaptive_avg_pool3d_op = differentiable(_adaptive_avg_pool3d_raw, Rule(
    "adaptive_avg_pool3d", (0,), (), _adaptive_avg_pool3d_backward, "AdaptiveAvgPool3DBackward0"))
