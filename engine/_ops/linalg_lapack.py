"""Linear algebra over LAPACK (csrc/lapack.c, OpenBLAS of the scipy-openblas32 wheel):
linalg.det / det, logdet, linalg.slogdet / slogdet, linalg.inv / inverse, linalg.solve,
linalg.cholesky / cholesky, linalg.qr, linalg.eigh / eigvalsh, linalg.svd / svd / svdvals and
linalg.matrix_norm (fro, nuc, +-inf, +-1, +-2).

Matrices go to LAPACK column-major: a batch (..., m, n) is copied into a (batch, n, m) row-major
buffer (each matrix transposed, i.e. Fortran order) and results come back as transposed views,
the column-major strides torch's LAPACK-backed results have. torch's errors, including
torch.linalg.LinAlgError for singular / not positive-definite inputs, are reproduced."""
from __future__ import annotations

import builtins
import math
import os

from engine import _dtype as dt
from engine._kernel import check, ffi, lib
from engine._registry import FLOATING, op
from engine._tensor import Tensor, copy_into, empty_tensor, view_of
from engine.linalg import LinAlgError

FAMILY = "linalg"
_loaded = False


def _ensure_lapack():
    global _loaded
    if _loaded:
        return
    from engine._threads import _BLAS_THREAD_VARIABLES, blas_library_path

    path = blas_library_path()
    if path is None:
        raise RuntimeError("linalg: LAPACK is not available (the scipy-openblas32 wheel is not installed)")
    saved = {name: os.environ.get(name) for name in _BLAS_THREAD_VARIABLES}
    os.environ.update({name: saved[name] or "1" for name in _BLAS_THREAD_VARIABLES})
    try:
        check(lib.ft_lapack_load(path.encode()))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    _loaded = True


# ---- layout helpers ----

def _type_name(dtype):
    from engine._iter import _type_name as name

    return name(dtype)


def _check_matrix(name, A, square=True, arg="A"):
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type(A).__name__}")
    if len(A._shape) < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if square and A._shape[-1] != A._shape[-2]:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are {A._shape[-2]} by "
                           f"{A._shape[-1]} matrices")
    if not A._dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {_type_name(A._dtype)}")


def _fortran(A: Tensor, cols=None):
    """A (..., m, n) as a (batch, n, m) contiguous buffer: each matrix column-major. cols widens
    the buffer to (batch, cols, m) (extra columns left unset) for routines that write more."""
    from engine._views import transpose

    *batch, m, n = A._shape
    width = n if cols is None else cols
    buf = empty_tensor(tuple(batch) + (width, m), A._dtype)
    if n and m:
        dst = buf if width == n else view_of(buf, tuple(batch) + (n, m), buf._stride, buf._offset)
        copy_into(dst, transpose(A, -2, -1))
    return buf


def _unfortran(buf: Tensor):
    """The transposed view of a (..., n, m) column-major buffer: the (..., m, n) matrices."""
    from engine._views import transpose

    return transpose(buf, -2, -1)


def _batch(shape):
    return math.prod(shape[:-2])


def _ints(count):
    return empty_tensor((builtins.max(count, 1),), dt.int32)


def _info_list(info, count):
    return info.tolist()[:count] if count else []


def _batch_prefix(shape, index):
    return f"(Batch element {index}): " if len(shape) > 2 else ""


# ---- LU: det, slogdet, logdet, inv, solve ----

def _lu(A):
    """(LU buffer (batch, n, n) column-major, pivots (batch*n int32), infos)"""
    _ensure_lapack()
    n = A._shape[-1]
    count = _batch(A._shape)
    buf = _fortran(A)
    ipiv = _ints(count * n)
    info = _ints(count)
    if count and n:
        check(lib.ft_lapack_getrf(A._dtype.code, count, n, n, buf._addr, ipiv._addr, info._addr))
    return buf, ipiv, info


def _lu_diagonal_and_sign(A):
    """The diagonal of U (..., n) and the permutation's sign (...,) of A's LU."""
    from engine._views import diagonal, reshape
    from engine._factories import tensor

    buf, ipiv, info = _lu(A)
    n = A._shape[-1]
    count = _batch(A._shape)
    diag = diagonal(_unfortran(buf), 0, -2, -1)
    pivots = ipiv.tolist()[:count * n] if n else []
    signs = []
    for b in range(count):
        swaps = builtins.sum(1 for i, p in enumerate(pivots[b * n:(b + 1) * n]) if p != i + 1)
        signs.append(-1.0 if swaps % 2 else 1.0)
    sign = reshape(tensor(signs, dtype=A._dtype), A._shape[:-2]) if count else empty_tensor(A._shape[:-2], A._dtype)
    return diag, sign


@op("linalg.det", dtypes=FLOATING, family=FAMILY, aten=("linalg_det",))
def linalg_det(A, *, out=None):
    """`torch.linalg.det`: the product of U's diagonal of A = P L U, times the sign of P."""
    _check_matrix("linalg.det", A)
    from engine._ops.reduction import prod

    diag, sign = _lu_diagonal_and_sign(A)
    result = prod(diag, -1) * sign if A._shape[-1] else _ones(A._shape[:-2], A._dtype)
    return _into(result, out)


@op("det", dtypes=FLOATING, method=True, family=FAMILY, aten=("det",))
def det(input):
    """`torch.det`: alias of torch.linalg.det."""
    if isinstance(input, Tensor) and len(input._shape) >= 2 and input._shape[-1] != input._shape[-2]:
        raise RuntimeError(f"linalg.det: A must be batches of square matrices, but they are {input._shape[-2]} by "
                           f"{input._shape[-1]} matrices")
    return linalg_det(input)


def _ones(shape, dtype):
    from engine._factories import ones

    return ones(shape, dtype=dtype)


def _into(result, out):
    if out is None:
        return result
    from engine._views import resize_

    resize_(out, result._shape)
    copy_into(out, result)
    return out


def _slogdet(name, A):
    _check_matrix(name, A)
    from engine._ops.reduction import prod, sum as _sum

    if A._shape[-1] == 0:
        from engine._factories import zeros

        return _ones(A._shape[:-2], A._dtype), zeros(A._shape[:-2], dtype=A._dtype)
    diag, sign = _lu_diagonal_and_sign(A)
    sign = prod(diag.sign(), -1) * sign
    logabsdet = _sum(diag.abs().log(), -1)
    return sign, logabsdet


@op("linalg.slogdet", dtypes=FLOATING, family=FAMILY, aten=("linalg_slogdet",))
def linalg_slogdet(A, *, out=None):
    """`torch.linalg.slogdet`: (sign, log|det|) from the LU factorisation."""
    from engine import return_types

    return return_types.linalg_slogdet(_slogdet("linalg.slogdet", A))


@op("slogdet", dtypes=FLOATING, method=True, family=FAMILY, aten=("slogdet",))
def slogdet(input):
    """`torch.slogdet`: alias of torch.linalg.slogdet."""
    from engine import return_types

    return return_types.slogdet(_slogdet("linalg.slogdet", input))


@op("logdet", dtypes=FLOATING, method=True, family=FAMILY, aten=("logdet",))
def logdet(input):
    """`torch.logdet`: log(det), NaN for a negative determinant, -inf for a singular matrix."""
    from engine._ops.elementwise_select import where

    sign, logabsdet = linalg_slogdet(input)
    return where(sign == -1, float("nan"), logabsdet)


def _raise_singular_inv(A, info):
    for b, code in enumerate(info):
        if code > 0:
            raise LinAlgError(f"linalg.inv: {_batch_prefix(A._shape, b)}The diagonal element {code} is zero, the "
                              "inversion could not be completed because the input matrix is singular.")


@op("linalg.inv", dtypes=FLOATING, family=FAMILY, aten=("linalg_inv",))
def linalg_inv(A, *, out=None):
    """`torch.linalg.inv` (getrf + getri); a singular matrix raises torch.linalg.LinAlgError."""
    _check_matrix("linalg.inv", A)
    n = A._shape[-1]
    count = _batch(A._shape)
    buf, ipiv, info = _lu(A)
    if count and n:
        _raise_singular_inv(A, _info_list(info, count))
        check(lib.ft_lapack_getri(A._dtype.code, count, n, buf._addr, ipiv._addr, info._addr))
        _raise_singular_inv(A, _info_list(info, count))
    return _into(_unfortran(buf), out)


@op("inverse", dtypes=FLOATING, method=True, family=FAMILY, aten=("inverse",))
def inverse(input, *, out=None):
    """`torch.inverse`: alias of torch.linalg.inv."""
    return linalg_inv(input, out=out)


def _is_vector_rhs(A, B):
    return len(B._shape) == 1 or (len(B._shape) == len(A._shape) - 1 and B._shape == A._shape[:-1])


@op("linalg.solve", dtypes=FLOATING, family=FAMILY, aten=("linalg_solve",))
def linalg_solve(A, B, *, left=True, out=None):
    """`torch.linalg.solve`: X with A X = B (left) or X A = B, by LU (getrf + getrs)."""
    from engine._shape import broadcast_shapes
    from engine._views import expand, transpose, unsqueeze, squeeze

    _check_matrix("linalg.solve", A)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg_solve(): argument 'B' (position 2) must be Tensor, not {type(B).__name__}")
    if B._dtype is not A._dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_type_name(A._dtype)} and B of type {_type_name(B._dtype)} instead")
    if not left:
        X = linalg_solve(transpose(A, -2, -1), transpose(B, -2, -1))
        return _into(transpose(X, -2, -1), out)
    vector = _is_vector_rhs(A, B)
    Bm = unsqueeze(B, -1) if vector else B
    n = A._shape[-1]
    if Bm._shape[-2] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({A._shape[-2]}x{A._shape[-1]} and {Bm._shape[-2]}x{Bm._shape[-1]})")
    batch = broadcast_shapes(A._shape[:-2], Bm._shape[:-2])
    A = expand(A, *(tuple(batch) + A._shape[-2:]))
    Bm = expand(Bm, *(tuple(batch) + Bm._shape[-2:]))
    nrhs = Bm._shape[-1]
    count = math.prod(batch)
    lu, ipiv, info = _lu(A)
    xb = _fortran(Bm)
    if count and n:
        if builtins.any(code > 0 for code in _info_list(info, count)):
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.")
        if nrhs:
            check(lib.ft_lapack_getrs(A._dtype.code, count, n, nrhs, lu._addr, ipiv._addr, xb._addr, info._addr))
    X = _unfortran(xb)
    if vector:
        X = squeeze(X, -1)
        if len(X._shape) >= 2:  # torch's batched vector result is column-major in its last two dims
            X = _unfortran(_fortran(X))
    return _into(X, out)


# ---- Cholesky ----

def _tri_mask(n, lower):
    from engine._factories import arange
    from engine._views import reshape

    rows = reshape(arange(n), (n, 1))
    cols = arange(n)
    return cols <= rows if lower else cols >= rows


@op("linalg.cholesky", dtypes=FLOATING, family=FAMILY, aten=("linalg_cholesky",))
def linalg_cholesky(A, *, upper=False, out=None):
    """`torch.linalg.cholesky`: L (or U) with A = L L^H; not positive-definite raises LinAlgError."""
    from engine._ops.elementwise_select import where

    _check_matrix("linalg.cholesky", A)
    _ensure_lapack()
    n = A._shape[-1]
    count = _batch(A._shape)
    buf = _fortran(A)
    info = _ints(count)
    if count and n:
        # LAPACK's lower factor of the column-major matrix
        check(lib.ft_lapack_potrf(A._dtype.code, count, n, 1 if upper else 0, buf._addr, info._addr))
        for b, code in enumerate(_info_list(info, count)):
            if code > 0:
                raise LinAlgError(f"linalg.cholesky: {_batch_prefix(A._shape, b)}The factorization could not be "
                                  "completed because the input is not positive-definite (the leading minor of order "
                                  f"{code} is not positive-definite).")
    L = _unfortran(buf)
    if n:
        L = where(_tri_mask(n, not upper), L, 0.0)
        if not _contiguous_f(L):
            L = _unfortran(_fortran(L))
    return _into(L, out)


def _contiguous_f(t):
    from engine._shape import is_contiguous
    from engine._views import transpose

    tt = transpose(t, -2, -1)
    return is_contiguous(tt._shape, tt._stride)


@op("cholesky", dtypes=FLOATING, method=True, family=FAMILY, aten=("cholesky",))
def cholesky(input, upper=False, *, out=None):
    """`torch.cholesky` (deprecated in torch): torch.linalg.cholesky with its upper flag."""
    import warnings

    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.", UserWarning, stacklevel=2)
    return linalg_cholesky(input, upper=upper, out=out)


# ---- QR ----

@op("linalg.qr", dtypes=FLOATING, family=FAMILY, aten=("linalg_qr",))
def linalg_qr(A, mode="reduced", *, out=None):
    """`torch.linalg.qr`: modes 'reduced', 'complete' and 'r' (geqrf + orgqr)."""
    from engine import return_types
    from engine._ops.elementwise_select import where
    from engine._views import narrow

    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    _check_matrix("linalg.qr", A, square=False)
    _ensure_lapack()
    *batch, m, n = A._shape
    k = builtins.min(m, n)
    count = _batch(A._shape)
    qcols = m if mode == "complete" else k
    buf = _fortran(A)
    tau = empty_tensor((count, builtins.max(k, 1)), A._dtype)
    info = _ints(count)
    if count and m and n:
        check(lib.ft_lapack_geqrf(A._dtype.code, count, m, n, buf._addr, tau._addr, info._addr))
    full = _unfortran(buf)  # (..., m, n): R above the diagonal, reflectors below
    rrows = m if mode == "complete" else k
    R = narrow(full, -2, 0, rrows)
    if rrows and n:
        R = where(_tri_mask_rect(rrows, n), R, 0.0)
    R = _unfortran(_fortran(R))
    if mode == "r":
        return return_types.linalg_qr((empty_tensor((0,), A._dtype), R))
    qbuf = empty_tensor(tuple(batch) + (qcols, m), A._dtype)
    if count and m and qcols:
        if k:
            copy_into(narrow(qbuf, -2, 0, k), narrow(buf, -2, 0, k))
            check(lib.ft_lapack_orgqr(A._dtype.code, count, m, qcols, k, qbuf._addr, tau._addr, info._addr))
        else:
            from engine._factories import eye

            copy_into(_unfortran(qbuf), eye(m, qcols, dtype=A._dtype))
    Q = _unfortran(qbuf)
    return return_types.linalg_qr((Q, R))


def _tri_mask_rect(rows, cols):
    from engine._factories import arange
    from engine._views import reshape

    return arange(cols) >= reshape(arange(rows), (rows, 1))


# ---- symmetric eigen-decomposition ----

def _eigh(name, A, UPLO, vectors):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _check_matrix(name, A)
    _ensure_lapack()
    n = A._shape[-1]
    count = _batch(A._shape)
    buf = _fortran(A)
    w = empty_tensor(A._shape[:-1], A._dtype)
    info = _ints(count)
    if count and n:
        check(lib.ft_lapack_syevd(A._dtype.code, count, n, 1 if UPLO == "U" else 0, 1 if vectors else 0,
                                  buf._addr, w._addr, info._addr))
        for b, code in enumerate(_info_list(info, count)):
            if code > 0:
                raise LinAlgError(f"{name}: {_batch_prefix(A._shape, b)}The algorithm failed to converge because the "
                                  f"input matrix is ill-conditioned or has too many repeated eigenvalues (error code: "
                                  f"{code}).")
    return w, _unfortran(buf)


@op("linalg.eigh", dtypes=FLOATING, family=FAMILY, aten=("linalg_eigh",))
def linalg_eigh(A, UPLO="L", *, out=None):
    """`torch.linalg.eigh`: ascending eigenvalues and orthonormal eigenvectors (columns)."""
    from engine import return_types

    return return_types.linalg_eigh(_eigh("linalg.eigh", A, UPLO, True))


@op("linalg.eigvalsh", dtypes=FLOATING, family=FAMILY, aten=("linalg_eigvalsh",))
def linalg_eigvalsh(A, UPLO="L", *, out=None):
    """`torch.linalg.eigvalsh`: the eigenvalues of linalg.eigh."""
    w, _ = _eigh("linalg.eigvalsh", A, UPLO, False)
    return _into(w, out)


# ---- SVD ----

def _svd(name, A, job):
    _check_matrix(name, A, square=False)
    _ensure_lapack()
    *batch, m, n = A._shape
    k = builtins.min(m, n)
    count = _batch(A._shape)
    buf = _fortran(A)
    s = empty_tensor(tuple(batch) + (k,), A._dtype)
    ucols = m if job == "A" else k
    vrows = n if job == "A" else k
    u = empty_tensor(tuple(batch) + (ucols, m), A._dtype)
    vt = empty_tensor(tuple(batch) + (n, vrows), A._dtype)
    info = _ints(count)
    if count and m and n:
        check(lib.ft_lapack_gesdd(A._dtype.code, count, m, n, ord(job), buf._addr, s._addr, u._addr, vt._addr,
                                  info._addr))
        for b, code in enumerate(_info_list(info, count)):
            if code > 0:
                raise LinAlgError(f"{name}: {_batch_prefix(A._shape, b)}The algorithm failed to converge because the "
                                  f"input matrix is ill-conditioned or has too many repeated singular values (error "
                                  f"code: {code}).")
    elif job != "N" and count:
        from engine._factories import eye

        if ucols and m:
            copy_into(_unfortran(u), eye(m, ucols, dtype=A._dtype).expand(*(tuple(batch) + (m, ucols))))
        if vrows and n:
            copy_into(_unfortran(vt), eye(vrows, n, dtype=A._dtype).expand(*(tuple(batch) + (vrows, n))))
    return _unfortran(u), s, _unfortran(vt)


@op("linalg.svd", dtypes=FLOATING, family=FAMILY, aten=("linalg_svd",))
def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """`torch.linalg.svd`: U, S, Vh with A = U diag(S) Vh (gesdd)."""
    from engine import return_types

    return return_types.linalg_svd(_svd("linalg.svd", A, "A" if full_matrices else "S"))


@op("linalg.svdvals", dtypes=FLOATING, family=FAMILY, aten=("linalg_svdvals",))
def linalg_svdvals(A, *, driver=None, out=None):
    """`torch.linalg.svdvals`: the singular values, descending."""
    _, S, _ = _svd("linalg.svd", A, "N")
    return _into(S, out)


@op("svd", dtypes=FLOATING, method=True, family=FAMILY, aten=("svd",))
def svd(input, some=True, compute_uv=True, *, out=None):
    """`torch.svd` (deprecated in torch): U, S, V (not Vh); zero U and V when compute_uv=False."""
    from engine import return_types
    from engine._views import transpose

    U, S, Vh = _svd("linalg.svd", input, "S" if some else "A")
    V = transpose(Vh, -2, -1)
    if not compute_uv:
        from engine._factories import zeros_like

        U, V = zeros_like(U), zeros_like(V)
    return return_types.svd((U, S, V))


# ---- matrix norms ----

@op("linalg.matrix_norm", dtypes=FLOATING, family=FAMILY, aten=("linalg_matrix_norm",))
def linalg_matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """`torch.linalg.matrix_norm`: 'fro', 'nuc', inf, -inf, 1, -1, 2, -2 over two dims."""
    from engine._ops.reduction import amax, amin, sum as _sum
    from engine._shape import wrap_dim
    from engine._views import movedim, unsqueeze

    if not isinstance(A, Tensor):
        raise TypeError(f"linalg_matrix_norm(): argument 'input' (position 1) must be Tensor, not {type(A).__name__}")
    if len(A._shape) < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if dtype is not None:
        A = A.to(dtype)
    if not A._dtype.is_floating_point:
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(A._dtype)}")
    d0, d1 = (wrap_dim(d, len(A._shape)) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if isinstance(ord, str):
        if ord == "fro":
            from engine._ops.reduction import vector_norm

            return vector_norm(A, 2, (d0, d1), keepdim, out=out)
        if ord != "nuc":
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    elif ord not in (1, -1, 2, -2, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {_fmt_ord(ord)} not supported.")
    if ord != "nuc" and (A._shape[d0] == 0 or A._shape[d1] == 0):
        # torch: the max / min over no singular values or no rows of an empty matrix is 0
        from engine._factories import zeros

        shape = [1 if d in (d0, d1) else s for d, s in enumerate(A._shape)]
        if not keepdim:
            shape = [s for d, s in enumerate(shape) if d not in (d0, d1)]
        return _into(zeros(tuple(shape), dtype=A._dtype), out)
    if ord in ("nuc", 2, -2):
        moved = movedim(A, (d0, d1), (-2, -1))
        S = linalg_svdvals(moved)
        if ord == "nuc":
            result = _sum(S, -1)
        else:
            result = amax(S, -1) if ord == 2 else amin(S, -1)
        if keepdim:
            for d in sorted((d0, d1)):
                result = unsqueeze(result, d)
        return _into(result, out)
    # torch: the 1-norm of each column, then max / min over the columns (inf: the transpose)
    from engine._ops.reduction import vector_norm

    first, second = (d0, d1) if ord in (1, -1) else (d1, d0)
    if not keepdim and first < second:
        second -= 1
    sums = vector_norm(A, 1.0, (first,), keepdim)
    result = amax(sums, second, keepdim) if ord > 0 else amin(sums, second, keepdim)
    return _into(result, out)


def _fmt_ord(ord):
    return str(ord)


@op("linalg.norm", dtypes=FLOATING, family=FAMILY, aten=("linalg_norm",))
def linalg_norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """`torch.linalg.norm`: a matrix norm for a string ord or two dims with an ord, else a vector norm."""
    from engine._ops.reduction import vector_norm

    if isinstance(dim, builtins.int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got "
                               f"[{', '.join(map(str, dim))}]")
    elif ord is not None and A.dim() not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{A.dim()}D.")
    if isinstance(ord, str) or (ord is not None and ((dim is not None and len(dim) == 2) or (dim is None and A.dim() == 2))):
        return linalg_matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype=dtype, out=out)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


@op("qr", dtypes=FLOATING, method=True, family=FAMILY, aten=("qr",))
def qr(input, some=True, *, out=None):
    """`torch.qr` (deprecated in torch): linalg.qr with mode 'reduced' (some=True) or 'complete'."""
    import warnings

    from engine import return_types

    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                  "release.", UserWarning, stacklevel=2)

    return return_types.qr(tuple(linalg_qr(input, "reduced" if some else "complete")))


@op("linalg.lstsq", dtypes=FLOATING, family=FAMILY, aten=("linalg_lstsq",))
def linalg_lstsq(A, B, rcond=None, *, driver=None):
    """`torch.linalg.lstsq` with torch's CPU default driver 'gelsy' (complete orthogonal factorisation
    with column pivoting): solution and rank; residuals and singular_values are empty, as in torch."""
    from engine import return_types
    from engine._shape import broadcast_shapes
    from engine._views import expand, narrow, squeeze, unsqueeze

    if driver is None:
        driver = "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    _check_matrix("torch.linalg.lstsq", A, square=False)
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg_lstsq(): argument 'b' (position 2) must be Tensor, not {type(B).__name__}")
    if B._dtype is not A._dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {_type_name(A._dtype)} and other's dtype {_type_name(B._dtype)}")
    vector = len(B._shape) == len(A._shape) - 1  # torch's rule for lstsq: one dim fewer is a vector
    Bm = unsqueeze(B, -1) if vector else B
    if len(Bm._shape) < 2:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    m, n = A._shape[-2], A._shape[-1]
    if Bm._shape[-2] != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    a_batch = tuple(A._shape[:-2])
    batch = broadcast_shapes(A._shape[:-2], Bm._shape[:-2])
    A = expand(A, *(tuple(batch) + (m, n)))
    nrhs = Bm._shape[-1]
    Bm = expand(Bm, *(tuple(batch) + (m, nrhs)))
    count = math.prod(batch)
    if rcond is None:
        rcond = (1.1920928955078125e-07 if A._dtype is dt.float32 else 2.220446049250313e-16) * builtins.max(m, n)
    _ensure_lapack()
    ldb = builtins.max(m, n)
    abuf = _fortran(A)
    from engine._factories import zeros

    bbuf = zeros(tuple(batch) + (nrhs, ldb), dtype=A._dtype)
    if m and nrhs:
        copy_into(narrow(_unfortran(bbuf), -2, 0, m), Bm)
    rank = empty_tensor(tuple(batch), dt.int64)
    info = _ints(count)
    if count and nrhs and m and n:
        check(lib.ft_lapack_gelsy(A._dtype.code, count, m, n, nrhs, abuf._addr, bbuf._addr, float(rcond),
                                  rank._addr, info._addr))
    elif count:
        from engine._iter import fill

        fill(rank, 0)
    X = narrow(_unfortran(bbuf), -2, 0, n)
    if vector:
        X = squeeze(X, -1)
    if a_batch != tuple(batch):  # torch reports one rank per matrix of A, before broadcasting
        from engine._views import reshape

        lead = len(batch) - len(a_batch)
        index = tuple(0 if i < lead or (a_batch[i - lead] == 1 and batch[i] != 1) else slice(None)
                      for i in range(len(batch)))
        rank = reshape(rank[index].contiguous(), a_batch)
    # The solution is gelsy's for every driver (the same least-squares solution for full-rank A;
    # the minimum-norm one otherwise). The other outputs follow the driver, as in torch:
    # gels has no rank, gelsd / gelss report the singular values and the rank they give, and every
    # driver but gelsy reports the squared residuals when m > n and each matrix has full rank.
    singular_values = empty_tensor((0,), A._dtype)
    if driver in ("gelsd", "gelss"):
        A_orig = narrow_batch(A, a_batch, batch)
        singular_values = linalg_svdvals(A_orig)
        if singular_values._shape[-1]:
            cutoff = singular_values.amax(-1, keepdim=True) * float(rcond)
            rank = (singular_values > cutoff).sum(-1)
        else:
            from engine._factories import zeros as _zeros

            rank = _zeros(a_batch, dtype=dt.int64)
    elif driver == "gels":
        rank = empty_tensor((0,), dt.int64)
    residuals = empty_tensor((0,), A._dtype)
    if driver != "gelsy" and m > n and n:
        full_rank = rank if driver != "gels" else None
        if full_rank is None or bool((full_rank == n).all()):
            Xm = narrow(_unfortran(bbuf), -2, 0, n)
            residuals = ((A @ Xm - Bm) ** 2).sum(-2)
    return return_types.linalg_lstsq((X, residuals, rank, singular_values))


def narrow_batch(A, a_batch, batch):
    """A broadcast to batch, back at its own batch a_batch (the first of each broadcast dim)."""
    if tuple(a_batch) == tuple(batch):
        return A
    from engine._views import reshape

    lead = len(batch) - len(a_batch)
    index = tuple(0 if i < lead or (a_batch[i - lead] == 1 and batch[i] != 1) else slice(None)
                  for i in range(len(batch)))
    return reshape(A[index].contiguous(), tuple(a_batch) + tuple(A._shape[-2:]))
