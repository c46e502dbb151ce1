"""Reductions: the engine against torch, op by op, dtype by dtype, layout by layout.

One declarative table (REDUCTIONS) drives the generic test: every op runs on
every supported dtype, on contiguous, transposed, strided, expanded (zero
stride), long (lane tails), wide (reduction across outputs), 0-dim and empty
inputs, for every dim form (None, int, negative, tuple, ()) and keepdim.
Targeted tests pin special values (NaN, ±inf, ties), dtype= and out=, the
return types of max/min/aminmax, error types, and gradients. Expected values
always come from running torch.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import engine
from engine_helpers import assert_same, dtype_to_engine, to_engine, to_torch

ALL = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float32, torch.float64]
NUMERIC = ALL[1:]
FLOATS = [torch.float32, torch.float64]


# ---- the helpers: run torch, run the engine, compare (or compare the exception type) ----
def _engine_args(args):
    return [to_engine(a) if isinstance(a, torch.Tensor) else a for a in args]


def _engine_kwargs(kwargs):
    out = {}
    for key, value in kwargs.items():
        if isinstance(value, torch.dtype):
            value = dtype_to_engine(value)
        elif isinstance(value, torch.Tensor):
            value = to_engine(value)
        elif isinstance(value, tuple) and any(isinstance(v, torch.Tensor) for v in value):
            value = tuple(to_engine(v) if isinstance(v, torch.Tensor) else v for v in value)
        out[key] = value
    return out


def helper_test_op(torch_fn, engine_fn, args, kwargs=None, *, atol=None, rtol=None, check_stride=True):
    """engine_fn(*args) matches torch_fn(*args): values, dtype, shape, strides, or the same exception type."""
    kwargs = kwargs or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = torch_fn(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - the engine must raise the same type
            with pytest.raises(type(error)):
                engine_fn(*_engine_args(args), **_engine_kwargs(kwargs))
            return None
        got = engine_fn(*_engine_args(args), **_engine_kwargs(kwargs))
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e, atol=atol, rtol=rtol, check_stride=check_stride)
    else:
        assert_same(got, expected, atol=atol, rtol=rtol, check_stride=check_stride)
    return got


def helper_test_exception(torch_fn, engine_fn, args, kwargs=None, *, match=None):
    """Both raise, with the same exception type (and engine message matching `match`)."""
    kwargs = kwargs or {}
    with pytest.raises(Exception) as torch_error:
        torch_fn(*args, **kwargs)
    with pytest.raises(torch_error.type, match=match):
        engine_fn(*_engine_args(args), **_engine_kwargs(kwargs))


# ---- inputs ----
def _values(dtype, shape, seed=0, *, specials=False):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape)) if shape else 1
    if dtype == torch.bool:
        data = rng.integers(0, 2, n).astype(bool)
    elif dtype.is_floating_point:
        data = rng.normal(0, 3, n)
        if specials and n >= 6:
            data[rng.choice(n, 4, replace=False)] = [np.nan, np.inf, -np.inf, -0.0]
        data = data.astype(str(dtype).split(".")[1])
    else:
        info = np.iinfo(str(dtype).split(".")[1])
        data = rng.integers(max(info.min, -9), min(info.max, 9), n, endpoint=True).astype(str(dtype).split(".")[1])
    return torch.from_numpy(data.reshape(shape))


def _product_values(dtype, shape, seed=0):
    """Values whose products stay moderate (no overflow that depends on the multiplication order)."""
    t = _values(dtype, shape, seed)
    if dtype.is_floating_point:
        rng = np.random.default_rng(seed)
        mag = rng.uniform(0.6, 1.5, t.numel()) * np.sign(rng.normal(size=t.numel()))
        return torch.from_numpy(mag.reshape(t.shape)).to(dtype)
    return t.clamp(-3, 3) if dtype != torch.uint8 else t.clamp(0, 3)


LAYOUTS = {
    "contiguous": lambda make: make((3, 5)),
    "3d": lambda make: make((2, 3, 4)),
    "transposed": lambda make: make((5, 3)).t(),
    "permuted": lambda make: make((2, 3, 4)).permute(2, 0, 1),
    "strided": lambda make: make((3, 10))[:, ::2],
    "expanded": lambda make: make((1, 5)).expand(3, 5),
    "long": lambda make: make((131,)),
    "wide": lambda make: make((9, 70)),
    "tall": lambda make: make((70, 9)),
    "scalar": lambda make: make(()),
    "empty_rows": lambda make: make((0, 3)),
    "empty_cols": lambda make: make((3, 0)),
}

# dim forms: (args, kwargs) after the input
DIM_FORMS = {
    "all": ((), {}),
    "dim0": ((0,), {}),
    "dim-1": ((-1,), {}),
    "dim0_keep": ((0,), {"keepdim": True}),
    "tuple": (((0, -1),), {}),
    "tuple_keep": (((-1, 0),), {"keepdim": True}),
    "none_keep": ((None,), {"keepdim": True}),
    "empty_tuple": (((),), {}),
    "out_of_range": ((3,), {}),
    "duplicate": (((0, 0),), {}),
}

# name -> (torch function, engine function, dtypes, dim forms, input maker)
REDUCTIONS = {
    "sum": (torch.sum, engine.sum, ALL, DIM_FORMS, _values),
    "nansum": (torch.nansum, engine.nansum, ALL, DIM_FORMS, _values),
    "mean": (torch.mean, engine.mean, ALL, DIM_FORMS, _values),
    "nanmean": (torch.nanmean, engine.nanmean, ALL, DIM_FORMS, _values),
    "prod": (torch.prod, engine.prod, ALL, {k: DIM_FORMS[k] for k in ("all", "dim0", "dim-1", "dim0_keep", "out_of_range")},
             _product_values),
    "amax": (torch.amax, engine.amax, ALL, DIM_FORMS, _values),
    "amin": (torch.amin, engine.amin, ALL, DIM_FORMS, _values),
    "max": (torch.max, engine.max, ALL, {k: DIM_FORMS[k] for k in ("all", "dim0", "dim-1", "dim0_keep", "out_of_range")},
            _values),
    "min": (torch.min, engine.min, ALL, {k: DIM_FORMS[k] for k in ("all", "dim0", "dim-1", "dim0_keep", "out_of_range")},
            _values),
    "argmax": (torch.argmax, engine.argmax, ALL, {k: DIM_FORMS[k] for k in ("all", "dim0", "dim-1", "dim0_keep", "none_keep",
                                                                            "out_of_range")}, _values),
    "argmin": (torch.argmin, engine.argmin, ALL, {k: DIM_FORMS[k] for k in ("all", "dim0", "dim-1", "dim0_keep", "none_keep",
                                                                            "out_of_range")}, _values),
    "all": (torch.all, engine.all, ALL, DIM_FORMS, _values),
    "any": (torch.any, engine.any, ALL, DIM_FORMS, _values),
    "count_nonzero": (torch.count_nonzero, engine.count_nonzero, ALL,
                      {k: DIM_FORMS[k] for k in ("all", "dim0", "dim-1", "tuple", "empty_tuple", "out_of_range", "duplicate")},
                      _values),
    "var": (torch.var, engine.var, ALL, DIM_FORMS, _values),
    "std": (torch.std, engine.std, ALL, DIM_FORMS, _values),
    "logsumexp": (torch.logsumexp, engine.logsumexp, ALL, {k: v for k, v in DIM_FORMS.items() if k not in ("all", "none_keep")},
                  _values),
    "norm": (torch.norm, engine.norm, ALL, DIM_FORMS, _values),
    "linalg.vector_norm": (torch.linalg.vector_norm, engine.linalg.vector_norm, ALL,
                           {k: ((2,) + v[0], v[1]) for k, v in DIM_FORMS.items()}, _values),
}


# Every layout for the dtypes with distinct kernels paths (bool, int64, floats); a few for the rest.
_EVERY_LAYOUT = (torch.bool, torch.int64, torch.float32, torch.float64)
_SOME_LAYOUTS = ("contiguous", "permuted", "wide", "scalar", "empty_rows")


def _cases():
    for name, (_, _, dtypes, _, _) in REDUCTIONS.items():
        for dtype in dtypes:
            for layout in LAYOUTS if dtype in _EVERY_LAYOUT else _SOME_LAYOUTS:
                yield pytest.param(name, dtype, layout, id=f"{name}-{str(dtype)[6:]}-{layout}")


@pytest.mark.parametrize("name,dtype,layout", list(_cases()))
def test_reduction_matches_torch(name, dtype, layout):
    """Every dim form (None, int, negative, tuple, (), out of range, duplicated; keepdim) of one op on one input."""
    torch_fn, engine_fn, _, forms, make = REDUCTIONS[name]
    x = LAYOUTS[layout](lambda shape: make(dtype, shape))
    for form, (args, kwargs) in forms.items():
        try:
            helper_test_op(torch_fn, engine_fn, (x,) + tuple(args), kwargs)
        except AssertionError as error:
            raise AssertionError(f"dim form {form!r}: {error}") from error


@pytest.mark.parametrize("name", ["sum", "amax", "amin", "max", "min", "argmax", "argmin", "mean", "nansum", "nanmean",
                                  "var", "std", "logsumexp", "norm"])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_special_values(name, dtype, dim):
    """NaN, ±inf and -0.0 in every position class: NaN wins extremes (first NaN's index), ties keep the first."""
    torch_fn, engine_fn = REDUCTIONS[name][:2]
    x = _values(dtype, (7, 9), seed=3, specials=True)
    x[2, 4] = x[2, 5] = x.max() if not math.isnan(x.max().item()) else 1.0  # a tie
    x[5, :] = float("-inf")  # a row without finite values
    x[:, 7] = float("nan")  # a column of NaNs
    args = (x,) if dim is None else (x, dim)
    if name == "logsumexp" and dim is None:
        args = (x, (0, 1))
    helper_test_op(torch_fn, engine_fn, args)


@pytest.mark.parametrize("name", ["amax", "amin", "max", "min", "argmax", "argmin"])
def test_ties_pick_the_first_index(name):
    x = torch.tensor([[1.0, 3.0, 3.0, -1.0, -1.0], [2.0, 2.0, 2.0, 2.0, 2.0], [float("nan"), 0.0, float("nan"), 5.0, 5.0]])
    helper_test_op(getattr(torch, name), getattr(engine, name), (x, 1))
    helper_test_op(getattr(torch, name), getattr(engine, name), (x.t().contiguous(), 0))


@pytest.mark.parametrize("shape,dim", [((1000,), 0), ((64, 600), 1), ((600, 64), 0), ((2, 3000), 0), ((3000, 2), 1),
                                       ((8, 8, 130), (0, 2)), ((130, 8, 8), (0, 2))])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int32, torch.uint8])
@pytest.mark.parametrize("name", ["sum", "amax", "argmax", "var", "all"])
def test_larger_shapes_both_strategies(shape, dim, dtype, name):
    """Reductions over the innermost dims (per output) and over outer dims (across outputs)."""
    if name == "argmax" and isinstance(dim, tuple):
        dim = dim[0]
    x = _values(dtype, shape, seed=5)
    # torch's float32 cascade sum is itself off by more than the default tolerance at these lengths
    tolerance = {"atol": 1e-4, "rtol": 2e-5} if dtype == torch.float32 and name in ("sum", "var") else {}
    helper_test_op(getattr(torch, name), getattr(engine, name), (x, dim), **tolerance)
    helper_test_op(getattr(torch, name), getattr(engine, name), (x.transpose(0, -1), dim), **tolerance)


def test_sum_is_accurate_for_long_float32_rows():
    x = _values(torch.float32, (200_000,), seed=1)
    exact = x.double().sum().item()
    got = engine.sum(to_engine(x)).item()
    assert abs(got - exact) <= 1e-6 * abs(exact) + 1e-4


@pytest.mark.parametrize("op", ["sum", "nansum", "prod"])
@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("result", [torch.float64, torch.int32, torch.int64, torch.bool, torch.int8])
def test_dtype_argument(op, dtype, result):
    x = _product_values(dtype, (4, 6), seed=2)
    helper_test_op(getattr(torch, op), getattr(engine, op), (x,), {"dtype": result})
    helper_test_op(getattr(torch, op), getattr(engine, op), (x, 1), {"dtype": result})


@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("result", FLOATS + [torch.int64])
def test_mean_dtype(dtype, result):
    x = _values(dtype, (4, 6), seed=2)
    helper_test_op(torch.mean, engine.mean, (x, 1), {"dtype": result})
    helper_test_op(torch.nanmean, engine.nanmean, (x,), {"dtype": result})


def test_integer_sums_wrap():
    x = torch.tensor([100, 100, 100], dtype=torch.int8)
    helper_test_op(torch.sum, engine.sum, (x,), {"dtype": torch.int8})
    big = torch.tensor([2**62, 2**62, 2**62], dtype=torch.int64)
    helper_test_op(torch.sum, engine.sum, (big,))
    helper_test_op(torch.prod, engine.prod, (big,))


@pytest.mark.parametrize("correction", [0, 1, 2.5, 5, -1])
@pytest.mark.parametrize("form", ["correction", "unbiased_true", "unbiased_false", "positional"])
def test_var_std_forms(correction, form):
    x = _values(torch.float64, (3, 4), seed=4)
    for name in ("var", "std", "var_mean", "std_mean"):
        torch_fn, engine_fn = getattr(torch, name), getattr(engine, name)
        if form == "correction":
            helper_test_op(torch_fn, engine_fn, (x, 1), {"correction": correction, "keepdim": True})
            helper_test_op(torch_fn, engine_fn, (x,), {"correction": correction})
        elif form == "unbiased_true":
            helper_test_op(torch_fn, engine_fn, (x, 1, True))
            helper_test_op(torch_fn, engine_fn, (x, True))
        elif form == "unbiased_false":
            helper_test_op(torch_fn, engine_fn, (x, (0, 1), False, True))
            helper_test_op(torch_fn, engine_fn, (x,), {"unbiased": False})
        else:
            helper_test_op(torch_fn, engine_fn, (x, 0), {"unbiased": True, "keepdim": False})


def test_var_warns_when_degrees_of_freedom_vanish():
    x = to_engine(torch.ones(1, 3))
    with pytest.warns(UserWarning, match="degrees of freedom"):
        engine.var(x, 0)


@pytest.mark.parametrize("p", [2, 1, 0, 3, 0.5, -1, -2, math.inf, -math.inf, "fro", None])
@pytest.mark.parametrize("dim", [None, 1, (0, 1)])
def test_norm_orders(p, dim):
    x = _values(torch.float32, (4, 5), seed=6)
    x[1, 2] = 0.0
    helper_test_op(torch.norm, engine.norm, (x,), {"p": p, "dim": dim})
    if not isinstance(p, str) and p is not None:
        helper_test_op(torch.linalg.vector_norm, engine.linalg.vector_norm, (x, p, dim, True))


def test_norm_dtype_and_method_form():
    x = _values(torch.float32, (3, 4), seed=7)
    helper_test_op(torch.norm, engine.norm, (x,), {"dtype": torch.float64})
    helper_test_op(lambda t: t.norm(1, 1, True, torch.float64), lambda t: t.norm(1, 1, True, engine.float64), (x,))
    helper_test_op(torch.linalg.vector_norm, engine.linalg.vector_norm, (x,), {"dtype": torch.float64})
    helper_test_op(torch.linalg.vector_norm, engine.linalg.vector_norm, (x.double(),), {"dtype": torch.float32})
    helper_test_op(torch.linalg.vector_norm, engine.linalg.vector_norm, (x,), {"dtype": torch.int64})
    helper_test_exception(torch.linalg.vector_norm, engine.linalg.vector_norm, (x, "fro"))


def test_norm_nuclear_is_the_sum_of_singular_values():
    x = torch.arange(6.0).reshape(2, 3)
    got = engine.norm(to_engine(x), "nuc")
    assert abs(got.item() - torch.norm(x, "nuc").item()) < 1e-5


@pytest.mark.parametrize("p", [math.inf, -math.inf, -1, 0, 2])
def test_norm_of_empty_dims(p):
    for shape, dim in [((0, 2), None), ((0, 2), 0), ((0, 2), 1), ((2, 0), 1), ((2, 0, 3), (0, 2))]:
        helper_test_op(torch.linalg.vector_norm, engine.linalg.vector_norm, (torch.empty(shape), p, dim))


# ---- return types and out= ----
def test_max_min_return_named_tuples():
    x = _values(torch.float32, (3, 4), seed=8)
    for name in ("max", "min"):
        expected = getattr(torch, name)(x, 1)
        got = getattr(engine, name)(to_engine(x), 1)
        assert type(got).__name__ == name and isinstance(got, tuple)
        values, indices = got
        assert_same(got.values, expected.values)
        assert_same(got.indices, expected.indices)
        assert_same(values, expected[0])
        assert repr(got).startswith(f"torch.return_types.{name}(\nvalues=tensor(")
        assert engine.return_types.__dict__[name]((values, indices)) == got
    minmax = engine.aminmax(to_engine(x), dim=0, keepdim=True)
    expected = torch.aminmax(x, dim=0, keepdim=True)
    assert_same(minmax.min, expected.min)
    assert_same(minmax.max, expected.max)
    helper_test_op(torch.aminmax, engine.aminmax, (x,))
    helper_test_op(torch.aminmax, engine.aminmax, (torch.empty(0, 3),))
    helper_test_op(torch.aminmax, engine.aminmax, (torch.empty(0, 3),), {"dim": 0})
    helper_test_op(torch.aminmax, engine.aminmax, (torch.empty(0, 3),), {"dim": 1})


def test_max_min_binary_forms_alias_maximum_minimum():
    a, b = _values(torch.float32, (3, 4), 1, specials=True), _values(torch.float32, (4,), 2)
    helper_test_op(torch.max, engine.max, (a, b))
    helper_test_op(torch.min, engine.min, (a, b))
    helper_test_op(lambda x, y: x.max(y), lambda x, y: x.max(y), (a, b))


def test_method_forms():
    x = _values(torch.float32, (3, 4), seed=9)
    for name in ("sum", "mean", "prod", "amax", "amin", "argmax", "argmin", "all", "any", "nansum", "nanmean",
                 "count_nonzero", "var", "std", "norm"):
        helper_test_op(lambda t, n=name: getattr(t, n)(), lambda t, n=name: getattr(t, n)(), (x,))
        helper_test_op(lambda t, n=name: getattr(t, n)(1), lambda t, n=name: getattr(t, n)(1), (x,))
    helper_test_op(lambda t: t.max(1, True), lambda t: t.max(1, True), (x,))
    helper_test_op(lambda t: t.logsumexp(1, keepdim=True), lambda t: t.logsumexp(1, keepdim=True), (x,))


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "nansum", "var", "std", "logsumexp"])
@pytest.mark.parametrize("out_dtype", [torch.float32, torch.float64, torch.int64])
def test_out_argument(name, out_dtype):
    x = _product_values(torch.float32, (3, 4), seed=10)
    for out_shape in [(3,), (0,), (7,)]:
        out = torch.empty(out_shape, dtype=out_dtype)
        e_out = engine.empty(out_shape, dtype=dtype_to_engine(out_dtype))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                expected = getattr(torch, name)(x, 1, out=out)
            except RuntimeError:
                with pytest.raises(RuntimeError):
                    getattr(engine, name)(to_engine(x), 1, out=e_out)
                continue
            got = getattr(engine, name)(to_engine(x), 1, out=e_out)
        assert got is e_out
        assert_same(got, expected)


def test_out_argument_of_extremes_and_logical():
    x = _values(torch.float32, (3, 4), seed=11)
    for name, out in [("amax", torch.empty(3)), ("amax", torch.empty(3, dtype=torch.float64)),
                      ("argmax", torch.empty(3, dtype=torch.int64)), ("argmax", torch.empty(3, dtype=torch.int32)),
                      ("all", torch.empty(3, dtype=torch.bool)), ("any", torch.empty(3, dtype=torch.float32))]:
        helper_test_op(getattr(torch, name), getattr(engine, name), (x, 1), {"out": out})
    # (torch writes 0 into a uint8 out= of all() over a float input; a uint8 input is consistent)
    helper_test_op(torch.all, engine.all, (x.to(torch.uint8), 1), {"out": torch.empty(3, dtype=torch.uint8)})
    values, indices = torch.empty(0), torch.empty(0, dtype=torch.int64)
    e_values, e_indices = engine.empty(0), engine.empty(0, dtype=engine.int64)
    got = engine.max(to_engine(x), 1, out=(e_values, e_indices))
    expected = torch.max(x, 1, out=(values, indices))
    assert got.values is e_values and got.indices is e_indices
    assert_same(e_values, expected.values)
    assert_same(e_indices, expected.indices)
    helper_test_op(torch.max, engine.max, (x, 1), {"out": (torch.empty(3, dtype=torch.float64), torch.empty(3, dtype=torch.int64))})


# ---- errors ----
@pytest.mark.parametrize("call", [
    lambda m, x: m.mean(x.long()),
    lambda m, x: m.mean(x, dtype=m.int64),
    lambda m, x: m.nanmean(x.long()),
    lambda m, x: m.var(x.long()),
    lambda m, x: m.std(x.int(), 0),
    lambda m, x: m.linalg.vector_norm(x.long()),
    lambda m, x: m.norm(x.long()),
    lambda m, x: m.argmax(x.bool()),
    lambda m, x: m.argmin(x.bool(), 0),
    lambda m, x: m.sum(x, 2),
    lambda m, x: m.sum(x, (0, -2)),
    lambda m, x: m.sum(x, 1.5),
    lambda m, x: m.amax(x, (0, 5)),
    lambda m, x: m.argmax(x, (0, 1)),
    lambda m, x: m.max(x, (1,)),
    lambda m, x: m.prod(x, (0, 1)),
    lambda m, x: m.amax(x[:0]),
    lambda m, x: m.amax(x[:0], 0),
    lambda m, x: m.max(x[:0]),
    lambda m, x: m.max(x[:0], 0),
    lambda m, x: m.argmax(x[:0]),
    lambda m, x: m.argmin(x[:, :0], 1),
    lambda m, x: m.logsumexp(x, ()),
    lambda m, x: m.sum(x, 1, keepdim=1),
    lambda m, x: m.var(x, 1, correction=1, unbiased=True),
    lambda m, x: m.sum(x, 1, out=m.empty(2, dtype=m.float32), dtype=m.float64),
    lambda m, x: m.logsumexp(x, 1, out=m.empty(2, dtype=m.int64)),
    lambda m, x: m.all(x, 1, out=m.empty(2, dtype=m.float32)),
])
def test_errors_match_torch_types(call):
    x = torch.ones(2, 3)
    with pytest.raises(Exception) as expected:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call(torch, x)
    with pytest.raises(expected.type):
        call(engine, to_engine(x))


# ---- gradients (the autograd rules are the engine's; the reductions must feed them right) ----
@pytest.mark.parametrize("name,args,kwargs", [
    ("sum", (1,), {}), ("sum", ((0, 1),), {"keepdim": True}), ("mean", (0,), {}), ("prod", (1,), {}),
    ("amax", (1,), {}), ("max", (1,), {}), ("max", (), {}), ("var", (1,), {}), ("std", (), {}),
    ("logsumexp", (1,), {}), ("norm", (), {}), ("nansum", (1,), {}), ("nanmean", (0,), {}),
])
def test_gradients_match_torch(name, args, kwargs):
    x = _values(torch.float64, (3, 4), seed=12)
    xt = x.clone().requires_grad_(True)
    xe = to_engine(x)
    xe.requires_grad_(True)
    rt, re = getattr(torch, name)(xt, *args, **kwargs), getattr(engine, name)(xe, *args, **kwargs)
    if isinstance(rt, tuple):
        rt, re = rt[0], re[0]
    rt.sum().backward()
    re.sum().backward()
    assert_same(xe.grad, xt.grad)


# ---- larger sizes ----
@pytest.mark.slow
@pytest.mark.parametrize("shape,dim", [((1 << 20,), 0), ((1024, 1024), 0), ((1024, 1024), 1), ((4, 300_000), 0),
                                       ((300_000, 4), 1)])
def test_large_reductions(shape, dim):
    x = _values(torch.float64, shape, seed=13)
    for name in ("sum", "mean", "amax", "argmin", "var", "norm"):
        helper_test_op(getattr(torch, name), getattr(engine, name), (x, dim))
    xf = x.float()
    exact = x.sum(dim)
    got = to_torch(engine.sum(to_engine(xf), dim)).double()
    assert torch.allclose(got, exact, rtol=1e-6, atol=1e-3)
