"""The indexing family: the engine against torch.

Advanced `__getitem__` / `__setitem__` (integer and bool tensors, lists, Python
bools, mixed with slices/None/Ellipsis/ints, adjacent and split index dims) over
contiguous, transposed, sliced and expanded inputs; index_select, index_add,
index_copy, index_fill, index_put, index_reduce, gather, scatter (src, value,
reduce=), scatter_add, scatter_reduce, masked_fill/select/scatter, take, put,
take_along_dim, nonzero, argwhere and where(cond): values, dtypes, shapes,
strides, the in-place forms, torch's error types and messages, and gradients
(grad_fn names and values) against torch's.
"""
from __future__ import annotations

import warnings

import pytest
import torch
from hypothesis import given, settings, strategies as st

import engine
from engine_helpers import assert_same, to_engine

DTYPES = [torch.float32, torch.float64, torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool]


def _values(shape, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * 5
    if dtype == torch.bool:
        return x > 0
    return x.to(dtype)


LAYOUTS = {
    "contiguous": lambda dtype: _values((4, 5, 6), dtype),
    "transposed": lambda dtype: _values((6, 5, 4), dtype).permute(2, 1, 0),
    "sliced": lambda dtype: _values((8, 10, 7), dtype)[1:5, ::2, 1:7],
    "expanded": lambda dtype: _values((1, 5, 1), dtype).expand(4, 5, 6),
}


def _index_cases(torch_mod):
    t = torch_mod.tensor
    return [
        (lambda: [0, 2, 3]),
        (lambda: [[0, 1], [3, 2]]),
        (lambda: (t([0, -1, 2]), t([4, 0, 1]))),
        (lambda: (slice(None), t([4, 0, 1]))),
        (lambda: (t([1, 0]), slice(None), t([5, 0]))),          # split: result dims first
        (lambda: (slice(1, 3), t([[0], [2]]), t([1, 5]))),       # adjacent, broadcast together
        (lambda: (Ellipsis, t([0, 5, 5]))),
        (lambda: (None, t([3, 1]), None, slice(None, None, 2))),
        (lambda: (1, slice(None), t([0, 2]))),
        (lambda: (t([1, 0], dtype=torch_mod.int32), t([2, 2]))),
        (lambda: t([True, False, True, True])),
        (lambda: (slice(None), t([True, False, True, False, True]))),
        (lambda: (t([[True, False, True, False, True]] * 4),)),
        (lambda: (t([0, 2]), True)),
        (lambda: (False, slice(None), [1])),
        (lambda: (t(True), 0)),
        (lambda: (t([], dtype=torch_mod.int64),)),
        (lambda: ([[0, 3], [1, 2]], 2, [[5], [0]])),
    ]


CASES = list(range(len(_index_cases(torch))))


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("case", CASES)
def test_getitem_matches_torch(layout, case):
    x = LAYOUTS[layout](torch.float32)
    e = to_engine(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = x[_index_cases(torch)[case]()]
        got = e[_index_cases(engine)[case]()]
    assert_same(got, expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_getitem_dtypes(dtype):
    x = LAYOUTS["sliced"](dtype)
    e = to_engine(x)
    for case in (1, 4, 11):
        assert_same(e[_index_cases(engine)[case]()], x[_index_cases(torch)[case]()])


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "sliced"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("scalar", [True, False])
def test_setitem_matches_torch(layout, case, scalar):
    x = LAYOUTS[layout](torch.float64).clone() if layout == "contiguous" else LAYOUTS[layout](torch.float64)
    e = to_engine(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shape = x[_index_cases(torch)[case]()].shape
        value = 7.5 if scalar else torch.arange(shape[-1] if shape else 1, dtype=torch.float64) - 3
        x[_index_cases(torch)[case]()] = value
        e[_index_cases(engine)[case]()] = value if scalar else to_engine(value)
    assert_same(e, x)


def test_setitem_duplicates_take_the_last_and_accumulate_adds():
    x = torch.zeros(5)
    e = to_engine(x)
    index = torch.tensor([1, 3, 1, 1])
    values = torch.tensor([1.0, 2.0, 3.0, 4.0])
    x[index] = values
    e[to_engine(index)] = to_engine(values)
    assert_same(e, x)
    assert_same(engine.zeros(5).index_put_((to_engine(index),), to_engine(values), accumulate=True),
                torch.zeros(5).index_put_((index,), values, accumulate=True))


def _raises_like(fn_torch, fn_engine):
    with pytest.raises(Exception) as expected:
        fn_torch()
    with pytest.raises(Exception) as got:
        fn_engine()
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("index", [
    lambda m: m.tensor([5]), lambda m: (slice(None), m.tensor([-7])), lambda m: ([0], [9]),
    lambda m: m.tensor([1.0]), lambda m: m.tensor([True, False]), lambda m: (m.tensor([0, 1]), m.tensor([0, 1, 2])),
    lambda m: ([0], [0], [0], [0]), lambda m: m.tensor([1], dtype=m.int16),
])
def test_getitem_errors(index):
    x = torch.arange(12.0).reshape(3, 4)
    e = to_engine(x)
    _raises_like(lambda: x[index(torch)], lambda: e[index(engine)])


def test_setitem_errors():
    x = torch.zeros(3, 4)
    e = to_engine(x)
    _raises_like(lambda: x.__setitem__([0], torch.ones(3)), lambda: e.__setitem__([0], engine.ones(3)))
    _raises_like(lambda: x.__setitem__([0], torch.ones(4, dtype=torch.float64)),
                 lambda: e.__setitem__([0], engine.ones(4, dtype=engine.float64)))
    _raises_like(lambda: x.__setitem__([7], 1.0), lambda: e.__setitem__([7], 1.0))


# ---- the ops ----
def _both(fn, *tensors):
    return fn(torch, *tensors), fn(engine, *(to_engine(t) if isinstance(t, torch.Tensor) else t for t in tensors))


OP_CASES = {
    "index_select": lambda m, x: m.index_select(x, 1, m.tensor([4, 0, 0, 2])),
    "index_select_int32": lambda m, x: x.index_select(-1, m.tensor([5, 1], dtype=m.int32)),
    "gather": lambda m, x: m.gather(x, 2, m.tensor([[[0, 5]] * 5] * 4)),
    "gather_small": lambda m, x: x.gather(0, m.tensor([[[3]], [[0]]])),
    "scatter_src": lambda m, x: x.scatter(1, m.tensor([[[0, 1, 2]], [[4, 3, 2]]]), x[:2, :1, :3].contiguous()),
    "scatter_value": lambda m, x: x.scatter(2, m.tensor([[[0, 5]]]), 2),
    "scatter_add": lambda m, x: x.scatter_add(0, m.tensor([[[1, 1, 1]], [[1, 2, 3]]]), x[:2, :1, :3].contiguous()),
    "index_add": lambda m, x: x.index_add(1, m.tensor([0, 4, 0]), x[:, :3].contiguous(), alpha=2),
    "index_copy": lambda m, x: x.index_copy(2, m.tensor([5, 1]), x[:, :, :2].contiguous()),
    "index_fill": lambda m, x: x.index_fill(1, m.tensor([0, -1]), 3),
    "index_put": lambda m, x: x.index_put((m.tensor([0, 3]), m.tensor([1, 1])), x[0, 0].contiguous()),
    "index_put_acc": lambda m, x: x.index_put((m.tensor([0, 0, 3]),), x[:3].contiguous(), accumulate=True),
    "masked_fill": lambda m, x: x.masked_fill(x > 0, -1),
    "masked_fill_bcast": lambda m, x: x[0].masked_fill(m.tensor([[True], [False], [True], [False], [True]]), 9),
    "masked_select": lambda m, x: x.masked_select(x > 0),
    "masked_select_bcast": lambda m, x: m.masked_select(x[0, 0], m.tensor([[True], [False]])),
    "take": lambda m, x: x.take(m.tensor([[0, -1], [7, 100]])),
    "put": lambda m, x: x.put(m.tensor([0, -1, 7]), x[0, 0, :3].contiguous()),
    "put_acc": lambda m, x: x.put(m.tensor([1, 1, 1]), x[0, 0, :3].contiguous(), accumulate=True),
    "take_along_dim": lambda m, x: m.take_along_dim(x, m.tensor([[[0], [-1], [2], [1], [0]]]), 2),
    "take_along_dim_flat": lambda m, x: m.take_along_dim(x, m.tensor([3, 2, 1])),
    "nonzero": lambda m, x: m.nonzero(x > 1),
    "nonzero_tuple": lambda m, x: m.nonzero(x > 1, as_tuple=True),
    "argwhere": lambda m, x: m.argwhere(x),
    "where_cond": lambda m, x: m.where(x < 0),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("name", list(OP_CASES))
def test_ops_match_torch(name, layout):
    x = LAYOUTS[layout](torch.float32)
    try:
        expected = OP_CASES[name](torch, x)
    except RuntimeError as exc:  # take_along_dim without dim views the input as 1-dim
        with pytest.raises(RuntimeError) as got:
            OP_CASES[name](engine, to_engine(x))
        assert str(got.value) == str(exc)
        return
    assert_same(OP_CASES[name](engine, to_engine(x)), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["index_select", "gather", "scatter_add", "index_add", "index_put_acc", "take",
                                  "put_acc", "masked_select", "nonzero", "index_fill", "scatter_value"])
def test_ops_dtypes(name, dtype):
    x = LAYOUTS["sliced"](dtype)
    if dtype == torch.bool and name == "index_add":
        x = x.clone()
    expected, got = _both(OP_CASES[name], x)
    assert_same(got, expected)


def test_masked_scatter():
    x = torch.arange(12.0).reshape(3, 4) - 5
    src = torch.arange(20.0) * 10
    assert_same(to_engine(x).masked_scatter(to_engine(x > 0), to_engine(src)), x.masked_scatter(x > 0, src))
    mask = torch.tensor([True, False, True, True])
    assert_same(to_engine(x).masked_scatter(to_engine(mask), to_engine(src)), x.masked_scatter(mask, src))


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [torch.float64, torch.int64, torch.int16])
def test_scatter_reduce(reduce, include_self, dtype):
    x = _values((4, 6), dtype, 1)
    src = _values((4, 5), dtype, 2)
    index = torch.tensor([[0, 0, 5, 5, 1], [1, 2, 3, 1, 1], [0, 0, 0, 0, 0], [5, 4, 3, 2, 1]])
    expected = x.scatter_reduce(1, index, src, reduce, include_self=include_self)
    got = to_engine(x).scatter_reduce(1, to_engine(index), to_engine(src), reduce, include_self=include_self)
    assert_same(got, expected)


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    x = _values((5, 3), torch.float64, 3)
    src = _values((4, 3), torch.float64, 4)
    index = torch.tensor([0, 4, 0, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = x.index_reduce(0, index, src, reduce, include_self=include_self)
        got = to_engine(x).index_reduce(0, to_engine(index), to_engine(src), reduce, include_self=include_self)
    assert_same(got, expected)


def test_scatter_legacy_reduce():
    x = torch.ones(3, 4)
    index = torch.tensor([[0, 1, 0, 1]])
    src = torch.full((1, 4), 3.0)
    for reduce in ("add", "multiply"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = x.scatter(0, index, src, reduce=reduce)
            got = to_engine(x).scatter(0, to_engine(index), to_engine(src), reduce=reduce)
        assert_same(got, expected)
        assert_same(to_engine(x).scatter(0, to_engine(index), 2.0, reduce=reduce),
                    x.scatter(0, index, 2.0, reduce=reduce))


def test_inplace_forms_write_self_and_bump_the_version():
    x = torch.zeros(3, 4)
    e = to_engine(x)
    index = torch.tensor([2, 0])
    src = torch.ones(2, 4)
    for name, args in [("index_add_", (0, index, src)), ("index_copy_", (0, index, src * 2)),
                       ("index_fill_", (1, index, 5.0)), ("scatter_", (0, index.reshape(1, 2), 7.0)),
                       ("scatter_add_", (1, index.reshape(1, 2), src)), ("masked_fill_", (x > 4, -1.0)),
                       ("put_", (index, src[0, :2])), ("index_put_", ((index,), src))]:
        before = e._version
        got = getattr(e, name)(*(to_engine(a) if isinstance(a, torch.Tensor) else
                                 tuple(to_engine(t) for t in a) if isinstance(a, tuple) else a for a in args))
        getattr(x, name)(*args)
        assert got is e
        assert e._version > before
        assert_same(e, x)


OP_ERRORS = [
    lambda m, x: x.index_select(0, m.tensor([5])),
    lambda m, x: x.index_select(0, m.tensor([-1])),
    lambda m, x: x.index_select(0, m.tensor([1.0])),
    lambda m, x: x.index_select(0, m.tensor([[0]])),
    lambda m, x: x.gather(0, m.tensor([[5]])),
    lambda m, x: x.gather(0, m.tensor([[1.0]])),
    lambda m, x: x.gather(0, m.tensor([[1, 1, 1, 1]])),
    lambda m, x: x.scatter(0, m.tensor([[5]]), 1.0),
    lambda m, x: x.scatter(0, m.tensor([[1]]), x.long()),
    lambda m, x: x.scatter_add(0, m.tensor([[-1]]), x),
    lambda m, x: x.take(m.tensor([7])),
    lambda m, x: x.take(m.tensor([1], dtype=m.int32)),
    lambda m, x: x.put(m.tensor([-7]), m.tensor([1.0])),
    lambda m, x: x.index_add(0, m.tensor([5]), m.ones(1, 3)),
    lambda m, x: x.index_add(0, m.tensor([1]), m.ones(1, 3, dtype=m.float64)),
    lambda m, x: x.index_add(0, m.tensor([0, 1]), m.ones(2)),
    lambda m, x: x.index_copy(0, m.tensor([5]), m.ones(1, 3)),
    lambda m, x: x.index_fill(0, m.tensor([5]), 1),
    lambda m, x: x.index_put((m.tensor([5]),), m.ones(3)),
    lambda m, x: x.index_put((m.tensor([1]),), m.ones(3, dtype=m.float64)),
    lambda m, x: x.masked_fill(m.tensor([1, 0, 1]), 1),
    lambda m, x: x.masked_fill(m.tensor([True, False, True]), m.ones(3)),
    lambda m, x: x.masked_select(m.tensor([1, 0, 1])),
    lambda m, x: x.masked_scatter(m.tensor([True, False, True]), m.ones(2)),
    lambda m, x: m.take_along_dim(x, m.tensor([1]), 0),
    lambda m, x: m.take_along_dim(x, m.tensor([[1]], dtype=m.int32), 1),
]


@pytest.mark.parametrize("case", range(len(OP_ERRORS)))
def test_op_errors(case):
    x = torch.arange(6.0).reshape(2, 3)
    e = to_engine(x)
    _raises_like(lambda: OP_ERRORS[case](torch, x), lambda: OP_ERRORS[case](engine, e))


def test_failed_write_leaves_self_untouched():
    e = engine.zeros(4)
    with pytest.raises(IndexError):
        e.index_put_((engine.tensor([0, 1, 9]),), engine.ones(3))
    assert e.tolist() == [0.0] * 4


# ---- gradients ----
GRAD_CASES = {
    "getitem": lambda m, x: x[m.tensor([2, 0, 2]), 1:],
    "getitem_split": lambda m, x: x[[0, 2], :, [1, 1]],
    "getitem_mask": lambda m, x: x[x > 0],
    "index_select": lambda m, x: x.index_select(1, m.tensor([1, 1, 3])),
    "gather": lambda m, x: x.gather(2, m.tensor([[[0, 0]]]).expand(3, 4, 2)),
    "scatter": lambda m, x: x.scatter(2, m.tensor([[[0, 3]]]).expand(3, 4, 2), x[:, :, :2] * 3),
    "scatter_value": lambda m, x: x.scatter(0, m.tensor([[[1]]]), 0.5),
    "scatter_add": lambda m, x: x.scatter_add(1, m.tensor([[[0], [0]]]), x[:1, :2, :1] * 2),
    "index_add": lambda m, x: x.index_add(0, m.tensor([2, 2]), x[:2] * 2, alpha=3),
    "index_copy": lambda m, x: x.index_copy(1, m.tensor([3, 0]), x[:, :2] * 2),
    "index_fill": lambda m, x: x.index_fill(2, m.tensor([1]), -1),
    "index_put": lambda m, x: x.index_put((m.tensor([0, 1]), m.tensor([3, 3])), x[2, 0] * 2),
    "index_put_acc": lambda m, x: x.index_put((m.tensor([0, 0]),), x[1:3] * 2, accumulate=True),
    "masked_fill": lambda m, x: x.masked_fill(x > 0, 0.25),
    "masked_select": lambda m, x: x.masked_select(x > 0),
    "masked_scatter": lambda m, x: x.masked_scatter(x > 0, x * 2),
    "take": lambda m, x: x.take(m.tensor([0, 5, 5, -1])),
    "put": lambda m, x: x.put(m.tensor([0, 5]), x[0, 0, :2] * 2),
    "take_along_dim": lambda m, x: m.take_along_dim(x, m.tensor([[[1], [0], [2], [1]]]), 2),
    "scatter_reduce_amax": lambda m, x: x.scatter_reduce(2, m.tensor([[[0, 0, 1]]]).expand(3, 4, 3),
                                                         x[:, :, :3] * 2, "amax", include_self=False),
    "scatter_reduce_mean": lambda m, x: x.scatter_reduce(2, m.tensor([[[0, 0, 1]]]).expand(3, 4, 3),
                                                         x[:, :, :3] * 2, "mean"),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_gradients_match_torch(name):
    base = _values((3, 4, 5), torch.float64, 7)
    x = base.clone().requires_grad_()
    e = to_engine(base).requires_grad_()
    out_t = GRAD_CASES[name](torch, x)
    out_e = GRAD_CASES[name](engine, e)
    assert out_e.grad_fn.name() == out_t.grad_fn.name()
    weight = _values(tuple(out_t.shape), torch.float64, 8)
    (out_t * weight).sum().backward()
    (out_e * to_engine(weight)).sum().backward()
    assert_same(e.grad, x.grad, check_stride=False)


def test_setitem_gradients_match_torch():
    def program(m, x, v):
        y = x * 1
        y[m.tensor([0, 2])] = v
        y[1, [1, 3]] = 3.0
        return y

    base = _values((3, 4), torch.float64, 9)
    vals = _values((4,), torch.float64, 10)
    x, v = base.clone().requires_grad_(), vals.clone().requires_grad_()
    ex, ev = to_engine(base).requires_grad_(), to_engine(vals).requires_grad_()
    yt, ye = program(torch, x, v), program(engine, ex, ev)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    weight = _values((3, 4), torch.float64, 11)
    (yt * weight).sum().backward()
    (ye * to_engine(weight)).sum().backward()
    assert_same(ex.grad, x.grad)
    assert_same(ev.grad, v.grad)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), data=st.data())
def test_random_integer_indexing(shape, data):
    x = torch.arange(float(torch.Size(shape).numel())).reshape(shape)
    index = []
    for size in shape:
        kind = data.draw(st.sampled_from(["slice", "int", "list", "none"]))
        if kind == "slice":
            index.append(slice(data.draw(st.integers(0, size)), None))
        elif kind == "int":
            index.append(data.draw(st.integers(-size, size - 1)))
        elif kind == "list":
            index.append(data.draw(st.lists(st.integers(-size, size - 1), min_size=0, max_size=3)))
        else:
            index.append(None)
            index.append(slice(None))
    index = tuple(index)
    try:
        expected = x[index]
    except Exception as exc:  # e.g. index lists that do not broadcast
        with pytest.raises(type(exc)):
            to_engine(x)[index]
        return
    assert_same(to_engine(x)[index], expected)


# ---- edge cases: 0-dim and empty tensors, NaN, mixed index kinds, kwargs ----
def _summary(r):
    if isinstance(r, tuple):
        return [(tuple(a.shape), a.stride(), repr(a.tolist())) for a in r]
    return (str(r.dtype), tuple(r.shape), r.stride(), repr(r.tolist()))


EDGE_CASES = [
    lambda m, x: x[..., m.tensor([0, 1]), :],
    lambda m, x: x[m.tensor([[0], [1]]), ..., m.tensor([0, 3])],
    lambda m, x: x[:, m.tensor([True, False, True]), m.tensor([1, 2])],
    lambda m, x: x[m.tensor([1, 0], dtype=m.int32), None, :, m.tensor([1], dtype=m.int64)],
    lambda m, x: x[-1, m.tensor([-1, -3])],
    lambda m, x: x[x > 100],
    lambda m, x: x[m.ones(2, 3, 4, dtype=m.bool)],
    lambda m, x: x[1:, 1:][[0], [1]],
    lambda m, x: x.permute(2, 0, 1)[[1, 2]],
    lambda m, x: x.permute(2, 0, 1)[:, :, [1, 2]],
    lambda m, x: x.scatter(1, m.tensor([[[0, 1]]]), value=2.0),
    lambda m, x: x.scatter(1, m.tensor([[[0, 0]]]), 2.0, reduce="multiply"),
    lambda m, x: m.index_select(x, 0, index=m.tensor(1)),
    lambda m, x: m.gather(x, -1, m.tensor([[[3]]]), sparse_grad=True),
    lambda m, x: m.masked_fill(x, m.tensor(True), m.tensor(3)),
    lambda m, x: x.masked_fill(m.tensor([True, False, False, True]), float('nan')),
    lambda m, x: m.take_along_dim(x, m.tensor([[[0]], [[1]]]), 2),
    lambda m, x: m.nonzero(m.tensor(2.0), as_tuple=True),
    lambda m, x: m.nonzero(m.tensor(0.0), as_tuple=True),
    lambda m, x: m.argwhere(m.tensor([[0, 1], [1, 0]])),
    lambda m, x: m.where(m.tensor([[0, 1], [1, 0]])),
    lambda m, x: x.index_put((m.tensor([0]), m.tensor([1])), m.tensor(5.)),
    lambda m, x: x.index_put((m.tensor([[True, False, True], [False, False, True]]),), m.tensor([1., 2, 3, 4])),
    lambda m, x: x.index_fill(0, m.tensor(1), m.tensor(-2.)),
    lambda m, x: m.ones(3).index_fill(0, m.tensor([0, 0]), 5),
    lambda m, x: m.ones(()).index_fill(0, m.tensor([0]), 5),
    lambda m, x: m.ones(()).index_select(0, m.tensor([0])),
    lambda m, x: m.ones(()).gather(0, m.tensor(0)),
    lambda m, x: m.ones(()).scatter(0, m.tensor(0), 3.),
    lambda m, x: m.ones(()).index_add(0, m.tensor(0), m.tensor(3.)),
    lambda m, x: m.ones(3).index_add(0, m.tensor(0), m.tensor(3.)),
    lambda m, x: m.ones(()).take(m.tensor([0, 0])),
    lambda m, x: m.ones(()).put(m.tensor([0]), m.tensor([7.])),
    lambda m, x: m.ones(()).masked_select(m.tensor(True)),
    lambda m, x: m.ones(()).masked_scatter(m.tensor(True), m.tensor([4.])),
    lambda m, x: m.ones(()).index_copy(0, m.tensor([0]), m.tensor([4.])),
    lambda m, x: m.ones(2, 0)[[0, 1]],
    lambda m, x: m.ones(2, 0)[:, [0]],
    lambda m, x: m.ones(0, 3)[m.tensor([], dtype=m.int64)],
    lambda m, x: m.arange(5)[m.tensor([[1, 2], [3, 4]])],
    lambda m, x: m.arange(5.).index_add(0, m.tensor([1, 1]), m.tensor([1., 2.]), alpha=0.5),
    lambda m, x: m.arange(5).index_add(0, m.tensor([1, 1]), m.tensor([1, 2]), alpha=3),
    lambda m, x: m.arange(6.).reshape(2, 3).index_add(0, m.tensor([1]), m.ones(1, 3), alpha=True),
    lambda m, x: m.tensor([True, False]).index_put((m.tensor([0, 0, 1]),), m.tensor([True, True, True]), accumulate=True),
    lambda m, x: m.arange(6).reshape(2, 3).scatter_reduce(1, m.tensor([[0, 0], [1, 1]]), m.tensor([[5, 6], [7, 8]]), "mean", include_self=False),
    lambda m, x: m.arange(6.).reshape(2, 3).scatter_reduce(1, m.tensor([[0, 0], [1, 1]]), m.tensor([[5., float('nan')], [7., 8.]]), "amax"),
]


@pytest.mark.parametrize("case", range(len(EDGE_CASES)))
def test_edge_cases_match_torch(case):
    results = []
    for m in (torch, engine):
        x = m.arange(24., dtype=m.float64).reshape(2, 3, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                results.append(_summary(EDGE_CASES[case](m, x)))
            except Exception as exc:  # noqa: BLE001 - the error itself is compared
                results.append((type(exc).__name__, str(exc)))
    assert results[1] == results[0]



# ---- writes: values and scalars of other dtypes, overflow, expanded targets, reduce names ----
def _set(x, index, value):
    x[index] = value
    return x


WRITE_CASES = [
    lambda m: _set(m.zeros(3), [0], m.tensor(1)),
    lambda m: _set(m.zeros(3), [0], m.tensor(1.5, dtype=m.float64)),
    lambda m: _set(m.zeros(3, dtype=m.int64), [0, 1], 2.7),
    lambda m: _set(m.zeros(3, dtype=m.int64), [0, 1], True),
    lambda m: _set(m.zeros(3), m.tensor([True, False, True]), m.tensor([1., 2.])),
    lambda m: _set(m.zeros(2, 3), (slice(None), [0, 2]), m.tensor([[1.], [2.]])),
    lambda m: _set(m.zeros(2, 3), [[0, 1], [2, 0]], m.tensor([5., 6.])),
    lambda m: _set(m.zeros(2, 3), ([0, 1], [2, 0]), m.ones(1, 1, 2)),
    lambda m: _set(m.zeros(2, 3), ([0, 1],), m.ones(2, 2)),
    lambda m: _set(m.zeros(3), m.tensor([0, 0]), m.tensor([1., 2.])),
    lambda m: _set(m.zeros(3), m.tensor(1), 5.),
    lambda m: _set(m.zeros(3), m.tensor([[1]]), 5.),
    lambda m: _set(m.zeros(3).expand(2, 3), [0], 5.),
    lambda m: m.zeros(3).index_put_([m.tensor([1])], m.tensor(2.)),
    lambda m: m.zeros(3).index_put_((m.tensor([1]),), m.tensor(2.), accumulate=True),
    lambda m: m.zeros(2, 2).index_put_((m.tensor([[True, False], [True, True]]),), m.tensor([1., 2., 3.])),
    lambda m: m.zeros(2, 2).index_put_((m.tensor([[True, False], [True, True]]),), m.tensor([1., 2.])),
    lambda m: m.zeros(3).index_put_((m.tensor([1]), None), m.tensor(2.)),
    lambda m: m.zeros(3).index_put((m.tensor([], dtype=m.int64),), m.tensor(2.)),
    lambda m: m.zeros(3, dtype=m.int8).scatter_reduce(0, m.tensor([0, 0]), m.tensor([100, 100], dtype=m.int8), "sum"),
    lambda m: m.zeros(3, dtype=m.uint8).scatter_reduce(0, m.tensor([0, 0]), m.tensor([3, 4], dtype=m.uint8), "amin", include_self=False),
    lambda m: m.tensor([True, False, True]).scatter_reduce(0, m.tensor([0, 1]), m.tensor([False, True]), "amax"),
    lambda m: m.tensor([True, False, True]).scatter_reduce(0, m.tensor([0, 1]), m.tensor([False, True]), "sum"),
    lambda m: m.tensor([True, False, True]).scatter_reduce(0, m.tensor([0, 1]), m.tensor([False, True]), "mean"),
    lambda m: m.tensor([1, 2, 3]).scatter_reduce(0, m.tensor([0, 0]), m.tensor([4, 4]), "mean"),
    lambda m: m.tensor([-1, 2, 3]).scatter_reduce(0, m.tensor([0, 0]), m.tensor([-4, 4]), "mean", include_self=False),
    lambda m: m.tensor([1.0, 2.0]).scatter_reduce(0, m.tensor([0]), m.tensor([4.0]), "max"),
    lambda m: m.tensor([1.0, 2.0]).index_reduce(0, m.tensor([0]), m.tensor([4.0]), "sum"),
    lambda m: m.tensor([1, 2]).index_reduce(0, m.tensor([0, 0]), m.tensor([4, 5]), "mean", include_self=False),
    lambda m: m.tensor([1.0, 2.0]).scatter(0, m.tensor([0]), m.tensor([4.0]), reduce="mean"),
    lambda m: m.tensor([1.0, 2.0]).scatter(0, m.tensor([0]), 3, reduce="add"),
    lambda m: m.tensor([1, 2]).scatter(0, m.tensor([0]), 3.5),
    lambda m: m.tensor([1, 2]).masked_fill(m.tensor([True, False]), 3.5),
    lambda m: m.tensor([True, False]).masked_fill(m.tensor([True, False]), 3.5),
    lambda m: m.tensor([1, 2]).index_fill(0, m.tensor([0]), 3.5),
    lambda m: m.tensor([1, 2], dtype=m.uint8).masked_fill(m.tensor([True, False]), -1),
    lambda m: m.tensor([1, 2], dtype=m.int8).masked_fill(m.tensor([True, False]), 300),
    lambda m: m.tensor([1., 2.]).masked_fill(m.tensor([True, False]), m.tensor(3)),
    lambda m: m.tensor([1, 2]).masked_fill(m.tensor([True, False]), m.tensor(3.5)),
]


@pytest.mark.parametrize("case", range(len(WRITE_CASES)))
def test_write_edge_cases_match_torch(case):
    results = []
    for m in (torch, engine):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                results.append(_summary(WRITE_CASES[case](m)))
            except Exception as exc:  # noqa: BLE001 - the error itself is compared
                results.append((type(exc).__name__, str(exc)))
    assert results[1] == results[0]


def test_index_put_on_expanded_tensor_warns_like_torch():
    with pytest.warns(UserWarning, match="Use of index_put_ on expanded tensors is deprecated"):
        engine.zeros(3).expand(2, 3).index_put_((engine.tensor([0]),), engine.tensor(2.0))
