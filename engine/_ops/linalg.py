"""Matrix products: mm, bmm, dot/vdot, mv, matmul (torch's full semantics:
1-d operands, batch broadcasting, folding into mm), inner, outer, the fused
addmm/addmv/addbmm/baddbmm/addr forms, and the @ operator.

mm, bmm, dot and mv are the primitives: each is one ft_matmul call over its
operands' strides (transposed and expanded operands are not copied). matmul
and inner follow torch's own decomposition into them and views, so shapes,
strides and error messages are torch's; without gradients matmul calls the
primitives past their autograd wrappers. The fused forms run one kernel call
with alpha/beta; when they must record autograd themselves (no rule of their
own in engine/autograd/derivatives.py) they are built from the primitives.
"""
from __future__ import annotations

import builtins
import math

from engine import _dtype as dt
from engine._iter import _type_name, cast
from engine._kernel import check, lib
from engine._ops.reduction import _C_TYPE_NAMES, _expect_out_dtype, _into
from engine._registry import ALL, NUMERIC, op, tensor_method
from engine._shape import broadcast_shapes, numel
from engine._tensor import Tensor, copy_into, empty_tensor
from engine.autograd.grad_mode import STATE as _GRAD_MODE


def _gemm(out, a, b, *, alpha=1.0, beta=0.0):
    """out = beta*out + alpha*(a @ b) for 2-d or 3-d (batched) operands, any strides."""
    if len(out._shape) == 3:
        batch, m, n = out._shape
        (a_bs, a_rs, a_cs), (b_bs, b_rs, b_cs), (o_bs, o_rs, o_cs) = a._stride, b._stride, out._stride
    else:
        batch, (m, n) = 1, out._shape
        (a_rs, a_cs), (b_rs, b_cs), (o_rs, o_cs) = a._stride, b._stride, out._stride
        a_bs = b_bs = o_bs = 0
    k = a._shape[-1]
    check(lib.ft_matmul(out._dtype.code, batch, m, n, k, a._addr, a_bs, a_rs, a_cs, b._addr, b_bs, b_rs, b_cs,
                        out._addr, o_bs, o_rs, o_cs, builtins.float(alpha), builtins.float(beta)))
    return out


def _check_tensor(name, arg, position, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, not {type(value).__name__}")


def _check_kernel_dtype(name, dtype):
    if dtype is dt.bool:
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")


def _scalar_for(dtype, value):
    """alpha/beta as the kernel takes them: integral tensors truncate to an integer, like torch."""
    if isinstance(value, Tensor):
        value = value.item()
    if dtype.is_floating_point:
        return builtins.float(value)
    return builtins.float(math.trunc(value))


def _needs_grad(*tensors):
    return _GRAD_MODE.enabled and builtins.any(isinstance(t, Tensor) and t.requires_grad for t in tensors)


def _operands(name, names, a, b, checks, first=1):
    """Type-check the two tensor operands (at argument positions first, first + 1), then run checks(a, b)."""
    _check_tensor(name, names[0], first, a)
    _check_tensor(name, names[1], first + 1, b)
    checks(a, b)


# ---- primitives ----
@op("mm", dtypes=NUMERIC, method=True, family="linalg")
def mm(input, mat2, *, out=None):
    """`torch.mm`: https://pytorch.org/docs/stable/generated/torch.mm.html"""
    _operands("mm", ("input", "mat2"), input, mat2, _mm_checks)
    _expect_out_dtype(out, input._dtype)
    return _into(_gemm(empty_tensor((input._shape[0], mat2._shape[1]), input._dtype), input, mat2), out)


def _mm_checks(input, mat2):
    """mm's shape and dtype checks (addmm runs them too, before its fused kernel)."""
    if len(input._shape) != 2:
        raise RuntimeError("self must be a matrix")
    if len(mat2._shape) != 2:
        raise RuntimeError("mat2 must be a matrix")
    (m, k), (k2, n) = input._shape, mat2._shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({m}x{k} and {k2}x{n})")
    if input._dtype is not mat2._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_C_TYPE_NAMES[input._dtype.name]} "
                           f"!= {_C_TYPE_NAMES[mat2._dtype.name]}")
    _check_kernel_dtype("addmm_impl_cpu_", input._dtype)


@op("bmm", dtypes=NUMERIC, method=True, family="linalg")
def bmm(input, mat2, *, out=None):
    """`torch.bmm`: https://pytorch.org/docs/stable/generated/torch.bmm.html"""
    _operands("bmm", ("input", "mat2"), input, mat2, lambda a, b: _bmm_checks("bmm", a, b))
    _expect_out_dtype(out, input._dtype)
    return _into(_gemm(empty_tensor(input._shape[:2] + mat2._shape[2:], input._dtype), input, mat2), out)


def _bmm_checks(name, input, mat2):
    """bmm's shape and dtype checks (baddbmm and addbmm run them too)."""
    if len(input._shape) != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if len(mat2._shape) != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    (batch, _, k), (batch2, k2, _) = input._shape, mat2._shape
    if (batch2, k2) != (batch, k):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k}] but got: "
                           f"[{batch2}, {k2}].")
    if input._dtype is not mat2._dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input._dtype)} but found {_type_name(mat2._dtype)}")
    _check_kernel_dtype(name, input._dtype)


def _dot_checks(name, input, other):
    if len(input._shape) != 1 or len(other._shape) != 1:
        raise RuntimeError(f"1D tensors expected, but got {len(input._shape)}D and {len(other._shape)}D tensors")
    if input._shape != other._shape:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._shape[0]}] and src [{other._shape[0]}] "
                           f"to have the same number of elements, but got {input._shape[0]} and {other._shape[0]} "
                           "elements respectively")
    if input._dtype is not other._dtype:
        raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found {_type_name(input._dtype)} "
                           f"and {_type_name(other._dtype)}")
    _check_kernel_dtype(name, input._dtype)


def _dot(input, other):
    # a (1 x k) row times a (k x 1) column, both read in place
    result = empty_tensor((), input._dtype)
    k = input._shape[0]
    check(lib.ft_matmul(input._dtype.code, 1, 1, 1, k, input._addr, 0, 0, input._stride[0],
                        other._addr, 0, other._stride[0], 0, result._addr, 0, 0, 0, 1.0, 0.0))
    return result


@op("dot", dtypes=NUMERIC, method=True, family="linalg")
def dot(input, tensor, *, out=None):
    """`torch.dot`: https://pytorch.org/docs/stable/generated/torch.dot.html"""
    _operands("dot", ("input", "tensor"), input, tensor, lambda a, b: _dot_checks("dot", a, b))
    if isinstance(out, Tensor) and out._dtype is not input._dtype:
        raise RuntimeError(f"result dtype {_type_name(out._dtype)} does not match input dtype {_type_name(input._dtype)}")
    return _into(_dot(input, tensor), out)


@op("vdot", dtypes=NUMERIC, method=True, family="linalg")
def vdot(input, other, *, out=None):
    """`torch.vdot`: dot with the first argument conjugated (the same for real dtypes)."""
    _operands("vdot", ("input", "other"), input, other, lambda a, b: _dot_checks("vdot", a, b))
    return _into(dot(input, other), out)


@op("mv", dtypes=NUMERIC, method=True, family="linalg")
def mv(input, vec, *, out=None):
    """`torch.mv`: https://pytorch.org/docs/stable/generated/torch.mv.html"""
    _operands("mv", ("input", "vec"), input, vec, _mv_checks)
    _expect_out_dtype(out, input._dtype)
    result = empty_tensor((input._shape[0],), input._dtype)
    _gemv_into(result, input, vec, 1.0, 0.0)
    return _into(result, out)


def _mv_checks(input, vec):
    """mv's shape and dtype checks (addmv runs them too)."""
    if len(input._shape) != 2 or len(vec._shape) != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {len(input._shape)}, {len(vec._shape)}")
    (m, k), (k2,) = input._shape, vec._shape
    if k != k2:
        raise RuntimeError(f"size mismatch, got input ({m}), mat ({m}x{k}), vec ({k2})")
    if input._dtype is not vec._dtype:
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_type_name(vec._dtype)}, "
                           f"{_type_name(input._dtype)}, and {_type_name(vec._dtype)}")
    _check_kernel_dtype("addmv_impl_cpu", input._dtype)


@op("outer", dtypes=ALL, method=True, family="linalg", aten=("outer", "ger"))
def outer(input, vec2, *, out=None):
    """`torch.outer`: input.reshape(-1, 1) * vec2, with mul's type promotion."""
    from engine import mul

    _check_tensor("outer", "input", 1, input)
    _check_tensor("outer", "vec2", 2, vec2)
    for arg, t in (("self", input), ("vec2", vec2)):
        if len(t._shape) != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {arg}, but got {len(t._shape)}-D")
    return mul(input.reshape(-1, 1), vec2, out=out)


tensor_method("ger")(outer)


# ---- matmul: torch's decomposition (aten/src/ATen/native/LinearAlgebra.cpp, _matmul_impl) ----
def _should_fold(tensor1, tensor2):
    """Whether the >= 3-d operand folds its batch into the rows of one mm (or mv) without a copy."""
    larger_first = len(tensor1._shape) >= len(tensor2._shape)
    t1 = tensor1 if larger_first else tensor2.mT
    dim_t2 = len(tensor2._shape) if larger_first else len(tensor1._shape)
    if not (len(t1._shape) >= 3 and dim_t2 <= 2):
        return False
    if (tensor2 if larger_first else tensor1).requires_grad:
        return True  # avoids expanding the smaller operand to a batch in backward
    if len(tensor1._shape) == 2:
        return False  # the result would need a transposing copy
    if numel(t1._shape) == 0:
        return True
    shape, stride = t1._shape, t1._stride
    return builtins.all(stride[i] == stride[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


@op("matmul", dtypes=NUMERIC, method=True, family="linalg", aten=("matmul",))
def matmul(input, other, *, out=None):
    """`torch.matmul`: https://pytorch.org/docs/stable/generated/torch.matmul.html"""
    _check_tensor("matmul", "input", 1, input)
    _check_tensor("matmul", "other", 2, other)
    result = _matmul(input, other)
    _expect_out_dtype(out, result._dtype)
    return _into(result, out)


_unrecorded_primitives = None


def _primitives(record):
    """(dot, mv, mm, bmm) as registered (recording autograd), or without their autograd wrappers
    when nothing needs a gradient (matmul then costs no more than the primitive it calls)."""
    global _unrecorded_primitives
    if record:
        return dot, mv, mm, bmm
    if _unrecorded_primitives is None:
        _unrecorded_primitives = tuple(getattr(fn, "__wrapped_op__", fn) for fn in (dot, mv, mm, bmm))
    return _unrecorded_primitives


def _matmul(tensor1, tensor2):
    dot_, mv_, mm_, bmm_ = _primitives(_needs_grad(tensor1, tensor2))
    dim1, dim2 = len(tensor1._shape), len(tensor2._shape)
    if dim1 == 0 or dim2 == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {dim1}D and {dim2}D")
    if dim1 == 1 and dim2 == 1:
        return dot_(tensor1, tensor2)
    if dim1 == 2 and dim2 == 1:
        return mv_(tensor1, tensor2)
    if dim1 == 1 and dim2 == 2:
        # torch squeezes its fresh mm result in place (squeeze_): the result is no view of anything
        result = mm_(tensor1.unsqueeze(0), tensor2).squeeze(0)
        result._base = None
        return result
    if dim1 == 2 and dim2 == 2:
        return mm_(tensor1, tensor2)
    if _should_fold(tensor1, tensor2):  # torch asks once: should_fold orders the operands itself
        transpose = dim2 > dim1
        t1 = tensor2.mT if transpose else tensor1
        t2 = tensor2 if not transpose else (tensor1.t() if dim1 == 2 else tensor1)
        output_shape = t1._shape[:-1]
        folded = t1.reshape(numel(output_shape), t1._shape[-1])
        if len(t2._shape) == 2:
            output = mm_(folded, t2).view(output_shape + (t2._shape[1],))
            return output.mT.contiguous() if transpose else output
        return mv_(folded, t2).view(output_shape)
    # batched: broadcast the batch dims, flatten them, one bmm
    n = tensor1._shape[-2] if dim1 > 1 else 1
    m1 = tensor1._shape[-1]
    batch1 = tensor1._shape[:max(dim1 - 2, 0)]
    m2 = tensor2._shape[-2] if dim2 > 1 else tensor2._shape[0]
    p = tensor2._shape[-1] if dim2 > 1 else 1
    batch2 = tensor2._shape[:max(dim2 - 2, 0)]
    output_shape = broadcast_shapes(batch1, batch2)
    batch = numel(output_shape)
    expanded1 = tensor1.expand(output_shape + (n, m1)).reshape(batch, n, m1)
    if dim2 == 1:
        expanded2 = tensor2.expand(output_shape + (m2,)).reshape(batch, m2).unsqueeze(2)
    else:
        expanded2 = tensor2.expand(output_shape + (m2, p)).reshape(batch, m2, p)
    if dim1 > 1:
        output_shape += (n,)
    if dim2 > 1:
        output_shape += (p,)
    product = bmm_(expanded1, expanded2)
    if dim2 == 1:
        product = product.squeeze(-1)
    return product.view(output_shape)


@op("__rmatmul__", dtypes=NUMERIC, method="__rmatmul__", public=False, family="linalg", aten=("matmul",))
def __rmatmul__(input, other):
    """`other @ input`."""
    return matmul(other, input)


def _matmul_operator(input, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return matmul(input, other)


tensor_method("__matmul__")(_matmul_operator)
op("linalg.matmul", dtypes=NUMERIC, family="linalg", aten=("linalg_matmul",))(matmul)


@op("inner", dtypes=NUMERIC, method=True, family="linalg")
def inner(input, other, *, out=None):
    """`torch.inner`: contraction over the last dims (a product when either is 0-dim)."""
    _check_tensor("inner", "input", 1, input)
    _check_tensor("inner", "other", 2, other)
    if not input._shape or not other._shape:
        from engine import mul

        return mul(input, other, out=out)
    if input._shape[-1] != other._shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"[{', '.join(map(str, input._shape))}] and [{', '.join(map(str, other._shape))}]")
    k = input._shape[-1]
    if isinstance(out, Tensor) and out._dtype is not input._dtype:
        raise RuntimeError(f"tensordot: Expected the output tensor to have dtype {_type_name(input._dtype)}, but got an "
                           f"output tensor with dtype {_type_name(out._dtype)}")
    rows = input.reshape(-1, k)
    cols = other.reshape(-1, k)
    return _into(matmul(rows, cols.t()).reshape(input._shape[:-1] + other._shape[:-1]), out)


# ---- fused forms: beta * input + alpha * product ----
def _fused(name, input, operands, names, checks, shape_of, product, compute, beta, alpha, out):
    """beta*input + alpha*product(*operands), after the product's own checks. Without gradients,
    compute(result, alpha, beta) runs the kernel into `result`, pre-filled with input unless beta
    is 0 (then input is never read, NaN included); with gradients it is built from recorded ops."""
    _check_tensor(name, "input", 1, input)
    _operands(name, names, *operands, checks, first=2)
    dtype = operands[0]._dtype
    if input._dtype is not dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_type_name(input._dtype)} and "
                           f"{_type_name(dtype)}")
    _expect_out_dtype(out, dtype)
    shape = shape_of(*operands)
    expanded = input.expand(shape)
    if _needs_grad(input, *operands):
        result = product(*operands)
        if alpha != 1:
            result = result * alpha
        if beta != 0:
            result = result + (expanded if beta == 1 else expanded * beta)
        return _into(result, out)
    result = empty_tensor(shape, dtype)
    if beta != 0:
        copy_into(result, expanded)
    compute(result, *operands, _scalar_for(dtype, alpha), _scalar_for(dtype, beta))
    return _into(result, out)


def _gemm_into(result, a, b, alpha, beta):
    _gemm(result, a, b, alpha=alpha, beta=beta)


def _gemv_into(result, mat, vec, alpha, beta):
    m, k = mat._shape
    check(lib.ft_matmul(mat._dtype.code, 1, m, 1, k, mat._addr, 0, mat._stride[0], mat._stride[1],
                        vec._addr, 0, vec._stride[0], 0, result._addr, 0, result._stride[0], 0, alpha, beta))


def _batch_sum_into(result, batch1, batch2, alpha, beta):
    """result = beta*result + alpha*sum_i batch1[i] @ batch2[i]: batch 0 applies beta, the rest
    accumulate into the same output (a batch stride of 0)."""
    batch, m, k = batch1._shape
    n = batch2._shape[2]
    (a_bs, a_rs, a_cs), (b_bs, b_rs, b_cs) = batch1._stride, batch2._stride
    o_rs, o_cs = result._stride
    if batch == 0:
        check(lib.ft_matmul(result._dtype.code, 1, m, n, 0, 0, 0, 0, 0, 0, 0, 0, 0, result._addr, 0, o_rs, o_cs,
                            alpha, beta))
        return
    check(lib.ft_matmul(result._dtype.code, 1, m, n, k, batch1._addr, 0, a_rs, a_cs, batch2._addr, 0, b_rs, b_cs,
                        result._addr, 0, o_rs, o_cs, alpha, beta))
    check(lib.ft_matmul(result._dtype.code, batch - 1, m, n, k,
                        batch1._addr + a_bs * batch1._dtype.itemsize, a_bs, a_rs, a_cs,
                        batch2._addr + b_bs * batch2._dtype.itemsize, b_bs, b_rs, b_cs,
                        result._addr, 0, o_rs, o_cs, alpha, 1.0))


@op("addmm", dtypes=NUMERIC, method=True, family="linalg")
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """`torch.addmm`: beta * input + alpha * (mat1 @ mat2)."""
    return _fused("addmm", input, (mat1, mat2), ("mat1", "mat2"), _mm_checks,
                  lambda a, b: (a._shape[0], b._shape[1]), mm, _gemm_into, beta, alpha, out)


@op("addmv", dtypes=NUMERIC, method=True, family="linalg")
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """`torch.addmv`: beta * input + alpha * (mat @ vec)."""
    return _fused("addmv", input, (mat, vec), ("mat", "vec"), _mv_checks,
                  lambda a, v: (a._shape[0],), mv, _gemv_into, beta, alpha, out)


@op("baddbmm", dtypes=NUMERIC, method=True, family="linalg")
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """`torch.baddbmm`: beta * input + alpha * (batch1 @ batch2), batch by batch."""
    return _fused("baddbmm", input, (batch1, batch2), ("batch1", "batch2"), lambda a, b: _bmm_checks("baddbmm", a, b),
                  lambda a, b: a._shape[:2] + b._shape[2:], bmm, _gemm_into, beta, alpha, out)


@op("addbmm", dtypes=NUMERIC, method=True, family="linalg")
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """`torch.addbmm`: beta * input + alpha * sum over the batch of batch1[i] @ batch2[i]."""
    return _fused("addbmm", input, (batch1, batch2), ("batch1", "batch2"), lambda a, b: _bmm_checks("addbmm", a, b),
                  lambda a, b: (a._shape[1], b._shape[2]), lambda a, b: bmm(a, b).sum(0), _batch_sum_into,
                  beta, alpha, out)


@op("addr", dtypes=ALL, method=True, family="linalg")
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """`torch.addr`: beta * input + alpha * outer(vec1, vec2) (logical and/or for bool)."""
    _check_tensor("addr", "input", 1, input)
    product = outer(vec1, vec2)
    if product._dtype is dt.bool and input._dtype is dt.bool:
        # bool addr is logical: (beta and input) or (alpha and vec1 * vec2)
        alpha, beta = builtins.bool(alpha), builtins.bool(beta)
    if alpha != 1:
        product = product * alpha
    expanded = input.expand(product._shape)
    if beta == 0:  # input is not read (NaN included)
        result_dtype = dt.promote_types(input._dtype, product._dtype)
        return _into(product if product._dtype is result_dtype else cast(product, result_dtype), out)
    return _into((expanded if beta == 1 else expanded * beta) + product, out)
