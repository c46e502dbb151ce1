"""einsum, tensordot and trace against torch."""
import numpy as np
import pytest
import torch

import engine

EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("i,i->", [(5,), (5,)]), ("i,j->ij", [(3,), (4,)]),
    ("ii->i", [(3, 3)]), ("ii", [(4, 4)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]), ("...,...->...", [(2, 3), (3,)]), ("i...->...", [(3, 2, 4)]),
    ("ijk,ikl,ilm->jm", [(2, 3, 4), (2, 4, 5), (2, 5, 3)]), ("iij->j", [(3, 3, 2)]), ("Ab,bA", [(2, 3), (3, 2)]),
    ("ba", [(2, 3)]), ("a,b,c->abc", [(2,), (3,), (4,)]), ("ij,ij->ij", [(2, 3), (2, 3)]), ("i,i", [(1,), (4,)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]


def _pair(shape, dtype):
    x = np.random.default_rng(len(shape) + sum(shape)).standard_normal(shape).astype(dtype)
    return engine.from_numpy(x.copy()), torch.from_numpy(x.copy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("equation,shapes", EQUATIONS)
def test_einsum_matches_torch(equation, shapes, dtype):
    pairs = [_pair(s, dtype) for s in shapes]
    got = engine.einsum(equation, *[p[0] for p in pairs])
    expected = torch.einsum(equation, *[p[1] for p in pairs])
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    got_list = engine.einsum(equation, [p[0] for p in pairs])
    np.testing.assert_allclose(got_list.numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)


def test_einsum_integer_and_grad():
    a = engine.arange(6).reshape(2, 3)
    assert engine.einsum("ij,kj->ik", a, a).tolist() == torch.einsum("ij,kj->ik", *(torch.arange(6).reshape(2, 3),) * 2).tolist()
    x, tx = _pair((3, 4), "float64")
    y, ty = _pair((4, 2), "float64")
    x.requires_grad_(True)
    tx.requires_grad_(True)
    engine.einsum("ij,jk->", x, y).backward()
    torch.einsum("ij,jk->", tx, ty).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("call", [
    lambda m: m.einsum("ij,jk", m.ones(2, 3)), lambda m: m.einsum("ij", m.ones(3)),
    lambda m: m.einsum("ij->ik", m.ones(2, 3)), lambda m: m.einsum("i,j", m.ones(3), m.ones(2), m.ones(1)),
    lambda m: m.einsum("ii", m.ones(2, 3)), lambda m: m.trace(m.ones(3)),
    lambda m: m.tensordot(m.ones(2, 3), m.ones(4, 2), dims=([1], [0])), lambda m: m.tensordot(m.ones(2, 3), m.ones(3, 2), dims=-1),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(engine)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("dims", [0, 1, 2, ([1, 0], [0, 1]), ([2], [0]), [[0, 2], [1, 0]]])
def test_tensordot(dims):
    a, ta = _pair((3, 4, 5), "float64")
    b, tb = _pair((5, 4, 3), "float64") if dims != 0 else _pair((2, 3), "float64")
    if dims in (1, 2, ([2], [0])):
        b, tb = _pair((5, 4, 2) if dims != 2 else (4, 5, 2), "float64")
    if dims == ([1, 0], [0, 1]):
        b, tb = _pair((4, 3, 2), "float64")
    if dims == [[0, 2], [1, 0]]:
        b, tb = _pair((5, 3, 2), "float64")
    np.testing.assert_allclose(engine.tensordot(a, b, dims).numpy(), torch.tensordot(ta, tb, dims).numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_trace(dtype):
    x = np.arange(12).reshape(3, 4).astype(dtype)
    got, expected = engine.trace(engine.from_numpy(x.copy())), torch.trace(torch.from_numpy(x.copy()))
    assert got.dtype.name == str(expected.dtype).split(".")[1] and got.item() == expected.item()
