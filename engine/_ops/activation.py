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
