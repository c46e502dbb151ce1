"""torch.nn.functional ops that are neither activations nor losses: linear,
bilinear, softmin, normalize, cosine_similarity, pairwise_distance, one_hot,
embedding.

All but embedding compose engine ops the way torch's CompositeImplicitAutograd
code does, so autograd records torch's nodes. embedding gathers rows through
csrc/loss.c (ft_embedding) with its own node, EmbeddingBackward0.
"""
from __future__ import annotations

import builtins
import math

from engine import _dtype as dt
from engine._iter import _type_name
from engine._kernel import check, lib
from engine._ops._elementwise import not_tensor_error
from engine._registry import ALL, FLOATING, NUMERIC, op
from engine._shape import is_contiguous, numel, wrap_dim
from engine._tensor import Tensor, copy_into, empty_tensor


def _engine():
    import engine

    return engine


def _tensors(name, **named):
    for position, (arg, value) in enumerate(named.items(), 1):
        if not isinstance(value, Tensor):
            raise not_tensor_error(name, arg, position, value)


@op("nn.functional.linear", dtypes=NUMERIC, family="nn", aten=("linear",))
def linear(input, weight, bias=None):
    """`torch.nn.functional.linear`: input @ weight.T + bias, as torch's at::linear picks addmm / matmul."""
    _tensors("linear", input=input, weight=weight)
    engine = _engine()
    if input.dim() == 2 and bias is not None:
        return engine.addmm(bias, input, weight.t())
    if bias is not None and bias.dim() == 1 and input.dim() >= 1 and (
            input.dim() == 1 or is_contiguous(input._shape, input._stride)):
        flat = input.reshape(-1, input.shape[-1])
        out = engine.addmm(bias, flat, weight.t())
        return out.view(tuple(input.shape[:-1]) + (weight.shape[0],) if weight.dim() == 2 else
                        tuple(input.shape[:-1]))
    out = engine.matmul(input, weight.t())
    if bias is not None:
        out = out + bias
    return out


@op("nn.functional.bilinear", dtypes=NUMERIC, family="nn", aten=("bilinear",))
def bilinear(input1, input2, weight, bias=None):
    """`torch.nn.functional.bilinear`: y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]."""
    _tensors("bilinear", input1=input1, input2=input2, weight=weight)
    if input1.dim() != input2.dim():
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    if weight.dim() != 3:
        raise RuntimeError(f"bilinear(): weight must be three-dimensional, but got {weight.dim()}")
    lead = tuple(input1.shape[:-1])
    o, i, j = weight.shape
    x1 = input1.reshape(-1, i)
    x2 = input2.reshape(-1, j)
    # (n, i) @ (i, o*j) -> (n, o, j), times x2 over j
    tmp = x1.matmul(weight.permute(1, 0, 2).reshape(i, o * j)).reshape(-1, o, j)
    prod = tmp * x2.unsqueeze(1)
    out = (prod.sum(-1) if prod._dtype.is_floating_point else prod.sum(-1, dtype=prod._dtype)).view(lead + (o,))
    if bias is not None:
        out = out + bias
    return out


@op("nn.functional.softmin", dtypes=ALL, family="softmax", aten=("softmax",))
def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """`torch.nn.functional.softmin`: softmax(-input)"""
    _tensors("softmin", input=input)
    if dim is None:
        from engine._ops.softmax import _implicit_dim

        dim = _implicit_dim("softmin", input.dim(), _stacklevel)
    if dtype is None:
        return (-input).softmax(dim)
    return (-input).softmax(dim, dtype=dtype)


@op("nn.functional.normalize", dtypes=FLOATING, family="nn", aten=("normalize",))
def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """`torch.nn.functional.normalize`: input / max(||input||_p over dim, eps)"""
    _tensors("normalize", input=input)
    engine = _engine()
    denom = engine.linalg.vector_norm(input, p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    return engine.div(input, denom, out=out)


@op("nn.functional.cosine_similarity", dtypes=FLOATING, family="nn", aten=("cosine_similarity",))
def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """`torch.nn.functional.cosine_similarity`, as torch's at::cosine_similarity: each input over its
    (eps-clamped) norm, then the sum of the products."""
    _tensors("cosine_similarity", x1=x1, x2=x2)
    engine = _engine()
    from engine._shape import broadcast_shapes

    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    a, b = x1.expand(shape), x2.expand(shape)
    n1 = engine.linalg.vector_norm(a, 2, dim, keepdim=True).clone()
    n2 = engine.linalg.vector_norm(b, 2, dim, keepdim=True).clone()
    with engine.no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((a / n1) * (b / n2)).sum(dim)


@op("nn.functional.pairwise_distance", dtypes=NUMERIC, family="nn", aten=("pairwise_distance",))
def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """`torch.nn.functional.pairwise_distance`: ||x1 - x2 + eps||_p over the last dim."""
    _tensors("pairwise_distance", x1=x1, x2=x2)
    engine = _engine()
    output_dim = builtins.max(x1.dim(), x2.dim())
    innermost = output_dim - 1
    diff = x1 - x2 + eps
    if not diff._dtype.is_floating_point:
        diff = diff.to(dt.float32)
    if output_dim == 0:
        return engine.linalg.vector_norm(diff, p, keepdim=keepdim)
    return _norm_dim(diff, p, innermost, keepdim)


def _norm_dim_fn(x, ord=2, dim=None, keepdim=False):
    return _engine().linalg.vector_norm(x, ord, dim, keepdim=keepdim)


def _norm_dim_diff():
    from engine.autograd.derivatives import RULES
    from engine.autograd.recording import differentiable

    return differentiable(_norm_dim_fn, RULES["nn.norm_dim"])


_norm_dim = _norm_dim_diff()


@op("nn.functional.one_hot", dtypes=frozenset({"int64"}), family="nn", aten=("one_hot",))
def one_hot(tensor, num_classes=-1):
    """`torch.nn.functional.one_hot`"""
    _tensors("one_hot", tensor=tensor)
    engine = _engine()
    if tensor._dtype is not dt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if numel(tensor._shape) == 0:
        if num_classes <= 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return engine.zeros(tuple(tensor.shape) + (num_classes,), dtype=dt.int64)
    if bool((tensor < 0).any()):
        raise RuntimeError("Class values must be non-negative.")
    top = builtins.int(tensor.max().item())
    if num_classes == -1:
        num_classes = top + 1
    elif top >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    classes = engine.arange(num_classes, dtype=dt.int64)
    return (tensor.unsqueeze(-1) == classes).to(dt.int64)


def _contiguous(t):
    if is_contiguous(t._shape, t._stride):
        return t
    out = empty_tensor(t._shape, t._dtype)
    copy_into(out, t)
    return out


def _embedding_fn(weight, input, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    if weight.dim() != 2:
        raise RuntimeError(f"'weight' must be 2-D")
    if input._dtype not in (dt.int64, dt.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{'FloatTensor' if input._dtype is dt.float32 else input._dtype.name} "
                           "instead (while checking arguments for embedding)")
    idx = _contiguous(input if input._dtype is dt.int64 else input.to(dt.int64))
    w = _contiguous(weight)
    num, dim = w.shape
    out = empty_tensor(tuple(input.shape) + (dim,), weight._dtype)
    check(lib.ft_embedding(w._dtype.code, num, dim, w._addr, idx._addr, numel(idx._shape), out._addr))
    return out


def embedding_backward(grad, indices, num_weights, padding_idx):
    idx = _contiguous(indices if indices._dtype is dt.int64 else indices.to(dt.int64))
    g = _contiguous(grad)
    dim = grad.shape[-1] if grad.dim() else 1
    out = empty_tensor((num_weights, dim), grad._dtype, zero=True)
    check(lib.ft_embedding_backward(g._dtype.code, num_weights, dim, idx._addr, numel(idx._shape), g._addr,
                                    padding_idx, out._addr))
    return out


def _embedding_diff():
    from engine.autograd.derivatives import RULES
    from engine.autograd.recording import differentiable

    return differentiable(_embedding_fn, RULES["nn.embedding"])


_embedding = _embedding_diff()


@op("nn.functional.embedding", dtypes=FLOATING, family="nn", aten=("embedding",))
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """`torch.nn.functional.embedding` (dense gradients)"""
    _tensors("embedding", input=input, weight=weight)
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < weight.size(0), "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -weight.size(0), "Padding_idx must be within num_embeddings"
            padding_idx = weight.size(0) + padding_idx
    else:
        padding_idx = -1
    if sparse:
        raise NotImplementedError("embedding(sparse=True): sparse gradients are not supported by the engine")
    if scale_grad_by_freq:
        raise NotImplementedError("embedding(scale_grad_by_freq=True) is not supported by the engine yet")
    if max_norm is not None:
        idx = _contiguous(input if input._dtype is dt.int64 else input.to(dt.int64))
        if not is_contiguous(weight._shape, weight._stride):
            raise RuntimeError("embedding max_norm needs a contiguous weight in the engine")
        check(lib.ft_embedding_renorm(weight._dtype.code, weight.shape[0], weight.shape[1], weight._addr, idx._addr,
                                      numel(idx._shape), builtins.float(max_norm), builtins.float(norm_type)))
        weight._bump_version()
    return _embedding(weight, input, padding_idx, scale_grad_by_freq, sparse)


# ---- pad ----
def _pad_pairs(ndim, pad):
    """{dim: (left, right)} for the dims pad names (last dim first, as torch reads it)."""
    return {ndim - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)}


def _constant_pad_fn(input, pad, value=0):
    pairs = _pad_pairs(input.dim(), pad)
    shape = list(input.shape)
    for d, (left, right) in pairs.items():
        shape[d] = input.shape[d] + left + right
        if shape[d] < 0:
            raise RuntimeError(f"The input size {input.shape[d]}, plus negative padding {left} and {right} resulted "
                               f"in a negative output size, which is invalid. Check dimension {d} of your input.")
    out = _engine().full(tuple(shape), value, dtype=input._dtype)
    src, dst = input, out
    for d, (left, right) in pairs.items():
        length = input.shape[d] - builtins.max(-left, 0) - builtins.max(-right, 0)
        if length <= 0:
            return out
        src = src.narrow(d, builtins.max(-left, 0), length)
        dst = dst.narrow(d, builtins.max(left, 0), length)
    if numel(src._shape):
        copy_into(dst, src)
    return out


def _run_plan(n, size, left, mode):
    """[(dst_start, src_start, length)] runs mapping output positions along one dim to input positions."""
    runs = []
    for j in range(size):
        s = j - left
        if mode == "replicate":
            s = builtins.min(builtins.max(s, 0), n - 1)
        else:  # reflect
            if s < 0:
                s = -s
            if s >= n:
                s = 2 * (n - 1) - s
        if runs and runs[-1][1] + runs[-1][2] == s and runs[-1][0] + runs[-1][2] == j:
            runs[-1][2] += 1
        else:
            runs.append([j, s, 1])
    return runs


def _index_pad_fn(input, pad, mode):
    x = input
    for d, (left, right) in _pad_pairs(input.dim(), pad).items():
        n = x.shape[d]
        size = n + left + right
        shape = list(x.shape)
        shape[d] = size
        out = empty_tensor(tuple(shape), x._dtype)
        if numel(out._shape):
            for dst, src, length in _run_plan(n, size, left, mode):
                copy_into(out.narrow(d, dst, length), x.narrow(d, src, length))
        x = out
    return x


def _index_pad_backward_fn(grad, pad, mode, input_shape):
    """The adjoint of _index_pad_fn: each output position's gradient added to its source."""
    pairs = list(_pad_pairs(len(input_shape), pad).items())
    shapes = [tuple(input_shape)]
    for d, (left, right) in pairs:
        shape = list(shapes[-1])
        shape[d] = shape[d] + left + right
        shapes.append(tuple(shape))
    g = grad
    for k in range(len(pairs) - 1, -1, -1):
        d, (left, right) = pairs[k]
        in_shape = shapes[k]
        out = empty_tensor(in_shape, g._dtype, zero=True)
        if numel(g._shape):
            for dst, src, length in _run_plan(in_shape[d], shapes[k + 1][d], left, mode):
                region = out.narrow(d, src, length)
                summed = region + g.narrow(d, dst, length)
                copy_into(region, summed)
        g = out
    return g


def _pad_diff():
    from engine.autograd.derivatives import RULES
    from engine.autograd.recording import differentiable

    return (differentiable(_constant_pad_fn, RULES["nn.constant_pad"]),
            differentiable(_index_pad_fn, RULES["nn.index_pad"]),
            differentiable(_index_pad_backward_fn, RULES["nn.index_pad_backward"]))


_constant_pad, _index_pad, _index_pad_backward = _pad_diff()


def _pad_circular(input, pad):
    """torch's _pad_circular: the input copied into the middle, then the wrapped slices copied
    from the padded tensor itself (so autograd records CopySlices, as in torch)."""
    engine = _engine()
    ndim = input.dim()
    pairs = _pad_pairs(ndim, pad)
    shape = list(input.shape)
    for d, (left, right) in pairs.items():
        if left > input.shape[d] or right > input.shape[d]:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        shape[d] = input.shape[d] + left + right
        if shape[d] < 0:
            raise RuntimeError(f"Negative padding value is resulting in an empty dimension")
    out = engine.empty(tuple(shape), dtype=input._dtype)
    out_slice, in_slice = out, input
    for d, (left, right) in pairs.items():
        out_slice = out_slice.narrow(d, builtins.max(left, 0), shape[d] - builtins.max(left, 0) - builtins.max(right, 0))
        in_slice = in_slice.narrow(d, builtins.max(-left, 0),
                                   input.shape[d] - builtins.max(-left, 0) - builtins.max(-right, 0))
    out_slice.copy_(in_slice)
    for d, (left, right) in pairs.items():
        size = shape[d]
        if left > 0:
            out.narrow(d, 0, left).copy_(out.narrow(d, size - left - builtins.max(right, 0), left))
        if right > 0:
            out.narrow(d, size - right, right).copy_(out.narrow(d, builtins.max(left, 0), right))
    return out


@op("nn.functional.pad", dtypes=ALL, family="nn", aten=("pad",))
def pad(input, pad, mode="constant", value=None):
    """`torch.nn.functional.pad`: constant, reflect, replicate and circular modes."""
    _tensors("pad", input=input)
    pad = [builtins.int(p) for p in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.dim():
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.dim()}")
    if mode == "constant":
        return _constant_pad(input, pad, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    n = len(pad) // 2
    if not (n in (1, 2, 3) and input.dim() in (n + 1, n + 2)):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {input.dim()}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "circular":
        return _pad_circular(input, pad)
    for d, (left, right) in _pad_pairs(input.dim(), pad).items():
        size = input.shape[d]
        if mode == "reflect" and (left >= size or right >= size):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({left}, {right}) at dimension {d} of input {list(input.shape)}")
        if size + left + right < 1:
            raise RuntimeError(f"input (W: {size}) is too small. Calculated output W: {size + left + right}")
    if mode == "reflect" and not input._dtype.is_floating_point and input._dtype is dt.bool:
        raise NotImplementedError(f"\"reflection_pad{n}d\" not implemented for 'Bool'")
    return _index_pad(input, pad, mode)


# ---- pdist (csrc/loss.c) ----
def _pdist_fn(input, p=2):
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    if not input._dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    x = _contiguous(input)
    n, m = x.shape
    out = empty_tensor((n * (n - 1) // 2 if n > 1 else 0,), x._dtype)
    check(lib.ft_pdist(x._dtype.code, n, m, x._addr, builtins.float(p), out._addr))
    return out


def pdist_backward(grad, input, p, result):
    x = _contiguous(input)
    g = _contiguous(grad.to(x._dtype))
    d = _contiguous(result)
    out = empty_tensor(tuple(x.shape), x._dtype)
    check(lib.ft_pdist_backward(x._dtype.code, x.shape[0], x.shape[1], x._addr, builtins.float(p), d._addr, g._addr,
                                out._addr))
    return out


def _pdist_diff():
    from engine.autograd.derivatives import RULES
    from engine.autograd.recording import differentiable

    return differentiable(_pdist_fn, RULES["nn.pdist"])


_pdist = _pdist_diff()


@op("nn.functional.pdist", dtypes=FLOATING, family="nn", aten=("pdist",))
def pdist(input, p=2):
    """`torch.nn.functional.pdist`: p-norm distances between the rows of a 2-D input, pairs i < j."""
    _tensors("pdist", input=input)
    return _pdist(input, p)
