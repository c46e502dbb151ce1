"""Activation functions with kernels of their own: `torch.nn.functional.gelu`.

gelu(x) = x * Phi(x), Phi the standard normal CDF; approximate='tanh' uses
torch's tanh formula instead. Both are unary kernels in csrc/elementwise_unary.c
(FT_UNARY_GELU, FT_UNARY_GELU_TANH), vectorised in csrc/elementwise_math.h; the
derivative rule (GeluBackward0) is in engine/autograd/derivatives.py.
"""
from __future__ import annotations

from engine._iter import unary
from engine._kernel import lib
from engine._ops._elementwise import not_tensor_error
from engine._registry import FLOATING, op
from engine._tensor import Tensor

GELU_KERNELS = {"none": lib.FT_UNARY_GELU, "tanh": lib.FT_UNARY_GELU_TANH}


def gelu_kernel(approximate) -> int:
    """The kernel op code for gelu's `approximate` argument, or torch's error."""
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): argument 'approximate' must be str, not {type(approximate).__name__}")
    code = GELU_KERNELS.get(approximate)
    if code is None:
        raise RuntimeError("approximate argument must be either none or tanh.")
    return code


@op("nn.functional.gelu", dtypes=FLOATING, family="elementwise", aten=("gelu",))
def gelu(input, *, approximate="none"):
    """`torch.nn.functional.gelu`: https://pytorch.org/docs/stable/generated/torch.nn.functional.gelu.html"""
    if not isinstance(input, Tensor):
        raise not_tensor_error("gelu", "input", 1, input)
    # integer and bool inputs reach the kernel, which raises torch's NotImplementedError
    return unary(gelu_kernel(approximate), input)


# ---- pointwise activations with parameters: one kernel family (csrc/activation.c) ----
# Each public op dispatches on inplace= to an out-of-place or in-place kernel function;
# those carry the derivative rules (engine/autograd/rules/nn_functional.py), so the
# public names are composite.
import builtins as _builtins

from engine import _dtype as _dt
from engine._iter import _type_name, cast as _cast
from engine._kernel import check as _check
from engine._registry import ALL as _ALL, NUMERIC as _NUMERIC
from engine._shape import is_non_overlapping_and_dense as _dense, numel as _numel
from engine._tensor import copy_into as _copy_into, empty_tensor as _empty_tensor

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _run(code, kernel_name, x, p0=0.0, p1=0.0, p2=0.0, *, inplace=False, contiguous=False):
    """op(x) through ft_activation_contig, in x's layout when x is dense (in x itself when inplace)."""
    if not x._dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel_name}\" not implemented for '{_type_name(x._dtype)}'")
    n = _numel(x._shape)
    if inplace:
        if _dense(x._shape, x._stride):
            if n:
                _check(lib.ft_activation_contig(code, x._dtype.code, n, x._addr, x._addr, p0, p1, p2))
        else:
            tmp = _cast(x, x._dtype)
            _check(lib.ft_activation_contig(code, x._dtype.code, n, tmp._addr, tmp._addr, p0, p1, p2))
            _copy_into(x, tmp)
        x._bump_version()
        return x
    if contiguous:  # torch allocates this op's result contiguous whatever the input's layout
        from engine._shape import is_contiguous as _is_contiguous

        src = x if _is_contiguous(x._shape, x._stride) else x.contiguous()
    else:
        src = x if _dense(x._shape, x._stride) else _cast(x, x._dtype)
    out = _empty_tensor(src._shape, src._dtype, src._stride)
    if n:
        _check(lib.ft_activation_contig(code, x._dtype.code, n, out._addr, src._addr, p0, p1, p2))
    return out


def _kernel_functions(key, fn, fn_=None):
    """fn / fn_ wrapped with the rules keyed "activation.<key>" / "activation.<key>_"."""
    from engine.autograd.derivatives import RULES
    from engine.autograd.recording import differentiable, differentiable_inplace

    out = differentiable(fn, RULES[f"activation.{key}"])
    out_ = differentiable_inplace(fn_, RULES[f"activation.{key}_"]) if fn_ is not None else None
    return out, out_


def _check_input(name, input):
    if not isinstance(input, Tensor):
        raise not_tensor_error(name, "input", 1, input)


def _number(value):
    return _builtins.float(value)


# leaky_relu
def _leaky_relu_fn(input, negative_slope=0.01):
    return _run(lib.FT_ACT_LEAKY_RELU, "leaky_relu_cpu", input, _number(negative_slope))


def _leaky_relu_fn_(input, negative_slope=0.01):
    return _run(lib.FT_ACT_LEAKY_RELU, "leaky_relu_cpu", input, _number(negative_slope), inplace=True)


_leaky_relu, _leaky_relu_ = _kernel_functions("leaky_relu", _leaky_relu_fn, _leaky_relu_fn_)


@op("nn.functional.leaky_relu", dtypes=FLOATING, family="activation", aten=("leaky_relu",))
def leaky_relu(input, negative_slope=0.01, inplace=False):
    """`torch.nn.functional.leaky_relu`"""
    _check_input("leaky_relu", input)
    return _leaky_relu_(input, negative_slope) if inplace else _leaky_relu(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    """`torch.nn.functional.leaky_relu_`"""
    _check_input("leaky_relu_", input)
    return _leaky_relu_(input, negative_slope)


# rrelu: evaluation mode (the slope is the mean of lower and upper)
def _rrelu_fn(input, lower=1.0 / 8, upper=1.0 / 3):
    return _run(lib.FT_ACT_LEAKY_RELU, "leaky_relu_cpu", input, (_number(lower) + _number(upper)) / 2,
                contiguous=True)


def _rrelu_fn_(input, lower=1.0 / 8, upper=1.0 / 3):
    return _run(lib.FT_ACT_LEAKY_RELU, "leaky_relu_cpu", input, (_number(lower) + _number(upper)) / 2, inplace=True)


_rrelu, _rrelu_ = _kernel_functions("rrelu", _rrelu_fn, _rrelu_fn_)


def _rrelu_check(lower, upper, training):
    if training:
        raise NotImplementedError("rrelu with training=True samples random slopes; the engine has no random "
                                  "generator for it yet (training=False is supported)")
    if _number(upper) < _number(lower):
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")


@op("nn.functional.rrelu", dtypes=FLOATING, family="activation", aten=("rrelu",))
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """`torch.nn.functional.rrelu` (training=False)"""
    _check_input("rrelu", input)
    _rrelu_check(lower, upper, training)
    return _rrelu_(input, lower, upper) if inplace else _rrelu(input, lower, upper)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """`torch.nn.functional.rrelu_` (training=False)"""
    _check_input("rrelu_", input)
    _rrelu_check(lower, upper, training)
    return _rrelu_(input, lower, upper)


# elu, selu, celu
def _elu_fn(input, alpha=1.0):
    return _run(lib.FT_ACT_ELU, "elu_cpu", input, _number(alpha), 1.0, 1.0)


def _elu_fn_(input, alpha=1.0):
    return _run(lib.FT_ACT_ELU, "elu_cpu", input, _number(alpha), 1.0, 1.0, inplace=True)


def _selu_fn(input):
    return _run(lib.FT_ACT_ELU, "elu_cpu", input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def _selu_fn_(input):
    return _run(lib.FT_ACT_ELU, "elu_cpu", input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace=True)


def _celu_check(alpha):
    if _number(alpha) == 0:
        raise RuntimeError("ZeroDivisionError")


def _celu_fn(input, alpha=1.0):
    _celu_check(alpha)
    return _run(lib.FT_ACT_ELU, "elu_cpu", input, _number(alpha), 1.0, 1.0 / _number(alpha))


def _celu_fn_(input, alpha=1.0):
    _celu_check(alpha)
    return _run(lib.FT_ACT_ELU, "elu_cpu", input, _number(alpha), 1.0, 1.0 / _number(alpha), inplace=True)


_elu, _elu_ = _kernel_functions("elu", _elu_fn, _elu_fn_)
_selu, _selu_ = _kernel_functions("selu", _selu_fn, _selu_fn_)
_celu, _celu_ = _kernel_functions("celu", _celu_fn, _celu_fn_)


@op("nn.functional.elu", dtypes=FLOATING, family="activation", aten=("elu",))
def elu(input, alpha=1.0, inplace=False):
    """`torch.nn.functional.elu`"""
    _check_input("elu", input)
    return _elu_(input, alpha) if inplace else _elu(input, alpha)


def elu_(input, alpha=1.0):
    """`torch.nn.functional.elu_`"""
    _check_input("elu_", input)
    return _elu_(input, alpha)


@op("nn.functional.selu", dtypes=FLOATING, family="activation", aten=("selu",))
def selu(input, inplace=False):
    """`torch.nn.functional.selu`"""
    _check_input("selu", input)
    return _selu_(input) if inplace else _selu(input)


def selu_(input):
    """`torch.nn.functional.selu_` / `torch.selu_`"""
    _check_input("selu_", input)
    return _selu_(input)


@op("nn.functional.celu", dtypes=FLOATING, family="activation", aten=("celu",))
def celu(input, alpha=1.0, inplace=False):
    """`torch.nn.functional.celu`"""
    _check_input("celu", input)
    return _celu_(input, alpha) if inplace else _celu(input, alpha)


def celu_(input, alpha=1.0):
    """`torch.nn.functional.celu_` / `torch.celu_`"""
    _check_input("celu_", input)
    return _celu_(input, alpha)


# ops whose in-place form records the same node as the out-of-place one (it saves the input)
def _simple(key, code, kernel_name):
    def fn(input):
        return _run(code, kernel_name, input)

    def fn_(input):
        return _run(code, kernel_name, input, inplace=True)

    from engine.autograd.derivatives import RULES
    from engine.autograd.recording import differentiable, differentiable_inplace

    return (differentiable(fn, RULES[f"activation.{key}"]),
            differentiable_inplace(fn_, RULES[f"activation.{key}_"]))


_silu, _silu_ = _simple("silu", lib.FT_ACT_SILU, "silu_cpu")
_mish, _mish_ = _simple("mish", lib.FT_ACT_MISH, "mish_cpu")
_hardswish, _hardswish_ = _simple("hardswish", lib.FT_ACT_HARDSWISH, "hardswish_cpu")
_hardsigmoid, _hardsigmoid_ = _simple("hardsigmoid", lib.FT_ACT_HARDSIGMOID, "hardsigmoid_cpu")


@op("nn.functional.silu", dtypes=FLOATING, family="activation", aten=("silu",))
def silu(input, inplace=False):
    """`torch.nn.functional.silu`"""
    _check_input("silu", input)
    return _silu_(input) if inplace else _silu(input)


@op("nn.functional.mish", dtypes=FLOATING, family="activation", aten=("mish",))
def mish(input, inplace=False):
    """`torch.nn.functional.mish`"""
    _check_input("mish", input)
    return _mish_(input) if inplace else _mish(input)


@op("nn.functional.hardswish", dtypes=FLOATING, family="activation", aten=("hardswish",))
def hardswish(input, inplace=False):
    """`torch.nn.functional.hardswish`"""
    _check_input("hardswish", input)
    return _hardswish_(input) if inplace else _hardswish(input)


@op("nn.functional.hardsigmoid", dtypes=FLOATING, family="activation", aten=("hardsigmoid",))
def hardsigmoid(input, inplace=False):
    """`torch.nn.functional.hardsigmoid`"""
    _check_input("hardsigmoid", input)
    return _hardsigmoid_(input) if inplace else _hardsigmoid(input)


# hardtanh and relu6 (integer inputs clamp, as torch's clamp kernel does)
def _hardtanh_fn(input, min_val=-1.0, max_val=1.0):
    if not input._dtype.is_floating_point:
        from engine._ops.elementwise_select import clamp

        return clamp(input, _builtins.int(min_val), _builtins.int(max_val))
    return _run(lib.FT_ACT_HARDTANH, "hardtanh", input, _number(min_val), _number(max_val))


def _hardtanh_fn_(input, min_val=-1.0, max_val=1.0):
    if not input._dtype.is_floating_point:
        from engine._ops.elementwise_select import clamp_

        return clamp_(input, _builtins.int(min_val), _builtins.int(max_val))
    return _run(lib.FT_ACT_HARDTANH, "hardtanh", input, _number(min_val), _number(max_val), inplace=True)


_hardtanh, _hardtanh_ = _kernel_functions("hardtanh", _hardtanh_fn, _hardtanh_fn_)


def _hardtanh_check(min_val, max_val):
    if _number(min_val) > _number(max_val):
        raise ValueError("min_val cannot be greater than max_val")


@op("nn.functional.hardtanh", dtypes=_NUMERIC - {"uint8"}, family="activation", aten=("hardtanh",))
def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """`torch.nn.functional.hardtanh`"""
    _hardtanh_check(min_val, max_val)
    _check_input("hardtanh", input)
    return _hardtanh_(input, min_val, max_val) if inplace else _hardtanh(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """`torch.nn.functional.hardtanh_`"""
    _hardtanh_check(min_val, max_val)
    _check_input("hardtanh_", input)
    return _hardtanh_(input, min_val, max_val)


@op("nn.functional.relu6", dtypes=_NUMERIC, family="activation", aten=("relu6",))
def relu6(input, inplace=False):
    """`torch.nn.functional.relu6`: hardtanh(input, 0, 6)"""
    _check_input("relu6", input)
    return _hardtanh_(input, 0.0, 6.0) if inplace else _hardtanh(input, 0.0, 6.0)


# softplus, softshrink, hardshrink, logsigmoid
def _softplus_fn(input, beta=1.0, threshold=20.0):
    return _run(lib.FT_ACT_SOFTPLUS, "softplus_cpu", input, _number(beta), _number(threshold))


_softplus = _kernel_functions("softplus", _softplus_fn)[0]


@op("nn.functional.softplus", dtypes=FLOATING, family="activation", aten=("softplus",))
def softplus(input, beta=1.0, threshold=20.0):
    """`torch.nn.functional.softplus`"""
    _check_input("softplus", input)
    return _softplus(input, beta, threshold)


def _softshrink_fn(input, lambd=0.5):
    return _run(lib.FT_ACT_SOFTSHRINK, "softshrink_check", input, _number(lambd))


def _hardshrink_fn(input, lambd=0.5):
    return _run(lib.FT_ACT_HARDSHRINK, "hardshrink_cpu", input, _number(lambd))


_softshrink = _kernel_functions("softshrink", _softshrink_fn)[0]
_hardshrink = _kernel_functions("hardshrink", _hardshrink_fn)[0]


@op("nn.functional.softshrink", dtypes=FLOATING, family="activation", aten=("softshrink",))
def softshrink(input, lambd=0.5):
    """`torch.nn.functional.softshrink`"""
    _check_input("softshrink", input)
    if _number(lambd) < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {_number(lambd)}.")
    return _softshrink(input, lambd)


@op("nn.functional.hardshrink", dtypes=FLOATING, family="activation", aten=("hardshrink",))
def hardshrink(input, lambd=0.5):
    """`torch.nn.functional.hardshrink`"""
    _check_input("hardshrink", input)
    return _hardshrink(input, lambd)


def _logsigmoid_fn(input):
    return _run(lib.FT_ACT_LOGSIGMOID, "log_sigmoid_cpu", input, contiguous=True)


_logsigmoid = _kernel_functions("logsigmoid", _logsigmoid_fn)[0]


@op("nn.functional.logsigmoid", dtypes=FLOATING, family="activation", aten=("log_sigmoid",))
def logsigmoid(input):
    """`torch.nn.functional.logsigmoid`"""
    _check_input("logsigmoid", input)
    return _logsigmoid(input)


# threshold (integer inputs too)
def _threshold_int(input, threshold, value, inplace):
    from engine._ops.elementwise_select import where

    result = where(input <= threshold, value, input).to(input._dtype)
    if inplace:
        _copy_into(input, result)
        input._bump_version()
        return input
    return result


def _threshold_fn(input, threshold, value):
    if not input._dtype.is_floating_point:
        return _threshold_int(input, threshold, value, False)
    return _run(lib.FT_ACT_THRESHOLD, "threshold", input, _number(threshold), _number(value))


def _threshold_fn_(input, threshold, value):
    if not input._dtype.is_floating_point:
        return _threshold_int(input, threshold, value, True)
    return _run(lib.FT_ACT_THRESHOLD, "threshold", input, _number(threshold), _number(value), inplace=True)


_threshold, _threshold_ = _kernel_functions("threshold", _threshold_fn, _threshold_fn_)


@op("nn.functional.threshold", dtypes=_NUMERIC, family="activation", aten=("threshold",))
def threshold(input, threshold, value, inplace=False):
    """`torch.nn.functional.threshold`"""
    _check_input("threshold", input)
    return _threshold_(input, threshold, value) if inplace else _threshold(input, threshold, value)


def threshold_(input, threshold, value):
    """`torch.nn.functional.threshold_`"""
    _check_input("threshold_", input)
    return _threshold_(input, threshold, value)


# compositions, as torch writes them
@op("nn.functional.softsign", dtypes=_NUMERIC, family="activation", aten=("softsign",))
def softsign(input):
    """`torch.nn.functional.softsign`: input / (input.abs() + 1)"""
    _check_input("softsign", input)
    return input / (input.abs() + 1)


@op("nn.functional.tanhshrink", dtypes=_NUMERIC, family="activation", aten=("tanhshrink",))
def tanhshrink(input):
    """`torch.nn.functional.tanhshrink`: input - input.tanh()"""
    _check_input("tanhshrink", input)
    return input - input.tanh()


# prelu: weight reshaped to broadcast along dim 1, then torch's _prelu_kernel
def _prelu_kernel_fn(input, weight):
    from engine._ops.elementwise_select import where

    return where(input > 0, input, weight * input)


def _prelu_kernel_diff():
    from engine.autograd.derivatives import RULES
    from engine.autograd.recording import differentiable

    return differentiable(_prelu_kernel_fn, RULES["activation.prelu_kernel"])


_prelu_kernel = _prelu_kernel_diff()


@op("nn.functional.prelu", dtypes=FLOATING, family="activation", aten=("prelu",))
def prelu(input, weight):
    """`torch.nn.functional.prelu`"""
    if not isinstance(input, Tensor):
        raise not_tensor_error("prelu", "input", 1, input)
    if not isinstance(weight, Tensor):
        raise not_tensor_error("prelu", "weight", 2, weight)
    n = weight.numel()
    if weight.dim() > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.dim()}")
    if input.dim() == 0 and n != 1:
        raise RuntimeError("Not allow zero-dim input tensor.")
    channels = input._shape[1] if input.dim() >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} "
                           f"and channel size = {channels}.")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"prelu_cpu\" not implemented for '{_type_name(input._dtype)}'")
    if input.dim() >= 2 and weight.dim() == 1 and n != 1:
        weight = weight.reshape((n,) + (1,) * (input.dim() - 2))
    elif input.dim() == 0 and weight.dim() == 1:
        weight = weight.reshape(())  # a 0-dim input keeps its shape, as torch's
    return _prelu_kernel(input, weight)


# glu
def _glu_fn(input, dim=-1):
    from engine._shape import wrap_dim

    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = wrap_dim(dim, input.dim())
    size = input._shape[d]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {size}")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"glu_cpu\" not implemented for '{_type_name(input._dtype)}'")
    half = size // 2
    return input.narrow(d, 0, half) * input.narrow(d, half, half).sigmoid()


def _glu_diff():
    from engine.autograd.derivatives import RULES
    from engine.autograd.recording import differentiable

    return differentiable(_glu_fn, RULES["activation.glu"])


_glu = _glu_diff()


@op("nn.functional.glu", dtypes=FLOATING, family="activation", aten=("glu",))
def glu(input, dim=-1):
    """`torch.nn.functional.glu`"""
    _check_input("glu", input)
    return _glu(input, dim)


from engine._registry import _install_public as _public  # noqa: E402

for _name, _fn in (("leaky_relu_", leaky_relu_), ("rrelu_", rrelu_), ("elu_", elu_), ("selu_", selu_),
                   ("celu_", celu_), ("hardtanh_", hardtanh_), ("threshold_", threshold_)):
    _public(f"nn.functional.{_name}", _fn)
for _name, _fn in (("selu_", selu_), ("celu_", celu_), ("rrelu_", rrelu_), ("threshold_", threshold_)):
    _public(_name, _fn)
