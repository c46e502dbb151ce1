"""dtypes and torch's type promotion (`torch.promote_types`, `torch.result_type`).

The codes match csrc/ft.h's ft_dtype enum.
"""
from __future__ import annotations

import builtins


class dtype:
    """An engine dtype; mirrors `torch.dtype` (printed as `torch.float32` so reprs match torch)."""

    __slots__ = ("name", "code", "itemsize", "is_floating_point", "is_signed", "is_complex", "_ctype", "_format", "_category")

    def __init__(self, name, code, itemsize, is_floating_point, is_signed, ctype, fmt, category):
        self.name = name
        self.code = code
        self.itemsize = itemsize
        self.is_floating_point = is_floating_point
        self.is_signed = is_signed
        self.is_complex = False
        self._ctype = ctype       # cffi C type of one element
        self._format = fmt        # struct / numpy format character
        self._category = category  # 0 bool, 1 integral, 2 floating: torch's promotion categories

    def __repr__(self):
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))

    def to_real(self):
        return self

    def to_complex(self):
        raise NotImplementedError("complex dtypes are not supported by the engine yet")

    @property
    def bits(self):
        return self.itemsize * 8


bool = dtype("bool", 0, 1, False, False, "uint8_t", "?", 0)
uint8 = dtype("uint8", 1, 1, False, False, "uint8_t", "B", 1)
int8 = dtype("int8", 2, 1, False, True, "int8_t", "b", 1)
int16 = dtype("int16", 3, 2, False, True, "int16_t", "h", 1)
int32 = dtype("int32", 4, 4, False, True, "int32_t", "i", 1)
int64 = dtype("int64", 5, 8, False, True, "int64_t", "q", 1)
float32 = dtype("float32", 6, 4, True, True, "float", "f", 2)
float64 = dtype("float64", 7, 8, True, True, "double", "d", 2)

# torch's aliases
short, int, long = int16, int32, int64
float, double = float32, float64

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float32, float64)
DTYPES_BY_NAME = {d.name: d for d in ALL_DTYPES}
DTYPES_BY_CODE = ALL_DTYPES
INTEGRAL_DTYPES = (uint8, int8, int16, int32, int64)
FLOATING_DTYPES = (float32, float64)


def _dtype_by_name(name):
    return DTYPES_BY_NAME[name]


_default_dtype = float32


def get_default_dtype():
    return _default_dtype


def set_default_dtype(d):
    """`torch.set_default_dtype`: only floating dtypes are allowed."""
    global _default_dtype
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_dtype = d


# ---- promotion ----
# Integral dtypes promote to the smallest signed type holding both; uint8 with a
# signed type of the same width needs the next width (torch's lattice).
def _promote_integral(a, b):
    if a is b:
        return a
    if a is uint8 or b is uint8:
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return a if a.itemsize >= b.itemsize else b


def _build_promotion_table():
    table = {}
    for a in ALL_DTYPES:
        for b in ALL_DTYPES:
            if a is bool:
                r = b
            elif b is bool:
                r = a
            elif a.is_floating_point or b.is_floating_point:
                if a.is_floating_point and b.is_floating_point:
                    r = a if a.itemsize >= b.itemsize else b
                else:
                    r = a if a.is_floating_point else b
            else:
                r = _promote_integral(a, b)
            table[a, b] = r
    return table


_PROMOTION = _build_promotion_table()


def promote_types(type1, type2):
    """`torch.promote_types`."""
    return _PROMOTION[type1, type2]


def can_cast(from_, to):
    """`torch.can_cast`: no floating -> integral, no non-bool -> bool."""
    if from_.is_floating_point and not to.is_floating_point:
        return False
    if from_ is not bool and to is bool:
        return False
    return True


def scalar_dtype(value):
    """The dtype a Python scalar has as a wrapped number (before default-dtype rules)."""
    t = type(value)
    if t is builtins.bool:
        return bool
    if t is builtins.int:
        return int64
    if t is builtins.float:
        return float64
    if isinstance(value, builtins.bool):
        return bool
    if isinstance(value, builtins.int):
        return int64
    if isinstance(value, builtins.float):
        return float64
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def _combine_categories(higher, lower):
    if higher is not None and higher.is_floating_point:
        return higher
    if higher is bool or (lower is not None and lower.is_floating_point):
        if higher is None:
            return lower
        if lower is None:
            return higher
        return promote_types(higher, lower)
    if higher is not None:
        return higher
    return lower


def _update(state, d):
    return d if state is None else promote_types(state, d)


def result_type_of(operands):
    """torch.result_type over tensors and Python scalars: dimensioned tensors,
    0-dim tensors and wrapped numbers form three tiers, and a lower tier only
    matters when it is of a higher category (bool < integral < floating)."""
    dim_result = zero_result = wrapped_result = None
    for op in operands:
        d = getattr(op, "_dtype", None)
        if d is not None:
            if len(op._shape):
                dim_result = _update(dim_result, d)
            else:
                zero_result = _update(zero_result, d)
        elif op is None:
            continue
        else:
            d = scalar_dtype(op)
            if d.is_floating_point:
                d = _default_dtype
            wrapped_result = _update(wrapped_result, d)
    return _combine_categories(dim_result, _combine_categories(zero_result, wrapped_result))


def result_type(tensor1, tensor2):
    """`torch.result_type`."""
    return result_type_of((tensor1, tensor2))
