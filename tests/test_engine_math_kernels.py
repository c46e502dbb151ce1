"""The vectorised kernels and what runs them: transcendentals (exp, log, tanh,
sigmoid, erf, gelu) on every SIMD level the CPU has, threaded elementwise calls,
the caching allocator, and nn.functional.gelu with its derivative.

Expected values come from torch (the conformance tolerances) and, for the ULP
bounds, from torch in float64; every SIMD level is reached on one machine by
capping it (ft_set_simd_level).
"""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import engine
from engine._kernel import ffi, lib
from engine_helpers import to_engine, to_torch

FLOATS = [torch.float32, torch.float64]
LEVELS = [level for level in (0, 1, 2) if level <= lib.ft_simd_level()]
SPECIALS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1e-3, -1e-3, 2.5, -7.25, 10.0, -10.0, 20.0, -20.0,
            float("nan"), float("inf"), float("-inf"), 1e-40, -1e-40, 1e-45, -1e-45, 1e-30, -1e-30,
            88.5, -88.5, 88.8, -88.8, 103.0, -103.0, 104.5, -104.5, 709.0, -709.0, 745.5, -745.5,
            1e10, -1e10, 3.0e38, -3.0e38, 0.62, -0.62, 0.63, -0.63, 0.92, -0.92, 5.99, -5.99, 6.0, -6.0]


def _unary_ops():
    return {
        "exp": (engine.exp, torch.exp),
        "log": (engine.log, torch.log),
        "tanh": (engine.tanh, torch.tanh),
        "sigmoid": (engine.sigmoid, torch.sigmoid),
        "erf": (engine.erf, torch.erf),
        "gelu": (engine.nn.functional.gelu, F.gelu),
        "gelu_tanh": (lambda x: engine.nn.functional.gelu(x, approximate="tanh"),
                      lambda x: F.gelu(x, approximate="tanh")),
    }


@contextlib.contextmanager
def simd_level(level):
    previous = lib.ft_simd_level()
    lib.ft_set_simd_level(level)
    try:
        yield
    finally:
        lib.ft_set_simd_level(2)
        assert lib.ft_simd_level() >= previous


@contextlib.contextmanager
def threads(n):
    previous = lib.ft_get_num_threads()
    lib.ft_set_num_threads(n)
    try:
        yield
    finally:
        lib.ft_set_num_threads(previous)


def _inputs(dtype, n=10007, seed=0):
    """Random values of several scales (a length no vector width divides) followed by the specials."""
    rng = np.random.default_rng(seed)
    scales = np.repeat([0.01, 1.0, 4.0, 30.0], n // 4 + 1)[:n]
    values = np.concatenate([rng.standard_normal(n) * scales, SPECIALS])
    return torch.from_numpy(values.astype(str(dtype).split(".")[1]))


def _bits(e):
    """An engine result as raw bits, NaNs folded into one pattern (their payloads may differ by ISA)."""
    t = to_torch(e).contiguous()
    nan = torch.isnan(t)
    t = torch.where(nan, torch.zeros_like(t), t)
    return t.view(torch.int32 if t.dtype == torch.float32 else torch.int64), nan


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(_unary_ops()))
def test_matches_torch_on_random_and_special_values(name, dtype, level):
    engine_fn, torch_fn = _unary_ops()[name]
    x = _inputs(dtype)
    if name == "log":
        x = x.abs()  # negative inputs are NaN on both sides; keep the positive range dense
        x[:10] = torch.tensor([-1.0, -0.0, -float("inf"), float("nan"), 0.0, -1e-40, 1e-45, -5.0, float("inf"), 1.0])
    with simd_level(level):
        got = to_torch(engine_fn(to_engine(x)))
        strided = to_torch(engine_fn(to_engine(x.repeat_interleave(2)[::2])))
    expected = torch_fn(x)
    if name == "gelu":
        # float32 gelu at +inf: torch's vector loop says NaN, its scalar loop (and float64) inf; at
        # 3e38 it overflows to inf; the engine gives x, as torch does in float64
        expected = torch.where(x > 1e38, x, expected)
    torch.testing.assert_close(got, expected, equal_nan=True)
    torch.testing.assert_close(strided, expected, equal_nan=True)
    # NaNs and infinities exactly where torch has them
    assert torch.equal(torch.isnan(got), torch.isnan(expected))
    assert torch.equal(got[torch.isinf(expected)], expected[torch.isinf(expected)])


@pytest.mark.parametrize("name, bound", [("exp", 1.5), ("log", 1.5), ("tanh", 2.0), ("sigmoid", 2.5), ("erf", 2.5)])
def test_float32_kernels_stay_within_a_few_ulp(name, bound):
    if lib.ft_simd_level() == 0:
        pytest.skip("no SIMD level on this CPU: libm runs")
    engine_fn, torch_fn = _unary_ops()[name]
    x = _inputs(torch.float32, n=200_003, seed=1)
    x = x[torch.isfinite(x)]
    if name == "log":
        x = x.abs() + 1e-30
    if name in ("exp", "sigmoid"):
        x = x.clamp(-80, 80)  # sigmoid's torch formula overflows exp(-x) below -88.7; exp leaves float beyond
    got = to_torch(engine_fn(to_engine(x)))
    reference = torch_fn(x.double())
    ulp = torch.finfo(torch.float32).eps * torch.exp2(torch.floor(torch.log2(reference.abs().clamp_min(2.0 ** -126))))
    worst = ((got.double() - reference).abs() / ulp).max().item()
    assert worst <= bound, f"{name}: {worst:.2f} ulp"


def test_gelu_float32_error_is_within_torchs():
    """Phi's absolute error below torch's own float gelu (its erf approximation: 1.5e-7 in erf)."""
    x = _inputs(torch.float32, n=200_003, seed=2)
    x = x[torch.isfinite(x)]
    got = to_torch(engine.nn.functional.gelu(to_engine(x))).double()
    reference = F.gelu(x.double()).float().double()  # what float32 can hold (0.5 * 1e-45 cannot)
    nonzero = x != 0
    assert ((got - reference).abs()[nonzero] / x.double().abs()[nonzero]).max().item() < 2e-7


@pytest.mark.skipif(lib.ft_simd_level() < 2, reason="needs AVX-512 to compare with AVX2")
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(_unary_ops()))
def test_avx2_and_avx512_give_the_same_bits(name, dtype):
    engine_fn, _ = _unary_ops()[name]
    x = to_engine(_inputs(dtype, seed=3))
    with simd_level(2):
        wide = _bits(engine_fn(x))
    with simd_level(1):
        narrow = _bits(engine_fn(x))
    assert torch.equal(wide[1], narrow[1]) and torch.equal(wide[0], narrow[0])


@pytest.mark.parametrize("name", list(_unary_ops()))
def test_results_do_not_depend_on_length_or_offset(name):
    """A tail shorter than a vector runs through the same code: every element, same bits."""
    engine_fn, _ = _unary_ops()[name]
    x = to_engine(_inputs(torch.float32, n=101, seed=4))
    whole = _bits(engine_fn(x))
    for start in (0, 1, 7, 13):
        for length in (1, 5, 16, 17, 31):
            if start + length <= x.shape[0]:
                part = _bits(engine_fn(x[start:start + length]))
                assert torch.equal(part[0], whole[0][start:start + length])


# ---- threads: bit-identical results, one thread or two --------------------------------------------
N_THREADED = 300_007  # above every grain, not a multiple of any chunk


def _threaded_cases():
    rng = np.random.default_rng(5)
    a = torch.from_numpy(rng.standard_normal(N_THREADED).astype(np.float32))
    b = torch.from_numpy(rng.standard_normal(N_THREADED).astype(np.float32))
    cond = torch.from_numpy(rng.random(N_THREADED) < 0.5)
    matrix_a = torch.from_numpy(rng.standard_normal((701, 431)).astype(np.float32))
    matrix_b = torch.from_numpy(rng.standard_normal((431, 701)).astype(np.float32))
    row = torch.from_numpy(rng.standard_normal(431).astype(np.float32))
    ints = torch.from_numpy(rng.integers(-1000, 1000, N_THREADED).astype(np.int64))
    return {
        "add": (lambda m, x, y: m.add(x, y, alpha=2), (a, b)),
        "mul_scalar": (lambda m, x: x * 3.5, (a,)),
        "div_int": (lambda m, x: m.div(x, 7, rounding_mode="floor"), (ints,)),
        "remainder": (lambda m, x, y: m.remainder(x, y), (a, b)),
        "where": (lambda m, c, x, y: m.where(c, x, y), (cond, a, b)),
        "exp": (lambda m, x: m.exp(x), (a,)),
        "sigmoid_strided": (lambda m, x: m.sigmoid(x), (matrix_a.t(),)),
        "tanh_transposed_out": (lambda m, x: m.tanh(x.t()), (matrix_b,)),
        "add_transposed": (lambda m, x, y: x + y.t(), (matrix_a, matrix_b)),
        "mul_broadcast": (lambda m, x, y: x * y, (matrix_a, row)),
        "gelu": (lambda m, x: m.nn.functional.gelu(x), (a,)),
        "neg_strided": (lambda m, x: m.neg(x[::3]), (a,)),
        "where_strided": (lambda m, c, x, y: m.where(c[::2], x[1::2], y[:-1:2]), (cond[:-1], a[:-1], b[:-1])),
    }


@pytest.mark.parametrize("case", list(_threaded_cases()))
def test_two_threads_give_the_same_bits_as_one(case):
    fn, args = _threaded_cases()[case]
    engine_args = [to_engine(t) for t in args]
    with threads(1):
        one = to_torch(fn(engine, *engine_args))
    with threads(2):
        two = to_torch(fn(engine, *engine_args))
    assert one.dtype == two.dtype and one.shape == two.shape
    assert torch.equal(one.contiguous().view(torch.uint8), two.contiguous().view(torch.uint8))
    torch.testing.assert_close(one, fn(torch, *args), equal_nan=True)


def test_integer_division_by_zero_raises_with_two_threads():
    x = engine.from_numpy(np.arange(N_THREADED, dtype=np.int64))
    y = engine.from_numpy(np.ones(N_THREADED, dtype=np.int64))
    y[N_THREADED - 3] = 0  # in the last chunk, which a worker thread may run
    with threads(2):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            engine.remainder(x, y)
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            engine.div(x[::2], y[::2], rounding_mode="trunc")


# ---- the caching allocator ------------------------------------------------------------------------
def _alloc_stats():
    stats = ffi.new("int64_t[]", lib.FT_ALLOC_STAT_COUNT)
    lib.ft_alloc_stats(stats, lib.FT_ALLOC_STAT_COUNT)
    return {name: stats[getattr(lib, "FT_ALLOC_STAT_" + name.upper())]
            for name in ("live_blocks", "live_bytes", "cached_bytes", "cache_limit", "maps", "reuses", "unmaps")}


def test_large_blocks_are_reused_after_free():
    n = (3 << 20) // 4  # 3 MiB of float32
    first = engine.empty(n)
    address = first.data_ptr()
    assert address % (2 << 20) == 0  # huge-page aligned
    del first
    before = _alloc_stats()
    assert before["cached_bytes"] >= 4 << 20
    second = engine.empty(n)
    after = _alloc_stats()
    assert second.data_ptr() == address
    assert after["reuses"] == before["reuses"] + 1 and after["maps"] == before["maps"]


def test_reused_blocks_come_back_zeroed_for_zeros():
    n = (2 << 20) // 4
    dirty = engine.full((n,), 7.0)
    del dirty
    clean = engine.zeros(n)
    assert not to_torch(clean).any()


def test_cache_is_bounded_and_can_be_emptied():
    previous = lib.ft_alloc_set_cache_limit(6 << 20)
    try:
        blocks = [engine.empty((2 << 20) // 4 * k) for k in (1, 2, 3, 4)]  # 2, 4, 6, 8 MiB classes
        del blocks
        assert _alloc_stats()["cached_bytes"] <= 6 << 20
        lib.ft_alloc_empty_cache()
        assert _alloc_stats()["cached_bytes"] == 0
    finally:
        lib.ft_alloc_set_cache_limit(previous)


def test_storage_resized_down_frees_its_block():
    t = engine.empty((4 << 20) // 4)
    live = _alloc_stats()["live_blocks"]
    t.untyped_storage().resize_(16)  # the storage now reports 16 bytes but owns the large block
    del t
    assert _alloc_stats()["live_blocks"] == live - 1


# ---- nn.functional.gelu ---------------------------------------------------------------------------
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_gelu_forward_and_layouts(approximate, dtype):
    x = torch.randn(37, 29, dtype=dtype) * 3
    for view in (x, x.t(), x[::2, 1::3]):
        got = engine.nn.functional.gelu(to_engine(view), approximate=approximate)
        expected = F.gelu(view, approximate=approximate)
        assert str(got.dtype) == str(expected.dtype) and tuple(got.shape) == tuple(expected.shape)
        assert got.stride() == expected.stride()
        torch.testing.assert_close(to_torch(got), expected.contiguous())


@pytest.mark.parametrize("call", [
    lambda m: m.nn.functional.gelu(m.tensor([1, 2])),
    lambda m: m.nn.functional.gelu(m.tensor([True])),
    lambda m: m.nn.functional.gelu(m.tensor([1.0]), approximate="sigmoid"),
    lambda m: m.nn.functional.gelu(m.tensor([1.0]), approximate=None),
    lambda m: m.nn.functional.gelu(1.0),
    lambda m: m.nn.functional.gelu(m.tensor([1.0]), "tanh"),
])
def test_gelu_errors_match_torch(call):
    with pytest.raises(Exception) as torch_error:
        call(torch)
    with pytest.raises(type(torch_error.value)) as engine_error:
        call(engine)
    assert str(engine_error.value) == str(torch_error.value)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradients_match_torch(approximate):
    x = torch.randn(50, dtype=torch.float64) * 3
    xt = x.clone().requires_grad_()
    xe = to_engine(x).requires_grad_()
    yt = F.gelu(xt, approximate=approximate)
    ye = engine.nn.functional.gelu(xe, approximate=approximate)
    assert ye.grad_fn.name() == "GeluBackward0" == yt.grad_fn.name()
    upstream = torch.randn(50, dtype=torch.float64)
    (gt,) = torch.autograd.grad(yt, xt, upstream, create_graph=True)
    (ge,) = engine.autograd.grad(ye, xe, to_engine(upstream), create_graph=True)
    torch.testing.assert_close(to_torch(ge.detach()), gt.detach())
    (ggt,) = torch.autograd.grad(gt.sum(), xt)
    (gge,) = engine.autograd.grad(ge.sum(), xe)
    torch.testing.assert_close(to_torch(gge), ggt)
