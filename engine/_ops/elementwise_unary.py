"""Unary elementwise ops: `torch.exp`, `torch.neg`, `torch.isnan`, ... over the
kernels in csrc/elementwise_unary.c.

Three dtype rules cover them (torch's unary TensorIterator configurations):
- FLOAT: integer and bool inputs compute in the default dtype (float32), floats in their own;
- SAME: compute and return the input's dtype (the kernel rejects dtypes torch rejects);
- PREDICATE: compute in the input's dtype, return bool.
"""
from __future__ import annotations

import builtins

from engine import _dtype as dt
from engine._iter import binary, unary
from engine._kernel import lib
from engine._ops import _fast
from engine._ops._elementwise import install_public, not_tensor_error, register, torch_type_name
from engine._registry import ALL, FLOATING, INTEGRAL_AND_BOOL, NUMERIC
from engine._tensor import Tensor

FLOAT, SAME, PREDICATE = "float", "same", "predicate"


def _float_dtype(x):
    d = x._dtype
    return d if d.is_floating_point else dt.get_default_dtype()


def _exact_out_check(name, input, out):
    if out is not None and out._dtype is not input._dtype:
        raise RuntimeError(f"Found dtype {torch_type_name(out._dtype)} but expected {torch_type_name(input._dtype)}")


def _bool_out_check(name, input, out):
    if out is not None and out._dtype is not dt.bool:
        raise RuntimeError(f"{name} does not support non-boolean outputs.")


def _no_out_check(name, input, out):
    pass


# What torch accepts as out=: any castable dtype (the default), exactly the input's dtype
# (ops computing in the input's dtype), or bool only (some predicates).
_OUT_CHECKS = {"castable": _no_out_check, "exact": _exact_out_check, "bool": _bool_out_check}


# dtype rule -> (compute dtype, result dtype) for an input; None means "the input's" / "the compute dtype"
_DTYPE_RULES = {
    FLOAT: lambda x: (_float_dtype(x), None),
    SAME: lambda x: (None, None),
    PREDICATE: lambda x: (None, dt.bool),
}


def _make(name, code, rule, out_rule="castable", reject_bool=None, has_out=True):
    """Build (function, in-place method) for one kernel op under one dtype rule.
    reject_bool: torch's RuntimeError text for ops that refuse bool tensors up front."""
    short = name.rsplit(".", 1)[-1]
    out_check = _OUT_CHECKS[out_rule]

    def check(input, out):
        if not isinstance(input, Tensor):
            raise not_tensor_error(short, "input", 1, input)
        if reject_bool is not None and input._dtype is dt.bool:
            raise RuntimeError(reject_bool)
        out_check(short, input, out)

    dtypes_for = _DTYPE_RULES[rule]

    def fn(input, *, out=None):
        check(input, out)
        compute_dtype, result_dtype = dtypes_for(input)
        return unary(code, input, compute_dtype=compute_dtype, result_dtype=result_dtype, out=out)

    def fn_(self):
        check(self, None)
        compute_dtype, result_dtype = dtypes_for(self)
        return unary(code, self, compute_dtype=compute_dtype, result_dtype=result_dtype, inplace=True)

    if not has_out:
        with_out = fn

        def fn(input):
            return with_out(input)
    return fn, fn_


# name, kernel op, dtype rule, out= rule (None: no out=), registered dtypes (torch's on CPU), aliases,
# has an in-place method, torch.<name>_ exists
_TABLE = [
    ("neg", lib.FT_UNARY_NEG, SAME, "exact", NUMERIC, ("negative",), True, True),
    ("abs", lib.FT_UNARY_ABS, SAME, "exact", NUMERIC, ("absolute",), True, True),
    ("sign", lib.FT_UNARY_SIGN, SAME, "exact", ALL, (), True, False),
    ("sgn", lib.FT_UNARY_SGN, SAME, "exact", ALL, (), True, False),
    ("exp", lib.FT_UNARY_EXP, FLOAT, "castable", ALL, (), True, True),
    ("exp2", lib.FT_UNARY_EXP2, FLOAT, "castable", ALL, ("special.exp2",), True, True),
    ("expm1", lib.FT_UNARY_EXPM1, FLOAT, "castable", ALL, ("special.expm1",), True, True),
    ("log", lib.FT_UNARY_LOG, FLOAT, "castable", ALL, (), True, True),
    ("log2", lib.FT_UNARY_LOG2, FLOAT, "castable", ALL, (), True, True),
    ("log10", lib.FT_UNARY_LOG10, FLOAT, "castable", ALL, (), True, True),
    ("log1p", lib.FT_UNARY_LOG1P, FLOAT, "castable", ALL, ("special.log1p",), True, True),
    ("sqrt", lib.FT_UNARY_SQRT, FLOAT, "castable", ALL, (), True, True),
    ("rsqrt", lib.FT_UNARY_RSQRT, FLOAT, "castable", ALL, (), True, True),
    ("reciprocal", lib.FT_UNARY_RECIPROCAL, FLOAT, "castable", ALL, (), True, True),
    ("sin", lib.FT_UNARY_SIN, FLOAT, "castable", ALL, (), True, True),
    ("cos", lib.FT_UNARY_COS, FLOAT, "castable", ALL, (), True, True),
    ("tan", lib.FT_UNARY_TAN, FLOAT, "castable", ALL, (), True, True),
    ("asin", lib.FT_UNARY_ASIN, FLOAT, "castable", ALL, ("arcsin",), True, True),
    ("acos", lib.FT_UNARY_ACOS, FLOAT, "castable", ALL, ("arccos",), True, True),
    ("atan", lib.FT_UNARY_ATAN, FLOAT, "castable", ALL, ("arctan",), True, True),
    ("sinh", lib.FT_UNARY_SINH, FLOAT, "castable", ALL, (), True, True),
    ("cosh", lib.FT_UNARY_COSH, FLOAT, "castable", ALL, (), True, True),
    ("tanh", lib.FT_UNARY_TANH, FLOAT, "castable", ALL, ("nn.functional.tanh",), True, True),
    ("asinh", lib.FT_UNARY_ASINH, FLOAT, "castable", ALL, ("arcsinh",), True, True),
    ("acosh", lib.FT_UNARY_ACOSH, FLOAT, "castable", ALL, ("arccosh",), True, True),
    ("atanh", lib.FT_UNARY_ATANH, FLOAT, "castable", ALL, ("arctanh",), True, True),
    ("sigmoid", lib.FT_UNARY_SIGMOID, FLOAT, "castable", ALL, ("special.expit", "nn.functional.sigmoid"), True, True),
    ("erf", lib.FT_UNARY_ERF, FLOAT, "castable", ALL, ("special.erf",), True, True),
    ("erfc", lib.FT_UNARY_ERFC, FLOAT, "castable", ALL, ("special.erfc",), True, True),
    ("lgamma", lib.FT_UNARY_LGAMMA, FLOAT, "castable", ALL, (), True, False),
    ("digamma", lib.FT_UNARY_DIGAMMA, FLOAT, "castable", ALL, ("special.digamma", "special.psi"), True, False),
    ("erfinv", lib.FT_UNARY_ERFINV, FLOAT, "castable", ALL, ("special.erfinv",), True, False),
    ("i0", lib.FT_UNARY_I0, FLOAT, "castable", ALL, ("special.i0",), True, True),
    ("sinc", lib.FT_UNARY_SINC, FLOAT, "castable", ALL, ("special.sinc",), True, True),
    ("angle", lib.FT_UNARY_ANGLE, FLOAT, "castable", ALL, (), False, False),
    ("floor", lib.FT_UNARY_FLOOR, SAME, "exact", NUMERIC, (), True, True),
    ("ceil", lib.FT_UNARY_CEIL, SAME, "exact", NUMERIC, (), True, True),
    ("trunc", lib.FT_UNARY_TRUNC, SAME, "exact", NUMERIC, ("fix",), True, True),
    ("frac", lib.FT_UNARY_FRAC, SAME, "exact", FLOATING, (), True, True),
    ("bitwise_not", lib.FT_UNARY_BITWISE_NOT, SAME, "exact", INTEGRAL_AND_BOOL, (), True, False),
    ("logical_not", lib.FT_UNARY_LOGICAL_NOT, PREDICATE, "castable", ALL, (), True, False),
    ("isnan", lib.FT_UNARY_ISNAN, PREDICATE, None, ALL, (), False, False),
    ("isinf", lib.FT_UNARY_ISINF, PREDICATE, None, ALL, (), False, False),
    ("isfinite", lib.FT_UNARY_ISFINITE, PREDICATE, None, ALL, (), False, False),
    ("isposinf", lib.FT_UNARY_ISPOSINF, PREDICATE, "bool", ALL, (), False, False),
    ("isneginf", lib.FT_UNARY_ISNEGINF, PREDICATE, "bool", ALL, (), False, False),
    ("signbit", lib.FT_UNARY_SIGNBIT, PREDICATE, "bool", ALL, (), False, False),
]

_NEG_BOOL = ("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
             "use the `~` or `logical_not()` operator instead.")

def _fast_path(code, rule, dtypes, *, has_out=True, exclude=()):
    """Builder of the fast function for one kernel op (engine/_ops/_fast.py); the dtype
    rule names match _fast's ("float", "same", "predicate")."""
    kinds = _fast.unary_kinds(rule, dtypes, exclude)
    return lambda slow: _fast.unary(code, kinds, slow, has_out=has_out)


for _name, _code, _rule, _out_rule, _dtypes, _aliases, _has_inplace, _torch_inplace in _TABLE:
    _fn, _fn_ = _make(_name, _code, _rule, _out_rule or "castable", reject_bool=_NEG_BOOL if _name == "neg" else None,
                      has_out=_out_rule is not None)
    _fast_fn = _fast_path(_code, _rule, _dtypes, has_out=_out_rule is not None,
                          exclude=(dt.bool,) if _name == "neg" else ())
    globals()[_name], _ = register(_name, _fn, dtypes=_dtypes, inplace_fn=_fn_ if _has_inplace else None,
                                   aliases=_aliases, torch_inplace=_torch_inplace, fast=_fast_fn)


def trigamma(input):
    """polygamma(1, input): digamma's derivative (engine-internal; torch exposes it as polygamma(1, x))."""
    return unary(lib.FT_UNARY_TRIGAMMA, input, compute_dtype=_float_dtype(input))


def i1(input):
    """The modified Bessel function I1: i0's derivative (engine-internal until special.i1 is registered)."""
    return unary(lib.FT_UNARY_I1, input, compute_dtype=_float_dtype(input))


# ---- ops with their own argument rules ----
relu, relu_ = _make("relu", lib.FT_UNARY_RELU, SAME, reject_bool="Boolean inputs not supported for relu",
                    has_out=False)


def _functional_relu(input, inplace=False):
    """`torch.nn.functional.relu`"""
    return relu_(input) if inplace else relu(input)


register("nn.functional.relu", _functional_relu, dtypes=NUMERIC, method=False)
relu, relu_ = register("relu", relu, dtypes=NUMERIC, inplace_fn=relu_, torch_inplace=True,
                       fast=_fast_path(lib.FT_UNARY_RELU, SAME, NUMERIC, has_out=False))
install_public("nn.functional.relu_", relu_)


def _square_dtype(x):
    # torch.square is pow(x, 2): a bool tensor with the int exponent promotes to int64
    return dt.int64 if x._dtype is dt.bool else x._dtype


def square(input, *, out=None):
    if not isinstance(input, Tensor):
        raise not_tensor_error("square", "input", 1, input)
    return unary(lib.FT_UNARY_SQUARE, input, compute_dtype=_square_dtype(input), out=out)


def square_(self):
    return unary(lib.FT_UNARY_SQUARE, self, compute_dtype=_square_dtype(self), inplace=True)


register("square", square, dtypes=ALL, inplace_fn=square_, torch_inplace=True)


def positive(input):
    """`torch.positive`: the input itself (not a copy)."""
    if not isinstance(input, Tensor):
        raise not_tensor_error("positive", "input", 1, input)
    if input._dtype is dt.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


register("positive", positive, dtypes=NUMERIC)

_DEG2RAD = 0.017453292519943295769236907684886127134428718885417
_RAD2DEG = 57.295779513082320876798154814105170332405472466564


def _make_angle_conversion(name, factor):
    # torch multiplies by a wrapped scalar, so the constant is rounded to the tensor's float dtype first
    def fn(input, *, out=None):
        if not isinstance(input, Tensor):
            raise not_tensor_error(name, "input", 1, input)
        return binary(lib.FT_BINARY_MUL, input, factor, compute_dtype=_float_dtype(input), out=out)

    def fn_(self):
        return binary(lib.FT_BINARY_MUL, self, factor, compute_dtype=_float_dtype(self), inplace=True)

    return fn, fn_


deg2rad, deg2rad_ = _make_angle_conversion("deg2rad", _DEG2RAD)
rad2deg, rad2deg_ = _make_angle_conversion("rad2deg", _RAD2DEG)
register("deg2rad", deg2rad, dtypes=ALL, inplace_fn=deg2rad_, torch_inplace=True)
register("rad2deg", rad2deg, dtypes=ALL, inplace_fn=rad2deg_, torch_inplace=True)


# ---- round, with torch's decimals= ----
def _ten_power(decimals: int) -> float:
    try:
        return 10.0 ** decimals
    except OverflowError:
        return float("inf")


def _round(input, decimals, out, inplace):
    if not isinstance(input, Tensor):
        raise not_tensor_error("round", "input", 1, input)
    _exact_out_check("round", input, out)
    if decimals is None or (decimals == 0 and input._dtype.is_floating_point):
        return unary(lib.FT_UNARY_ROUND, input, out=out, inplace=inplace)
    if not input._dtype.is_floating_point:
        kernel = "round_vml_cpu" if decimals == 0 else "round_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{torch_type_name(input._dtype)}'")
    # torch's round_decimals kernel, step by step in the tensor's precision (each step rounds
    # to it, exactly as the fused loop does): nearbyint(x * 10^d) / 10^d, or
    # nearbyint(x / 10^-d) * 10^-d for negative d.
    scale = _ten_power(builtins.abs(decimals))
    first, last = (lib.FT_BINARY_MUL, lib.FT_BINARY_DIV) if decimals > 0 else (lib.FT_BINARY_DIV, lib.FT_BINARY_MUL)
    scaled = binary(first, input, scale)
    unary(lib.FT_UNARY_ROUND, scaled, out=scaled)
    return binary(last, scaled, scale, out=input if inplace else out)


def round(input, *, decimals=None, out=None):
    """`torch.round` (half to even; decimals= rounds to that many decimal places)."""
    return _round(input, decimals, out, False)


def round_(self, *, decimals=None):
    return _round(self, decimals, None, True)


def special_round(input, *, decimals=0, out=None):
    """`torch.special.round`: round with decimals always given (so integer tensors raise, as in torch)."""
    return _round(input, decimals, out, False)


register("round", round, dtypes=NUMERIC, inplace_fn=round_, torch_inplace=True)
register("special.round", special_round, dtypes=FLOATING, method=False)
