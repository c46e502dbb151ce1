"""Shared pieces of the elementwise op modules: argument checks with torch's
messages, torch's checked scalar conversion, and registration of an op together
with its in-place method and its aliases."""
from __future__ import annotations

import builtins
import math
import operator

from engine import _dtype as dt
from engine import _registry
from engine._iter import _type_name
from engine._registry import op, tensor_method
from engine._tensor import Tensor

NUMBER_TYPES = (builtins.bool, builtins.int, builtins.float)

torch_type_name = _type_name  # torch's ScalarType names in messages: 'Float', 'Long', ...


def type_name(value) -> str:
    return "Tensor" if isinstance(value, Tensor) else type(value).__name__


def not_tensor_error(fname: str, arg: str, position: int, value) -> TypeError:
    return TypeError(f"{fname}(): argument '{arg}' (position {position}) must be Tensor, not {type_name(value)}")


def as_number(value):
    """A Python bool/int/float for a number-like value (numpy scalars included), else None."""
    if type(value) in NUMBER_TYPES:
        return value
    for kind in NUMBER_TYPES:  # subclasses (numpy.float64 is a float) become the plain type; bool before int
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, complex):
        raise NotImplementedError("complex numbers are not supported by the engine yet")
    if isinstance(value, (str, bytes)) or value is None:
        return None
    if type(value).__name__ == "bool_":  # numpy.bool_
        return builtins.bool(value)
    if hasattr(value, "__index__"):
        return operator.index(value)
    if hasattr(value, "__float__"):
        return builtins.float(value)
    return None


def tensor_or_number(value):
    """value itself when a Tensor or Python number, a numpy scalar as a Python number, else None."""
    if isinstance(value, Tensor) or type(value) in NUMBER_TYPES:
        return value
    return as_number(value)


def require_tensor_or_number(fname: str, arg: str, position: int, value):
    """value as a Tensor or Python number, or torch's TypeError."""
    result = tensor_or_number(value)
    if result is None:
        raise not_tensor_error(fname, arg, position, value)
    return result


# ---- torch's checked Scalar -> C type conversion (c10::checked_convert) ----
_C_TYPE_NAMES = {
    "bool": "bool", "uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int",
    "int64": "int64_t", "float32": "float", "float64": "double",
}
_INT_LIMITS = {d: (-(1 << (d.bits - 1)), (1 << (d.bits - 1)) - 1) for d in (dt.int8, dt.int16, dt.int32, dt.int64)}
_FLOAT32_MAX = 3.4028234663852886e38


def check_scalar_fits(value, dtype) -> None:
    """Raise torch's RuntimeError when a Python scalar overflows dtype (bool never does;
    uint8 accepts -255..255 so that negatives wrap, like c10::overflows)."""
    if dtype is dt.bool or type(value) is builtins.bool:
        return
    if dtype.is_floating_point:
        fits = dtype is dt.float64 or not (isinstance(value, builtins.float) and math.isfinite(value)) or \
            -_FLOAT32_MAX <= value <= _FLOAT32_MAX
    elif isinstance(value, builtins.float) and not math.isfinite(value):
        fits = False
    elif dtype is dt.uint8:
        fits = -255 <= value <= 255
    else:
        low, high = _INT_LIMITS[dtype]
        fits = low <= value <= high
    if not fits:
        raise RuntimeError(f"value cannot be converted to type {_C_TYPE_NAMES[dtype.name]} without overflow")


# ---- registration ----
def install_public(name, fn):
    """Install fn as engine.<name> (dotted names go to submodules) without making it an op."""
    _registry._install_public(name, fn)



def register(name, fn, *, dtypes, method=True, inplace_fn=None, aliases=(), torch_inplace=False, public=True,
             fast=None, fast_inplace=None):
    """Register fn as op `name` (engine.<name>, Tensor.<name>) with its in-place
    method `<name>_`, and each alias as an op of its own (torch lists aliases as
    separate schemas). Dotted aliases (special.*, nn.functional.*) get no method.
    torch_inplace also installs the function form engine.<name>_ (torch.exp_).
    fast / fast_inplace: fast-path builders for the function and the in-place
    method (engine/_ops/_fast.py); aliases share them.

    Returns (function, in-place method) as installed: the registry wraps ops that
    have a derivative rule, and every caller must use the wrapped ones."""
    short = name.rsplit(".", 1)[-1]
    fn.__name__ = fn.__qualname__ = short
    fn.__doc__ = fn.__doc__ or f"`torch.{name}`: https://pytorch.org/docs/stable/generated/torch.{name}.html"
    installed = op(name, dtypes=dtypes, method=method, inplace=(short + "_") if inplace_fn else None,
                   family="elementwise", public=public, fast=fast)(fn)
    installed_inplace = None
    if inplace_fn is not None:
        inplace_fn.__name__ = inplace_fn.__qualname__ = short + "_"
        installed_inplace = tensor_method(short + "_", fast=fast_inplace)(inplace_fn)
        if torch_inplace:
            install_public(short + "_", installed_inplace)
    for alias in aliases:
        dotted = "." in alias
        op(alias, dtypes=dtypes, method=None if dotted else method, family="elementwise", aten=(alias,),
           inplace=None if dotted or inplace_fn is None else alias + "_")(fn)
        if inplace_fn is not None and not dotted:
            tensor_method(alias + "_")(inplace_fn)
    return installed, installed_inplace
