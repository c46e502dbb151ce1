"""Pointwise ops torch builds from the same arithmetic the engine's kernels do:
addcmul, addcdiv, lerp, logaddexp(2), logit, ldexp, heaviside, gcd, lcm, fill,
isclose/allclose/equal, the identities of real tensors (conj, real, resolve_*,
isreal) and the dtype conversion methods as ops.

Each follows torch's CPU kernel formula step by step in the same dtype
(aten/src/ATen/native/cpu/PointwiseOpsKernel.cpp, Lerp.h,
BinaryOpsKernel.cpp, UnaryOpsKernel.cpp), so results round like torch's up to
its own FMA contraction (within torch's tolerances). Derivative rules are in
engine/autograd/rules/elementwise_pointwise.py.
"""
from __future__ import annotations

import builtins
import math

from engine import _dtype as dt
from engine._ops._elementwise import not_tensor_error, register, torch_type_name
from engine._ops.reduction import _into
from engine._registry import ALL, FLOATING, INTEGRAL, NUMERIC, op
from engine._shape import broadcast_shapes
from engine._tensor import Tensor


def _engine():
    import engine

    return engine


def _tensor_arg(name, arg, position, value):
    if not isinstance(value, Tensor):
        raise not_tensor_error(name, arg, position, value)
    return value


def _scalar_as(value, dtype):
    """A Python scalar converted as torch's Scalar::to<scalar_t> does for the kernel's dtype."""
    if dtype is dt.bool:
        return builtins.bool(value)
    if dtype.is_floating_point:
        return float(value)
    return int(value)


def _common(*tensors):
    return dt.result_type_of(tensors)




# ---- addcmul / addcdiv: self + value * t1 * t2, self + value * t1 / t2 ----
def _addc(name, input, tensor1, tensor2, value, out):
    e = _engine()
    for arg, position, x in (("input", 1, input), ("tensor1", 2, tensor1), ("tensor2", 3, tensor2)):
        _tensor_arg(name, arg, position, x)
    dtype = _common(input, tensor1, tensor2)
    if dtype is dt.bool:
        raise NotImplementedError(f"\"{name}_cpu_out\" not implemented for 'Bool'")
    if name == "addcdiv" and not tensor1._dtype.is_floating_point and not tensor2._dtype.is_floating_point:
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a "
            "true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value "
            "* torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value "
            "* tensor1 / tensor2), for all dtypes.")
    if isinstance(value, Tensor):
        value = value.item()
    t1, t2 = tensor1.to(dtype), tensor2.to(dtype)
    scaled = e.mul(t1, _scalar_as(value, dtype))  # torch's value.to<scalar_t>() (truncating for integers)
    combined = e.mul(scaled, t2) if name == "addcmul" else e.div(scaled, t2)
    return _into(e.add(input.to(dtype), combined), out)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """`torch.addcmul`: input + value * tensor1 * tensor2."""
    return _addc("addcmul", input, tensor1, tensor2, value, out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """`torch.addcdiv`: input + value * tensor1 / tensor2 (floating tensors only)."""
    return _addc("addcdiv", input, tensor1, tensor2, value, out)


def _inplace_from(fn, name):
    def method(self, tensor1, tensor2, *, value=1):
        result = fn(self, tensor1, tensor2, value=value)
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(result.shape)}")
        if result._dtype is not self._dtype and not dt.can_cast(result._dtype, self._dtype):
            raise RuntimeError(f"result type {torch_type_name(result._dtype)} can't be cast to the desired output "
                               f"type {torch_type_name(self._dtype)}")
        return self.copy_(result)

    method.__name__ = name + "_"
    return method


register("addcmul", addcmul, dtypes=NUMERIC, inplace_fn=_inplace_from(addcmul, "addcmul"))
register("addcdiv", addcdiv, dtypes=FLOATING, inplace_fn=_inplace_from(addcdiv, "addcdiv"))


# ---- lerp: self + weight * (end - self) for |weight| < 0.5, else end - (end - self) * (1 - weight) ----
def _lerp_check(input, end, weight):
    _tensor_arg("lerp", "input", 1, input)
    _tensor_arg("lerp", "end", 2, end)
    if end._dtype is not input._dtype:
        raise RuntimeError(f"expected dtype {_c_name(input._dtype)} for `end` but got dtype {_c_name(end._dtype)}")
    if isinstance(weight, Tensor) and weight.dim() > 0 and weight._dtype is not input._dtype:
        raise RuntimeError(f"expected dtype {_c_name(input._dtype)} for `weight` but got dtype "
                           f"{_c_name(weight._dtype)}")
    if not input._dtype.is_floating_point:
        raise NotImplementedError(f"\"lerp_kernel_scalar\" not implemented for '{torch_type_name(input._dtype)}'"
                                  if not isinstance(weight, Tensor) else
                                  f"\"lerp_kernel_tensor\" not implemented for '{torch_type_name(input._dtype)}'")


_C_NAMES = {dt.float32: "float", dt.float64: "double", dt.int64: "long int", dt.int32: "int", dt.int16: "short int",
            dt.int8: "signed char", dt.uint8: "unsigned char", dt.bool: "bool"}


def _c_name(dtype):
    return _C_NAMES.get(dtype, dtype.name)


def lerp(input, end, weight, *, out=None):
    """`torch.lerp`: linear interpolation, torch's two-sided formula."""
    e = _engine()
    _lerp_check(input, end, weight)
    diff = e.sub(end, input)
    if isinstance(weight, Tensor):
        w = weight.to(input._dtype)
        small = e.lt(e.abs(w), 0.5)
        near = e.add(input, e.mul(w, diff))
        far = e.sub(end, e.mul(diff, e.rsub(w, 1)))
        result = e.where(small, near, far)
    else:
        w = float(weight)
        if builtins.abs(w) < 0.5:
            result = e.add(input, e.mul(diff, w))
        else:
            result = e.sub(end, e.mul(diff, 1.0 - w))
    return _into(result, out)


def lerp_(self, end, weight):
    result = lerp(self, end, weight)
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(result.shape)}")
    return self.copy_(result)


register("lerp", lerp, dtypes=FLOATING, inplace_fn=lerp_)


# ---- logaddexp / logaddexp2 ----
def _logaddexp(name, input, other, out, base2):
    e = _engine()
    _tensor_arg(name, "input", 1, input)
    _tensor_arg(name, "other", 2, other)
    dtype = _common(input, other)
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{torch_type_name(dtype)}'")
    a, b = input.to(dtype), other.to(dtype)
    m = e.maximum(a, b)
    gap = e.neg(e.abs(e.sub(a, b)))
    if base2:
        tail = e.mul(e.log1p(e.exp2(gap)), 1.0 / math.log(2.0))
    else:
        tail = e.log1p(e.exp(gap))
    result = e.add(m, tail)
    # equal infinities: torch returns the infinity itself (inf - inf would be NaN)
    same_inf = e.logical_and(e.isinf(a), e.eq(a, b))
    return _into(e.where(same_inf, a, result), out)


def logaddexp(input, other, *, out=None):
    """`torch.logaddexp`: log(e^a + e^b) without overflow."""
    return _logaddexp("logaddexp", input, other, out, False)


def logaddexp2(input, other, *, out=None):
    """`torch.logaddexp2`: log2(2^a + 2^b) without overflow."""
    return _logaddexp("logaddexp2", input, other, out, True)


register("logaddexp", logaddexp, dtypes=FLOATING, method=True)
register("logaddexp2", logaddexp2, dtypes=FLOATING, method=True)


# ---- logit ----
def _float_of(x):
    return x if x._dtype.is_floating_point else x.to(dt.get_default_dtype())


def logit(input, eps=None, *, out=None):
    """`torch.logit`: log(x / (1 - x)), x clamped to [eps, 1 - eps] when eps is given."""
    e = _engine()
    _tensor_arg("logit", "input", 1, input)
    x = _float_of(input)
    if eps is not None and eps >= 0:
        x = e.clamp(x, eps, 1 - eps)
    return _into(e.log(e.div(x, e.rsub(x, 1))), out)


def logit_(self, eps=None):
    return self.copy_(logit(self, eps))


register("logit", logit, dtypes=ALL, inplace_fn=logit_, torch_inplace=True, aliases=("special.logit",))


# ---- ldexp: input * 2^other ----
def ldexp(input, other, *, out=None):
    """`torch.ldexp`: input * 2**other. A floating input with an integral exponent takes torch's ldexp kernel,
    std::ldexp(double(x), int(exp)) (the exponent wrapped to 32 bits); anything else is mul(input, pow(2.0, other))."""
    e = _engine()
    _tensor_arg("ldexp", "input", 1, input)
    _tensor_arg("ldexp", "other", 2, other)
    if not (input._dtype.is_floating_point and not other._dtype.is_floating_point):
        return _into(e.mul(input, e.pow(2.0, other)), out)
    if other._dtype is dt.bool:
        raise NotImplementedError("\"ldexp_cpu_exp\" not implemented for 'Bool'")
    exponent = other.to(dt.int32).to(dt.float64)
    # two exact power-of-two steps keep 2^k normal, so 0, inf and NaN pass through unchanged
    first = e.clamp(exponent, -1022, 1023)
    second = e.clamp(e.sub(exponent, first), -1022, 1023)
    scaled = e.mul(e.mul(input.to(dt.float64), e.pow(2.0, first)), e.pow(2.0, second))
    return _into(scaled.to(input._dtype), out)


def ldexp_(self, other):
    return self.copy_(ldexp(self, other))


register("ldexp", ldexp, dtypes=ALL, inplace_fn=ldexp_, torch_inplace=True)


# ---- heaviside ----
def heaviside(input, values, *, out=None):
    """`torch.heaviside`: values where input == 0, else (input > 0)."""
    e = _engine()
    _tensor_arg("heaviside", "input", 1, input)
    _tensor_arg("heaviside", "values", 2, values)
    if input._dtype is not values._dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    step = e.gt(input, 0).to(input._dtype)
    return _into(e.where(e.eq(input, 0), values, step), out)


def heaviside_(self, values):
    return self.copy_(heaviside(self, values))


register("heaviside", heaviside, dtypes=ALL, inplace_fn=heaviside_)


# ---- gcd / lcm (integers): Euclid's algorithm on |a|, |b|, vectorised over the tensor ----
def _integral_pair(name, input, other):
    _tensor_arg(name, "input", 1, input)
    _tensor_arg(name, "other", 2, other)
    dtype = _common(input, other)
    if dtype.is_floating_point or dtype is dt.bool:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{torch_type_name(dtype)}'")
    return dtype


def _gcd_values(a, b):
    e = _engine()
    shape = broadcast_shapes(tuple(a.shape), tuple(b.shape))
    a, b = e.abs(a).expand(shape).contiguous(), e.abs(b).expand(shape).contiguous()
    while builtins.bool(e.any(e.ne(a, 0)).item()):
        nonzero = e.ne(a, 0)
        divisor = e.where(nonzero, a, e.ones_like(a))
        remainder = e.fmod(b, divisor)  # C's %, as torch's calc_gcd
        a, b = e.where(nonzero, remainder, a), e.where(nonzero, a, b)
    return b


def gcd(input, other, *, out=None):
    """`torch.gcd`: the greatest common divisor of |a| and |b| (0 for gcd(0, 0))."""
    dtype = _integral_pair("gcd", input, other)
    return _into(_gcd_values(input.to(dtype), other.to(dtype)), out)


def lcm(input, other, *, out=None):
    """`torch.lcm`: |a / gcd(a, b) * b|, 0 when the gcd is 0."""
    e = _engine()
    dtype = _integral_pair("lcm", input, other)
    a, b = input.to(dtype), other.to(dtype)
    g = _gcd_values(a, b)
    if dtype.itemsize < 4:  # C promotes narrow integers to int for a / g * b and abs; the result wraps back
        a, b, g = a.to(dt.int32), b.to(dt.int32), g.to(dt.int32)
    zero = e.eq(g, 0)
    quotient = e.div(a, e.where(zero, e.ones_like(g), g), rounding_mode="trunc")
    return _into(e.where(zero, e.zeros_like(g), e.abs(e.mul(quotient, b))).to(dtype), out)


def gcd_(self, other):
    return self.copy_(gcd(self, other))


def lcm_(self, other):
    return self.copy_(lcm(self, other))


register("gcd", gcd, dtypes=INTEGRAL, inplace_fn=gcd_, torch_inplace=True)
register("lcm", lcm, dtypes=INTEGRAL, inplace_fn=lcm_, torch_inplace=True)


# ---- fill: a new tensor like input, every element value ----
def fill(input, value):
    """`torch.fill`: a tensor of input's shape, dtype and layout filled with value."""
    _tensor_arg("fill", "input", 1, input)
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} "
                           "dimensions.")
    result = _engine().empty_like(input)
    return result.fill_(value)


register("fill", fill, dtypes=ALL, method=False)


# ---- comparisons with tolerance ----
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """`torch.isclose`: |input - other| <= atol + rtol * |other|, equal values (and infinities) always close."""
    e = _engine()
    _tensor_arg("isclose", "input", 1, input)
    _tensor_arg("isclose", "other", 2, other)
    if input._dtype is not other._dtype:
        raise RuntimeError(f"{torch_type_name(input._dtype)} did not match {torch_type_name(other._dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    close = e.eq(input, other)
    if equal_nan and input._dtype.is_floating_point:
        close = e.logical_or(close, e.logical_and(e.isnan(input), e.isnan(other)))
    if rtol == 0 and atol == 0:
        return close
    # torch's error terms: other in the default float dtype for integer and bool inputs (so the difference
    # is a float), self converted only when bool; rtol and atol as wrapped scalars
    integral = not input._dtype.is_floating_point
    a = input.to(dt.get_default_dtype()) if input._dtype is dt.bool else input
    b = other.to(dt.get_default_dtype()) if integral else other
    allowed = e.add(e.abs(e.mul(b, rtol)), atol)
    actual = e.abs(e.sub(a, b))
    finite_close = e.logical_and(e.isfinite(actual), e.le(actual, allowed))
    return e.logical_or(close, finite_close)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """`torch.allclose`: isclose everywhere, as a Python bool."""
    return builtins.bool(_engine().all(isclose(input, other, rtol, atol, equal_nan)).item())


def equal(input, other):
    """`torch.equal`: same shape and the same values (NaN is never equal)."""
    e = _engine()
    _tensor_arg("equal", "input", 1, input)
    _tensor_arg("equal", "other", 2, other)
    if tuple(input.shape) != tuple(other.shape):
        return False
    return builtins.bool(e.all(e.eq(input, other)).item())


register("isclose", isclose, dtypes=ALL)
register("allclose", allclose, dtypes=FLOATING)  # what OpInfo declares for torch.allclose
register("equal", equal, dtypes=ALL)


# ---- the identities of real tensors ----
def _identity(name):
    def fn(input):
        _tensor_arg(name, "input", 1, input)
        return input

    fn.__doc__ = f"`torch.{name}`: for a real tensor, the tensor itself."
    return fn


for _name in ("conj", "conj_physical", "resolve_conj", "resolve_neg", "real"):
    register(_name, _identity(_name), dtypes=ALL)


def isreal(input):
    """`torch.isreal`: True everywhere for a real tensor."""
    _tensor_arg("isreal", "input", 1, input)
    return _engine().ones_like(input, dtype=dt.bool)


register("isreal", isreal, dtypes=ALL)


# ---- dtype conversion methods as ops (Tensor.double() etc. are defined in engine/_methods.py) ----
for _name in ("bool", "byte", "char", "short", "int", "long", "float", "double"):
    op(_name, dtypes=ALL, method=True, public=False, family="elementwise", aten=("to",))(getattr(Tensor, _name))
