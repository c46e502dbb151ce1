"""LAPACK-backed linear algebra against torch: values, layouts, errors and gradients."""
import numpy as np
import pytest
import torch

import engine

RNG = np.random.default_rng(1234)


def pair(x):
    return engine.from_numpy(x.copy()), torch.from_numpy(x.copy())


def close(a, t, tol):
    a = a if isinstance(a, tuple) else (a,)
    t = t if isinstance(t, tuple) else (t,)
    assert len(a) == len(t)
    for x, y in zip(a, t):
        assert tuple(x.shape) == tuple(y.shape)
        assert x.dtype.name == str(y.dtype).split(".")[1]
        np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=tol, atol=tol, equal_nan=True)
        if x.numel() > 1:  # strides of the dims that have more than one element
            assert [st for st, n in zip(x.stride(), x.shape) if n > 1] == [st for st, n in zip(y.stride(), y.shape) if n > 1]


def square(shape, dtype):
    return RNG.standard_normal(shape).astype(dtype)


def spd(shape, dtype):
    a = RNG.standard_normal(shape)
    return (a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])).astype(dtype)


TOL = {"float32": 1e-4, "float64": 1e-10}
SHAPES = [(1, 1), (3, 3), (5, 5), (2, 4, 4), (2, 3, 2, 2), (0, 3, 3)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
def test_lu_family(shape, dtype):
    e, t = pair(square(shape, dtype))
    tol = TOL[dtype]
    close(engine.linalg.det(e), torch.linalg.det(t), tol)
    close(engine.det(e), torch.det(t), tol)
    close(engine.linalg.slogdet(e), torch.linalg.slogdet(t), tol)
    close(engine.slogdet(e), torch.slogdet(t), tol)
    close(engine.logdet(e), torch.logdet(t), tol)
    close(engine.linalg.inv(e), torch.linalg.inv(t), tol * 10)
    close(engine.inverse(e), torch.inverse(t), tol * 10)
    b = square(shape[:-1] + (2,), dtype)
    eb, tb = pair(b)
    close(engine.linalg.solve(e, eb), torch.linalg.solve(t, tb), tol * 10)
    close(engine.linalg.solve(e, eb[..., 0]), torch.linalg.solve(t, tb[..., 0]), tol * 10)
    close(engine.linalg.solve(e, eb.mT, left=False), torch.linalg.solve(t, tb.mT, left=False), tol * 10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
def test_symmetric_family(shape, dtype):
    e, t = pair(spd(shape, dtype))
    tol = TOL[dtype] * 10
    close(engine.linalg.cholesky(e), torch.linalg.cholesky(t), tol)
    close(engine.linalg.cholesky(e, upper=True), torch.linalg.cholesky(t, upper=True), tol)
    close(engine.linalg.eigvalsh(e), torch.linalg.eigvalsh(t), tol)
    close(engine.linalg.eigvalsh(e, UPLO="U"), torch.linalg.eigvalsh(t, UPLO="U"), tol)
    w, v = engine.linalg.eigh(e)
    tw, tv = torch.linalg.eigh(t)
    close(w, tw, tol)
    # eigenvectors up to sign: compare |V| and the reconstruction
    np.testing.assert_allclose(np.abs(v.numpy()), np.abs(tv.numpy()), rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose((v @ engine.diag_embed(w) @ v.mT).numpy() if hasattr(engine, "diag_embed") else
                               (v * w.unsqueeze(-2) @ v.mT).numpy(), t.numpy(), rtol=tol * 10, atol=tol * 10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 5, 2), (1, 6), (0, 3), (3, 0), (2, 0, 0)])
def test_qr_svd(shape, dtype):
    e, t = pair(square(shape, dtype))
    tol = TOL[dtype] * 10
    for mode in ("reduced", "complete", "r"):
        close(engine.linalg.qr(e, mode), torch.linalg.qr(t, mode), tol)
    close(engine.linalg.svdvals(e), torch.linalg.svdvals(t), tol)
    for full in (True, False):
        U, S, Vh = engine.linalg.svd(e, full_matrices=full)
        tU, tS, tVh = torch.linalg.svd(t, full_matrices=full)
        close(S, tS, tol)
        assert U.shape == tU.shape and Vh.shape == tVh.shape and U.stride() == tU.stride()
        k = min(shape[-2], shape[-1])
        np.testing.assert_allclose(((U[..., :k] * S.unsqueeze(-2)) @ Vh[..., :k, :]).numpy(), t.numpy(),
                                   rtol=tol * 10, atol=tol * 10)
    U, S, V = engine.svd(e)
    assert tuple(V.shape) == tuple(torch.svd(t)[2].shape)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm(ord, keepdim):
    e, t = pair(square((2, 3, 4), "float64"))
    close(engine.linalg.matrix_norm(e, ord, keepdim=keepdim), torch.linalg.matrix_norm(t, ord, keepdim=keepdim), 1e-10)
    close(engine.linalg.matrix_norm(e, ord, dim=(2, 0), keepdim=keepdim),
          torch.linalg.matrix_norm(t, ord, dim=(2, 0), keepdim=keepdim), 1e-10)
    close(engine.linalg.norm(e[0], ord), torch.linalg.norm(t[0], ord), 1e-10)
    if ord == "nuc":
        close(engine.norm(e, "nuc", dim=(0, 2)), torch.norm(t, "nuc", dim=(0, 2)), 1e-10)


ERRORS = [
    lambda m: m.linalg.inv(m.zeros(2, 2)),
    lambda m: m.linalg.inv(m.zeros(3, 2, 2)),
    lambda m: m.inverse(m.zeros(2, 2)),
    lambda m: m.linalg.inv(m.ones(2, 3)),
    lambda m: m.linalg.inv(m.ones(3)),
    lambda m: m.linalg.inv(m.ones(2, 2, dtype=m.int64)),
    lambda m: m.linalg.cholesky(-m.eye(3)),
    lambda m: m.linalg.cholesky(m.tensor([[[1.0, 0.0], [0.0, 1.0]], [[-1.0, 0.0], [0.0, -1.0]]])),
    lambda m: m.linalg.solve(m.zeros(2, 2), m.ones(2)),
    lambda m: m.linalg.solve(m.eye(2), m.ones(3)),
    lambda m: m.linalg.det(m.ones(2, 3)),
    lambda m: m.linalg.eigh(m.ones(2, 3)),
    lambda m: m.linalg.qr(m.ones(2, 3), mode="x"),
    lambda m: m.linalg.svd(m.ones(3)),
    lambda m: m.linalg.matrix_norm(m.ones(3), "fro"),
    lambda m: m.linalg.matrix_norm(m.ones(3, 3), 3),
]


@pytest.mark.parametrize("call", ERRORS)
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(engine)
    assert str(got.value) == str(expected.value)
    assert isinstance(got.value, engine.linalg.LinAlgError) == isinstance(expected.value, torch.linalg.LinAlgError)


GRADS = {
    "inv": (lambda m, a: m.linalg.inv(a), square),
    "det": (lambda m, a: m.linalg.det(a), square),
    "slogdet": (lambda m, a: m.linalg.slogdet(a), square),
    "logdet": (lambda m, a: m.logdet(a), spd),
    "solve": (lambda m, a: m.linalg.solve(a, a[..., :2] + 1), square),
    "cholesky": (lambda m, a: m.linalg.cholesky(a), spd),
    "eigh": (lambda m, a: (lambda r: (r[0], r[1] * r[1]))(m.linalg.eigh(a)), spd),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), spd),
    "svd": (lambda m, a: (lambda r: (r[0] * r[0], r[1], r[2] * r[2]))(m.linalg.svd(a, full_matrices=False)), square),
    "svdvals": (lambda m, a: m.linalg.svdvals(a), square),
    "nuc": (lambda m, a: m.linalg.matrix_norm(a, "nuc"), square),
    "qr": (lambda m, a: m.linalg.qr(a), square),
    "qr_wide": (lambda m, a: m.linalg.qr(a[..., :3, :], "complete"), square),
    "lstsq": (lambda m, a: m.linalg.lstsq(a, a[..., :2] * 2 + 1).solution, square),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradients_match_torch(name):
    f, make = GRADS[name]
    x = make((2, 4, 4), "float64")
    weights = None
    grads = []
    for m in (engine, torch):
        a = m.from_numpy(x.copy()).requires_grad_()
        out = f(m, a)
        out = out if isinstance(out, tuple) else (out,)
        if weights is None:
            weights = [np.random.default_rng(3).standard_normal(tuple(o.shape)) for o in out]
        total = sum((o * m.from_numpy(w.copy())).sum() for o, w in zip(out, weights) if o.requires_grad)
        (g,) = m.autograd.grad(total, [a], create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), [a])
        grads.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((5, 3), (5, 2)), ((3, 5), (3, 2)), ((2, 5, 3), (2, 5, 2)), ((4, 4), (4,)),
                                    ((2, 5, 3), (2, 5)), ((1, 5, 3), (4, 5, 2)), ((0, 3), (0, 2)), ((3, 0), (3, 2))])
def test_lstsq(shapes, dtype):
    ea, ta = pair(square(shapes[0], dtype))
    eb, tb = pair(square(shapes[1], dtype))
    got, expected = engine.linalg.lstsq(ea, eb), torch.linalg.lstsq(ta, tb)
    close(got.solution, expected.solution, TOL[dtype] * 100)
    assert got.rank.tolist() == expected.rank.tolist()
    assert tuple(got.residuals.shape) == tuple(expected.residuals.shape)
    assert tuple(got.singular_values.shape) == tuple(expected.singular_values.shape)


def test_lstsq_rank_deficient():
    a, ta = pair(np.ones((4, 3)))
    b, tb = pair(np.arange(8.0).reshape(4, 2))
    got, expected = engine.linalg.lstsq(a, b), torch.linalg.lstsq(ta, tb)
    close(got.solution, expected.solution, 1e-10)
    assert got.rank.item() == expected.rank.item() == 1
