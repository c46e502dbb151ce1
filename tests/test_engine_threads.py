"""The engine's kernel threads and vector ISAs: engine.set_num_threads /
get_num_threads, and the parallel and per-ISA paths of the reduction and matrix
kernels, compared with torch (and with the engine itself at one thread).

Reductions split long rows into pieces whose boundaries depend only on the row
length, so their results must not depend on the thread count: those are
compared bit for bit across 1 and 2 threads. Matrix products run the built-in
GEMM or OpenBLAS (engine._threads.use_blas); both are checked at 1 and 2
threads, over layouts the BLAS can take and ones it cannot. ft_set_simd_level caps
the vector ISA, so the AVX2 and baseline kernels run on an AVX-512 machine too.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine._kernel import lib
from engine_helpers import assert_same, to_engine, to_torch

EXTREMES = ["amax", "amin", "argmax", "argmin"]


@pytest.fixture
def threads_restored():
    before = engine.get_num_threads()
    yield
    engine.set_num_threads(before)


@pytest.fixture
def isa_restored():
    yield
    lib.ft_set_simd_level(2)


@pytest.fixture
def blas_restored():
    before = engine._threads.blas_in_use()
    yield
    engine._threads.use_blas(before)


def _randn(shape, dtype=torch.float32, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


# ---- the thread count ----
def test_set_and_get_num_threads(threads_restored):
    for n in (1, 2, 3):
        engine.set_num_threads(n)
        assert engine.get_num_threads() == n
    for bad in (0, -1, 1.5, True, "2", None):
        with pytest.raises(RuntimeError) as expected:
            torch.set_num_threads(bad)
        with pytest.raises(RuntimeError, match=str(expected.value)):
            engine.set_num_threads(bad)


def test_default_thread_count_is_the_cpus_available():
    import os

    code = "import engine; print(engine.get_num_threads())"
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out) == min(len(os.sched_getaffinity(0)), 64)


# ---- reductions ----
def _reduction_inputs():
    x = _randn((1_000_003,))
    ties = torch.zeros(300_000)
    ties[[7, 150_000, 299_999]] = 5.0
    ties[[8, 150_001]] = -5.0
    nan = _randn((200_001,))
    nan[[123_456, 150_000]] = float("nan")
    return [x, _randn((100, 1000)), _randn((1000, 100)), _randn((5, 70_001)), _randn((3, 200_000), torch.float64),
            ties, nan, _randn((2, 3, 40_000))]


@pytest.mark.parametrize("name", EXTREMES + ["mean"])
def test_reductions_match_torch_and_do_not_depend_on_threads(name, threads_restored):
    for x in _reduction_inputs():
        for dim in (None, -1, 0):
            if name == "mean" and dim is None:
                args = ()
            elif dim is None:
                args = () if name.startswith("arg") else ((),)
            else:
                args = (dim,)
            expected = getattr(torch, name)(x, *args)
            results = []
            for threads in (1, 2):
                engine.set_num_threads(threads)
                results.append(getattr(engine, name)(to_engine(x), *args))
                assert_same(results[-1], expected)
            assert np.array_equal(to_torch(results[0]).numpy(), to_torch(results[1]).numpy(), equal_nan=True)


def test_max_min_with_indices_at_two_threads(threads_restored):
    engine.set_num_threads(2)
    for x in _reduction_inputs():
        for name in ("max", "min"):
            values, indices = getattr(engine, name)(to_engine(x), -1)
            expected = getattr(torch, name)(x, -1)
            assert_same(values, expected.values)
            assert_same(indices, expected.indices)


def test_float32_sums_are_accurate_and_thread_independent(threads_restored):
    # torch's float32 sum is itself off the exact sum by up to a few of its tolerances on long
    # rows; the engine sums float blocks into double, so compare both with the exact sum
    for x in _reduction_inputs():
        if x.dtype != torch.float32 or torch.isnan(x).any():
            continue
        for dim in (None, -1):
            exact = x.double().sum() if dim is None else x.double().sum(dim)
            scale = x.double().abs().sum() if dim is None else x.double().abs().sum(dim)
            results = []
            for threads in (1, 2):
                engine.set_num_threads(threads)
                e = engine.sum(to_engine(x)) if dim is None else engine.sum(to_engine(x), dim)
                results.append(to_torch(e))
                assert results[-1].dtype == torch.float32
                error = (results[-1].double() - exact).abs()
                assert bool((error <= 1e-6 * scale + 1e-6 * exact.abs()).all())
            assert torch.equal(results[0], results[1])


@pytest.mark.parametrize("isa", [0, 1, 2])
def test_every_vector_isa_matches_torch(isa, isa_restored, threads_restored):
    if lib.ft_set_simd_level(isa) != isa:
        pytest.skip("this CPU lacks the ISA")
    engine.set_num_threads(2)
    for x in _reduction_inputs()[1:]:
        for name in EXTREMES:
            assert_same(getattr(engine, name)(to_engine(x), -1), getattr(torch, name)(x, -1))
        assert_same(engine.mean(to_engine(x), -1), torch.mean(x, -1), atol=1e-5, rtol=1e-5)
        assert_same(engine.sum(to_engine(x)), torch.sum(x), atol=1e-3, rtol=1e-5)


def test_reduction_fast_paths_fall_back_for_other_calls():
    x = _randn((4, 6))
    e = to_engine(x)
    assert_same(engine.amax(e, (0, 1), keepdim=True), torch.amax(x, (0, 1), keepdim=True))
    assert_same(engine.argmax(e.t(), 1), torch.argmax(x.t(), 1))
    assert_same(engine.mean(e, 1, dtype=engine.float64), torch.mean(x, 1, dtype=torch.float64))
    with pytest.raises(IndexError):
        engine.argmax(e, 5)
    with pytest.raises(RuntimeError):
        engine.argmax(engine.ones(3, dtype=engine.bool))
    with pytest.raises(RuntimeError):
        engine.mean(engine.ones(3, dtype=engine.int64))
    for name in ("amax", "amin"):  # more dims than the kernels take: torch's RuntimeError, not a result
        with pytest.raises(RuntimeError):
            getattr(torch, name)(torch.zeros([1] * 65), -1)
        with pytest.raises(RuntimeError):
            getattr(engine, name)(engine.zeros([1] * 65), -1)


# ---- matrix products ----
def _products():
    a, b = _randn((300, 200)), _randn((200, 260), seed=1)
    yield "mm", lambda lib, a, b: lib.mm(a, b), a, b
    yield "mm transposed operands", lambda lib, a, b: lib.mm(a.t(), b.t()), _randn((200, 300)), _randn((260, 200), seed=1)
    yield "mm strided operands", lambda lib, a, b: lib.mm(a[:, ::2], b[::2]), _randn((300, 400)), _randn((400, 260), seed=1)
    yield "mm expanded operand", lambda lib, a, b: lib.mm(a.expand(300, 200), b), _randn((1, 200)), b
    yield "matmul wide", lambda lib, a, b: lib.matmul(a, b), _randn((40, 300)), _randn((300, 1000), seed=1)
    yield "bmm", lambda lib, a, b: lib.bmm(a, b), _randn((8, 64, 96)), _randn((8, 96, 80), seed=1)
    yield "bmm one batch", lambda lib, a, b: lib.bmm(a, b), _randn((1, 256, 96)), _randn((1, 96, 80), seed=1)
    yield "matmul broadcast batch", lambda lib, a, b: lib.matmul(a, b), _randn((3, 1, 64, 70)), _randn((4, 70, 90), seed=1)
    yield "float64 mm", lambda lib, a, b: lib.mm(a, b), a.double(), b.double()
    yield "int64 mm", lambda lib, a, b: lib.mm(a, b), (a * 10).long(), (b * 10).long()


def _assert_product(e, t):
    # any two GEMMs sum in different orders: float32 products of ~200 terms near 14 in size
    # differ by ~1e-5 where the result is near 0, so the tolerance is normwise there
    tolerance = {"atol": 1e-4, "rtol": 1e-5} if t.dtype == torch.float32 else {}
    assert_same(e, t, **tolerance)


@pytest.mark.parametrize("use_blas", [True, False])
def test_products_at_one_and_two_threads(use_blas, threads_restored, blas_restored):
    engine._threads.use_blas(use_blas)
    for label, call, a, b in _products():
        expected = call(torch, a, b)
        for threads in (1, 2):
            engine.set_num_threads(threads)
            _assert_product(call(engine, to_engine(a), to_engine(b)), expected)


@pytest.mark.parametrize("use_blas", [True, False])
def test_fused_products_at_two_threads(use_blas, threads_restored, blas_restored):
    engine._threads.use_blas(use_blas)
    engine.set_num_threads(2)
    batch1, batch2, c = _randn((6, 128, 64)), _randn((6, 64, 96), seed=1), _randn((128, 96), seed=2)
    e1, e2, ec = to_engine(batch1), to_engine(batch2), to_engine(c)
    # addbmm accumulates every product into one output: the batch is not split across threads
    assert_same(engine.addbmm(ec, e1, e2, beta=0.5, alpha=2.0), torch.addbmm(c, batch1, batch2, beta=0.5, alpha=2.0),
                atol=1e-4, rtol=1e-5)
    _assert_product(engine.baddbmm(ec.expand(6, 128, 96), e1, e2, beta=0.0),
                    torch.baddbmm(c.expand(6, 128, 96), batch1, batch2, beta=0.0))
    a, b = _randn((256, 200)), _randn((200, 300), seed=1)
    out = _randn((300, 256)).t()  # a column-major output: the BLAS computes its transpose
    expected = torch.addmm(out, a, b, beta=1.5, alpha=0.5)
    _assert_product(engine.addmm(to_engine(out), to_engine(a), to_engine(b), beta=1.5, alpha=0.5), expected)


def test_blas_can_be_switched(blas_restored):
    path = engine._threads.blas_library_path()
    assert engine._threads.use_blas(False) is False
    assert engine._threads.use_blas(True) is (path is not None)


@pytest.mark.parametrize("isa", [0, 1, 2])
def test_builtin_gemm_every_isa(isa, isa_restored, threads_restored, blas_restored):
    if lib.ft_set_simd_level(isa) != isa:
        pytest.skip("this CPU lacks the ISA")
    engine._threads.use_blas(False)
    engine.set_num_threads(2)
    for label, call, a, b in _products():
        _assert_product(call(engine, to_engine(a), to_engine(b)), call(torch, a, b))


@pytest.mark.parametrize("use_blas", [True, False])
def test_kernel_writes_a_column_major_output(use_blas, blas_restored, threads_restored):
    # Python always hands ft_matmul fresh row-major outputs; the kernel also takes any strides
    # (the BLAS path computes out^T = b^T a^T for a column-major out)
    engine._threads.use_blas(use_blas)
    m, n, k = 150, 170, 130
    a, b = _randn((m, k)), _randn((k, n), seed=1)
    out = engine.zeros(n, m).t()  # column-major m x n
    ea, eb = to_engine(a), to_engine(b)
    for threads in (1, 2):
        engine.set_num_threads(threads)
        assert lib.ft_matmul(lib.FT_FLOAT32, 1, m, n, k, ea._addr, 0, k, 1, eb._addr, 0, n, 1, out._addr, 0, 1, m,
                             1.0, 0.0) == 0
        _assert_product(out.contiguous(), a @ b)
