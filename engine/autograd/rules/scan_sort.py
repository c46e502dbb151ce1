"""Derivative rules of the scans (engine/_ops/scan.py) and the sorting and selection ops
(engine/_ops/sorting.py), with torch's node names and formulas
(tools/autograd/derivatives.yaml, torch/csrc/autograd/FunctionsManual.cpp):

- cumsum: the reversed cumsum of the gradient; cumprod: reversed_cumsum(grad * result) / input
  when no input is zero, else the sum over j >= k of grad[j] times the product of the inputs up
  to j but k (torch's cumprod_backward); logcumsumexp: torch's log-space formula with the
  positive and negative parts of the gradient;
- cummax/cummin: the gradient scatter-added to the indices; sort, topk, kthvalue, median(dim),
  nanmedian(dim), mode: the gradient scattered to the selected indices
  (value_selecting_reduction_backward); median()/nanmedian(): shared evenly among the elements
  equal to the result;
- unique, unique_consecutive: torch records a node whose backward is not implemented.

The helpers the rules share (gather and scatter-add along a dim, reversed scans, joining
along a dim) are differentiable themselves, so double backward works.
"""
from __future__ import annotations

from engine import _dtype as dt
from engine._shape import wrap_dim
from engine.autograd.derivatives import _evenly, _scatter, composite, rule
from engine.autograd.recording import Rule, differentiable


def _engine():
    import engine

    return engine


def _dim_of(ctx, default=None):
    dim = ctx._values.get("dim", default)
    shape = ctx.input_shapes[0]
    return wrap_dim(dim if dim is not None else -1, len(shape))


# ---- gather / scatter-add along a dim (the kernels of csrc/sort.c) ----
def _gather_forward(src, dim, index):
    from engine._kernel import lib
    from engine._tensor import empty_tensor

    # the index box is walked: src is read at the index along d, at the index's outer position
    out = empty_tensor(index._shape, src._dtype)
    d = wrap_dim(dim, len(src._shape))
    from engine._kernel import check
    from engine._ops.scan import row_box

    n_outer, sizes, length, operands = row_box(index._shape, d, src._stride, index._stride, out._stride)
    target_length = src._shape[d] if src._shape else 1
    check(lib.ft_gather_dim(src._dtype.code, n_outer, sizes, length, target_length, src._addr, operands[0][0],
                            operands[0][1], index._addr, operands[1][0], operands[1][1], out._addr,
                            operands[2][0], operands[2][1]))
    return out


def _gather_backward(ctx, grad):
    index = ctx.saved(2)
    zeros = _engine().zeros(ctx.input_shapes[0], dtype=grad._dtype)
    return scatter_add_dim(zeros, ctx._values["dim"], index, grad), None, None


gather_dim = differentiable(_gather_forward, Rule("gather_dim", (0, 2), (2,), _gather_backward, "GatherBackward0"))


def _scatter_add_forward(base, dim, index, src):
    from engine._kernel import check, lib
    from engine._ops.scan import row_box

    out = base.clone() if base._shape else base.clone().reshape(1)
    d = wrap_dim(dim, len(base._shape))
    s = src if src._shape else src.reshape(1)
    i = index if index._shape else index.reshape(1)
    n_outer, sizes, length, operands = row_box(i._shape, d, s._stride, i._stride, out._stride)
    check(lib.ft_scatter_add_dim(out._dtype.code, n_outer, sizes, length, out._shape[d], s._addr, operands[0][0],
                                 operands[0][1], i._addr, operands[1][0], operands[1][1], out._addr,
                                 operands[2][0], operands[2][1]))
    return out if base._shape else out.reshape(())


def _scatter_add_backward(ctx, grad):
    index = ctx.saved(2)
    grad_src = gather_dim(grad, ctx._values["dim"], index) if ctx.needs_input_grad[3] else None
    return grad, None, None, grad_src


scatter_add_dim = differentiable(_scatter_add_forward, Rule("scatter_add_dim", (0, 1, 2, 3), (2,),
                                                            _scatter_add_backward, "ScatterAddBackward0"))


def concatenate(pieces, dim):
    """pieces joined along dim: each piece padded into place with zeros and summed, so the
    gradient of each piece is its slice (a differentiable cat)."""
    if len(pieces) == 1:
        return pieces[0]
    shape = list(pieces[0]._shape)
    shape[dim] = sum(p._shape[dim] for p in pieces)
    shape = tuple(shape)
    total = None
    offset = 0
    for piece in pieces:
        start, length = offset, piece._shape[dim]
        placed = _scatter(piece, shape, lambda t, start=start, length=length: t.narrow(dim, start, length),
                          "CatBackward0")
        total = placed if total is None else total + placed
        offset += length
    return total


# ---- scans in either direction (reversed: each row from its end), differentiable ----
def _directed_scan_forward(x, dim, reverse, op):
    from engine._kernel import lib
    from engine._ops.scan import scan_into
    from engine._tensor import empty_tensor

    code = lib.FT_SCAN_CUMSUM if op == "cumsum" else lib.FT_SCAN_LOGCUMSUMEXP
    return scan_into(code, x, wrap_dim(dim, len(x._shape)), empty_tensor(x._shape, x._dtype), reverse=reverse)


def _directed_scan_backward(ctx, grad):
    values = ctx._values
    dim, reverse, op = values["dim"], values["reverse"], values["op"]
    if op == "cumsum":
        return directed_scan(grad, dim, not reverse, "cumsum")
    return _logcumsumexp_grad(grad, ctx.saved(0), ctx.result, dim, reverse)


directed_scan = differentiable(_directed_scan_forward, Rule("directed_scan", (0,), (0, "result"),
                                                            _directed_scan_backward,
                                                            lambda values: "CumsumBackward0" if values["op"] == "cumsum"
                                                            else "LogcumsumexpBackward0"))


def _reversed_cumsum(grad, dim):
    return directed_scan(grad, dim, True, "cumsum")


@rule("cumsum", name="CumsumBackward0")
def _cumsum(ctx, grad):
    shape = ctx.input_shapes[0]
    d = _dim_of(ctx)
    grad = grad.to(ctx.input_dtypes[0]) if grad._dtype is not ctx.input_dtypes[0] else grad
    if not shape or grad.numel() <= 1 or shape[d] == 1:
        return grad
    return _reversed_cumsum(grad, d)


@rule("cumprod", save=(0, "result"), name="CumprodBackward0")
def _cumprod(ctx, grad):
    x = ctx.saved(0)
    shape = x._shape
    if x.numel() <= 1:
        return grad
    d = _dim_of(ctx)
    size = shape[d]
    if size == 1:
        return grad
    grad = grad.to(x._dtype) if grad._dtype is not x._dtype else grad
    if not bool((x == 0).any()):
        return _reversed_cumsum(ctx.result * grad, d) / x
    # with zeros: grad_input[k] = prefix_k * (grad[k] + sum_{j>k} grad[j] * prod(x[k+1..j])),
    # prefix_k = prod(x[..k-1]) (torch's cumprod_backward)
    pieces = []
    for k in range(size):
        term = grad.narrow(d, k, 1)
        if k + 1 < size:
            following = x.narrow(d, k + 1, size - k - 1).cumprod(d)
            term = term + (grad.narrow(d, k + 1, size - k - 1) * following).sum(dim=d, keepdim=True)
        if k > 0:
            term = x.narrow(d, 0, k).prod(dim=d, keepdim=True) * term
        pieces.append(term)
    return concatenate(pieces, d)


def _logcumsumexp_grad(grad, x, result, dim, reverse):
    engine = _engine()
    if not grad._shape or grad.numel() == 0:
        return grad
    lowest = -3.4028234663852886e38 if grad._dtype is dt.float32 else -1.7976931348623157e308
    log_abs_grad = grad.abs().log()
    log_grad_positive = engine.where(grad > 0, log_abs_grad, lowest)
    log_grad_negative = engine.where(grad < 0, log_abs_grad, lowest)
    positive = (directed_scan(log_grad_positive - result, dim, not reverse, "logcumsumexp") + x).exp()
    negative = (directed_scan(log_grad_negative - result, dim, not reverse, "logcumsumexp") + x).exp()
    return positive - negative


@rule("logcumsumexp", save=(0, "result"), name="LogcumsumexpBackward0")
def _logcumsumexp(ctx, grad):
    return _logcumsumexp_grad(grad, ctx.saved(0), ctx.result, _dim_of(ctx), False)


def _cum_extreme(ctx, grad):
    shape = ctx.input_shapes[0]
    if not shape:
        return grad
    if 0 in shape:
        return _engine().zeros(shape, dtype=grad._dtype)
    zeros = _engine().zeros(shape, dtype=grad._dtype)
    return scatter_add_dim(zeros, _dim_of(ctx), ctx.result1, grad)


rule("cummax", save=("result1",), name="CummaxBackward0")(_cum_extreme)
rule("cummin", save=("result1",), name="CumminBackward0")(_cum_extreme)


# ---- value-selecting ops: the gradient goes to the selected indices ----
def _select_back(grad, indices, shape, d, keepdim):
    if not shape:
        return grad
    if not keepdim:
        grad, indices = grad.unsqueeze(d), indices.unsqueeze(d)
    zeros = _engine().zeros(shape, dtype=grad._dtype)
    return scatter_add_dim(zeros, d, indices, grad)


def _sort_name(values):
    from engine._ops.sorting import NOT_GIVEN

    return "SortBackward0" if values.get("stable", NOT_GIVEN) is NOT_GIVEN else "SortBackward1"


@rule("sort", save=("result1",), name=_sort_name)
def _sort(ctx, grad):
    return _select_back(grad, ctx.result1, ctx.input_shapes[0], _dim_of(ctx), True)


composite("msort", "diff")  # through sort / narrow and sub, as torch's composite ops


@rule("topk", save=("result1",), name="TopkBackward0")
def _topk(ctx, grad):
    return _select_back(grad, ctx.result1, ctx.input_shapes[0], _dim_of(ctx), True)


def _reduction_select(ctx, grad):
    return _select_back(grad, ctx.result1, ctx.input_shapes[0], _dim_of(ctx), ctx._values.get("keepdim", False))


rule("kthvalue", save=("result1",), name="KthvalueBackward0")(_reduction_select)
rule("mode", save=("result1",), name="ModeBackward0")(_reduction_select)


def _median_name(base):
    return lambda values: f"{base}Backward1" if values.get("dim") is not None else f"{base}Backward0"


def _median(ctx, grad):
    if ctx._values.get("dim") is None:
        return _evenly(grad, ctx.saved(0), ctx.result)
    return _reduction_select(ctx, grad)


rule("median", save=(0, "result", "result1"), name=_median_name("Median"))(_median)
rule("nanmedian", save=(0, "result", "result1"), name=_median_name("Nanmedian"))(_median)


# ---- unique: torch records a node whose backward is not implemented ----
def _unique_name(values):
    return "UniqueDimBackward0" if values.get("dim") is not None else "Unique2Backward0"


@rule("unique", name=_unique_name)
def _unique(ctx, grad):
    aten = "unique_dim" if ctx._values.get("dim") is not None else "_unique2"
    raise RuntimeError(f"the derivative for '{aten}' is not implemented.")


@rule("unique_consecutive", name="UniqueConsecutiveBackward0")
def _unique_consecutive(ctx, grad):
    raise RuntimeError("the derivative for 'unique_consecutive' is not implemented.")


# ---- Tensor-by-Scalar products and quotients with torch's Scalar-overload node names, as torch's
# composites (trapezoid, cumulative_trapezoid) call them from C++ ----
def _mul_scalar_forward(input, other):
    return input * other


def _mul_scalar_backward(ctx, grad):
    return grad * ctx._values["other"], None


def _div_scalar_forward(input, other):
    return input / other


def _div_scalar_backward(ctx, grad):
    return grad / ctx._values["other"], None


mul_scalar = differentiable(_mul_scalar_forward, Rule("mul_scalar", (0, 1), (), _mul_scalar_backward, "MulBackward1"))
div_scalar = differentiable(_div_scalar_forward, Rule("div_scalar", (0, 1), (), _div_scalar_backward, "DivBackward1"))
composite("trapezoid", "cumulative_trapezoid")
