"""Scans, sorting and selection: the engine against torch.

Each case runs torch and the engine on the same data and compares type, dtype, shape,
strides and values (indices exactly): cumsum/cumprod/logcumsumexp/cummax/cummin,
sort/argsort/msort/topk/kthvalue/median/nanmedian/mode, unique/unique_consecutive,
searchsorted/bucketize and diff over dims, layouts, dtypes, 0-dim and empty inputs,
ties, NaN and -0.0 (hypothesis), errors, and gradients (first and second order).
"""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine_helpers import assert_same, dtype_to_engine, to_engine

SHAPES_AND_DIMS = [((), 0), ((), -1), ((1,), 0), ((6,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 4), 1),
                   ((2, 3, 40), -1), ((0, 3), 1), ((3, 0), 1)]
DTYPES = [torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8, torch.int16]


def _sample(shape, dtype, seed=0, ties=True):
    g = torch.Generator().manual_seed(seed)
    if dtype.is_floating_point:
        t = torch.randn(shape, generator=g, dtype=dtype)
        if ties and t.numel() > 3:
            flat = t.view(-1)
            flat[1] = flat[0]
            flat[-1] = flat[0]
        return t
    low = 0 if dtype == torch.uint8 else -4
    return torch.randint(low, 5, shape, generator=g).to(dtype)


def _both(fn_name, t, *args, **kwargs):
    expected = getattr(torch, fn_name)(t, *args, **kwargs)
    converted = {k: dtype_to_engine(v) if isinstance(v, torch.dtype) else v for k, v in kwargs.items()}
    args = [to_engine(a) if isinstance(a, torch.Tensor) else a for a in args]
    converted = {k: to_engine(v) if isinstance(v, torch.Tensor) else v for k, v in converted.items()}
    actual = getattr(engine, fn_name)(to_engine(t), *args, **converted)
    return actual, expected


@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin"])
def test_scans(name, shape, dim, dtype):
    t = _sample(shape, dtype)
    if name == "cumprod" and dtype.is_floating_point:
        t = t * 0.5 + 1
    actual, expected = _both(name, t, dim)
    assert_same(actual, expected)
    if name in ("cummax", "cummin"):
        assert type(actual).__name__ == name and actual.indices.dtype is engine.int64


@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS)
def test_logcumsumexp(shape, dim):
    t = _sample(shape, torch.float64)
    assert_same(*_both("logcumsumexp", t, dim))
    special = torch.tensor([-math.inf, -math.inf, 1.0, math.inf, math.inf, math.nan, 2.0], dtype=torch.float64)
    assert_same(*_both("logcumsumexp", special, 0))


def test_cumsum_dtypes_and_layouts():
    t = torch.arange(12, dtype=torch.int8).reshape(3, 4)
    assert_same(*_both("cumsum", t, 1))  # int8 -> int64
    assert_same(*_both("cumsum", t, 1, dtype=torch.float64))
    assert_same(*_both("cumprod", torch.tensor([True, False, True]), 0))
    x = torch.randn(4, 6, dtype=torch.float64)
    assert_same(*_both("cumsum", x.t(), 0))
    assert_same(*_both("cumsum", x[:, ::2], 1))
    out = engine.empty(0, dtype=engine.float64)
    engine.cumsum(to_engine(x), 0, out=out)
    assert_same(out, torch.cumsum(x, 0))
    e = to_engine(x.clone())
    e.cumsum_(1)
    assert_same(e, x.clone().cumsum_(1))


def test_cummax_nan_and_ties():
    t = torch.tensor([1.0, 3.0, 3.0, math.nan, 2.0, math.nan, 5.0])
    assert_same(*_both("cummax", t, 0))
    assert_same(*_both("cummin", t, 0))


@pytest.mark.parametrize("shape,dim", SHAPES_AND_DIMS)
@pytest.mark.parametrize("dtype", DTYPES + [torch.bool])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(shape, dim, dtype, descending):
    t = _sample(shape, dtype) if dtype is not torch.bool else torch.randint(0, 2, shape).bool()
    for stable in (True, False):
        actual, expected = _both("sort", t, dim=dim, descending=descending, stable=stable)
        assert_same(actual, expected)
        assert type(actual).__name__ == "sort"
    assert_same(*_both("sort", t, dim, descending))
    assert_same(engine.argsort(to_engine(t), dim, descending, stable=True),
                torch.argsort(t, dim=dim, descending=descending, stable=True))


def test_sort_layouts_and_msort():
    x = torch.randn(5, 7, dtype=torch.float64)
    for view in (x.t(), x[:, ::2], x):
        assert_same(*_both("sort", view, 0))
    assert_same(*_both("msort", x))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.5, math.nan, math.inf, -math.inf]), min_size=1,
                max_size=40), st.booleans())
def test_sort_special_values(values, descending):
    t = torch.tensor(values, dtype=torch.float64)
    actual, expected = _both("sort", t, dim=0, descending=descending, stable=True)
    assert_same(actual, expected)
    # -0.0 and 0.0 are ties: the same elements in the same (stable) order
    assert torch.equal(torch.tensor(actual.values.tolist()).signbit(), expected.values.signbit())
    if t.numel() > 1:
        assert_same(*_both("median", t, 0))
        assert_same(*_both("nanmedian", t, 0))
        assert_same(*_both("kthvalue", t, (len(values) + 1) // 2, 0))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=60), st.integers(1, 60))
def test_selection_ties_match_torch(values, k):
    t = torch.tensor(values)
    k = min(k, len(values))
    assert_same(*_both("kthvalue", t, k, 0))
    assert_same(*_both("median", t, 0))
    assert_same(*_both("mode", t, 0))
    assert_same(*_both("unique", t, return_inverse=True, return_counts=True))
    assert_same(*_both("unique_consecutive", t, return_inverse=True, return_counts=True))
    for largest in (True, False):
        assert_same(*_both("topk", t, k, 0, largest))
        assert_same(*_both("topk", t, k, 0, largest, False))
    assert_same(*_both("sort", t, 0))
    assert_same(*_both("sort", t, 0, True))


@pytest.mark.parametrize("shape,dim", [s for s in SHAPES_AND_DIMS if 0 not in s[0]])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_with_indices(shape, dim, keepdim):
    t = _sample(shape, torch.float32, seed=3)
    for name in ("median", "nanmedian", "mode"):
        actual, expected = _both(name, t, dim, keepdim)
        assert_same(actual, expected)
        assert type(actual).__name__ == name
    size = t.shape[dim] if t.dim() else 1
    for k in range(1, size + 1):
        assert_same(*_both("kthvalue", t, k, dim, keepdim))
    assert_same(engine.median(to_engine(t)), torch.median(t))
    assert_same(engine.nanmedian(to_engine(t)), torch.nanmedian(t))


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("shape,dim", [((6,), 0), ((3, 5), 1), ((3, 5), 0), ((2, 3, 40), -1), ((), 0)])
def test_topk(shape, dim, largest):
    t = _sample(shape, torch.float64, ties=False)
    size = t.shape[dim] if t.dim() else 1
    for k in range(0, size + 1):
        actual, expected = _both("topk", t, k, dim, largest)
        assert_same(actual, expected)


def test_errors():
    t = torch.randn(3)
    cases = [("topk", (t, 4)), ("kthvalue", (t, 4)), ("kthvalue", (t, 0)), ("median", (torch.randn(2, 0), 1)),
             ("mode", (torch.randn(0),)), ("cumsum", (t, 1)), ("sort", (t, 2))]
    for name, args in cases:
        with pytest.raises(Exception) as expected:
            getattr(torch, name)(*args)
        with pytest.raises(type(expected.value)) as actual:
            getattr(engine, name)(*[to_engine(a) if isinstance(a, torch.Tensor) else a for a in args])
        assert str(actual.value) == str(expected.value)


def test_unique_forms():
    t = torch.tensor([[1, 2, 1], [0, 1, 0], [1, 2, 1], [0, 1, 0]])
    for kwargs in ({}, {"return_inverse": True}, {"return_counts": True}, {"dim": 0, "return_inverse": True,
                                                                            "return_counts": True},
                   {"dim": 1, "return_inverse": True, "return_counts": True}):
        assert_same(*_both("unique", t, **kwargs))
        assert_same(*_both("unique_consecutive", t, **kwargs))
    f = torch.tensor([2.0, math.nan, 1.0, math.nan, 2.0])
    assert_same(*_both("unique", f, return_inverse=True, return_counts=True))
    assert_same(*_both("unique", torch.tensor([], dtype=torch.int64), return_inverse=True, return_counts=True))


def test_searchsorted_and_bucketize():
    b = torch.tensor([1.0, 3.0, 3.0, 5.0, math.nan])
    v = torch.tensor([[0.0, 3.0, 4.0, 6.0, math.nan]])
    for right in (False, True):
        assert_same(*_both("searchsorted", b, v, right=right))
        assert_same(*_both("bucketize", v, b, right=right, out_int32=True))
    rows = torch.sort(torch.randn(3, 6), dim=1).values
    values = torch.randn(3, 4)
    assert_same(*_both("searchsorted", rows, values, side="right"))
    unsorted = torch.tensor([5, 1, 3])
    sorter = torch.argsort(unsorted)
    assert_same(*_both("searchsorted", unsorted, torch.tensor([2, 3, 6]), sorter=sorter))
    assert_same(engine.searchsorted(to_engine(b), 3.0), torch.searchsorted(b, 3.0))


def test_diff():
    t = torch.tensor([[1, 4, 9, 16], [2, 3, 5, 7]])
    for n in (0, 1, 2, 5):
        assert_same(*_both("diff", t, n=n))
    assert_same(*_both("diff", t, dim=0))
    assert_same(*_both("diff", t, prepend=torch.tensor([[0], [0]]), append=torch.tensor([[1], [1]])))
    assert_same(*_both("diff", torch.tensor([True, False, False])))


def _grads(name, t, *args, create_graph=False, **kwargs):
    results = []
    for lib, x in ((torch, t.clone().requires_grad_()), (engine, to_engine(t).requires_grad_())):
        given = kwargs if lib is torch else {k: to_engine(v) if isinstance(v, torch.Tensor) else v
                                             for k, v in kwargs.items()}
        out = getattr(lib, name)(x, *args, **given)
        out = out[0] if isinstance(out, tuple) else out
        weights = torch.linspace(-1, 2, max(out.numel(), 1), dtype=t.dtype).reshape(out.shape)
        w = weights if lib is torch else to_engine(weights)
        (g,) = (torch if lib is torch else engine).autograd.grad((out * w).sum(), x, create_graph=create_graph)
        results.append((out.grad_fn.name(), g, x))
    return results


@pytest.mark.parametrize("name,args", [("cumsum", (1,)), ("cumprod", (1,)), ("logcumsumexp", (1,)),
                                       ("cummax", (1,)), ("cummin", (0,)), ("sort", (1,)), ("topk", (2, 1)),
                                       ("kthvalue", (2, 1)), ("median", ()), ("median", (1,)),
                                       ("nanmedian", (0,)), ("mode", (1,)), ("msort", ()), ("diff", ())])
def test_gradients(name, args):
    t = torch.tensor([[0.5, -1.0, 2.0, 0.25], [1.5, 0.0, -0.5, 3.0], [2.0, 2.0, -1.0, 0.0]], dtype=torch.float64)
    (tn, tg, _), (en, eg, _) = _grads(name, t, *args)
    assert en == tn
    assert_same(eg, tg)


def test_cumprod_gradient_without_zeros_and_second_order():
    t = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.7, -0.5]], dtype=torch.float64)
    for name in ("cumprod", "cumsum", "logcumsumexp", "sort"):
        results = []
        for lib, x in ((torch, t.clone().requires_grad_()), (engine, to_engine(t).requires_grad_())):
            out = getattr(lib, name)(x, 1)
            out = out[0] if isinstance(out, tuple) else out
            (g,) = lib.autograd.grad((out * out).sum(), x, create_graph=True)
            (gg,) = lib.autograd.grad((g * g).sum(), x)
            results.append((g, gg))
        assert_same(results[1][0].detach(), results[0][0].detach())
        assert_same(results[1][1], results[0][1])


def test_unique_has_unimplemented_node():
    x = engine.tensor([1.0, 2.0, 1.0], requires_grad=True)
    out = engine.unique(x)
    assert out.grad_fn.name() == "Unique2Backward0"
    with pytest.raises(RuntimeError):
        out.sum().backward()


def test_histc():
    for t in (torch.randn(100), torch.tensor([1.0, 2.0, 2.0, 3.0, 7.0]), torch.randn(50, dtype=torch.float64) * 3,
              torch.tensor([1.0, 2.0, math.nan]), torch.tensor([])):
        for kwargs in ({}, {"bins": 7}, {"bins": 4, "min": 0, "max": 2}, {"bins": 5, "min": -1, "max": 1}):
            if t.isnan().any() and "min" not in kwargs:
                continue
            assert_same(*_both("histc", t, **kwargs))
    for args in ((torch.tensor([1.0, math.nan]),), (torch.tensor([1.0, 2.0]), 4, 3, 1), (torch.tensor([1, 2]),)):
        with pytest.raises(Exception) as expected:
            torch.histc(*args)
        with pytest.raises(type(expected.value)) as actual:
            engine.histc(to_engine(args[0]), *args[1:])
        assert str(actual.value) == str(expected.value)


@pytest.mark.parametrize("name", ["trapezoid", "cumulative_trapezoid"])
def test_trapezoid_rules(name):
    y = torch.randn(3, 5, dtype=torch.float64)
    x = torch.randn(5, dtype=torch.float64)
    for kwargs in ({}, {"dx": 2.5}, {"x": x}, {"dim": 0}, {"dim": 0, "dx": 2}):
        assert_same(*_both(name, y, **kwargs))
        (tn, tg, _), (en, eg, _) = _grads(name, y, **kwargs)
        assert en == tn
        assert_same(eg, tg)
    assert_same(*_both(name, torch.randint(-3, 4, (4, 3)), dim=0))


@pytest.mark.parametrize("method", ["cumsum_", "cumprod_"])
def test_inplace_scans_record_history(method):
    t = torch.tensor([[0.5, 2.0, -1.0], [1.5, 0.0, 3.0]], dtype=torch.float64)
    grads = []
    for lib, x in ((torch, t.clone().requires_grad_()), (engine, to_engine(t).requires_grad_())):
        y = x * 1.0
        getattr(y, method)(1)
        assert y.grad_fn.name() == ("CumsumBackward0" if method == "cumsum_" else "CumprodBackward0")
        (g,) = lib.autograd.grad((y * y).sum(), x)
        grads.append(g)
    assert_same(grads[1], grads[0])
    with pytest.raises(RuntimeError, match="leaf Variable"):
        getattr(to_engine(t).requires_grad_(), method)(1)
