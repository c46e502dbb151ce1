"""Python operators on Tensor (`a + b`, `-a`, `a == b`, `2 ** a`, `a += b`, ...),
mapped onto the elementwise ops as torch maps them (torch/_tensor.py and
python_variable_methods.cpp). A TypeError from the arguments becomes
NotImplemented, so Python tries the reflected operator and `t == None` is False."""
from __future__ import annotations

from engine._ops import elementwise_binary as B
from engine._ops import _fast
from engine._ops import elementwise_unary as U
from engine._ops._elementwise import register
from engine._registry import ALL, INTEGRAL_AND_BOOL, NUMERIC, tensor_method


def _operator(fn, reflected=False):
    """self <op> other as fn(self, other), or fn(other, self) for a reflected operator."""
    if reflected:
        def method(self, other):
            try:
                return fn(other, self)
            except TypeError:
                return NotImplemented
    else:
        def method(self, other):
            try:
                return fn(self, other)
            except TypeError:
                return NotImplemented
    return method


def _rtruediv(self, other):
    # torch's __rdiv__ is self.reciprocal() * other (so 2 / t rounds twice, like torch)
    return B.mul(U.reciprocal(self), other)


def _invert(self):
    if self._dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return U.bitwise_not(self)


# dunder -> (function, reflected)
_BINARY = {
    "__add__": (B.add, False), "__iadd__": (B.add_, False),
    "__sub__": (B.sub, False), "__isub__": (B.sub_, False),
    "__mul__": (B.mul, False), "__imul__": (B.mul_, False),
    "__truediv__": (B.div, False), "__itruediv__": (B.div_, False), "__rtruediv__": (_rtruediv, False),
    "__floordiv__": (B.floor_divide, False), "__ifloordiv__": (B.floor_divide_, False),
    "__rfloordiv__": (B.floor_divide, True),
    "__mod__": (B.remainder, False), "__imod__": (B.remainder_, False),
    "__pow__": (B.pow, False), "__ipow__": (B.pow_, False),
    "__and__": (B.bitwise_and, False), "__iand__": (B.bitwise_and_, False),
    "__or__": (B.bitwise_or, False), "__ior__": (B.bitwise_or_, False),
    "__xor__": (B.bitwise_xor, False), "__ixor__": (B.bitwise_xor_, False),
    "__lshift__": (B.bitwise_left_shift, False), "__ilshift__": (B.bitwise_left_shift_, False),
    "__rlshift__": (B.bitwise_left_shift, True),
    "__rshift__": (B.bitwise_right_shift, False), "__irshift__": (B.bitwise_right_shift_, False),
    "__rrshift__": (B.bitwise_right_shift, True),
    "__eq__": (B.eq, False), "__ne__": (B.ne, False), "__lt__": (B.lt, False), "__le__": (B.le, False),
    "__gt__": (B.gt, False), "__ge__": (B.ge, False),
}


def _fast_operator(fn, reflected):
    """The operator over fn's fast path when fn has one (engine/_ops/_fast.py), else plain."""
    method = _operator(fn, reflected)
    return method if getattr(fn, "fast_run", None) is None else _fast.binary_operator(fn, method, reflected)


for _dunder, (_fn, _reflected) in _BINARY.items():
    tensor_method(_dunder)(_fast_operator(_fn, _reflected))

# Reflected operators OpInfo tests by name (`__radd__`, ...) are ops of their own in the registry.
_REFLECTED_OPS = {
    "__radd__": (B.add, False, ALL), "__rsub__": (B.rsub, False, NUMERIC), "__rmul__": (B.mul, False, ALL),
    "__rdiv__": (_rtruediv, False, ALL), "__rpow__": (B.pow, True, NUMERIC), "__rmod__": (B.remainder, True, NUMERIC),
    "__rand__": (B.bitwise_and, False, INTEGRAL_AND_BOOL), "__ror__": (B.bitwise_or, False, INTEGRAL_AND_BOOL),
    "__rxor__": (B.bitwise_xor, False, INTEGRAL_AND_BOOL),
}


def _fast_reflected(fn, reflected):
    return None if getattr(fn, "fast_run", None) is None else (lambda slow: _fast.binary_operator(fn, slow, reflected))


for _dunder, (_fn, _reflected, _dtypes) in _REFLECTED_OPS.items():
    register(_dunder, _operator(_fn, _reflected), dtypes=_dtypes, public=False, fast=_fast_reflected(_fn, _reflected))

tensor_method("__neg__")(U.neg)
tensor_method("__pos__")(U.positive)
tensor_method("__abs__")(U.abs)
tensor_method("__invert__")(_invert)
