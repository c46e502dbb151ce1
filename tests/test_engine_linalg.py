"""Matrix products: the engine against torch over shapes (1-d, 2-d, batched with
broadcasting, empty dims), layouts (transposed, sliced, expanded operands),
dtypes (floating with float accumulation, integers with wrapping), the fused
alpha/beta forms, out=, the @ operator, error types and gradients.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import engine
from engine_helpers import assert_same, to_engine
from test_engine_reduction import helper_test_exception, helper_test_op

FLOATS = [torch.float32, torch.float64]
INTS = [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]
NUMERIC = INTS + FLOATS


def _rand(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype.is_floating_point:
        data = rng.normal(0, 1, shape)
    elif dtype == torch.bool:
        data = rng.integers(0, 2, shape).astype(bool)
    else:
        data = rng.integers(-5 if dtype != torch.uint8 else 0, 6, shape)
    return torch.from_numpy(np.asarray(data)).to(dtype)


# operand layouts: a view of the given logical shape
def _layout(shape, dtype, kind, seed):
    if kind == "contiguous" or len(shape) < 2:
        base = _rand(shape, dtype, seed)
        return base if kind == "contiguous" or not shape else base
    if kind == "transposed":  # the last two dims swapped in memory
        return _rand(shape[:-2] + (shape[-1], shape[-2]), dtype, seed).transpose(-1, -2)
    if kind == "sliced":  # every other column
        return _rand(shape[:-1] + (2 * shape[-1],), dtype, seed)[..., ::2]
    if kind == "expanded":  # a broadcast row: zero stride
        return _rand(shape[:-2] + (1, shape[-1]), dtype, seed).expand(shape)
    raise ValueError(kind)


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
    ((2, 2, 3), (3,)), ((3,), (2, 3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)),
    ((2, 2, 3), (2, 3, 4)), ((1, 2, 3), (5, 3, 4)), ((2, 1, 2, 3), (5, 3, 4)), ((4, 2, 3), (1, 3, 5)),
    ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((2, 3), (3, 0)), ((0, 2, 3), (3, 4)), ((2, 2, 0), (2, 0, 3)),
    ((17, 33), (33, 19)), ((40, 64), (64, 70)), ((3, 70, 20), (20, 9)),
]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b in MATMUL_SHAPES])
@pytest.mark.parametrize("dtype", NUMERIC)
def test_matmul_shapes(a_shape, b_shape, dtype):
    a, b = _rand(a_shape, dtype, 1), _rand(b_shape, dtype, 2)
    helper_test_op(torch.matmul, engine.matmul, (a, b))


@pytest.mark.parametrize("a_kind", ["contiguous", "transposed", "sliced", "expanded"])
@pytest.mark.parametrize("b_kind", ["contiguous", "transposed", "sliced", "expanded"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32])
@pytest.mark.parametrize("shapes", [((5, 7), (7, 6)), ((2, 5, 7), (2, 7, 6)), ((20, 30), (30, 40))])
def test_matmul_layouts(a_kind, b_kind, dtype, shapes):
    a, b = _layout(shapes[0], dtype, a_kind, 3), _layout(shapes[1], dtype, b_kind, 4)
    helper_test_op(torch.matmul, engine.matmul, (a, b))
    helper_test_op(lambda x, y: x @ y, lambda x, y: x @ y, (a, b))
    if len(shapes[0]) == 2:
        helper_test_op(torch.mm, engine.mm, (a, b))
    else:
        helper_test_op(torch.bmm, engine.bmm, (a, b))


@pytest.mark.parametrize("dtype", NUMERIC)
def test_vector_products(dtype):
    v, w = _rand((7,), dtype, 5), _rand((7,), dtype, 6)
    m = _rand((4, 7), dtype, 7)
    helper_test_op(torch.dot, engine.dot, (v, w))
    helper_test_op(torch.vdot, engine.vdot, (v, w))
    helper_test_op(torch.dot, engine.dot, (v[::2], w[1::2]))
    helper_test_op(torch.mv, engine.mv, (m, v))
    helper_test_op(torch.mv, engine.mv, (m.t().contiguous().t(), v))
    helper_test_op(torch.mv, engine.mv, (_rand((7, 4), dtype, 8).t(), v[::1]))
    helper_test_op(torch.outer, engine.outer, (v, w[:3]))
    helper_test_op(torch.inner, engine.inner, (m, _rand((3, 7), dtype, 9)))
    helper_test_op(torch.inner, engine.inner, (_rand((), dtype, 9), m))


@pytest.mark.parametrize("dtype", [torch.bool, torch.int64, torch.float32])
def test_outer_promotes_like_mul(dtype):
    v = _rand((3,), dtype, 1)
    helper_test_op(torch.outer, engine.outer, (v, _rand((2,), torch.float32, 2)))
    helper_test_op(torch.outer, engine.outer, (v, _rand((2,), torch.bool, 3)))
    helper_test_op(torch.ger, lambda a, b: a.ger(b), (v, v))


def test_integer_products_wrap():
    a = torch.full((2, 300), 100, dtype=torch.int8)
    helper_test_op(torch.mm, engine.mm, (a, a.t()))
    big = torch.full((2, 3), 2**40, dtype=torch.int64)
    helper_test_op(torch.mm, engine.mm, (big, big.t()))
    helper_test_op(torch.dot, engine.dot, (big[0], big[1]))


def test_special_values_and_empty_depth():
    a = torch.tensor([[1.0, float("nan")], [float("inf"), 2.0], [0.0, 1.0]])
    b = torch.tensor([[float("-inf"), 1.0, 0.0], [1.0, 2.0, 3.0]])
    helper_test_op(torch.mm, engine.mm, (a, b))
    helper_test_op(torch.mm, engine.mm, (torch.empty(3, 0), torch.empty(0, 4)))
    helper_test_op(torch.dot, engine.dot, (torch.empty(0), torch.empty(0)))
    helper_test_op(torch.mv, engine.mv, (torch.empty(3, 0), torch.empty(0)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2), (0, 1), (0, -1.5), (2, 0)])
def test_fused_forms(dtype, beta, alpha):
    if not dtype.is_floating_point:
        beta, alpha = int(beta), int(alpha)
    kw = {"beta": beta, "alpha": alpha}
    helper_test_op(torch.addmm, engine.addmm, (_rand((3, 4), dtype, 1), _rand((3, 5), dtype, 2), _rand((5, 4), dtype, 3)), kw)
    helper_test_op(torch.addmm, engine.addmm, (_rand((4,), dtype, 1), _rand((5, 3), dtype, 2).t(), _rand((5, 4), dtype, 3)), kw)
    helper_test_op(torch.addmv, engine.addmv, (_rand((3,), dtype, 1), _rand((3, 5), dtype, 2), _rand((5,), dtype, 3)), kw)
    helper_test_op(torch.baddbmm, engine.baddbmm,
                   (_rand((3, 4), dtype, 1), _rand((2, 3, 5), dtype, 2), _rand((2, 5, 4), dtype, 3)), kw)
    helper_test_op(torch.addbmm, engine.addbmm,
                   (_rand((3, 4), dtype, 1), _rand((2, 3, 5), dtype, 2), _rand((2, 5, 4), dtype, 3)), kw)
    helper_test_op(torch.addr, engine.addr, (_rand((3, 4), dtype, 1), _rand((3,), dtype, 2), _rand((4,), dtype, 3)), kw)


def test_beta_zero_ignores_nan_in_input():
    nan_input = torch.full((2, 3), float("nan"))
    a, b = _rand((2, 4), torch.float32, 1), _rand((4, 3), torch.float32, 2)
    helper_test_op(torch.addmm, engine.addmm, (nan_input, a, b), {"beta": 0})
    helper_test_op(torch.addmv, engine.addmv, (nan_input[0], a[:, :3].t(), b[:2, 0]), {"beta": 0})
    helper_test_op(torch.addr, engine.addr, (nan_input, a[:, 0], b[0]), {"beta": 0})


def test_addr_bool():
    m = _rand((3, 4), torch.bool, 1)
    helper_test_op(torch.addr, engine.addr, (m, _rand((3,), torch.bool, 2), _rand((4,), torch.bool, 3)))
    helper_test_op(torch.addr, engine.addr, (m, _rand((3,), torch.bool, 2), _rand((4,), torch.bool, 3)), {"beta": False})


def test_operators_and_methods():
    a, b = _rand((3, 4), torch.float64, 1), _rand((4, 2), torch.float64, 2)
    helper_test_op(lambda x, y: x @ y, lambda x, y: x @ y, (a, b))
    helper_test_op(lambda x, y: y.__rmatmul__(x), lambda x, y: y.__rmatmul__(x), (a, b))
    helper_test_op(lambda x, y: x.matmul(y), lambda x, y: x.matmul(y), (a, b))
    helper_test_op(lambda x, y: x.mm(y), lambda x, y: x.mm(y), (a, b))
    helper_test_op(torch.linalg.matmul, engine.linalg.matmul, (a, b))


@pytest.mark.parametrize("name,args", [
    ("mm", ((2, 3), (3, 4))), ("bmm", ((2, 2, 3), (2, 3, 4))), ("matmul", ((2, 2, 3), (3, 4))),
    ("dot", ((3,), (3,))), ("mv", ((2, 3), (3,))),
])
def test_out_argument(name, args):
    a, b = _rand(args[0], torch.float32, 1), _rand(args[1], torch.float32, 2)
    expected = getattr(torch, name)(a, b)
    for out in (engine.empty(0), engine.empty(expected.shape)):
        got = getattr(engine, name)(to_engine(a), to_engine(b), out=out)
        assert got is out
        assert_same(got, expected)
    helper_test_exception(lambda x, y: getattr(torch, name)(x, y, out=torch.empty(0, dtype=torch.float64)),
                          lambda x, y: getattr(engine, name)(x, y, out=engine.empty(0, dtype=engine.float64)), (a, b))


@pytest.mark.parametrize("call", [
    lambda m, t: m.mm(t((2, 3)), t((4, 5))),
    lambda m, t: m.mm(t((2, 3)), t((3,))),
    lambda m, t: m.mm(t((3,)), t((3, 2))),
    lambda m, t: m.mm(t((2, 3)), t((3, 2), m.float64)),
    lambda m, t: m.mm(t((2, 3), m.bool), t((3, 2), m.bool)),
    lambda m, t: m.bmm(t((2, 3)), t((3, 2))),
    lambda m, t: m.bmm(t((2, 2, 3)), t((3, 3, 4))),
    lambda m, t: m.dot(t((3,)), t((4,))),
    lambda m, t: m.dot(t((3,)), t((3,), m.float64)),
    lambda m, t: m.dot(t((2, 3)), t((3,))),
    lambda m, t: m.dot(t((3,), m.bool), t((3,), m.bool)),
    lambda m, t: m.mv(t((2, 3)), t((4,))),
    lambda m, t: m.mv(t((2, 3)), t((3, 1))),
    lambda m, t: m.matmul(t(()), t((3,))),
    lambda m, t: m.matmul(t((3,)), t((4,))),
    lambda m, t: m.matmul(t((2, 3, 4)), t((5, 4, 2))),
    lambda m, t: m.matmul(t((2, 3, 4)), t((5, 4))),
    lambda m, t: m.matmul(t((2, 3)), t((3, 2), m.int64)),
    lambda m, t: m.outer(t((2, 3)), t((3,))),
    lambda m, t: m.inner(t((2, 3)), t((2, 4))),
])
def test_errors_match_torch_types(call):
    def torch_make(shape, dtype=None):
        return torch.ones(shape, dtype=dtype if isinstance(dtype, torch.dtype) else torch.float32)

    def engine_make(shape, dtype=None):
        return engine.ones(shape, dtype=dtype or engine.float32)

    with pytest.raises(Exception) as expected:
        call(torch, torch_make)
    with pytest.raises(expected.type):
        call(engine, engine_make)


@pytest.mark.parametrize("name,shapes", [
    ("mm", ((3, 4), (4, 2))), ("bmm", ((2, 3, 4), (2, 4, 2))), ("matmul", ((2, 3, 4), (4, 2))),
    ("matmul", ((3, 4), (2, 4, 2))), ("matmul", ((4,), (2, 4, 2))), ("dot", ((4,), (4,))), ("mv", ((3, 4), (4,))),
    ("outer", ((3,), (4,))), ("inner", ((3, 4), (2, 4))),
])
def test_gradients_match_torch(name, shapes):
    a, b = _rand(shapes[0], torch.float64, 1), _rand(shapes[1], torch.float64, 2)
    at, bt = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    ae, be = to_engine(a), to_engine(b)
    ae.requires_grad_(True)
    be.requires_grad_(True)
    getattr(torch, name)(at, bt).sum().backward()
    getattr(engine, name)(ae, be).sum().backward()
    # torch's AccumulateGrad gives .grad the parameter's strides; inner's gradient of `other`
    # arrives transposed, so only its values are compared here
    assert_same(ae.grad, at.grad, check_stride=name != "inner")
    assert_same(be.grad, bt.grad, check_stride=name != "inner")


@pytest.mark.parametrize("name", ["addmm", "baddbmm"])
def test_fused_gradients(name):
    shapes = {"addmm": ((3, 2), (3, 4), (4, 2)), "baddbmm": ((3, 2), (2, 3, 4), (2, 4, 2))}[name]
    tensors = [_rand(s, torch.float64, i) for i, s in enumerate(shapes)]
    t_in = [t.clone().requires_grad_(True) for t in tensors]
    e_in = [to_engine(t) for t in tensors]
    for e in e_in:
        e.requires_grad_(True)
    getattr(torch, name)(*t_in, beta=0.5, alpha=2).sum().backward()
    getattr(engine, name)(*e_in, beta=0.5, alpha=2).sum().backward()
    for e, t in zip(e_in, t_in):
        assert_same(e.grad, t.grad)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("m,k,n", [(300, 257, 200), (1, 1000, 513), (513, 1000, 1), (129, 2049, 65)])
def test_large_products(dtype, m, k, n):
    """Blocked GEMM across cache blocks and edge tiles; float32 compared with torch's own rounding budget."""
    a, b = _rand((m, k), dtype, 1), _rand((k, n), dtype, 2)
    tolerance = {"atol": 1e-4 * math.sqrt(k), "rtol": 1e-5} if dtype == torch.float32 else {}
    helper_test_op(torch.mm, engine.mm, (a, b), **tolerance)
    helper_test_op(torch.mm, engine.mm, (a.t().contiguous().t(), b.t().contiguous().t()), **tolerance)
