"""Normalization: `torch.nn.functional.layer_norm`, `batch_norm`, `group_norm`, `instance_norm`.

The statistics come from csrc/norm.c's ft_moments (mean and biased variance
per row, per (sample, group) block or per channel, accumulated in double);
the normalization is then the engine's elementwise kernels. The ops record
torch's nodes (NativeLayerNormBackward0, NativeBatchNormBackward0,
NativeGroupNormBackward0; instance_norm is torch's batch_norm over a
(1, N*C, ...) view, viewed back); their rules, in engine/autograd/rules/nn_conv.py,
recompute the statistics with engine ops so double backward is exact.
batch_norm in training updates running_mean / running_var in place with
momentum and the unbiased variance, as torch does.
"""
from __future__ import annotations

import builtins
import math

from engine._kernel import check, lib
from engine._registry import FLOATING, op
from engine._tensor import Tensor, empty_tensor


def moments(x, groups, group_stride, outer, outer_stride, inner):
    """(mean, biased var) of shape (groups,) of a contiguous x (see ft_moments)."""
    mean = empty_tensor((groups,), x._dtype)
    var = empty_tensor((groups,), x._dtype)
    check(lib.ft_moments(x._dtype.code, groups, group_stride, outer, outer_stride, inner, x._addr, mean._addr,
                         var._addr))
    return mean, var


def _contig(x):
    return x if x.is_contiguous() else x.contiguous()


def _affine_(out, weight, bias, shape):
    if weight is not None:
        out.mul_(weight.view(shape))
    if bias is not None:
        out.add_(bias.view(shape))
    return out


# ---- raw forwards (no autograd) ----
def layer_norm_forward(x, normalized_shape, weight, bias, eps):
    k = len(normalized_shape)
    n = math.prod(normalized_shape)
    rows = math.prod(x._shape[:x.dim() - k])
    xc = _contig(x)
    mean, var = moments(xc, rows, n, 1, 0, n)
    stat_shape = tuple(x._shape[:x.dim() - k]) + (1,) * k
    rstd = var.add_(eps).rsqrt_()
    out = xc.sub(mean.view(stat_shape))
    out.mul_(rstd.view(stat_shape))
    return _affine_(out, weight, bias, tuple(normalized_shape))


def _channel_shape(x):
    return (1, x._shape[1]) + (1,) * (x.dim() - 2)


def batch_norm_forward(x, running_mean, running_var, weight, bias, training, momentum, eps):
    c = x._shape[1]
    shape = _channel_shape(x)
    if training:
        xc = _contig(x)
        hw = math.prod(x._shape[2:])
        n = x._shape[0]
        mean, var = moments(xc, c, hw, n, c * hw, hw)
        count = n * hw
        if running_mean is not None:
            running_mean.copy_(mean * momentum + running_mean * (1 - momentum))
        if running_var is not None:
            unbiased = var * (count / (count - 1)) if count > 1 else var * math.inf
            running_var.copy_(unbiased * momentum + running_var * (1 - momentum))
        rstd = var.add_(eps).rsqrt_()
        out = xc.sub(mean.view(shape))
    else:
        rstd = (running_var + eps).rsqrt()
        out = x.sub(running_mean.view(shape))
    out.mul_(rstd.view(shape))
    return _affine_(out, weight, bias, shape)


def group_norm_forward(x, num_groups, weight, bias, eps):
    n, c = x._shape[0], x._shape[1]
    hw = math.prod(x._shape[2:])
    block = (c // num_groups) * hw
    xc = _contig(x)
    mean, var = moments(xc, n * num_groups, block, 1, 0, block)
    rstd = var.add_(eps).rsqrt_()
    out = xc.view(n, num_groups, block).sub(mean.view(n, num_groups, 1))
    out.mul_(rstd.view(n, num_groups, 1))
    out = out.view(x._shape)
    return _affine_(out, weight, bias, _channel_shape(x))


# ---- the public forms ----
def _check_tensor(fn, arg, position, value, optional=False):
    if value is None and optional:
        return
    if not isinstance(value, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position {position}) must be Tensor, not {type(value).__name__}")


def _not_floating(fn, dtype):
    from engine._iter import _type_name

    return RuntimeError(f"\"{fn}\" not implemented for '{_type_name(dtype)}'")


@op("nn.functional.layer_norm", dtypes=FLOATING, family="normalization", aten=("layer_norm", "native_layer_norm"))
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    """`torch.nn.functional.layer_norm`"""
    _check_tensor("layer_norm", "input", 1, input)
    if isinstance(normalized_shape, builtins.int):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(builtins.int(s) for s in normalized_shape)
    k = len(normalized_shape)
    if k < 1:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           f"element, but got normalized_shape = {list(normalized_shape)}")
    if weight is not None and tuple(weight._shape) != normalized_shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{list(weight._shape)} and normalized_shape = {list(normalized_shape)}")
    if bias is not None and tuple(bias._shape) != normalized_shape:
        raise RuntimeError(f"Expected bias to be of same shape as normalized_shape, but got bias of shape "
                           f"{list(bias._shape)} and normalized_shape = {list(normalized_shape)}")
    if input.dim() < k or tuple(input._shape[input.dim() - k:]) != normalized_shape:
        expected = "[*, " + ", ".join(str(s) for s in normalized_shape) + "]"
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape {expected}, "
                           f"but got input of size{list(input._shape)}")
    if not input._dtype.is_floating_point:
        raise _not_floating("LayerNormKernelImpl", input._dtype)
    from engine.autograd.rules.nn_conv import layer_norm_op

    return layer_norm_op(input, normalized_shape, weight, bias, eps)


@op("nn.functional.batch_norm", dtypes=FLOATING, family="normalization", aten=("batch_norm", "native_batch_norm"))
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05):
    """`torch.nn.functional.batch_norm`"""
    _check_tensor("batch_norm", "input", 1, input)
    if training:
        size = input._shape
        count = math.prod(size[2:]) * size[0] if len(size) >= 2 else 0
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"torch.Size({list(size)})")
    c = input._shape[1] if input.dim() >= 2 else 0
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if not training and (running_mean is None or running_var is None):
        training = True  # torch uses the batch's statistics when there are no running ones
    if input.numel() == 0:
        out = input.clone()
        if weight is not None:
            out = out * weight[0]
        if bias is not None:
            out = out + bias[0]
        return out
    if not input._dtype.is_floating_point:
        raise _not_floating("batch_norm", input._dtype)
    from engine.autograd.rules.nn_conv import batch_norm_op

    return batch_norm_op(input, weight, bias, running_mean, running_var, builtins.bool(training), momentum, eps)


@op("nn.functional.group_norm", dtypes=FLOATING, family="normalization", aten=("group_norm", "native_group_norm"))
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    """`torch.nn.functional.group_norm`"""
    _check_tensor("group_norm", "input", 1, input)
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    c = input._shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input._shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, but "
                               f"got {name} of shape {list(t._shape)} and input of shape {list(input._shape)}")
    if not input._dtype.is_floating_point:
        raise _not_floating("GroupNormKernelImpl", input._dtype)
    from engine.autograd.rules.nn_conv import group_norm_op

    return group_norm_op(input, num_groups, weight, bias, eps)


@op("nn.functional.instance_norm", dtypes=FLOATING, family="normalization", aten=("instance_norm",))
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-05):
    """`torch.nn.functional.instance_norm`: batch_norm over a (1, N*C, ...) view, viewed back."""
    _check_tensor("instance_norm", "input", 1, input)
    if use_input_stats:
        size = input._shape
        if math.prod(size[2:]) == 1 if len(size) > 2 else True:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                             f"torch.Size({list(size)})")
    n, c = input._shape[0], input._shape[1]
    x = input.contiguous().view((1, n * c) + tuple(input._shape[2:]))

    def repeat(t):
        return None if t is None else t.unsqueeze(0).expand(n, t._shape[0]).reshape(n * t._shape[0])

    rm, rv = repeat(running_mean), repeat(running_var)
    out = batch_norm(x, rm, rv, repeat(weight), repeat(bias), use_input_stats, momentum, eps)
    if running_mean is not None:
        running_mean.copy_(rm.view(n, c).mean(0))
    if running_var is not None:
        running_var.copy_(rv.view(n, c).mean(0))
    return out.view(input._shape)
