"""softmax and log_softmax: `torch.softmax`, `torch.log_softmax`, their
`torch.nn.functional` forms and the Tensor methods, over the kernel in
csrc/softmax.c.

torch's semantics: dtype= converts the input first (so integer inputs work only
with a floating dtype=); the result is contiguous whatever the input's layout;
an empty input gives an empty result of its dtype before any dtype check; the
functional forms pick a dim when none is given (with torch's deprecation
warning). The derivative rules (SoftmaxBackward0, LogSoftmaxBackward0) are in
engine/autograd/derivatives.py.
"""
from __future__ import annotations

import builtins
import math
import warnings

from engine import _dtype as dt
from engine._iter import _type_name
from engine._kernel import check, lib
from engine._ops.reduction import _expect_out_dtype, _into
from engine._registry import ALL, op
from engine._shape import is_contiguous, wrap_dim
from engine._tensor import Tensor, copy_into, empty_tensor

_KERNELS = {"softmax": lib.FT_SOFTMAX, "log_softmax": lib.FT_LOG_SOFTMAX}


def _check_arguments(name, input, dim, dtype):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if isinstance(dim, builtins.bool) or not isinstance(dim, builtins.int):
        raise TypeError(f"{name}(): argument 'dim' (position 2) must be int, not {type(dim).__name__}")
    if dtype is not None and not isinstance(dtype, dt.dtype):
        raise TypeError(f"{name}(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")


def _contiguous_as(x, dtype):
    """x itself when it is contiguous and of dtype, else a contiguous copy converted to dtype."""
    if x._dtype is dtype and is_contiguous(x._shape, x._stride):
        return x
    copy = empty_tensor(x._shape, dtype)
    copy_into(copy, x)
    return copy


def _softmax_like(name, input, dim, dtype, out):
    _check_arguments(name, input, dim, dtype)
    result_dtype = input._dtype if dtype is None else dtype
    shape = input._shape
    ndim = len(shape)
    d = wrap_dim(dim, ndim)
    _expect_out_dtype(out, result_dtype)
    if math.prod(shape) == 0:
        return _into(empty_tensor(shape, result_dtype), out)
    if not result_dtype.is_floating_point:
        kernel = f"{name}_lastdim_kernel_impl" if d >= ndim - 1 else f"{name}_kernel_impl"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(result_dtype)}'")
    x = _contiguous_as(input, result_dtype)
    result = empty_tensor(shape, result_dtype)
    outer = math.prod(shape[:d])
    size = shape[d] if ndim else 1
    inner = math.prod(shape[d + 1:])
    check(lib.ft_softmax(_KERNELS[name], result_dtype.code, outer, size, inner, x._addr, result._addr))
    return _into(result, out)


@op("softmax", dtypes=ALL, method=True, family="softmax")
def softmax(input, dim, dtype=None, *, out=None):
    """`torch.softmax`: https://pytorch.org/docs/stable/generated/torch.softmax.html"""
    return _softmax_like("softmax", input, dim, dtype, out)


@op("log_softmax", dtypes=ALL, method=True, family="softmax")
def log_softmax(input, dim, dtype=None, *, out=None):
    """`torch.log_softmax`: https://pytorch.org/docs/stable/generated/torch.log_softmax.html"""
    return _softmax_like("log_softmax", input, dim, dtype, out)


def _implicit_dim(name, ndim, stacklevel):
    """torch.nn.functional._get_softmax_dim: dim 0 for 0-, 1- and 3-dim inputs, else 1, with a warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


@op("nn.functional.softmax", dtypes=ALL, family="softmax", aten=("softmax",))
def functional_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """`torch.nn.functional.softmax`: https://pytorch.org/docs/stable/generated/torch.nn.functional.softmax.html"""
    if dim is None and isinstance(input, Tensor):
        dim = _implicit_dim("softmax", len(input._shape), _stacklevel)
    return softmax(input, dim, dtype)


@op("nn.functional.log_softmax", dtypes=ALL, family="softmax", aten=("log_softmax",))
def functional_log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """`torch.nn.functional.log_softmax`: https://pytorch.org/docs/stable/generated/torch.nn.functional.log_softmax.html"""
    if dim is None and isinstance(input, Tensor):
        dim = _implicit_dim("log_softmax", len(input._shape), _stacklevel)
    return log_softmax(input, dim, dtype)
