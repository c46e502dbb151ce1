"""Pointwise extras, special functions, dtype conversions and extra factories against torch."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import engine
from engine_helpers import to_engine, to_torch

SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 10.0, -3.7, 150.0, 1e-30, math.inf, -math.inf, math.nan]


def _same(engine_result, torch_result, **kwargs):
    torch.testing.assert_close(to_torch(engine_result), torch_result, equal_nan=True, **kwargs)


@pytest.mark.parametrize("name", ["lgamma", "digamma", "erfinv", "i0", "sinc", "angle"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_special_functions_match_torch(name, dtype):
    values = [0.7, -0.3, 0.999, -1.0, 1.0, 0.0] if name == "erfinv" else SPECIAL
    if dtype == "int64":
        values = [0, 1, -1, 2, 5, -7]
    elif dtype == "bool":
        values = [True, False]
    expected = getattr(torch, name)(torch.tensor(values, dtype=getattr(torch, dtype)))
    actual = getattr(engine, name)(engine.tensor(values, dtype=getattr(engine, dtype)))
    assert actual.dtype == getattr(engine, str(expected.dtype).split(".")[1])
    _same(actual, expected)


def test_trigamma_is_polygamma_one():
    from engine._ops.elementwise_unary import trigamma

    x = [-2.5, -0.3, 0.2, 0.7, 3.0, 12.0, 1e6]
    _same(trigamma(engine.tensor(x, dtype=engine.float64)), torch.polygamma(1, torch.tensor(x, dtype=torch.float64)))


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("value", [1, 0.5, -2])
def test_addcmul_addcdiv_broadcast_and_promote(name, value):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 1)).astype(np.float32)
    b = rng.standard_normal((1, 4)).astype(np.float64)
    c = rng.standard_normal((4,)).astype(np.float32) + 3
    expected = getattr(torch, name)(torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c), value=value)
    actual = getattr(engine, name)(to_engine(torch.from_numpy(a)), to_engine(torch.from_numpy(b)),
                                   to_engine(torch.from_numpy(c)), value=value)
    _same(actual, expected)


def test_addcdiv_refuses_integer_division_like_torch():
    a = engine.tensor([1, 2])
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        engine.addcdiv(a, a, a)


@pytest.mark.parametrize("weight", [0.3, 0.7, -1.5, "tensor"])
def test_lerp_uses_the_two_sided_formula(weight):
    start = torch.tensor([1.0, -2.0, 1e8, 0.0])
    end = torch.tensor([2.0, 5.0, -1e8, math.inf])
    w = torch.tensor([0.1, 0.6, 0.4, 0.9]) if weight == "tensor" else weight
    expected = torch.lerp(start, end, w)
    actual = engine.lerp(to_engine(start), to_engine(end), to_engine(w) if weight == "tensor" else w)
    _same(actual, expected)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        engine.lerp(to_engine(start), to_engine(end.double()), 0.5)


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_keeps_equal_infinities(name):
    a = torch.tensor([math.inf, -math.inf, 1.0, 1000.0, math.nan, -math.inf])
    b = torch.tensor([math.inf, -math.inf, 2.0, 1000.0, 1.0, 3.0])
    _same(getattr(engine, name)(to_engine(a), to_engine(b)), getattr(torch, name)(a, b))


def test_logit_with_and_without_eps():
    x = torch.tensor([0.0, 0.2, 0.5, 1.0, 1.5, -0.1, math.nan])
    _same(engine.logit(to_engine(x)), torch.logit(x))
    _same(engine.logit(to_engine(x), 0.1), torch.logit(x, 0.1))


def test_ldexp_with_integer_exponents_wraps_like_torchs_kernel():
    x = torch.tensor([1.0, -3.5, 0.0, math.inf, math.nan, 1e-3])
    e = torch.tensor([3, -2, 5000, 7, 1, 2**40 + 2], dtype=torch.int64)
    _same(engine.ldexp(to_engine(x), to_engine(e)), torch.ldexp(x, e))
    _same(engine.ldexp(to_engine(x), to_engine(e.double())), torch.ldexp(x, e.double()))


@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8"])
def test_gcd_lcm_match_torch(dtype):
    rng = np.random.default_rng(1)
    low = 0 if dtype == "uint8" else -60
    a = torch.from_numpy(rng.integers(low, 60, size=(5, 7))).to(getattr(torch, dtype))
    b = torch.from_numpy(rng.integers(low, 60, size=(7,))).to(getattr(torch, dtype))
    for name in ("gcd", "lcm"):
        _same(getattr(engine, name)(to_engine(a), to_engine(b)), getattr(torch, name)(a, b))


def test_heaviside_fill_and_comparisons():
    x = torch.tensor([-1.0, 0.0, 2.0, math.nan])
    v = torch.tensor([0.5, 0.5, 0.5, 0.5])
    _same(engine.heaviside(to_engine(x), to_engine(v)), torch.heaviside(x, v))
    _same(engine.fill(to_engine(x), 3), torch.fill(x, 3))
    big = torch.tensor([-2**63, 0, 5, 2**62])
    for a, b in ((x, v), (big, big.flip(0)), (torch.tensor([True, False]), torch.tensor([True, True]))):
        _same(engine.isclose(to_engine(a), to_engine(b)), torch.isclose(a, b))
    assert engine.allclose(to_engine(v), to_engine(v)) is True
    assert engine.equal(to_engine(x), to_engine(x)) is False  # NaN != NaN
    assert engine.equal(to_engine(v), to_engine(v[:2])) is False


def test_real_identities_return_the_tensor_itself():
    x = engine.ones(3)
    for name in ("conj", "conj_physical", "resolve_conj", "resolve_neg", "real"):
        assert getattr(engine, name)(x) is x
    assert engine.isreal(x).dtype == engine.bool


@pytest.mark.parametrize("name", ["bool", "byte", "char", "short", "int", "long", "float", "double"])
def test_conversions_keep_layout_or_take_memory_format(name):
    base = torch.arange(36.0).reshape(2, 3, 2, 3)
    channels_last = base.contiguous(memory_format=torch.channels_last)
    for source, fmt in ((base, None), (channels_last, None), (base, torch.channels_last)):
        expected = getattr(source, name)() if fmt is None else getattr(source, name)(memory_format=fmt)
        engine_format = None if fmt is None else engine.channels_last
        e = to_engine(source)
        actual = getattr(e, name)() if fmt is None else getattr(e, name)(memory_format=engine_format)
        assert actual.stride() == expected.stride()
        _same(actual, expected)
        assert (actual is e) == (expected is source)


def test_extra_factories():
    _same(engine.logspace(0, 2, 5), torch.logspace(0, 2, 5))
    _same(engine.logspace(2, 1.2, 3, dtype=engine.int64), torch.logspace(2, 1.2, 3, dtype=torch.int64))
    _same(engine.logspace(0, 1.5, 3, base=2.5, dtype=engine.int64), torch.logspace(0, 1.5, 3, base=2.5, dtype=torch.int64))
    for row, col, offset in ((3, 4, 1), (4, 3, -1), (0, 3, 0), (5, 5, 0)):
        _same(engine.tril_indices(row, col, offset), torch.tril_indices(row, col, offset))
        _same(engine.triu_indices(row, col, offset), torch.triu_indices(row, col, offset))
    assert engine.empty_permuted((2, 3, 4), (2, 0, 1)).stride() == torch.empty_permuted((2, 3, 4), (2, 0, 1)).stride()
    with pytest.raises(TypeError):
        engine.logspace(0, 1, 2.5)


def test_gradients_match_torch():
    rng = np.random.default_rng(2)
    data = [rng.uniform(0.1, 0.9, size=(4,)) for _ in range(3)]
    cases = [
        ("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5)),
        ("addcdiv", lambda m, a, b, c: m.addcdiv(a, b, c, value=2)),
        ("lerp", lambda m, a, b, c: m.lerp(a, b, c)),
        ("logaddexp", lambda m, a, b, c: m.logaddexp(a, b)),
        ("logit", lambda m, a, b, c: m.logit(a, 0.2)),
        ("lgamma", lambda m, a, b, c: m.lgamma(a)),
        ("digamma", lambda m, a, b, c: m.digamma(a)),
        ("erfinv", lambda m, a, b, c: m.erfinv(a)),
        ("sinc", lambda m, a, b, c: m.sinc(a)),
    ]
    for name, program in cases:
        t = [torch.tensor(d, requires_grad=True) for d in data]
        e = [engine.tensor(d.tolist(), dtype=engine.float64, requires_grad=True) for d in data]
        program(torch, *t).sum().backward()
        program(engine, *e).sum().backward()
        for tt, ee in zip(t, e):
            if tt.grad is None:
                assert ee.grad is None, name
            else:
                _same(ee.grad, tt.grad)
        assert program(engine, *e).grad_fn.name() == program(torch, *t).grad_fn.name(), name


def test_recorder_skips_cases_outside_the_packet_dtypes():
    from ftorch_cli.cases.program import Call
    from ftorch_cli.cases.record import CaseSpec, Recorder

    call = Call(variant="function", target="add")
    spec = CaseSpec(op="add", dtype="float32", source="opinfo.sample_inputs", label="x", call=call,
                    args=[torch.ones(2), torch.ones(2, dtype=torch.complex64)], kwargs={})
    recorder = Recorder(torch, "FT-P2C-005", ["float32", "float64"])
    assert recorder.add(spec) is None
    assert recorder.skipped == {"uses complex64 tensors, outside the packet's dtypes": 1}
    assert Recorder(torch, "FT-P2C-005").add(spec) is not None  # no scope: recorded
