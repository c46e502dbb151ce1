"""Losses of torch.nn.functional: mse_loss, l1_loss, smooth_l1_loss, huber_loss,
soft_margin_loss, binary_cross_entropy(_with_logits), nll_loss, cross_entropy,
kl_div, poisson_nll_loss, margin_ranking_loss, hinge_embedding_loss,
multilabel_soft_margin_loss.

Where torch has a fused kernel with a node of its own (MseLossBackward0,
NllLossBackward0, ...) the loss is a kernel function wrapped with that rule
(engine/autograd/rules/nn_functional.py); where torch composes (l1_loss,
cross_entropy, kl_div, ...) the loss is built from engine ops, so autograd
records the same nodes torch does. nll_loss gathers through csrc/loss.c.
"""
from __future__ import annotations

import builtins
import math
import warnings

from engine import _dtype as dt
from engine._iter import _type_name
from engine._kernel import check, lib
from engine._ops._elementwise import not_tensor_error
from engine._registry import FLOATING, NUMERIC, op
from engine._shape import broadcast_shapes, is_contiguous, numel
from engine._tensor import Tensor, copy_into, empty_tensor

_REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, emit_warning=True):
    """torch's _Reduction.legacy_get_string."""
    warning = "size_average and reduce args will be deprecated, please use reduction='{}' instead."
    if size_average is None:
        size_average = True
    if reduce is None:
        reduce = True
    if size_average and reduce:
        ret = "mean"
    elif reduce:
        ret = "sum"
    else:
        ret = "none"
    if emit_warning:
        warnings.warn(warning.format(ret), stacklevel=3)
    return ret


def _reduction(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _size_warning(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
            "This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            stacklevel=3,
        )


def _expanded(input, target):
    shape = broadcast_shapes(tuple(input.shape), tuple(target.shape))
    return input.expand(shape), target.expand(shape)


def _tensors(name, **named):
    for position, (arg, value) in enumerate(named.items(), 1):
        if not isinstance(value, Tensor):
            raise not_tensor_error(name, arg, position, value)


def _differentiable(key, fn):
    from engine.autograd.derivatives import RULES
    from engine.autograd.recording import differentiable

    return differentiable(fn, RULES[key])


def _mul_scalar_fn(input, other):
    return input * other


def _div_scalar_fn(input, other):
    return input / other


_mul_scalar = _differentiable("loss.mul_scalar", _mul_scalar_fn)
_div_scalar = _differentiable("loss.div_scalar", _div_scalar_fn)


def _float_check(kernel, *tensors):
    for t in tensors:
        if not t._dtype.is_floating_point:
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(t._dtype)}'")


# ---- fused pointwise losses ----
def _mse_fn(input, target, reduction="mean"):
    _float_check("mse_cpu", input)
    d = input - target
    return _reduce(d * d, reduction)


def _smooth_l1_fn(input, target, reduction="mean", beta=1.0):
    _float_check("smooth_l1_cpu", input)
    d = (input - target).abs()
    loss = _where(d < beta, d * d * (0.5 / beta) if beta else d, d - 0.5 * beta)
    return _reduce(loss, reduction)


def _huber_fn(input, target, reduction="mean", delta=1.0):
    _float_check("huber_cpu", input)
    d = (input - target).abs()
    loss = _where(d < delta, d * d * 0.5, (d - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


def _soft_margin_fn(input, target, reduction="mean"):
    _float_check("soft_margin_loss", input)
    return _reduce((-target * input).exp().log1p(), reduction)


_mse = _differentiable("loss.mse", _mse_fn)
_smooth_l1 = _differentiable("loss.smooth_l1", _smooth_l1_fn)
_huber = _differentiable("loss.huber", _huber_fn)
_soft_margin = _differentiable("loss.soft_margin", _soft_margin_fn)


def _weighted(loss, weight, input, reduction):
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum()


@op("nn.functional.mse_loss", dtypes=FLOATING, family="loss", aten=("mse_loss",))
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """`torch.nn.functional.mse_loss`"""
    _tensors("mse_loss", input=input, target=target)
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    input, target = _expanded(input, target)
    if weight is not None:
        d = input - target
        return _weighted(d.pow(2), weight, input, reduction)
    return _mse(input, target, reduction)


@op("nn.functional.l1_loss", dtypes=FLOATING, family="loss", aten=("l1_loss",))
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """`torch.nn.functional.l1_loss`: (input - target).abs(), reduced"""
    _tensors("l1_loss", input=input, target=target)
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    input, target = _expanded(input, target)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


@op("nn.functional.smooth_l1_loss", dtypes=FLOATING, family="loss", aten=("smooth_l1_loss",))
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """`torch.nn.functional.smooth_l1_loss`"""
    _tensors("smooth_l1_loss", input=input, target=target)
    _size_warning(input, target)
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    input, target = _expanded(input, target)
    return _smooth_l1(input, target, reduction, float(beta))


@op("nn.functional.huber_loss", dtypes=FLOATING, family="loss", aten=("huber_loss",))
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """`torch.nn.functional.huber_loss`"""
    _tensors("huber_loss", input=input, target=target)
    _size_warning(input, target)
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if delta <= 0:
        raise RuntimeError(f"huber_loss does not support non-positive values for delta.")
    input, target = _expanded(input, target)
    if weight is None:
        return _huber(input, target, reduction, float(delta))
    return _weighted(_huber(input, target, "none", float(delta)), weight, input, reduction)


@op("nn.functional.soft_margin_loss", dtypes=FLOATING, family="loss", aten=("soft_margin_loss",))
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """`torch.nn.functional.soft_margin_loss`"""
    _tensors("soft_margin_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(input.shape) != tuple(target.shape):
        # torch's TensorIterator broadcasts, checking the sizes
        input, target = _expanded(input, target)
    return _soft_margin(input, target, reduction)


# ---- binary cross entropy ----
def _bce_fn(input, target, weight=None, reduction="mean"):
    _float_check("binary_cross_entropy", input)
    if numel(input._shape) and not bool(((input >= 0).logical_and(input <= 1)).all()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    log_x = input.log().clamp_min(-100.0)
    log_1mx = (1 - input).log().clamp_min(-100.0)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


_bce = _differentiable("loss.binary_cross_entropy", _bce_fn)


@op("nn.functional.binary_cross_entropy", dtypes=FLOATING, family="loss", aten=("binary_cross_entropy",))
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """`torch.nn.functional.binary_cross_entropy`"""
    _tensors("binary_cross_entropy", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"Using a target size ({target.size()}) that is different to the input size ({input.size()}) is "
            "deprecated. Please ensure they have the same size.")
    if weight is not None:
        shape = broadcast_shapes(tuple(input.shape), tuple(weight.shape))
        weight = weight.expand(shape)
    return _bce(input, target, weight, reduction)


def _bce_logits_fn(input, target, weight=None, pos_weight=None, reduction="mean"):
    _float_check("binary_cross_entropy_with_logits", input)
    from engine.nn.functional import logsigmoid

    log_sig = logsigmoid(input)
    if pos_weight is not None:
        log_weight = (pos_weight - 1) * target + 1
        loss = (1 - target) * input - log_weight * log_sig
    else:
        loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


_bce_logits = _differentiable("loss.binary_cross_entropy_with_logits", _bce_logits_fn)


@op("nn.functional.binary_cross_entropy_with_logits", dtypes=FLOATING, family="loss",
    aten=("binary_cross_entropy_with_logits",))
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """`torch.nn.functional.binary_cross_entropy_with_logits`"""
    _tensors("binary_cross_entropy_with_logits", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    return _bce_logits(input, target, weight, pos_weight, reduction)


# ---- nll_loss and cross_entropy ----
def _nll_layout(input, target):
    """(n, c, d) of the input viewed as (batch, classes, rest), and the checks torch makes."""
    dim = input.dim()
    if dim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {dim})")
    if dim == 1:
        if target.dim() != 0 and not (target.dim() == 1 and target.shape[0] == 1 and False):
            if target.dim() > 1 or (target.dim() == 1):
                raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported")
        return 1, input.shape[0], 1
    n, c = input.shape[0], input.shape[1]
    if dim == 2 and target.dim() != 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target.dim() >= 1 and target.shape[0] != n:
        raise ValueError(f"Expected input batch_size ({n}) to match target batch_size ({target.shape[0]}).")
    if dim > 2 and tuple(target.shape[1:]) != tuple(input.shape[2:]):
        raise RuntimeError(f"Expected target size {list((n,) + tuple(input.shape[2:]))}, got {list(target.shape)}")
    return n, c, numel(tuple(input.shape[2:]))


def _contiguous(t, dtype=None):
    dtype = dtype or t._dtype
    if t._dtype is dtype and is_contiguous(t._shape, t._stride):
        return t
    out = empty_tensor(t._shape, dtype)
    copy_into(out, t)
    return out


def _nll_terms(input, target, weight, ignore_index):
    """(loss per target element, weight per target element), both shaped like target."""
    n, c, d = _nll_layout(input, target)
    if target._dtype is not dt.int64:
        raise RuntimeError(f"expected scalar type Long but found {_type_name(target._dtype)}")
    _float_check("nll_loss_out_frame", input)
    if weight is not None and weight.numel() != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    x = _contiguous(input)
    t = _contiguous(target)
    w = _contiguous(weight, input._dtype) if weight is not None else None
    loss = empty_tensor(tuple(target.shape), input._dtype)
    wout = empty_tensor(tuple(target.shape), input._dtype)
    check(lib.ft_nll_loss(x._dtype.code, n, c, d, x._addr, t._addr, w._addr if w is not None else 0,
                          int(ignore_index), loss._addr, wout._addr))
    return loss, wout


def _nll_fn(input, target, weight=None, reduction="mean", ignore_index=-100):
    loss, wout = _nll_terms(input, target, weight, ignore_index)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / wout.sum()


def nll_grad_pattern(input, target, weight, ignore_index):
    """-w[t] at each target class, 0 elsewhere, shaped like input (the backward's constant)."""
    n, c, d = _nll_layout(input, target)
    t = _contiguous(target)
    w = _contiguous(weight, input._dtype) if weight is not None else None
    ones = empty_tensor((n * d,), input._dtype)
    from engine._iter import fill

    fill(ones, 1.0)
    out = empty_tensor(tuple(input.shape), input._dtype, zero=True)
    check(lib.ft_nll_loss_backward(input._dtype.code, n, c, d, t._addr, w._addr if w is not None else 0,
                                   int(ignore_index), ones._addr, out._addr))
    return out


_nll = _differentiable("loss.nll_loss", _nll_fn)


@op("nn.functional.nll_loss", dtypes=FLOATING, family="loss", aten=("nll_loss", "nll_loss_nd"))
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """`torch.nn.functional.nll_loss`"""
    _tensors("nll_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    return _nll_nd(input, target, weight, reduction, ignore_index)


def _nll_nd(input, target, weight, reduction, ignore_index):
    """torch's nll_loss_nd: inputs of 3 or more than 4 dims go through nll_loss2d on a reshaped
    input, so an unreduced loss comes back through a view."""
    out = _nll(input, target, weight, reduction, ignore_index)
    if reduction == "none" and input.dim() >= 3 and input.dim() != 4:
        out = out.view(tuple(out.shape))
    return out


@op("nn.functional.cross_entropy", dtypes=FLOATING, family="loss", aten=("cross_entropy_loss",))
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                  label_smoothing=0.0):
    """`torch.nn.functional.cross_entropy`: log_softmax then nll_loss (class indices) or a
    weighted sum against probabilities, with torch's label smoothing."""
    _tensors("cross_entropy", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim] if input.dim() else 1
    if tuple(input.shape) == tuple(target.shape) and target._dtype.is_floating_point:
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing, class_dim, n_classes)
    if target._dtype.is_floating_point:
        raise RuntimeError("Expected floating point type for target with class probabilities, got "
                           f"{_type_name(target._dtype)}" if input._dtype.is_floating_point else "")
    from engine import log_softmax

    logp = log_softmax(input, class_dim)
    if label_smoothing <= 0.0:
        return _nll_nd(logp, target, weight, reduction, ignore_index)
    nll = _nll_nd(logp, target, weight, reduction, ignore_index)
    ignore_mask = target == ignore_index
    if weight is not None:
        shape = [1] * logp.dim()
        shape[class_dim] = weight.shape[0]
        smooth = -(logp * weight.view(shape)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    from engine import where

    smooth = where(ignore_mask, 0.0, smooth)
    if reduction == "mean":
        if weight is not None:
            _, wout = _nll_terms(logp.detach(), target, weight.detach(), ignore_index)
            ret = smooth.sum() / wout.sum()
        else:
            ret = smooth.sum() / ignore_mask.logical_not().sum()
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    return _mul_scalar(nll, 1 - label_smoothing) + _mul_scalar(ret, label_smoothing / n_classes)


def _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing, class_dim, n_classes):
    from engine import log_softmax

    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + (label_smoothing / n_classes)
    logp = log_softmax(input, class_dim)
    prod = logp * target
    if weight is not None:
        shape = [1] * logp.dim()
        shape[class_dim] = weight.shape[0]
        prod = prod * weight.view(shape)
    if reduction == "mean":
        if input.numel() == 0:
            return (-prod.sum()).fill_(math.nan)
        return _div_scalar(-prod.sum(), input.numel() // n_classes)
    if reduction == "sum":
        return -prod.sum()
    return -prod.sum(class_dim)


# ---- composite losses ----
@op("nn.functional.kl_div", dtypes=FLOATING, family="loss", aten=("kl_div",))
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """`torch.nn.functional.kl_div`"""
    _tensors("kl_div", input=input, target=target)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=2,
        )
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        loss = target.exp() * (target - input)
    else:
        from engine import xlogy

        loss = xlogy(target, target) - target * input
    if reduction == "batchmean":
        reduced = loss.sum()
        return reduced / input.shape[0] if input.dim() != 0 else reduced
    return _reduce(loss, reduction)


@op("nn.functional.poisson_nll_loss", dtypes=NUMERIC, family="loss", aten=("poisson_nll_loss",))
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """`torch.nn.functional.poisson_nll_loss`"""
    _tensors("poisson_nll_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        from engine import where

        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + where(target <= 1, 0, stirling)
    return _reduce(loss, reduction)


@op("nn.functional.margin_ranking_loss", dtypes=NUMERIC, family="loss", aten=("margin_ranking_loss",))
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """`torch.nn.functional.margin_ranking_loss`"""
    _tensors("margin_ranking_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.size()}, input2: {input2.size()}, target: {target.size()} ")
    loss = (-target * (input1 - input2) + margin).clamp_min(0)
    return _reduce(loss, reduction)


@op("nn.functional.hinge_embedding_loss", dtypes=FLOATING, family="loss", aten=("hinge_embedding_loss",))
def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """`torch.nn.functional.hinge_embedding_loss`"""
    _tensors("hinge_embedding_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    from engine import where, zeros_like

    zeros = zeros_like(input)
    margin_clamp = (margin - input).clamp_min(0)
    output_margin = where(target != 1, margin_clamp, zeros)
    output_self = where(target != -1, input, zeros)
    return _reduce(output_margin + output_self, reduction)


@op("nn.functional.multilabel_soft_margin_loss", dtypes=FLOATING, family="loss",
    aten=("multilabel_soft_margin_loss",))
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """`torch.nn.functional.multilabel_soft_margin_loss`"""
    _tensors("multilabel_soft_margin_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    from engine.nn.functional import logsigmoid

    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(dim=class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)


def _where(condition, a, b):
    from engine import where

    return where(condition, a, b)


@op("nn.functional.gaussian_nll_loss", dtypes=FLOATING, family="loss", aten=("gaussian_nll_loss",))
def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """`torch.nn.functional.gaussian_nll_loss`, step by step as torch's Python code."""
    _tensors("gaussian_nll_loss", input=input, target=target)
    from engine import ones_like, no_grad

    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and builtins.sum(
                y for x, y in zip(input.shape, var.shape) if x != y) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss += 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


@op("nn.functional.cosine_embedding_loss", dtypes=NUMERIC | {"bool"}, family="loss",
    aten=("cosine_embedding_loss",))
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """`torch.nn.functional.cosine_embedding_loss`, as torch's at::cosine_embedding_loss."""
    _tensors("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    targ_dim = target.dim()
    if targ_dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if targ_dim == 1 and not (input1.dim() == 2 and input2.dim() == 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if targ_dim == 0 and not (input1.dim() == 1 and input2.dim() == 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    from engine import where, zeros_like

    prod_sum = (input1 * input2).sum(targ_dim)
    mag_square1 = (input1 * input1).sum(targ_dim) + 1e-12
    mag_square2 = (input2 * input2).sum(targ_dim) + 1e-12
    denom = (mag_square1 * mag_square2).sqrt_()
    cos = prod_sum / denom
    zeros = zeros_like(cos)
    pos = 1 - cos
    neg = (cos - margin).clamp_min_(0)
    output_pos = where(target == 1, pos, zeros)
    output_neg = where(target == -1, neg, zeros)
    return _reduce(output_pos + output_neg, reduction)


@op("nn.functional.triplet_margin_loss", dtypes=NUMERIC, family="loss", aten=("triplet_margin_loss",))
def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """`torch.nn.functional.triplet_margin_loss`, as torch's at::triplet_margin_loss."""
    _tensors("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    reduction = _reduction(reduction, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a_dim, p_dim, n_dim = anchor.dim(), positive.dim(), negative.dim()
    if not (a_dim == p_dim and p_dim == n_dim):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a_dim}D, positive {p_dim}D, and negative {n_dim}D inputs")
    from engine import minimum
    from engine.nn.functional import pairwise_distance

    dist_pos = pairwise_distance(anchor, positive, p, eps)
    dist_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        dist_swap = pairwise_distance(positive, negative, p, eps)
        dist_neg = minimum(dist_neg, dist_swap)
    output = (margin + dist_pos - dist_neg).clamp_min(0)
    return _reduce(output, reduction)
