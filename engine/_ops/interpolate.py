"""`torch.nn.functional.interpolate`: nearest, nearest-exact, linear, bilinear,
bicubic, trilinear and area (adaptive average pooling, 1-3 d) over 1-3 spatial dims.

torch's argument handling (torch/nn/functional.py) is followed line by line;
the kernel (csrc/interpolate.c) takes per-dim source indices and weights,
computed here with torch's rules (aten/src/ATen/native/UpSample.h:
nearest_idx, nearest_exact_idx, area_pixel_compute_scale/source_index,
guard_index_and_lambda, HelperInterpCubic) in the input's own precision (float32 arithmetic
for float32, through numpy scalars), so the chosen indices are torch's.
Derivative rules: Upsample{Nearest,NearestExact}{1,2,3}DBackward0,
UpsampleLinear1DBackward0, UpsampleBilinear2DBackward0,
UpsampleTrilinear3DBackward0, UpsampleBicubic2DBackward0 (engine/autograd/rules/nn_conv.py).
Not implemented (NotImplementedError): lanczos, antialias=True, and
linear/bicubic for uint8.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from engine import _dtype as dt
from engine._kernel import check, ffi, lib
from engine._registry import op
from engine._tensor import Tensor, empty_tensor

INTERPOLATE_DTYPES = frozenset({"float32", "float64", "uint8"})


class Plan:
    """Source taps (indices and weights) of one interpolation, per spatial dim (padded to 3 dims)."""

    def __init__(self, mode, in_sizes, out_sizes, taps, idx, w):
        self.mode = mode
        self.in_sizes, self.out_sizes, self.taps = in_sizes, out_sizes, taps
        self.idx, self.w = idx, w

    def args(self):
        return (ffi.new("int64_t[]", list(self.in_sizes)), ffi.new("int64_t[]", list(self.out_sizes)),
                ffi.new("int64_t[]", list(self.taps)), ffi.new("int64_t[]", self.idx or [0]),
                ffi.new("double[]", self.w or [0.0]))


def _scale_value(ftype, scale, in_size, out_size):
    """compute_scales_value: 1/scale when a positive scale is given, else in/out, in ftype."""
    if scale is not None and scale > 0:
        return ftype(1.0 / scale)
    return ftype(in_size) / ftype(out_size) if out_size else ftype(0)


def _nearest_dim(exact, in_size, out_size, scale):
    f32 = np.float32
    out = []
    if not exact and out_size == in_size:
        return list(range(out_size))
    if not exact and out_size == 2 * in_size:
        return [o >> 1 for o in range(out_size)]
    s = _scale_value(f32, scale, in_size, out_size)
    for o in range(out_size):
        src = f32(float(o + 0.5) * float(s)) if exact else f32(f32(o) * s)
        out.append(builtins.min(builtins.int(math.floor(src)), in_size - 1))
    return out


def _linear_dim(ftype, in_size, out_size, scale, align_corners):
    idx0, idx1, w0, w1 = [], [], [], []
    if align_corners:
        ratio = ftype(in_size - 1) / ftype(out_size - 1) if out_size > 1 else ftype(0)
    else:
        ratio = _scale_value(ftype, scale, in_size, out_size)
    one = ftype(1)
    for o in range(out_size):
        if out_size == in_size:
            i0, lam1, lam0 = o, ftype(0), one
            i1 = o
        else:
            if align_corners:
                real = ratio * ftype(o)
            else:
                real = ratio * (ftype(o) + ftype(0.5)) - ftype(0.5)
                if real < 0:
                    real = ftype(0)
            i0 = builtins.min(builtins.int(math.floor(real)), in_size - 1)
            lam1 = builtins.min(builtins.max(ftype(real - ftype(i0)), ftype(0)), one)
            i1 = i0 + (1 if i0 < in_size - 1 else 0)
            lam0 = one - lam1
        idx0.append(i0)
        idx1.append(i1)
        w0.append(float(lam0))
        w1.append(float(lam1))
    return idx0, idx1, w0, w1


def _cubic_dim(ftype, in_size, out_size, scale, align_corners):
    """HelperInterpCubic: 4 taps at floor(src) - 1 .. + 2 (clamped), Keys' cubic with A = -0.75."""
    a = ftype(-0.75)
    one, two = ftype(1), ftype(2)

    def conv1(x):
        return ((a + ftype(2)) * x - (a + ftype(3))) * x * x + one

    def conv2(x):
        return ((a * x - ftype(5) * a) * x + ftype(8) * a) * x - ftype(4) * a

    if align_corners:
        ratio = ftype(in_size - 1) / ftype(out_size - 1) if out_size > 1 else ftype(0)
    else:
        ratio = _scale_value(ftype, scale, in_size, out_size)
    idx, w = [], []
    for o in range(out_size):
        real = ratio * ftype(o) if align_corners else ratio * (ftype(o) + ftype(0.5)) - ftype(0.5)
        i0 = builtins.min(builtins.int(math.floor(real)), in_size - 1)
        t = builtins.min(builtins.max(ftype(real - ftype(i0)), ftype(0)), one)
        coeffs = (conv2(t + one), conv1(t), conv1(one - t), conv2(two - t))
        for j in range(4):
            idx.append(builtins.max(builtins.min(i0 - 1 + j, in_size - 1), 0))
            w.append(float(coeffs[j]))
    return idx, w


def make_plan(mode, in_spatial, out_spatial, scales, align_corners, dtype):
    k = len(in_spatial)
    pad = 3 - k
    in_sizes = (1,) * pad + tuple(in_spatial)
    out_sizes = (1,) * pad + tuple(out_spatial)
    taps, idx, w = [1] * pad, [0] * pad, [1.0] * pad
    ftype = np.float64 if dtype is dt.float64 else np.float32
    for d in range(k):
        scale = scales[d] if scales is not None else None
        if mode in ("nearest", "nearest-exact"):
            ids = _nearest_dim(mode == "nearest-exact", in_spatial[d], out_spatial[d], scale)
            taps.append(1)
            idx += ids
            w += [1.0] * len(ids)
        elif mode == "bicubic":
            ids, ws = _cubic_dim(ftype, in_spatial[d], out_spatial[d], scale, align_corners)
            taps.append(4)
            idx += ids
            w += ws
        else:
            a, b, c, e = _linear_dim(ftype, in_spatial[d], out_spatial[d], scale, align_corners)
            taps.append(2)
            for pair in zip(a, b):
                idx += pair
            for pair in zip(c, e):
                w += pair
    code = lib.FT_INTERP_NEAREST if mode in ("nearest", "nearest-exact") else lib.FT_INTERP_WEIGHTED
    return Plan(code, in_sizes, out_sizes, taps, idx, w)


def interpolate_forward(x, plan):
    lead = tuple(x._shape[:2])
    planes = math.prod(lead)
    k = x.dim() - 2
    xc = x if x.is_contiguous() else x.contiguous()
    out = empty_tensor(lead + tuple(plan.out_sizes[3 - k:]), x._dtype)
    check(lib.ft_interpolate(plan.mode, x._dtype.code, planes, *plan.args(), xc._addr, out._addr))
    return out


def interpolate_backward(grad, plan, input_shape):
    planes = math.prod(input_shape[:2])
    gc = grad if grad.is_contiguous() else grad.contiguous()
    out = empty_tensor(tuple(input_shape), grad._dtype)
    check(lib.ft_interpolate_backward(plan.mode, grad._dtype.code, planes, *plan.args(), gc._addr, out._addr))
    return out


_NODE = {("nearest", 1): "UpsampleNearest1DBackward0", ("nearest", 2): "UpsampleNearest2DBackward0",
         ("nearest", 3): "UpsampleNearest3DBackward0", ("nearest-exact", 1): "UpsampleNearestExact1DBackward0",
         ("nearest-exact", 2): "UpsampleNearestExact2DBackward0",
         ("nearest-exact", 3): "UpsampleNearestExact3DBackward0", ("linear", 1): "UpsampleLinear1DBackward0",
         ("bilinear", 2): "UpsampleBilinear2DBackward0", ("trilinear", 3): "UpsampleTrilinear3DBackward0",
         ("bicubic", 2): "UpsampleBicubic2DBackward0"}


def _is_integer(x):
    return isinstance(x, builtins.int) and not isinstance(x, builtins.bool)


def _upsample(input, mode, output_size, scale_factors, align_corners):
    k = input.dim() - 2
    in_spatial = tuple(input._shape[2:])
    if output_size is None:
        output_size = [builtins.int(math.floor(float(s) * float(f))) for s, f in zip(in_spatial, scale_factors)]
    output_size = tuple(builtins.int(s) for s in output_size)
    names = ("D", "H", "W")[3 - k:]
    if any(s <= 0 for s in in_spatial) or any(s <= 0 for s in output_size):
        ins = ", ".join(f"{n}: {s}" for n, s in zip(names, in_spatial))
        outs = ", ".join(f"{n}: {s}" for n, s in zip(names, output_size))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({ins}) output ({outs})")
    if input._shape[1] == 0 and input.numel() == 0 and input._shape[0] != 0:
        raise RuntimeError(f"Non-empty {k + 2}D data tensor expected but got a tensor with sizes "
                           f"{list(input._shape)}")
    if mode not in ("nearest", "nearest-exact") and input._dtype is not dt.float32 and input._dtype is not dt.float64:
        from engine._iter import _type_name

        raise NotImplementedError(f"\"upsample_{mode}{k}d_out_frame\" not implemented for "
                                  f"'{_type_name(input._dtype)}'")
    if input._dtype.name not in INTERPOLATE_DTYPES:
        from engine._iter import _type_name

        raise NotImplementedError(f"\"upsample_{mode}{k}d\" not implemented for '{_type_name(input._dtype)}'")
    plan = make_plan(mode, in_spatial, output_size, scale_factors, align_corners, input._dtype)
    from engine.autograd.rules.nn_conv import interpolate_op

    return interpolate_op(input, plan, _NODE[(mode, k)])


@op("nn.functional.interpolate", dtypes=INTERPOLATE_DTYPES, family="interpolate",
    aten=("upsample_nearest1d", "upsample_nearest2d", "upsample_nearest3d", "upsample_linear1d",
          "upsample_bilinear2d", "upsample_trilinear3d"))
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """`torch.nn.functional.interpolate`"""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                             "bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    elif size is not None:
        scale_factors = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input._shape[2:])} and output size of {size}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            if not all(_is_integer(x) for x in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(x) for x in size]}")
            output_size = list(size)
        else:
            output_size = [size for _ in range(dim)]
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(input._shape[2:])} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "scale_factor in (s1, s2, ...,sK) format.")
            scale_factors = list(scale_factor)
        else:
            scale_factors = [scale_factor for _ in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor is not None and recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor is not None and recompute_scale_factor:
        output_size = [builtins.int(math.floor(float(input._shape[i + 2]) * scale_factors[i])) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    nd = input.dim()
    if mode in ("nearest", "nearest-exact") and nd in (3, 4, 5):
        return _upsample(input, mode, output_size, scale_factors, None)
    if mode == "area" and nd in (3, 4, 5):
        from engine._ops import pool

        return {3: pool.adaptive_avg_pool1d, 4: pool.adaptive_avg_pool2d, 5: pool.adaptive_avg_pool3d}[nd](
            input, output_size)
    if (mode, nd) in (("linear", 3), ("bilinear", 4), ("trilinear", 5), ("bicubic", 4)):
        if antialias:
            raise NotImplementedError("interpolate: antialias=True is not implemented in the engine")
        return _upsample(input, mode, output_size, scale_factors, align_corners)
    if nd == 3 and mode == "bilinear":
        raise NotImplementedError("Got 3D input, but bilinear mode needs 4D input")
    if nd == 3 and mode == "trilinear":
        raise NotImplementedError("Got 3D input, but trilinear mode needs 5D input")
    if nd == 4 and mode == "linear":
        raise NotImplementedError("Got 4D input, but linear mode needs 3D input")
    if nd == 4 and mode == "trilinear":
        raise NotImplementedError("Got 4D input, but trilinear mode needs 5D input")
    if nd == 5 and mode == "linear":
        raise NotImplementedError("Got 5D input, but linear mode needs 3D input")
    if nd == 5 and mode == "bilinear":
        raise NotImplementedError("Got 5D input, but bilinear mode needs 4D input")
    if (mode == "bicubic" and nd == 4) or mode == "lanczos":
        raise NotImplementedError(f"interpolate: mode '{mode}' is not implemented in the engine")
    raise NotImplementedError("Input Error: Only 3D, 4D and 5D input Tensors supported"
                              f" (got {nd}D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos"
                              f" | area | nearest-exact (got {mode})")
