"""softmax and log_softmax: the engine against torch.

Every case runs torch and the engine on the same data and compares dtype, shape,
strides and values (torch.testing's float tolerances): last and inner dims,
contiguous and transposed inputs, rows shorter and longer than a vector, dtype=,
0-dim and empty inputs, special values, the functional and method forms, out=,
errors, gradients (SoftmaxBackward0 / LogSoftmaxBackward0, double backward), two
threads, and every vector ISA the kernels are built for (ft_set_simd_level, the
SIMD level shared with the elementwise kernels).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import engine
from engine._kernel import lib
from engine_helpers import assert_same, dtype_to_engine, to_engine, to_torch

NAMES = ["softmax", "log_softmax"]
SHAPES_AND_DIMS = [
    ((), 0), ((), -1), ((1,), 0), ((5,), 0), ((3, 4), 1), ((3, 4), 0), ((3, 4), -2),
    ((7, 33), -1), ((2, 3, 70), 1), ((2, 130, 5), 1), ((4, 100, 67), 1), ((2, 3, 17), 0),
    ((5, 1000), -1), ((3, 2, 1), 1), ((2, 65, 3), 2),
]


@pytest.fixture
def isa_restored():
    best = lib.ft_set_simd_level(2)
    yield best
    lib.ft_set_simd_level(2)


@pytest.fixture
def threads_restored():
    before = engine.get_num_threads()
    yield
    engine.set_num_threads(before)


def _input(shape, dtype=torch.float32, seed=0, scale=5.0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator, dtype=torch.float64).mul(scale).to(dtype)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape, dim", SHAPES_AND_DIMS)
def test_matches_torch(name, dtype, shape, dim):
    x = _input(shape, dtype)
    assert_same(getattr(engine, name)(to_engine(x), dim), getattr(torch, name)(x, dim))


@pytest.mark.parametrize("name", NAMES)
def test_non_contiguous_input_gives_contiguous_result(name):
    x = _input((6, 9))
    for t in (x.t(), x[:, ::2], x.unsqueeze(0).expand(3, 6, 9)):
        for dim in range(t.dim()):
            assert_same(getattr(engine, name)(to_engine(t), dim), getattr(torch, name)(t, dim))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dtype", [torch.int64, torch.uint8, torch.bool, torch.float32])
def test_dtype_argument_converts_first(name, dtype):
    x = (torch.arange(24).reshape(4, 6) % 5).to(dtype)
    for out_dtype in (torch.float32, torch.float64):
        assert_same(getattr(engine, name)(to_engine(x), 1, dtype_to_engine(out_dtype)),
                    getattr(torch, name)(x, 1, out_dtype))
        assert_same(getattr(engine, name)(to_engine(x), 0, dtype=dtype_to_engine(out_dtype)),
                    getattr(torch, name)(x, 0, dtype=out_dtype))


@pytest.mark.parametrize("name", NAMES)
def test_empty_input_keeps_its_dtype(name):
    for x in (torch.empty(0, 3, dtype=torch.int64), torch.empty(2, 0), torch.empty(0)):
        assert_same(getattr(engine, name)(to_engine(x), -1), getattr(torch, name)(x, -1))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("row", [
    [float("nan"), 1.0, 2.0], [float("inf"), 1.0, 0.0], [float("-inf")] * 3, [float("-inf"), 1.0, 2.0],
    [1e30, -1e30, 0.0], [0.0] * 40 + [float("nan")], [-100.0, 0.0] * 20, [3.0] * 100, [-1e4, 1e4] * 9,
])
def test_special_values(name, row):
    x = torch.tensor(row, dtype=torch.float32)
    assert_same(getattr(engine, name)(to_engine(x), 0), getattr(torch, name)(x, 0))
    y = x.reshape(-1, 1).expand(len(row), 3).contiguous()  # the same values down a non-last dim
    assert_same(getattr(engine, name)(to_engine(y), 0), getattr(torch, name)(y, 0))


@pytest.mark.parametrize("name", NAMES)
def test_functional_and_method_forms(name):
    x = _input((4, 5, 6))
    e = to_engine(x)
    functional = getattr(engine.nn.functional, name)
    assert_same(functional(e, dim=2), getattr(torch.nn.functional, name)(x, dim=2))
    assert_same(functional(e, 1, dtype=engine.float64), getattr(torch.nn.functional, name)(x, 1, dtype=torch.float64))
    assert_same(getattr(e, name)(0), getattr(x, name)(0))
    assert_same(getattr(e, name)(dim=1, dtype=engine.float64), getattr(x, name)(dim=1, dtype=torch.float64))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)])
def test_functional_implicit_dim_warns_like_torch(name, shape):
    x = _input(shape)
    with warnings.catch_warnings(record=True) as caught_torch:
        warnings.simplefilter("always")
        expected = getattr(torch.nn.functional, name)(x)
    with warnings.catch_warnings(record=True) as caught_engine:
        warnings.simplefilter("always")
        result = getattr(engine.nn.functional, name)(to_engine(x))
    assert_same(result, expected)
    assert [str(w.message) for w in caught_engine] == [str(w.message) for w in caught_torch]


@pytest.mark.parametrize("name", NAMES)
def test_out_argument(name):
    x = _input((3, 5))
    out_t, out_e = torch.empty(0), engine.empty(0)
    result = getattr(engine, name)(to_engine(x), 1, out=out_e)
    getattr(torch, name)(x, 1, out=out_t)
    assert result is out_e
    assert_same(out_e, out_t)
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype float, but got double instead"):
        getattr(engine, name)(to_engine(x), 1, out=engine.empty(3, 5, dtype=engine.float64))


@pytest.mark.parametrize("name", NAMES)
def test_errors_match_torch(name):
    cases = [
        (lambda lib, x: getattr(lib, name)(x, 1), torch.arange(6).reshape(2, 3)),
        (lambda lib, x: getattr(lib, name)(x, 0), torch.arange(6).reshape(2, 3)),
        (lambda lib, x: getattr(lib, name)(x, 0), torch.ones(2, 3, dtype=torch.bool)),
        (lambda lib, x: getattr(lib, name)(x, 0), torch.tensor(3)),
        (lambda lib, x: getattr(lib, name)(x, 2), torch.ones(2, 3)),
        (lambda lib, x: getattr(lib, name)(x, -3), torch.ones(2, 3)),
        (lambda lib, x: getattr(lib, name)(x, 1.0), torch.ones(2, 3)),
        (lambda lib, x: getattr(lib, name)(x, None), torch.ones(2, 3)),
        (lambda lib, x: getattr(lib, name)(x, 1, dtype=lib.int64), torch.ones(2, 3)),
    ]
    for call, x in cases:
        with pytest.raises(Exception) as expected:
            call(torch, x)
        with pytest.raises(expected.type) as raised:
            call(engine, to_engine(x))
        if expected.type is NotImplementedError or expected.type is IndexError:
            assert str(raised.value) == str(expected.value)


@pytest.mark.parametrize("name, node", [("softmax", "SoftmaxBackward0"), ("log_softmax", "LogSoftmaxBackward0")])
@pytest.mark.parametrize("shape, dim", [((5, 7), 1), ((5, 7), 0), ((2, 3, 4), 1), ((), 0), ((6,), -1)])
def test_gradients_match_torch(name, node, shape, dim):
    x = _input(shape, torch.float64, scale=2.0)
    grad = _input(shape, torch.float64, seed=1)
    xt = x.clone().requires_grad_()
    xe = to_engine(x).requires_grad_()
    yt, ye = getattr(torch, name)(xt, dim), getattr(engine, name)(xe, dim)
    assert type(yt.grad_fn).__name__ == node and ye.grad_fn.name() == node
    (gt,) = torch.autograd.grad(yt, xt, grad, create_graph=True)
    (ge,) = engine.autograd.grad(ye, xe, to_engine(grad), create_graph=True)
    assert_same(ge.detach(), gt.detach())
    # double backward: the gradient of a function of the gradient
    (ggt,) = torch.autograd.grad((gt * gt).sum(), xt)
    (gge,) = engine.autograd.grad((ge * ge).sum(), xe)
    assert_same(gge, ggt)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_through_dtype_argument(name):
    x = _input((4, 6), torch.float32)
    xt, xe = x.clone().requires_grad_(), to_engine(x).requires_grad_()
    yt = getattr(torch.nn.functional, name)(xt, 1, dtype=torch.float64)
    ye = getattr(engine.nn.functional, name)(xe, 1, dtype=engine.float64)
    (yt * yt).sum().backward()
    (ye * ye).sum().backward()
    assert_same(xe.grad, xt.grad)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape, dim", [((64, 5027), -1), ((300, 1000), -1), ((8, 500, 70), 1), ((3, 200, 300), 0)])
def test_two_threads_match_torch(name, shape, dim, threads_restored):
    x = _input(shape)
    expected = getattr(torch, name)(x, dim)
    for threads in (1, 2):
        engine.set_num_threads(threads)
        assert_same(getattr(engine, name)(to_engine(x), dim), expected)


@pytest.mark.parametrize("isa", [0, 1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_every_vector_isa_matches_torch(name, isa, isa_restored):
    if lib.ft_set_simd_level(isa) != isa:
        pytest.skip("this CPU lacks the ISA")
    for shape, dim in [((7, 33), -1), ((5, 1000), -1), ((4, 100, 67), 1), ((2, 65, 3), 2)]:
        x = _input(shape)
        assert_same(getattr(engine, name)(to_engine(x), dim), getattr(torch, name)(x, dim))
    for row in ([float("nan"), 1.0] * 20, [float("-inf"), 1.0] * 20, [-200.0, 0.0] * 20):
        x = torch.tensor(row)
        assert_same(getattr(engine, name)(to_engine(x), 0), getattr(torch, name)(x, 0))


def test_registry_lists_the_ops():
    from engine._registry import REGISTRY

    for name in ("softmax", "log_softmax", "nn.functional.softmax", "nn.functional.log_softmax"):
        assert name in REGISTRY
    assert REGISTRY["softmax"].has_backward and REGISTRY["log_softmax"].has_backward
    assert engine.Tensor.softmax is engine.softmax and engine.Tensor.log_softmax is engine.log_softmax
    assert np.allclose(to_torch(engine.nn.functional.softmax(engine.ones(3), 0)).numpy(), 1 / 3)
