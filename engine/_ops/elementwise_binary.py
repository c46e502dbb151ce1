"""Binary elementwise ops: `torch.add`, `torch.div`, `torch.eq`, `torch.pow`, ...
over the kernels in csrc/elementwise_binary.c.

Dtype rules (torch's binary TensorIterator configurations):
- PROMOTE: compute and return torch.result_type(a, b) (Python scalars are wrapped numbers);
- FLOAT: the same, but integer and bool results compute in the default dtype (true division);
- COMPARE: compute in result_type(a, b), return bool.

Argument rules (which operands may be Python numbers, after torch's overloads):
- ANY: either or both (torch.add(2, 3) is a 0-dim tensor);
- EITHER: one of them, not both (Tensor-Scalar and Scalar-Tensor overloads);
- OTHER: only the second (Tensor-Scalar overload);
- TENSORS: both must be tensors.
"""
from __future__ import annotations

import builtins

from engine import _dtype as dt
from engine._iter import binary
from engine._ops import _fast
from engine._kernel import lib
from engine._ops._elementwise import (
    as_number, check_scalar_fits, not_tensor_error, register, tensor_or_number, torch_type_name, type_name,
)
from engine._registry import ALL, FLOATING, INTEGRAL, INTEGRAL_AND_BOOL, NUMERIC
from engine._tensor import Tensor, empty_tensor

PROMOTE, FLOAT, COMPARE = "promote", "float", "compare"
ANY, EITHER, OTHER, TENSORS = "any", "either", "other", "tensors"


def _bad_combination(name, a, b):
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({type_name(a)}, {type_name(b)}), but "
        "expected one of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n"
        " * (Tensor input, Number other, *, Tensor out = None)"
    )


def operands(name, rule, a, b):
    """Check (a, b) against the op's argument rule; returns them with numpy scalars converted."""
    if rule == TENSORS:
        if not isinstance(a, Tensor):
            raise not_tensor_error(name, "input", 1, a)
        if not isinstance(b, Tensor):
            raise not_tensor_error(name, "other", 2, b)
        return a, b
    ca, cb = tensor_or_number(a), tensor_or_number(b)
    if ca is None or cb is None:
        if rule == ANY:
            raise not_tensor_error(name, "input" if ca is None else "other", 1 if ca is None else 2, a if ca is None else b)
        raise _bad_combination(name, a, b)
    if rule == ANY:
        return ca, cb
    a_tensor, b_tensor = isinstance(ca, Tensor), isinstance(cb, Tensor)
    if not a_tensor and (rule == OTHER or not b_tensor):
        raise _bad_combination(name, a, b)
    return ca, cb


def float_result_type(a, b):
    """result_type(a, b), with integral and bool results moved to the default float dtype."""
    d = dt.result_type_of((a, b))
    return d if d.is_floating_point else dt.get_default_dtype()


# dtype rule -> (compute dtype, result dtype) for the operands; None means torch's result_type / the compute dtype
_DTYPE_RULES = {
    PROMOTE: lambda a, b: (None, None),
    FLOAT: lambda a, b: (float_result_type(a, b), None),
    COMPARE: lambda a, b: (None, dt.bool),
}


def _make(name, code, dtype_rule, arg_rule):
    """Build (function, in-place method) for one kernel op."""
    dtypes_for = _DTYPE_RULES[dtype_rule]

    def fn(input, other, *, out=None):
        if type(input) is Tensor and type(other) is Tensor:  # the common case skips argument checks
            a, b = input, other
        else:
            a, b = operands(name, arg_rule, input, other)
        compute_dtype, result_dtype = dtypes_for(a, b)
        return binary(code, a, b, compute_dtype=compute_dtype, result_dtype=result_dtype, out=out)

    def fn_(self, other):
        if type(self) is Tensor and type(other) is Tensor:  # the common case skips argument checks
            a, b = self, other
        else:
            a, b = operands(name, arg_rule, self, other)
        compute_dtype, result_dtype = dtypes_for(a, b)
        return binary(code, a, b, compute_dtype=compute_dtype, result_dtype=result_dtype, inplace=True)

    return fn, fn_


# name, kernel op, dtype rule, argument rule, registered dtypes, aliases, has in-place method
_TABLE = [
    ("mul", lib.FT_BINARY_MUL, PROMOTE, ANY, ALL, ("multiply",), True),
    ("true_divide", lib.FT_BINARY_DIV, FLOAT, ANY, ALL, (), True),
    ("floor_divide", lib.FT_BINARY_DIV_FLOOR, PROMOTE, ANY, NUMERIC, (), True),
    ("remainder", lib.FT_BINARY_REMAINDER, PROMOTE, EITHER, NUMERIC, (), True),
    ("fmod", lib.FT_BINARY_FMOD, PROMOTE, OTHER, NUMERIC, (), True),
    ("atan2", lib.FT_BINARY_ATAN2, FLOAT, TENSORS, ALL, ("arctan2",), True),
    ("maximum", lib.FT_BINARY_MAXIMUM, PROMOTE, TENSORS, ALL, (), False),
    ("minimum", lib.FT_BINARY_MINIMUM, PROMOTE, TENSORS, ALL, (), False),
    ("fmax", lib.FT_BINARY_FMAX, PROMOTE, TENSORS, ALL, (), False),
    ("fmin", lib.FT_BINARY_FMIN, PROMOTE, TENSORS, ALL, (), False),
    ("eq", lib.FT_BINARY_EQ, COMPARE, OTHER, ALL, (), True),
    ("ne", lib.FT_BINARY_NE, COMPARE, OTHER, ALL, ("not_equal",), True),
    ("lt", lib.FT_BINARY_LT, COMPARE, OTHER, ALL, ("less",), True),
    ("le", lib.FT_BINARY_LE, COMPARE, OTHER, ALL, ("less_equal",), True),
    ("gt", lib.FT_BINARY_GT, COMPARE, OTHER, ALL, ("greater",), True),
    ("ge", lib.FT_BINARY_GE, COMPARE, OTHER, ALL, ("greater_equal",), True),
    ("logical_and", lib.FT_BINARY_LOGICAL_AND, COMPARE, TENSORS, ALL, (), True),
    ("logical_or", lib.FT_BINARY_LOGICAL_OR, COMPARE, TENSORS, ALL, (), True),
    ("logical_xor", lib.FT_BINARY_LOGICAL_XOR, COMPARE, TENSORS, ALL, (), True),
    ("bitwise_and", lib.FT_BINARY_BITWISE_AND, PROMOTE, EITHER, INTEGRAL_AND_BOOL, (), True),
    ("bitwise_or", lib.FT_BINARY_BITWISE_OR, PROMOTE, EITHER, INTEGRAL_AND_BOOL, (), True),
    ("bitwise_xor", lib.FT_BINARY_BITWISE_XOR, PROMOTE, EITHER, INTEGRAL_AND_BOOL, (), True),
    ("bitwise_left_shift", lib.FT_BINARY_LSHIFT, PROMOTE, EITHER, INTEGRAL, (), True),
    ("bitwise_right_shift", lib.FT_BINARY_RSHIFT, PROMOTE, EITHER, INTEGRAL, (), True),
    ("hypot", lib.FT_BINARY_HYPOT, PROMOTE, TENSORS, FLOATING, (), True),
    ("nextafter", lib.FT_BINARY_NEXTAFTER, PROMOTE, TENSORS, FLOATING, (), True),
    ("copysign", lib.FT_BINARY_COPYSIGN, FLOAT, OTHER, ALL, (), True),
    ("xlogy", lib.FT_BINARY_XLOGY, FLOAT, EITHER, ALL, ("special.xlogy",), True),
]

def _fast_paths(code, dtype_rule, dtypes, *, alpha=False):
    """Builders of the fast function and in-place method for one kernel op (engine/_ops/_fast.py);
    the dtype rule names match _fast's ("promote", "float", "compare")."""
    kinds = _fast.binary_kinds(dtype_rule, dtypes)
    return (lambda slow: _fast.binary(code, kinds, slow, alpha=alpha),
            lambda slow: _fast.binary_inplace(code, kinds, slow, alpha=alpha))


for _name, _code, _dtype_rule, _arg_rule, _dtypes, _aliases, _has_inplace in _TABLE:
    _fn, _fn_ = _make(_name, _code, _dtype_rule, _arg_rule)
    _fast_fn, _fast_fn_ = _fast_paths(_code, _dtype_rule, _dtypes)
    globals()[_name], globals()[_name + "_"] = register(
        _name, _fn, dtypes=_dtypes, inplace_fn=_fn_ if _has_inplace else None, aliases=_aliases,
        torch_inplace=_name == "xlogy", fast=_fast_fn, fast_inplace=_fast_fn_)


# ---- add / sub / rsub: alpha, and torch's bool rules for subtraction ----
def _alpha(alpha, dtype):
    """(alpha_f, alpha_i) for the kernel, after torch's alpha_check and checked conversion."""
    value = as_number(alpha)
    if value is None:
        raise TypeError(f"add(): argument 'alpha' must be Number, not {type_name(alpha)}")
    if type(value) is builtins.bool and dtype is not dt.bool:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if type(value) is builtins.float and not dtype.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if dtype is dt.bool:
        return builtins.float(value), builtins.int(builtins.bool(value))
    check_scalar_fits(value, dtype)
    return builtins.float(value), (0 if type(value) is builtins.float else builtins.int(value))


def _add(code, a, b, alpha, out, inplace):
    if type(alpha) is builtins.int and alpha == 1:
        return binary(code, a, b, out=out, inplace=inplace)
    d = dt.result_type_of((a, b))
    alpha_f, alpha_i = _alpha(alpha, d)
    return binary(code, a, b, compute_dtype=d, out=out, inplace=inplace, alpha_f=alpha_f, alpha_i=alpha_i)


def _is_bool_operand(x):
    return x._dtype is dt.bool if isinstance(x, Tensor) else type(x) is builtins.bool


def _check_sub_bool(a, b):
    n = _is_bool_operand(a) + _is_bool_operand(b)
    if n == 2:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if n == 1:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def add(input, other, *, alpha=1, out=None):
    """`torch.add`: input + alpha * other."""
    a, b = operands("add", ANY, input, other)
    return _add(lib.FT_BINARY_ADD, a, b, alpha, out, False)


def add_(self, other, *, alpha=1):
    a, b = operands("add", ANY, self, other)
    return _add(lib.FT_BINARY_ADD, a, b, alpha, None, True)


def sub(input, other, *, alpha=1, out=None):
    """`torch.sub`: input - alpha * other."""
    a, b = operands("sub", ANY, input, other)
    _check_sub_bool(a, b)
    return _add(lib.FT_BINARY_SUB, a, b, alpha, out, False)


def sub_(self, other, *, alpha=1):
    a, b = operands("sub", ANY, self, other)
    _check_sub_bool(a, b)
    return _add(lib.FT_BINARY_SUB, a, b, alpha, None, True)


def rsub(input, other, *, alpha=1):
    """`torch.rsub`: other - alpha * input."""
    a, b = operands("rsub", OTHER, input, other)
    _check_sub_bool(a, b)
    return _add(lib.FT_BINARY_SUB, b, a, alpha, None, False)


_fast_add, _fast_add_ = _fast_paths(lib.FT_BINARY_ADD, PROMOTE, ALL, alpha=True)
add, add_ = register("add", add, dtypes=ALL, inplace_fn=add_, fast=_fast_add, fast_inplace=_fast_add_)
_fast_sub, _fast_sub_ = _fast_paths(lib.FT_BINARY_SUB, PROMOTE, NUMERIC, alpha=True)
sub, sub_ = register("sub", sub, dtypes=NUMERIC, inplace_fn=sub_, aliases=("subtract",), fast=_fast_sub,
                     fast_inplace=_fast_sub_)
register("rsub", rsub, dtypes=NUMERIC, method=False)


# ---- div with rounding_mode ----
_DIV_MODES = {"trunc": lib.FT_BINARY_DIV_TRUNC, "floor": lib.FT_BINARY_DIV_FLOOR}


def _div(a, b, rounding_mode, out, inplace):
    if rounding_mode is None:
        return binary(lib.FT_BINARY_DIV, a, b, compute_dtype=float_result_type(a, b), out=out, inplace=inplace)
    code = _DIV_MODES.get(rounding_mode) if isinstance(rounding_mode, str) else None
    if code is None:
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'")
    return binary(code, a, b, out=out, inplace=inplace)


def div(input, other, *, rounding_mode=None, out=None):
    """`torch.div`: true division, or rounded with rounding_mode='trunc' / 'floor'."""
    a, b = operands("div", ANY, input, other)
    return _div(a, b, rounding_mode, out, False)


def div_(self, other, *, rounding_mode=None):
    a, b = operands("div", ANY, self, other)
    return _div(a, b, rounding_mode, None, True)


def _fast_div(slow):
    run = _fast.binary(lib.FT_BINARY_DIV, _fast.binary_kinds(FLOAT, ALL), slow).fast_run

    def div(input, other, *, rounding_mode=None, out=None):
        if rounding_mode is None and out is None:
            result = run(input, other)
            if result is not None:
                return result
        return slow(input, other, rounding_mode=rounding_mode, out=out)

    div.fast_run = run
    return div


def _fast_div_(slow):
    run = _fast.binary_inplace(lib.FT_BINARY_DIV, _fast.binary_kinds(FLOAT, ALL), slow).fast_run

    def div_(self, other, *, rounding_mode=None):
        if rounding_mode is None and run(self, other) is not None:
            return self
        return slow(self, other, rounding_mode=rounding_mode)

    div_.fast_run = run
    return div_


div, div_ = register("div", div, dtypes=ALL, inplace_fn=div_, aliases=("divide",), fast=_fast_div,
                     fast_inplace=_fast_div_)


# ---- pow and float_power ----
def _pow_tensor_scalar(x, exponent, out, inplace):
    if not x._dtype.is_floating_point and type(exponent) is not builtins.float and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    d = dt.result_type_of((x, exponent))
    if d is dt.bool:
        # bool ** bool: torch returns ones for a False exponent and a copy for True (no kernel)
        code = lib.FT_BINARY_BITWISE_AND if exponent else lib.FT_BINARY_BITWISE_OR
        return binary(code, x, True, out=out, inplace=inplace)
    if not d.is_floating_point:
        check_scalar_fits(exponent, d)
    return binary(lib.FT_BINARY_POW, x, exponent, compute_dtype=d, out=out, inplace=inplace)


def _pow_scalar_tensor(base, exponent, dtype, out):
    # torch allocates pow(Scalar, Tensor)'s result contiguous, whatever the exponent's layout
    if out is None:
        out = empty_tensor(exponent._shape, dtype)
    return binary(lib.FT_BINARY_POW, base, exponent, compute_dtype=dtype, out=out)


def pow(input, exponent, *, out=None):
    """`torch.pow`: integer powers wrap; a negative integer exponent is an error only as a Python int."""
    a, b = operands("pow", EITHER, input, exponent)
    if not isinstance(b, Tensor):
        return _pow_tensor_scalar(a, b, out, False)
    if not isinstance(a, Tensor):
        return _pow_scalar_tensor(a, b, dt.result_type_of((a, b)), out)
    return binary(lib.FT_BINARY_POW, a, b, out=out)


def pow_(self, exponent):
    a, b = operands("pow", EITHER, self, exponent)
    if not isinstance(b, Tensor):
        return _pow_tensor_scalar(a, b, None, True)
    return binary(lib.FT_BINARY_POW, a, b, inplace=True)


register("pow", pow, dtypes=NUMERIC, inplace_fn=pow_)


def float_power(input, exponent, *, out=None):
    """`torch.float_power`: pow computed in float64."""
    a, b = operands("float_power", EITHER, input, exponent)
    if out is not None and out._dtype is not dt.float64:
        raise RuntimeError(f"the output given to float_power has dtype {torch_type_name(out._dtype)} but the "
                           "operation's result requires dtype Double")
    if not isinstance(a, Tensor):
        return _pow_scalar_tensor(a, b, dt.float64, out)
    return binary(lib.FT_BINARY_POW, a, b, compute_dtype=dt.float64, out=out)


def float_power_(self, exponent):
    a, b = operands("float_power", EITHER, self, exponent)
    if self._dtype is not dt.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {torch_type_name(self._dtype)} but the "
                           "operation's result requires dtype Double")
    return binary(lib.FT_BINARY_POW, a, b, compute_dtype=dt.float64, inplace=True)


register("float_power", float_power, dtypes=ALL, inplace_fn=float_power_)
