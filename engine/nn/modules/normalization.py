"""LayerNorm and GroupNorm (torch/nn/modules/normalization.py)."""
from __future__ import annotations

import numbers

from engine.nn import functional as F
from engine.nn import init
from engine.nn.modules.module import Module
from engine.nn.parameter import Parameter

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm"]


def _register_affine(module, affine: bool, shape, bias: bool, dtype) -> None:
    """The weight and (optional) bias of an affine normalization, or None for each, as torch registers them."""
    import engine

    module.register_parameter("weight", Parameter(engine.empty(shape, dtype=dtype)) if affine else None)
    module.register_parameter("bias", Parameter(engine.empty(shape, dtype=dtype)) if affine and bias else None)


def _reset_affine(module, affine: bool) -> None:
    if affine:
        init.ones_(module.weight)
        if module.bias is not None:
            init.zeros_(module.bias)


class LayerNorm(Module):
    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _register_affine(self, self.elementwise_affine, self.normalized_shape, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self, self.elementwise_affine)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return ("{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}, "
                "bias={use_bias}".format(**self.__dict__, use_bias=self.bias is not None))


class GroupNorm(Module):
    __constants__ = ["num_groups", "num_channels", "eps", "affine"]

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _register_affine(self, self.affine, num_channels, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self, self.affine)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return ("{num_groups}, {num_channels}, eps={eps}, affine={affine}, "
                "bias={use_bias}".format(**self.__dict__, use_bias=self.bias is not None))


_EPS = {"float32": 1.1920928955078125e-07, "float64": 2.220446049250313e-16, "float16": 0.0009765625,
        "bfloat16": 0.0078125}


class RMSNorm(Module):
    """`torch.nn.RMSNorm`: x / sqrt(mean(x**2 over normalized_shape) + eps) * weight, eps defaulting to
    the dtype's machine epsilon (torch.rms_norm's composition)."""

    __constants__ = ["normalized_shape", "eps", "elementwise_affine"]

    def __init__(self, normalized_shape, eps=None, elementwise_affine: bool = True, device=None, dtype=None):
        import engine

        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if self.elementwise_affine:
            self.weight = Parameter(engine.empty(self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x):
        import engine

        shape = self.normalized_shape
        if tuple(x.shape[x.dim() - len(shape):]) != shape or x.dim() < len(shape):
            expected = ", ".join(str(s) for s in shape)
            raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape [*, {expected}], "
                               f"but got input of size{list(x.shape)}")
        eps = self.eps if self.eps is not None else _EPS.get(x.dtype.name if hasattr(x.dtype, "name") else "", 1.1920928955078125e-07)
        dims = tuple(range(-len(shape), 0))
        out = x * engine.rsqrt(x.pow(2).mean(dims, keepdim=True) + eps)
        if self.weight is not None:
            out = out * self.weight
        return out

    def extra_repr(self) -> str:
        return "{normalized_shape}, eps={eps}, elementwise_affine={elementwise_affine}".format(**self.__dict__)


class LocalResponseNorm(Module):
    """`torch.nn.LocalResponseNorm`: F.local_response_norm's composition (the squared input averaged
    over `size` neighbouring channels, zero-padded; for 4-D and higher inputs the (size, 1, 1) average
    over channels is taken as a (size, 1) avg_pool2d over the flattened spatial dims)."""

    __constants__ = ["size", "alpha", "beta", "k"]

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        size = self.size
        dim = input.dim()
        if dim < 3:
            raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
        if input.numel() == 0:
            return input
        div = input.mul(input)
        if dim == 3:
            div = div.unsqueeze(1)
            div = F.pad(div, (0, 0, size // 2, (size - 1) // 2))
            div = F.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
        else:
            sizes = input.size()
            div = div.reshape(sizes[0], 1, sizes[1], -1)
            div = F.pad(div, (0, 0, size // 2, (size - 1) // 2))
            div = F.avg_pool2d(div, (size, 1), stride=1).squeeze(1)
            div = div.reshape(sizes)
        div = div.mul(self.alpha).add(self.k).pow(self.beta)
        return input / div

    def extra_repr(self):
        return "{size}, alpha={alpha}, beta={beta}, k={k}".format(**self.__dict__)
