"""Derivative rules of the linear-algebra family added with LAPACK (engine/_ops/einsum.py,
engine/_ops/linalg_lapack.py) and of the random ops: torch's node names and formulas
(tools/autograd/derivatives.yaml)."""
from __future__ import annotations

from engine.autograd.derivatives import _arg, composite, rule

# CompositeImplicit in torch: differentiable through the ops they call
composite("einsum", "tensordot", "nn.functional.dropout")


@rule("trace", name="TraceBackward0", keep=lambda values: {"trace_shape": tuple(_arg(values, 0)._shape)})
def _trace(ctx, grad):
    import engine

    n, m = ctx._values["trace_shape"]
    return engine.eye(n, m, dtype=grad.dtype) * grad


# ---- LAPACK-backed ops (torch's formulas in torch/csrc/autograd/FunctionsManual.cpp) ----

def _e():
    import engine

    return engine


def _eye_like(n, like):
    return _e().eye(n, dtype=like.dtype)


@rule("linalg.inv", "inverse", save=("result",), name="LinalgInvExBackward0")
def _inv(ctx, grad):
    # gA = -A^{-H} g A^{-H}
    inv_t = ctx.result.mT
    return -(inv_t @ grad @ inv_t)


@rule("linalg.det", "det", save=(0, "result"), name="LinalgDetBackward0")
def _det(ctx, grad):
    # gA = (g det) A^{-H}, through a solve with A^H
    A, det = ctx.saved(0), ctx.result
    if A.shape[-1] == 0:
        return A * 0
    scale = (grad * det).unsqueeze(-1).unsqueeze(-1)
    n = A.shape[-1]
    return _e().linalg.solve(A.mT, _eye_like(n, A).expand(*A.shape) * scale)


@rule("linalg.slogdet", "slogdet", save=(0,), outputs=(0, 1), name="LinalgSlogdetBackward0")
def _slogdet(ctx, grad_sign, grad_logabsdet):
    A = ctx.saved(0)  # the sign of a real matrix is piecewise constant: no gradient through it
    if grad_logabsdet is None or A.shape[-1] == 0:
        return A * 0
    n = A.shape[-1]
    scale = grad_logabsdet.unsqueeze(-1).unsqueeze(-1)
    return _e().linalg.solve(A.mT, _eye_like(n, A).expand(*A.shape) * scale)


composite("logdet", "linalg.matrix_norm", "linalg.norm")


def _solve_name(values):
    return "LinalgSolveExBackward0"


@rule("linalg.solve", inputs=(0, 1), save=(0, "result"), name="LinalgSolveExBackward0",
      keep=lambda values: {"solve_left": values.get("left", True),
                           "solve_vector": _is_vector(_arg(values, 0), _arg(values, 1))})
def _solve(ctx, grad):
    A, X = ctx.saved(0), ctx.result
    left, vector = ctx._values["solve_left"], ctx._values["solve_vector"]
    engine = _e()
    gB = engine.linalg.solve(A.mT, grad, left=left)
    gA = None
    if ctx.needs_input_grad[0]:
        if vector:
            gA = -(gB.unsqueeze(-1) @ X.unsqueeze(-2))
        elif left:
            gA = -(gB @ X.mT)
        else:
            gA = -(X.mT @ gB)
    return gA, (gB if ctx.needs_input_grad[1] else None)


def _is_vector(A, B):
    return B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def _tril(x, lower=True, strict=False):
    engine = _e()
    n, m = x.shape[-2], x.shape[-1]
    rows = engine.arange(n).reshape(n, 1)
    cols = engine.arange(m)
    if lower:
        mask = cols < rows if strict else cols <= rows
    else:
        mask = cols > rows if strict else cols >= rows
    return engine.where(mask, x, 0.0)


@rule("linalg.cholesky", "cholesky", save=("result",),
      name=lambda values: "CholeskyBackward0" if "input" in values else "LinalgCholeskyExBackward0",
      keep=lambda values: {"chol_upper": bool(values.get("upper", False))})
def _cholesky(ctx, grad):
    engine = _e()
    upper = ctx._values["chol_upper"]
    L = ctx.result.mT if upper else ctx.result
    gL = grad.mT if upper else grad
    gA = _tril(L.mT @ gL)
    gA = 0.5 * (gA + _tril(gA, strict=True).mT)
    L_inv = engine.linalg.inv(L)
    return L_inv.mT @ gA @ L_inv


@rule("linalg.svdvals", save=(0,), name="LinalgSvdBackward0")
def _svdvals(ctx, grad):
    # the factors come from a differentiable svd, so the double backward sees through them
    A = ctx.saved(0)
    U, _, Vh = _e().linalg.svd(A, full_matrices=False)
    m, n = A.shape[-2], A.shape[-1]
    return U @ (grad.unsqueeze(-1) * Vh) if m >= n else (U * grad.unsqueeze(-2)) @ Vh


@rule("linalg.eigh", save=("result", "result1"), outputs=(0, 1), name="LinalgEighBackward0")
def _eigh(ctx, grad_L, grad_V):
    L, V = ctx.result, ctx.result1
    engine = _e()
    n = L.shape[-1]
    eye = engine.eye(n, dtype=L.dtype)
    if grad_V is None:
        return (V * grad_L.unsqueeze(-2)) @ V.mT
    VhgV = V.mT @ grad_V
    VhgV = 0.5 * (VhgV - VhgV.mT)
    E = L.unsqueeze(-2) - L.unsqueeze(-1) + eye
    inner = VhgV / E * (1 - eye)
    if grad_L is not None:
        inner = inner + grad_L.unsqueeze(-1) * eye
    return V @ (inner @ V.mT)


@rule("linalg.eigvalsh", save=(0,), name="LinalgEighBackward0")
def _eigvalsh(ctx, grad):
    _, V = _e().linalg.eigh(ctx.saved(0))
    return (V * grad.unsqueeze(-2)) @ V.mT


@rule("linalg.svd", save=("result", "result1", "result2"), outputs=(0, 1, 2), name="LinalgSvdBackward0",
      keep=lambda values: {"svd_shape": tuple(_arg(values, 0).shape)})
def _svd(ctx, gU, gS, gVh):
    U, S, Vh = ctx.result, ctx.result1, ctx.result2
    return _svd_backward(ctx._values["svd_shape"], gU, gS, gVh, U, S, Vh)


def _svd_backward(shape, gU, gS, gVh, U, S, Vh):
    """torch's svd_backward (FunctionsManual.cpp) for real inputs, on the reduced factors."""
    engine = _e()
    m, n = shape[-2], shape[-1]
    k = min(m, n)
    if U.shape[-1] != k:  # full_matrices=True: only the first k singular vectors carry gradient
        U = U.narrow(-1, 0, k)
        gU = None if gU is None else gU.narrow(-1, 0, k)
    if Vh.shape[-2] != k:
        Vh = Vh.narrow(-2, 0, k)
        gVh = None if gVh is None else gVh.narrow(-2, 0, k)
    if gU is None and gVh is None:
        if gS is None:
            return None
        return U @ (gS.unsqueeze(-1) * Vh) if m >= n else (U * gS.unsqueeze(-2)) @ Vh
    V = Vh.mT
    gV = None if gVh is None else gVh.mT
    eye = engine.eye(k, dtype=S.dtype)
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + eye
    gA = None
    if gU is not None:
        UhgU = U.mT @ gU
        gA = (UhgU - UhgU.mT) * S.unsqueeze(-2)
    if gV is not None:
        VhgV = Vh @ gV
        term = S.unsqueeze(-1) * (VhgV - VhgV.mT)
        gA = term if gA is None else gA + term
    gA = gA / E
    if gS is not None:
        gA = gA + gS.unsqueeze(-1) * eye
    if m > n and gU is not None:
        gA = U @ gA
        gUSinv = gU / S.unsqueeze(-2)
        gA = gA + gUSinv - U @ (U.mT @ gUSinv)
        return gA @ Vh
    if m < n and gV is not None:
        gA = gA @ Vh
        gVSinv = gV / S.unsqueeze(-2)
        gA = gA + gVSinv.mT - (gVSinv.mT @ V) @ Vh
        return U @ gA
    return U @ (gA @ Vh) if m >= n else (U @ gA) @ Vh


@rule("linalg.qr", "qr", save=("result", "result1"), outputs=(0, 1), name="LinalgQrBackward0",
      keep=lambda values: {"qr_mode": values.get("mode", "reduced") if "some" not in values
                           else ("reduced" if values["some"] else "complete")})
def _qr(ctx, gQ, gR):
    """torch's linalg_qr_backward for real inputs."""
    engine = _e()
    mode = ctx._values["qr_mode"]
    Q, R = ctx.result, ctx.result1
    if mode == "r":
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                           "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    m, n = Q.shape[-2], R.shape[-1]
    if mode != "reduced" and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    if gQ is None and gR is None:
        return None
    if gQ is not None:
        gA = -(Q.mT @ gQ) if gR is None else gR @ R.mT - Q.mT @ gQ
    else:
        gA = gR @ R.mT
    if m >= n:
        sym = _tril(gA, lower=False)
        eye = engine.eye(sym.shape[-1], dtype=sym.dtype)
        sym = sym + sym.mT
        sym = sym - 0.5 * sym * eye
        gA = Q @ sym
        if gQ is not None:
            gA = gA + gQ
        return engine.linalg.solve(R.mT, gA, left=False)
    X = -gA
    skew = _tril(X - X.mT)
    gA = Q @ skew
    gA = engine.linalg.solve(R.narrow(-1, 0, m).mT, gA, left=False)
    gA = gA @ engine.eye(m, n, dtype=gA.dtype)  # zero columns for the last n - m
    if gR is not None:
        gA = gA + Q @ gR
    return gA


@rule("svd", save=("result", "result1", "result2"), outputs=(0, 1, 2), name="LinalgSvdBackward0",
      keep=lambda values: {"svd_shape": tuple(_arg(values, 0).shape)})
def _svd_legacy(ctx, gU, gS, gV):
    """torch.svd returns V: the same backward with Vh = V^T."""
    U, S, V = ctx.result, ctx.result1, ctx.result2
    return _svd_backward(ctx._values["svd_shape"], gU, gS, None if gV is None else gV.mT, U, S, V.mT)


# ---- random ops (torch: derivatives.yaml) ----

def _is_tensor_arg(values, position, name):
    from engine._tensor import Tensor

    value = values.get(name, _arg(values, position) if position is not None else None)
    return isinstance(value, Tensor)


@rule("bernoulli", name=lambda values: "BernoulliBackward0" if values.get("p") is None else "BernoulliBackward1")
def _bernoulli(ctx, grad):
    return grad * 0  # the samples do not depend on p differentiably


def _normal_name(values):
    from engine._tensor import Tensor

    mean_t, std_t = isinstance(values.get("mean"), Tensor), isinstance(values.get("std"), Tensor)
    return "NormalBackward3" if mean_t and std_t else ("NormalBackward1" if mean_t else "NormalBackward2")


@rule("normal", inputs=(0, 1), name=_normal_name,
      keep=lambda values: {"normal_mean": values.get("mean"), "normal_std": values.get("std")})
def _normal(ctx, grad):
    # derivatives.yaml: zero gradients for the tensor mean and std (the sample is not reparametrised)
    from engine._tensor import Tensor

    mean, std = ctx._values["normal_mean"], ctx._values["normal_std"]
    return (grad * 0 if isinstance(mean, Tensor) else None), (grad * 0 if isinstance(std, Tensor) else None)


def _pinv(A):
    engine = _e()
    U, S, Vh = engine.linalg.svd(A, full_matrices=False)
    if S.shape[-1] == 0:
        return A.mT * 0
    eps = 1.1920928955078125e-07 if A.dtype == engine.float32 else 2.220446049250313e-16
    cutoff = S.amax(-1, keepdim=True) * (max(A.shape[-2], A.shape[-1]) * eps)
    S_inv = engine.where(S > cutoff, 1 / S, 0.0)
    return (Vh.mT * S_inv.unsqueeze(-2)) @ U.mT


def _pinv_backward(grad, pinvA, A):
    """torch's pinv_backward (FunctionsManual.cpp)."""
    m, n = A.shape[-2], A.shape[-1]
    pinvAh, gradh = pinvA.mT, grad.mT
    if m <= n:
        K = gradh @ pinvA
        KpinvAh = K @ pinvAh
        return -(pinvA @ K).mT + KpinvAh - (A @ pinvA) @ KpinvAh + (pinvAh @ pinvA) @ (gradh - K @ A)
    K = pinvA @ gradh
    pinvAhK = pinvAh @ K
    return -(K @ pinvA).mT + pinvAhK - (pinvAhK @ pinvA) @ A + (gradh - A @ K) @ (pinvA @ pinvAh)


@rule("linalg.lstsq", inputs=(0, 1), save=(0, 1, "result"), outputs=(0, 1), name="LinalgLstsqBackward0")
def _lstsq(ctx, grad, grad_residuals):
    """torch's linalg_lstsq_backward: the solution through the pseudo-inverse of A; the residuals
    ||A X - B||^2 (stationary in X at the solution) through A and B directly."""
    A, B, X = ctx.saved(0), ctx.saved(1), ctx.result
    vector = B.dim() == A.dim() - 1
    Bm = B.unsqueeze(-1) if vector else B
    Xm = X.unsqueeze(-1) if vector else X
    gA = gB = None
    if grad is not None:
        gX = grad.unsqueeze(-1) if vector else grad
        pinvA = _pinv(A)
        if ctx.needs_input_grad[0]:
            gA = _pinv_backward(gX @ Bm.mT, pinvA, A)
        if ctx.needs_input_grad[1]:
            gB = pinvA.mT @ gX
    if grad_residuals is not None and grad_residuals.numel():
        weighted = 2 * (A @ Xm - Bm) * grad_residuals.unsqueeze(-2)
        if ctx.needs_input_grad[0]:
            part = weighted @ Xm.mT
            gA = part if gA is None else gA + part
        if ctx.needs_input_grad[1]:
            gB = -weighted if gB is None else gB - weighted
    if gB is not None and vector:
        gB = gB.squeeze(-1)
    return gA, gB
