"""Pooling: `torch.nn.functional.max_pool1d/2d`, `avg_pool1d/2d`,
`adaptive_avg_pool1d/2d` and `adaptive_max_pool1d/2d`.

Every form is one call of csrc/pool.c's window kernel over the contiguous
(planes, H, W) image: a window per output row and column (start, count,
dilation; average pooling's divisors), worked out here with torch's rules
(pooling_output_shape, start_index/end_index of the adaptive forms). The
1-d forms are torch's: unsqueeze(-2), the 2-d op, squeeze(-2). An adaptive
average pool to 1x1 is a mean over the last two dims, as in torch. The
derivative rules (MaxPool2DWithIndicesBackward0, AvgPool2DBackward0,
AdaptiveAvgPool2DBackward0, AdaptiveMaxPool2DBackward0) are in
engine/autograd/rules/nn_conv.py.
"""
from __future__ import annotations

import builtins
import math

from engine import _dtype as dt
from engine._kernel import check, ffi, lib
from engine._registry import FLOATING, op
from engine._tensor import Tensor, empty_tensor

MAX_POOL_DTYPES = frozenset({"float32", "float64", "int8", "int16", "int32", "int64", "uint8"})
AVG_POOL_DTYPES = frozenset({"float32", "float64", "int64"})


def _tuple(value, n, name, fn):
    if isinstance(value, (list, tuple)):
        value = tuple(value)
        if len(value) == 1:
            return value * n
        if len(value) != n:
            raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {n} ints")
        return value
    return (value,) * n


def _arr(values):
    return ffi.new("int64_t[]", [builtins.int(v) for v in values] or [0])


def pooling_output_shape(size, kernel, pad, stride, dilation, ceil_mode):
    """torch's pooling_output_shape (Pool.h)."""
    numerator = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class Windows:
    """Per-output windows of one pooling call, both dims, as the kernel takes them."""

    def __init__(self, op, height, width, out_h, out_w, start_h, count_h, dil_h, start_w, count_w, dil_w,
                 div_h=None, div_w=None, divisor_override=0):
        self.op = op
        self.height, self.width, self.out_h, self.out_w = height, width, out_h, out_w
        self.start_h, self.count_h, self.start_w, self.count_w = start_h, count_h, start_w, count_w
        self.dil_h, self.dil_w = dil_h, dil_w
        self.div_h = div_h or [1] * out_h
        self.div_w = div_w or [1] * out_w
        self.divisor_override = divisor_override or 0

    def args(self):
        return (self.height, self.width, self.out_h, self.out_w, _arr(self.start_h), _arr(self.count_h), self.dil_h,
                _arr(self.start_w), _arr(self.count_w), self.dil_w, _arr(self.div_h), _arr(self.div_w),
                self.divisor_override)


def pool_forward(x, windows, with_indices):
    """Run the window kernel over x's last two dims: (out, indices or None)."""
    lead = tuple(x._shape[:-2])
    planes = math.prod(lead)
    xc = x if x.is_contiguous() else x.contiguous()
    out = empty_tensor(lead + (windows.out_h, windows.out_w), x._dtype)
    indices = empty_tensor(lead + (windows.out_h, windows.out_w), dt.int64) if with_indices else None
    check(lib.ft_pool2d(windows.op, x._dtype.code, planes, *windows.args(), xc._addr, out._addr,
                        indices._addr if indices is not None else 0))
    return out, indices


def pool_backward(grad, windows, indices, input_shape):
    if windows is None:  # max pooling's scatter needs only the sizes
        oh, ow = grad._shape[-2], grad._shape[-1]
        windows = Windows(lib.FT_POOL_MAX, input_shape[-2], input_shape[-1], oh, ow, [0] * oh, [1] * oh, 1,
                          [0] * ow, [1] * ow, 1)
    lead = tuple(input_shape[:-2])
    planes = math.prod(lead)
    gc = grad if grad.is_contiguous() else grad.contiguous()
    out = empty_tensor(tuple(input_shape), grad._dtype)
    ic = None
    if indices is not None:
        ic = indices if indices.is_contiguous() else indices.contiguous()
    check(lib.ft_pool2d_backward(windows.op, grad._dtype.code, planes, *windows.args(), gc._addr,
                                 ic._addr if ic is not None else 0, out._addr))
    return out


def pool_gather(values, indices):
    """out[..., o] = values[..., indices[..., o]] over the last two dims (max pooling's double backward)."""
    lead = tuple(indices._shape[:-2])
    planes = math.prod(lead)
    vc = values if values.is_contiguous() else values.contiguous()
    ic = indices if indices.is_contiguous() else indices.contiguous()
    out = empty_tensor(tuple(indices._shape), values._dtype)
    n_in = values._shape[-2] * values._shape[-1]
    n_out = indices._shape[-2] * indices._shape[-1]
    check(lib.ft_pool_gather(values._dtype.code, planes, n_in, n_out, vc._addr, ic._addr, out._addr))
    return out


def _check_input(fn, input, dims=2):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _check_dims(input, dims, what):
    nd = input.dim()
    ok = nd in (dims + 1, dims + 2) and all(s != 0 for s in input._shape[1:])
    if not ok:
        lead = "non-zero sizes for non-batch dimensions" if dims == 2 else "non-zero sizes for non-batch dimensions"
        raise RuntimeError(f"Expected {dims + 1}D or {dims + 2}D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{_sizes(input._shape)}" if nd not in (dims + 1, dims + 2) else
                           f"{what}: Expected input's non-batch dimensions to have positive length, but input has a "
                           f"shape of {_sizes(input._shape)} and non-batch dimension {_zero_dim(input._shape)} has "
                           "length zero!")


def _sizes(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _zero_dim(shape):
    for i in range(1, len(shape)):
        if shape[i] == 0:
            return i
    return 0


def _type_error_dtype(kernel, dtype):
    from engine._iter import _type_name

    return NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(dtype)}'")


# ---- max pooling ----
def max_pool2d_windows(shape, kernel_size, stride, padding, dilation, ceil_mode, fn="max_pool2d"):
    kh, kw = _tuple(kernel_size, 2, "kernel_size", fn)
    if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0):
        sh, sw = kh, kw
    else:
        sh, sw = _tuple(stride, 2, "stride", fn)
    ph, pw = _tuple(padding, 2, "padding", fn)
    dh, dw = _tuple(dilation, 2, "dilation", fn)
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}")
    if ph > (dh * (kh - 1) + 1) // 2 or pw > (dw * (kw - 1) + 1) // 2 or ph > kh // 2 or pw > kw // 2:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={ph}, "
                           f"kernel_size={kh} and dilation={dh}" if ph > kh // 2 or pw > kw // 2 else
                           "pad should be smaller than or equal to half of kernel size, but got padW = "
                           f"{pw}, padH = {ph}, kW = {kw}, kH = {kh}")
    h, w = shape[-2], shape[-1]
    oh = pooling_output_shape(h, kh, ph, sh, dh, ceil_mode)
    ow = pooling_output_shape(w, kw, pw, sw, dw, ceil_mode)
    if oh < 1 or ow < 1:
        c = shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). Output size "
                           "is too small")
    return Windows(lib.FT_POOL_MAX, h, w, oh, ow, [o * sh - ph for o in range(oh)], [kh] * oh, dh,
                   [o * sw - pw for o in range(ow)], [kw] * ow, dw)


def _max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    _check_input("max_pool2d_with_indices", input)
    _check_dims(input, 2, "max_pool2d")
    if input._dtype.name not in MAX_POOL_DTYPES:
        raise _type_error_dtype("max_pool2d", input._dtype)
    windows = max_pool2d_windows(input._shape, kernel_size, stride, padding, dilation, ceil_mode)
    from engine.autograd.rules.nn_conv import max_pool_op

    return max_pool_op(input, windows, "MaxPool2DWithIndicesBackward0")


@op("nn.functional.max_pool2d", dtypes=MAX_POOL_DTYPES, family="pool", aten=("max_pool2d", "max_pool2d_with_indices"))
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """`torch.nn.functional.max_pool2d`"""
    out, indices = _max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


@op("nn.functional.max_pool1d", dtypes=FLOATING, family="pool", aten=("max_pool1d", "max_pool1d_with_indices"))
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """`torch.nn.functional.max_pool1d`"""
    _check_input("max_pool1d", input)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"max_pool1d() Expected 2D or 3D input tensor, but got {_sizes(input._shape)}")
    if input._dtype.name not in MAX_POOL_DTYPES:
        raise _type_error_dtype("max_pool1d", input._dtype)
    k = _tuple(kernel_size, 1, "kernel_size", "max_pool1d")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _tuple(stride, 1, "stride", "max_pool1d")
    p = _tuple(padding, 1, "padding", "max_pool1d")
    d = _tuple(dilation, 1, "dilation", "max_pool1d")
    if input._shape[-1] == 0 or (input.dim() == 3 and input._shape[1] == 0):
        raise RuntimeError(f"max_pool1d: Expected input's non-batch dimensions to have positive length, but input "
                           f"has a shape of {_sizes(input._shape)} and non-batch dimension {_zero_dim(input._shape)} "
                           "has length zero!")
    if k[0] <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k[0]}")
    if s[0] <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s[0]}")
    if p[0] < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p[0]}")
    if p[0] > k[0] // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got padding={p[0]} and "
                           f"kernel_size={k[0]}")
    if d[0] <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d[0]}")
    ol = pooling_output_shape(input._shape[-1], k[0], p[0], s[0], d[0], ceil_mode)
    if ol < 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {ol}")
    x = input.unsqueeze(-2)
    out, indices = _max_pool2d_with_indices(x, (1, k[0]), (1, s[0]), (0, p[0]), (1, d[0]), ceil_mode)
    out = out.squeeze(-2)
    return (out, indices.squeeze(-2)) if return_indices else out


# ---- average pooling ----
def avg_pool2d_windows(shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                       fn="avg_pool2d"):
    kh, kw = _tuple(kernel_size, 2, "kernel_size", fn)
    if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0):
        sh, sw = kh, kw
    else:
        sh, sw = _tuple(stride, 2, "stride", fn)
    ph, pw = _tuple(padding, 2, "padding", fn)
    if ph < 0 or pw < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {builtins.min(ph, pw)}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if ph > kh // 2 or pw > kw // 2:
        raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but got padW = {pw}, "
                           f"padH = {ph}, kW = {kw}, kH = {kh}")
    h, w = shape[-2], shape[-1]
    oh = pooling_output_shape(h, kh, ph, sh, 1, ceil_mode)
    ow = pooling_output_shape(w, kw, pw, sw, 1, ceil_mode)
    if oh < 1 or ow < 1:
        c = shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). Output size "
                           "is too small")

    def dim(out, size, k, s, p):
        starts, counts, divs = [], [], []
        for o in range(out):
            start = o * s - p
            end = builtins.min(start + k, size + p)
            full = end - start
            cs, ce = builtins.max(start, 0), builtins.min(end, size)
            starts.append(start)
            counts.append(full)
            divs.append(full if count_include_pad else ce - cs)
        return starts, counts, divs

    sh_, ch_, dh_ = dim(oh, h, kh, sh, ph)
    sw_, cw_, dw_ = dim(ow, w, kw, sw, pw)
    return Windows(lib.FT_POOL_AVG, h, w, oh, ow, sh_, ch_, 1, sw_, cw_, 1, dh_, dw_, divisor_override or 0)


@op("nn.functional.avg_pool2d", dtypes=AVG_POOL_DTYPES, family="pool", aten=("avg_pool2d",))
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """`torch.nn.functional.avg_pool2d`"""
    _check_input("avg_pool2d", input)
    _check_dims(input, 2, "avg_pool2d")
    if input._dtype.name not in AVG_POOL_DTYPES:
        raise _type_error_dtype("avg_pool2d", input._dtype)
    windows = avg_pool2d_windows(input._shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                 divisor_override)
    from engine.autograd.rules.nn_conv import avg_pool_op

    return avg_pool_op(input, windows, "AvgPool2DBackward0")


@op("nn.functional.avg_pool1d", dtypes=AVG_POOL_DTYPES, family="pool", aten=("avg_pool1d",))
def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """`torch.nn.functional.avg_pool1d`"""
    _check_input("avg_pool1d", input)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"avg_pool1d() Expected 2D or 3D input tensor, but got {_sizes(input._shape)}")
    k = _tuple(kernel_size, 1, "kernel_size", "avg_pool1d")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _tuple(stride, 1, "stride", "avg_pool1d")
    p = _tuple(padding, 1, "padding", "avg_pool1d")
    return avg_pool2d(input.unsqueeze(-2), (1, k[0]), (1, s[0]), (0, p[0]), ceil_mode, count_include_pad).squeeze(-2)


# ---- adaptive pooling ----
def _adaptive_dim(size, out):
    starts, counts = [], []
    for o in range(out):
        start = (o * size) // out
        end = -((-(o + 1) * size) // out)
        starts.append(start)
        counts.append(end - start)
    return starts, counts


def adaptive_windows(op_code, shape, output_size):
    h, w = shape[-2], shape[-1]
    oh, ow = output_size
    sh, ch = _adaptive_dim(h, oh)
    sw, cw = _adaptive_dim(w, ow)
    return Windows(op_code, h, w, oh, ow, sh, ch, 1, sw, cw, 1, list(ch), list(cw))


def _output_size(output_size, shape, n, fn):
    if isinstance(output_size, (list, tuple)):
        sizes = tuple(output_size)
        if n >= 2 and len(shape) <= len(sizes):
            raise ValueError(f"Input dimension should be at least {len(sizes) + 1}")
        if len(sizes) != n:
            raise RuntimeError(f"{fn}: output_size must be {n}" if n >= 2 else "'output_size' should contain one int")
        sizes = tuple(shape[-n + i] if s is None else s for i, s in enumerate(sizes))
    else:
        sizes = (output_size,) * n
    if n == 3:
        return sizes
    if any(s < 0 for s in sizes):
        if "max" in fn:
            full = list(shape[:-2]) + ([1] if n == 1 else []) + list(sizes)
            raise RuntimeError(f"Trying to create tensor with negative dimension {builtins.min(sizes)}: {full}")
        raise RuntimeError(f"adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but "
                           f"received {{{', '.join(str(s) for s in ((1,) + sizes if n == 1 else sizes))}}}")
    return sizes


def _adaptive_checks(input, fn):
    _check_input(fn, input)
    nd = input.dim()
    if nd not in (3, 4):
        raise RuntimeError(f"{fn}(): Expected 3D or 4D tensor, but got {_sizes(input._shape)}")
    for i in range(1, nd):
        if input._shape[i] == 0:
            raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {_sizes(input._shape)} with dimension {i} being empty")


@op("nn.functional.adaptive_avg_pool2d", dtypes=FLOATING, family="pool", aten=("adaptive_avg_pool2d",))
def adaptive_avg_pool2d(input, output_size):
    """`torch.nn.functional.adaptive_avg_pool2d`"""
    _check_input("adaptive_avg_pool2d", input)
    sizes = _output_size(output_size, input._shape, 2, "adaptive_avg_pool2d")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {_sizes(input._shape)}")
    if sizes == (1, 1):
        return input.mean((-1, -2), keepdim=True)
    _adaptive_checks(input, "adaptive_avg_pool2d")
    if not input._dtype.is_floating_point:
        raise _type_error_dtype("adaptive_avg_pool2d", input._dtype)
    windows = adaptive_windows(lib.FT_POOL_AVG_ADAPTIVE, input._shape, sizes)
    from engine.autograd.rules.nn_conv import avg_pool_op

    return avg_pool_op(input, windows, "AdaptiveAvgPool2DBackward0")


@op("nn.functional.adaptive_avg_pool1d", dtypes=FLOATING, family="pool", aten=("adaptive_avg_pool1d",))
def adaptive_avg_pool1d(input, output_size):
    """`torch.nn.functional.adaptive_avg_pool1d`"""
    _check_input("adaptive_avg_pool1d", input)
    (size,) = _output_size(output_size, input._shape, 1, "adaptive_avg_pool1d")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"adaptive_avg_pool1d(): Expected 2D or 3D tensor, but got {_sizes(input._shape)}")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


def _adaptive_max_pool2d(input, output_size):
    sizes = _output_size(output_size, input._shape, 2, "adaptive_max_pool2d")
    _adaptive_checks(input, "adaptive_max_pool2d")
    if input.dim() not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: {_sizes(input._shape)}")
    if not input._dtype.is_floating_point:
        raise _type_error_dtype("adaptive_max_pool2d", input._dtype)
    windows = adaptive_windows(lib.FT_POOL_MAX, input._shape, sizes)
    from engine.autograd.rules.nn_conv import max_pool_op

    return max_pool_op(input, windows, "AdaptiveMaxPool2DBackward0")


@op("nn.functional.adaptive_max_pool2d", dtypes=FLOATING, family="pool", aten=("adaptive_max_pool2d",))
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """`torch.nn.functional.adaptive_max_pool2d`"""
    _check_input("adaptive_max_pool2d", input)
    out, indices = _adaptive_max_pool2d(input, output_size)
    return (out, indices) if return_indices else out


@op("nn.functional.adaptive_max_pool1d", dtypes=FLOATING, family="pool", aten=("adaptive_max_pool1d",))
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """`torch.nn.functional.adaptive_max_pool1d`"""
    _check_input("adaptive_max_pool1d", input)
    if input.dim() not in (2, 3):
        raise RuntimeError(f"adaptive_max_pool1d(): Expected 2D or 3D tensor, but got: {_sizes(input._shape)}")
    (size,) = _output_size(output_size, input._shape, 1, "adaptive_max_pool1d")
    out, indices = _adaptive_max_pool2d(input.unsqueeze(-2), (1, size))
    out = out.squeeze(-2)
    return (out, indices.squeeze(-2)) if return_indices else out


def adaptive_avg_pool3d_windows(shape, sizes):
    """An adaptive 3-d average as two window passes: over D (the H*W plane as columns), then H, W."""
    d, h, w = shape[-3:]
    od, oh, ow = sizes
    sd, cd = _adaptive_dim(d, od)
    hw = h * w
    over_d = Windows(lib.FT_POOL_AVG_ADAPTIVE, d, hw, od, hw, sd, cd, 1, list(range(hw)), [1] * hw, 1, list(cd),
                     [1] * hw)
    return over_d, adaptive_windows(lib.FT_POOL_AVG_ADAPTIVE, (h, w), (oh, ow))


def adaptive_avg_pool3d(input, output_size):
    """torch.nn.functional.adaptive_avg_pool3d for 5-d (or 4-d unbatched) float inputs: interpolate's
    'area' mode on 5-d inputs (not registered as an op of its own)."""
    sizes = _output_size(output_size, input._shape, 3, "adaptive_avg_pool3d") if isinstance(output_size, (list, tuple)) \
        else (output_size,) * 3
    if input.dim() not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got {_sizes(input._shape)}")
    for i in range(1, input.dim()):
        if input._shape[i] == 0:
            raise RuntimeError(f"adaptive_avg_pool3d(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {_sizes(input._shape)} with dimension {i} being empty")
    if tuple(sizes) == (1, 1, 1):
        return input.mean((-1, -2, -3), keepdim=True)
    if not input._dtype.is_floating_point:
        raise _type_error_dtype("adaptive_avg_pool3d_cpu", input._dtype)
    from engine.autograd.rules.nn_conv import adaptive_avg_pool3d_op

    return adaptive_avg_pool3d_op(input, adaptive_avg_pool3d_windows(input._shape, sizes))
