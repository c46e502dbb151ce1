"""Convolutions: `torch.nn.functional.conv1d/conv2d` and `conv_transpose1d/conv_transpose2d`.

Every form runs on three 2-d primitives over (N, C, H, W) tensors (1-d inputs
get a unit H): `conv2d_forward` (im2col in csrc/conv.c, then one ft_matmul
per group over the batch), `conv_transpose2d_forward` (the weight's transpose
times the input, then col2im) and `conv2d_weight_grad` (the output gradient
times the im2col columns, summed over the batch). The gradient of each is
made of the others, so the derivative rules (ConvolutionBackward0, in
engine/autograd/rules/nn_conv.py) are differentiable again.

torch's semantics: unbatched inputs (3-d for conv2d, 2-d for conv1d) are
unsqueezed and the result squeezed; padding='same' pads dilation*(k-1) split
left-heavy-right (the extra element on the right), only for stride 1;
'valid' is no padding.
"""
from __future__ import annotations

import builtins
import math

from engine import _dtype as dt
from engine._kernel import check, ffi, lib
from engine._registry import op
from engine._tensor import Tensor, empty_tensor

CONV_DTYPES = frozenset({"float32", "float64", "int64"})
_WARNED: list = []
_COLS_BUDGET = 1 << 25  # elements of im2col columns made at once (the batch is cut into chunks)


def _pair(value, n, name):
    if isinstance(value, (list, tuple)):
        value = tuple(value)
        if len(value) == 1:
            return value * n
        if len(value) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match the "
                               f"convolution dimensions, but got {name}={list(value)}")
        return value
    return (value,) * n


def _arr(values):
    return ffi.new("int64_t[]", [builtins.int(v) for v in values])


def _spatial4(x):
    """(N, C, H, W) sizes and element strides of a 4-d tensor."""
    return x._shape, x._stride


def _matmul(dtype, batch, m, n, k, a, a_bs, a_rs, a_cs, b, b_bs, b_rs, b_cs, out, o_bs, o_rs, o_cs, beta=0.0):
    check(lib.ft_matmul(dtype.code, batch, m, n, k, a, a_bs, a_rs, a_cs, b, b_bs, b_rs, b_cs,
                        out, o_bs, o_rs, o_cs, 1.0, beta))


def _chunk(batch, per_item):
    return builtins.max(1, builtins.min(batch, _COLS_BUDGET // builtins.max(per_item, 1)))


def _is_pointwise(kernel, stride, padding, dilation):
    return kernel == (1, 1) and stride == (1, 1) and padding == (0, 0)


def conv2d_forward(x, w, bias, stride, padding, dilation, groups, out_hw=None):
    """out[n, o] = sum_c w[o, c] * x[n, c] over each window (padding: top/left; the output size is
    computed from symmetric padding unless out_hw is given), plus bias."""
    n, c, h, wd = x._shape
    o, cg, kh, kw = w._shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    if out_hw is None:
        oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
        ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    else:
        oh, ow = out_hw
    dtype = x._dtype
    out = empty_tensor((n, o, oh, ow), dtype)
    og = o // groups
    ckk = cg * kh * kw
    ohw = oh * ow
    item = dtype.itemsize
    wc = w.contiguous() if not w.is_contiguous() else w
    if n and o and ohw:
        if ckk == 0:
            from engine._factories import zeros

            out = zeros((n, o, oh, ow), dtype=dtype)
        elif _is_pointwise((kh, kw), stride, padding, dilation) and (oh, ow) == (h, wd) and x._stride[3] == 1 \
                and x._stride[2] == wd:
            xs = x._stride
            for g in range(groups):
                _matmul(dtype, n, og, ohw, cg, wc._addr + g * og * ckk * item, 0, ckk, 1,
                        x._addr + g * cg * xs[1] * item, xs[0], xs[1], 1,
                        out._addr + g * og * ohw * item, o * ohw, ohw, 1)
        else:
            step = _chunk(n, c * kh * kw * ohw)
            cols = empty_tensor((step, c * kh * kw, ohw), dtype)
            for n0 in range(0, n, step):
                nb = builtins.min(step, n - n0)
                check(lib.ft_im2col(dtype.code, nb, c, h, wd, x._addr + n0 * x._stride[0] * item, _arr(x._stride),
                                    kh, kw, ph, pw, sh, sw, dh, dw, oh, ow, cols._addr))
                for g in range(groups):
                    _matmul(dtype, nb, og, ohw, ckk, wc._addr + g * og * ckk * item, 0, ckk, 1,
                            cols._addr + g * ckk * ohw * item, c * kh * kw * ohw, ohw, 1,
                            out._addr + (n0 * o * ohw + g * og * ohw) * item, o * ohw, ohw, 1)
    if bias is not None:
        out.add_(bias.view(1, o, 1, 1))
    return out


def conv_transpose2d_forward(x, w, bias, stride, padding, dilation, groups, out_hw):
    """The adjoint of conv2d_forward in x: x (N, Cin, H, W) with w (Cin, Cout/g, kh, kw) gives
    (N, Cout, out_hw), plus bias."""
    n, cin, h, wd = x._shape
    _, og, kh, kw = w._shape
    oh, ow = out_hw
    cout = og * groups
    cg = cin // groups
    dtype = x._dtype
    item = dtype.itemsize
    okk = og * kh * kw
    hw = h * wd
    xc = x.contiguous() if not x.is_contiguous() else x
    wc = w.contiguous() if not w.is_contiguous() else w
    if n * cout * oh * ow == 0:
        out = empty_tensor((n, cout, oh, ow), dtype)
    elif cg == 0 or hw == 0:
        from engine._factories import zeros

        out = zeros((n, cout, oh, ow), dtype=dtype)
    else:
        out = empty_tensor((n, cout, oh, ow), dtype)
        step = _chunk(n, cout * kh * kw * hw)
        cols = empty_tensor((step, cout * kh * kw, hw), dtype)
        for n0 in range(0, n, step):
            nb = builtins.min(step, n - n0)
            for g in range(groups):
                # cols[b, g] (okk x hw) = w[g]^T (okk x cg) @ x[b, g] (cg x hw)
                _matmul(dtype, nb, okk, hw, cg, wc._addr + g * cg * okk * item, 0, 1, okk,
                        xc._addr + (n0 * cin * hw + g * cg * hw) * item, cin * hw, hw, 1,
                        cols._addr + g * okk * hw * item, cout * kh * kw * hw, hw, 1)
            check(lib.ft_col2im(dtype.code, nb, cout, oh, ow, kh, kw, padding[0], padding[1], stride[0], stride[1],
                                dilation[0], dilation[1], h, wd, cols._addr,
                                out._addr + n0 * cout * oh * ow * item))
    if bias is not None:
        out.add_(bias.view(1, cout, 1, 1))
    return out


def conv2d_weight_grad(x, grad, weight_shape, stride, padding, dilation, groups):
    """d(conv2d_forward)/d(weight) against grad: sum_n grad[n, g] @ im2col(x[n])[g]^T."""
    n, c, h, wd = x._shape
    o, cg, kh, kw = weight_shape
    _, _, oh, ow = grad._shape
    dtype = x._dtype
    item = dtype.itemsize
    og = o // groups
    ckk = cg * kh * kw
    ohw = oh * ow
    gc = grad.contiguous() if not grad.is_contiguous() else grad
    out = empty_tensor(tuple(weight_shape), dtype)
    if out.numel() == 0:
        return out
    if n == 0 or ohw == 0:
        return out.zero_()
    step = _chunk(n, c * kh * kw * ohw)
    cols = empty_tensor((step, c * kh * kw, ohw), dtype)
    first = True
    for n0 in range(0, n, step):
        nb = builtins.min(step, n - n0)
        check(lib.ft_im2col(dtype.code, nb, c, h, wd, x._addr + n0 * x._stride[0] * item, _arr(x._stride),
                            kh, kw, padding[0], padding[1], stride[0], stride[1], dilation[0], dilation[1],
                            oh, ow, cols._addr))
        for b in range(nb):
            for g in range(groups):
                # out[g] (og x ckk) += grad[b, g] (og x ohw) @ cols[b, g]^T (ohw x ckk)
                _matmul(dtype, 1, og, ckk, ohw, gc._addr + ((n0 + b) * o * ohw + g * og * ohw) * item, 0, ohw, 1,
                        cols._addr + (b * c * kh * kw * ohw + g * ckk * ohw) * item, 0, 1, ohw,
                        out._addr + g * og * ckk * item, 0, ckk, 1, beta=0.0 if first else 1.0)
            first = False
    return out


# ---- argument handling shared by the public forms ----
def _check_tensor(name, arg, position, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")


def _prepare(name, input, weight, bias, dims, transposed):
    _check_tensor(name, "input", 1, input)
    _check_tensor(name, "weight", 2, weight)
    if bias is not None:
        _check_tensor(name, "bias", 3, bias)
    if input._dtype is not weight._dtype or (bias is not None and bias._dtype is not input._dtype):
        other = weight if input._dtype is not weight._dtype else bias
        raise RuntimeError(f"Input type ({_tname(input._dtype)}) and {'weight' if other is weight else 'bias'} type "
                           f"({_tname(other._dtype)}) should be the same or input should be a MKLDNN tensor and "
                           "weight is a dense tensor")
    nd = input.dim()
    if nd not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, but got input "
                           f"of size: {list(input._shape)}")
    if weight.dim() != dims + 2:
        raise RuntimeError(f"weight should have at least three dimensions" if weight.dim() < 3 else
                           f"Expected {dims + 2}-dimensional input for {dims + 2}-dimensional weight "
                           f"{list(weight._shape)}, but got {input.dim()}-dimensional input of size "
                           f"{list(input._shape)} instead")
    if input._dtype.name not in CONV_DTYPES:
        raise NotImplementedError(f"\"{'slow_conv2d_cpu' if not transposed else 'slow_conv_transpose2d_out_cpu'}\" "
                                  f"not implemented for '{_tname(input._dtype)}'")
    batched = nd == dims + 2
    x = input if batched else input.unsqueeze(0)
    return x, weight, batched


def _as4(shape):
    return tuple(shape) if len(shape) == 4 else (shape[0], shape[1], 1, shape[2])


def to4(t):
    """A 3-d (N, C, L) tensor as the (N, C, 1, L) view the 2-d kernels take (no autograd recorded)."""
    if t is None or t.dim() == 4:
        return t
    from engine._tensor import view_of

    return view_of(t, _as4(t._shape), (t._stride[0], t._stride[1], t._stride[2] * t._shape[2] or 1, t._stride[2]),
                   t._offset)


def from4(t, like_dim):
    if like_dim == 4:
        return t
    from engine._tensor import make_tensor

    return make_tensor(t._storage, (t._shape[0], t._shape[1], t._shape[3]), (t._stride[0], t._stride[1], t._stride[3]),
                       t._offset, t._dtype)


def _tname(dtype):
    from engine._iter import _type_name

    return {"Float": "float", "Double": "double", "Long": "long int"}.get(_type_name(dtype), _type_name(dtype))


def _finish(out, dims, batched):
    return out if batched else out.squeeze(0)


def _conv(name, dims, input, weight, bias, stride, padding, dilation, groups):
    x, w, batched = _prepare(name, input, weight, bias, dims, False)
    stride = _pair(stride, dims, "stride")
    dilation = _pair(dilation, dims, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")
    if isinstance(groups, builtins.bool) or not isinstance(groups, builtins.int) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    n, c, h, wd = _as4(x._shape)
    o, cg, kh, kw = _as4(w._shape)
    if c != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight._shape)}, expected input"
                           f"{list(input._shape if batched else (1,) + tuple(input._shape))} to have {cg * groups} "
                           f"channels, but got {input._shape[1 if batched else 0]} channels instead")
    if o % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size {list(weight._shape)} instead")
    if bias is not None and (bias.dim() != 1 or bias._shape[0] != o):
        raise RuntimeError(f"Given weight of size {list(weight._shape)}, expected bias to be 1-dimensional with {o} "
                           f"elements, but got bias of size {list(bias._shape)} instead")
    stride2 = (1,) + stride if dims == 1 else stride
    dil2 = (1,) + dilation if dims == 1 else dilation
    out_hw = None
    if isinstance(padding, str):
        if padding == "valid":
            pad2 = (0, 0)
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pad2 = tuple(d * (k - 1) // 2 for d, k in zip(dil2, (kh, kw)))
            out_hw = (h, wd)
            if any(d * (k - 1) % 2 for d, k in zip(dil2, (kh, kw))) and not _WARNED:
                import warnings

                _WARNED.append(True)  # torch warns once per process (TORCH_WARN_ONCE)
                warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a "
                              "zero-padded copy of the input be created", stacklevel=3)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _pair(padding, dims, "padding")
        if any(p < 0 for p in padding):
            raise RuntimeError("negative padding is not supported")
        pad2 = (0,) + padding if dims == 1 else padding
    eh = h + 2 * pad2[0] if out_hw is None else h + dil2[0] * (kh - 1)
    ew = wd + 2 * pad2[1] if out_hw is None else wd + dil2[1] * (kw - 1)
    if eh < dil2[0] * (kh - 1) + 1 or ew < dil2[1] * (kw - 1) + 1:
        pin = [eh, ew][2 - dims:]
        ks = [dil2[0] * (kh - 1) + 1, dil2[1] * (kw - 1) + 1][2 - dims:]
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, pin))}). Kernel size: "
                           f"({' x '.join(map(str, ks))}). Kernel size can't be greater than actual input size")
    if out_hw is None:
        out_hw = ((h + 2 * pad2[0] - dil2[0] * (kh - 1) - 1) // stride2[0] + 1,
                  (wd + 2 * pad2[1] - dil2[1] * (kw - 1) - 1) // stride2[1] + 1)
    from engine.autograd.rules.nn_conv import conv2d_op

    out = conv2d_op(x, w, bias, stride2, pad2, dil2, groups, out_hw)
    return _finish(out, dims, batched)


def _conv_transpose(name, dims, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, w, batched = _prepare(name, input, weight, bias, dims, True)
    stride = _pair(stride, dims, "stride")
    padding = _pair(padding, dims, "padding")
    output_padding = _pair(output_padding, dims, "output_padding")
    dilation = _pair(dilation, dims, "dilation")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if isinstance(groups, builtins.bool) or not isinstance(groups, builtins.int) or groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    n, cin, h, wd = _as4(x._shape)
    wcin, og, kh, kw = _as4(w._shape)
    if cin != wcin:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight._shape)}, expected input"
                           f"{list(input._shape if batched else (1,) + tuple(input._shape))} to have {wcin} channels, "
                           f"but got {cin} channels instead")
    if cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size {list(weight._shape)} instead")
    if bias is not None and (bias.dim() != 1 or bias._shape[0] != og * groups):
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight._shape)}, expected bias to be "
                           f"1-dimensional with {og * groups} elements, but got bias of size {list(bias._shape)} "
                           "instead")
    for s, d, p in zip(stride, dilation, output_padding):
        if p >= s and p >= d:
            raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                               f"output_padding_height: {output_padding[0]} output_padding_width: "
                               f"{output_padding[-1]} stride_height: {stride[0]} stride_width: {stride[-1]} "
                               f"dilation_height: {dilation[0]} dilation_width: {dilation[-1]}")
    stride2 = (1,) + stride if dims == 1 else stride
    pad2 = (0,) + padding if dims == 1 else padding
    opad2 = (0,) + output_padding if dims == 1 else output_padding
    dil2 = (1,) + dilation if dims == 1 else dilation
    out_hw = tuple((size - 1) * s - 2 * p + d * (k - 1) + op + 1
                   for size, s, p, d, k, op in zip((h, wd), stride2, pad2, dil2, (kh, kw), opad2))
    if any(v <= 0 for v in out_hw):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, [h, wd][2 - dims:]))}). Calculated "
                           f"output size per channel: ({' x '.join(map(str, list(out_hw)[2 - dims:]))}). Output size is "
                           "too small")
    from engine.autograd.rules.nn_conv import conv_transpose2d_op

    out = conv_transpose2d_op(x, w, bias, stride2, pad2, dil2, groups, out_hw)
    return _finish(out, dims, batched)


@op("nn.functional.conv1d", dtypes=CONV_DTYPES, family="conv", aten=("conv1d",))
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """`torch.nn.functional.conv1d`: https://pytorch.org/docs/stable/generated/torch.nn.functional.conv1d.html"""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@op("nn.functional.conv2d", dtypes=CONV_DTYPES, family="conv", aten=("conv2d",))
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """`torch.nn.functional.conv2d`: https://pytorch.org/docs/stable/generated/torch.nn.functional.conv2d.html"""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@op("nn.functional.conv_transpose1d", dtypes=CONV_DTYPES, family="conv", aten=("conv_transpose1d",))
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """`torch.nn.functional.conv_transpose1d`"""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


@op("nn.functional.conv_transpose2d", dtypes=CONV_DTYPES, family="conv", aten=("conv_transpose2d",))
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """`torch.nn.functional.conv_transpose2d`"""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def is_channels_last(t):
    """torch's suggest_memory_format() == channels_last for a 4-d tensor (strides NHWC, not also NCHW)."""
    if t is None or t.dim() != 4 or t.is_contiguous():
        return False
    from engine._memory_format import channels_last

    return t.is_contiguous(memory_format=channels_last)


def match_format(out, *like):
    """out laid out channels_last when any of `like` is (torch's kernels keep the input's format)."""
    if out.dim() != 4 or not any(is_channels_last(t) for t in like):
        return out
    from engine._tensor import copy_into

    n, c, h, w = out._shape
    result = empty_tensor(out._shape, out._dtype, stride=(h * w * c, 1, w * c, c))
    copy_into(result, out)
    return result
