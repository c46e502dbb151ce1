"""repr(engine tensor) == repr(torch tensor), character for character, and print options."""
import contextlib
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

import engine
from engine import _printing
from engine_helpers import dtype_to_engine, to_engine

DTYPES = [torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.float32, torch.float64]
FLOATS = [torch.float32, torch.float64]
NAN, INF = math.nan, math.inf


@contextlib.contextmanager
def printoptions(**options):
    """The same print options on both sides for the duration of a block, then both restored."""
    old_torch = torch._tensor_str.get_printoptions()
    old_engine = _printing.get_printoptions()
    torch.set_printoptions(**options)
    _printing.set_printoptions(**options)
    try:
        yield
    finally:
        torch.set_printoptions(**old_torch)
        _printing.set_printoptions(**old_engine)


@contextlib.contextmanager
def default_dtype(d):
    old_torch, old_engine = torch.get_default_dtype(), engine.get_default_dtype()
    torch.set_default_dtype(d)
    engine.set_default_dtype(dtype_to_engine(d))
    try:
        yield
    finally:
        torch.set_default_dtype(old_torch)
        engine.set_default_dtype(old_engine)


def assert_same_repr(data, dtype):
    expected = repr(torch.tensor(data, dtype=dtype))
    got = engine.tensor(data, dtype=dtype_to_engine(dtype))
    assert repr(got) == expected
    assert str(got) == expected


CASES = {
    "scalar_float": 3.5,
    "scalar_int": 7,
    "scalar_zero": 0,
    "scalar_true": True,
    "scalar_nan": NAN,
    "scalar_neg_inf": -INF,
    "scalar_neg_zero": -0.0,
    "scalar_tiny": 1e-30,
    "empty": [],
    "empty_nested": [[], []],
    "integer_valued": [1.0, 2.0],
    "ints": [1, 2, 3],
    "fractions": [0.1, 0.2],
    "negative_fraction": [-1.5, 2.25],
    "small_ratio_sci": [1e-5, 1.0],
    "ratio_just_above_1000": [1.0, 1000.1],
    "ratio_exactly_1000": [1.0, 1000.0],
    "ratio_integer_above_1000": [1.0, 1001.0],
    "at_1e-4": [1e-4],
    "just_under_1e-4": [9.9e-5, 0.5],
    "at_1e8": [1e8],
    "above_1e8": [123456789.0],
    "huge": [1e30, -1e-30],
    "near_float32_max": [3e38],
    "float32_denormal": [1e-45],
    "double_range": [1e300, 1.0],
    "nan_and_value": [NAN, 1.0],
    "infinities": [INF, -INF],
    "nonfinite_mix": [-1.5, 2.25, NAN, INF],
    "only_nan": [NAN],
    "zeros": [0.0, -0.0],
    "neg_zero": [-0.0],
    "neg_zero_with_fraction": [-0.0, 0.5],
    "uint8_range": [255, 0, 127],
    "int8_range": [-128, 127],
    "int32_range": [-(2 ** 31), 2 ** 31 - 1],
    "int64_range": [-(2 ** 63), 2 ** 63 - 1],
    "bools": [[True, False], [False, True]],
    "matrix": [[1.2345678, -2.5], [3, 4e3]],
    "cube": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]],
    "wraps_one_line": list(range(100)),
    "wraps_fractions": [x * 0.37 for x in range(50)],
    "repeated": [0.5] * 30,
    "mixed_magnitudes": [-12345.678, 0.001],
    "wide_matrix": [[x * 1.1 - 20 for x in range(30)] for _ in range(3)],
}


def torch_accepts(data, dtype):
    """Whether torch.tensor(data, dtype=dtype) works (it refuses out-of-range values)."""
    try:
        torch.tensor(data, dtype=dtype)
    except (RuntimeError, OverflowError, TypeError):
        return False
    return True


@pytest.mark.parametrize("name,dtype", [
    pytest.param(name, dtype, id=f"{name}-{dtype}")
    for name, data in CASES.items() for dtype in DTYPES if torch_accepts(data, dtype)
])
def test_repr_matches_torch(name, dtype):
    assert_same_repr(CASES[name], dtype)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0)])
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_empty_shapes(shape, dtype):
    expected = torch.empty(shape, dtype=dtype)
    assert repr(engine.empty(shape, dtype=dtype_to_engine(dtype))) == repr(expected)


LAYOUTS = {
    "transposed": lambda: torch.arange(12.0).reshape(3, 4).t(),
    "strided_slice": lambda: torch.arange(40, dtype=torch.int32).reshape(5, 8)[1:, ::3],
    "expanded": lambda: torch.tensor([0.5, -1.0, 2.0]).expand(4, 3),
    "storage_offset": lambda: torch.arange(10.0)[3:7],
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_non_contiguous_layouts(layout):
    t = LAYOUTS[layout]()
    assert repr(to_engine(t)) == repr(t)


SUMMARIZED = [(2000,), (1001,), (40, 40), (3, 1000), (1000, 3), (10, 10, 11), (2,) * 10, (7, 1, 200)]


@pytest.mark.parametrize("shape", SUMMARIZED, ids=str)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.int16, torch.bool], ids=str)
def test_summarized(shape, dtype):
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(shape, generator=generator)
    t = values > 0 if dtype is torch.bool else (values * 10).to(dtype)
    assert repr(to_engine(t)) == repr(t)


def test_summarized_picks_formatter_from_edges_only():
    # the huge middle value is hidden by "...", so it must not force scientific notation
    t = torch.ones(2001)
    t[1000] = 1e20
    assert repr(to_engine(t)) == repr(t)


def test_huge_tensor_prints_from_its_edges_only(monkeypatch):
    t = torch.arange(10_000_000, dtype=torch.float32) * 0.5
    e = to_engine(t)
    read = []
    original = engine.Tensor.tolist

    def counting_tolist(self):
        read.append(self.numel())
        return original(self)

    monkeypatch.setattr(engine.Tensor, "tolist", counting_tolist)
    assert repr(e) == repr(t)
    assert sum(read) <= 100, f"printing read {sum(read)} elements of a summarised tensor"


OPTIONS = [
    dict(precision=2),
    dict(precision=0),
    dict(precision=10),
    dict(threshold=5),
    dict(threshold=0),
    dict(edgeitems=1, threshold=5),
    dict(edgeitems=0, threshold=5),
    dict(edgeitems=0),
    dict(linewidth=20),
    dict(linewidth=1),
    dict(sci_mode=True),
    dict(sci_mode=False),
    dict(profile="short"),
    dict(profile="full"),
    dict(profile="default", precision=6),
]
OPTION_DATA = [3.5, [1e10, 1.0], [[1.25, 2], [3, 4]], list(range(20)), [[x * 1.1 for x in range(10)]] * 10,
               [1.0, 2.0], [], [NAN, -0.0], [[[1, 2, 3]] * 4] * 3]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_printoptions(options):
    with printoptions(**options):
        for data in OPTION_DATA:
            for dtype in [torch.float32, torch.float64, torch.int64, torch.int8, torch.bool]:
                if torch_accepts(data, dtype):
                    assert_same_repr(data, dtype)


def test_printoptions_round_trip():
    before = _printing.get_printoptions()
    assert before == torch._tensor_str.get_printoptions()
    with printoptions(precision=7, threshold=12, edgeitems=1, linewidth=33, sci_mode=True):
        assert _printing.get_printoptions() == torch._tensor_str.get_printoptions()
        assert _printing.get_printoptions() == dict(precision=7, threshold=12, edgeitems=1, linewidth=33, sci_mode=True)
    assert _printing.get_printoptions() == before
    for profile in ["short", "full", "default"]:
        with printoptions(profile=profile):
            assert _printing.get_printoptions() == torch._tensor_str.get_printoptions()


def test_printoptions_context_manager_restores():
    before = _printing.get_printoptions()
    with _printing.printoptions(precision=1, sci_mode=False):
        assert repr(engine.tensor([1.25])) == "tensor([1.2])"
    assert _printing.get_printoptions() == before


@pytest.mark.parametrize("default", FLOATS, ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_dtype_suffix_follows_default_dtype(default, dtype):
    with default_dtype(default):
        assert_same_repr([1, 0], dtype)
        assert_same_repr([], dtype)
        assert_same_repr(1, dtype)


def test_requires_grad_suffix():
    for data, dtype in [([1.0, 2.0], torch.float32), (2.5, torch.float64), ([[0.5] * 9] * 2, torch.float64)]:
        expected = torch.tensor(data, dtype=dtype, requires_grad=True)
        got = engine.tensor(data, dtype=dtype_to_engine(dtype), requires_grad=True)
        assert repr(got) == repr(expected)


class _FakeGradFn:
    """Stands in for an engine autograd node, which names itself like torch's C++ nodes."""

    def __init__(self, name):
        self._name = name

    def name(self):
        return self._name


@pytest.mark.parametrize("data,dtype", [
    ([1.0, 2.0], torch.float32),
    (6.0, torch.float32),
    ([[1.0] * 7] * 2, torch.float64),        # last line too long for the suffixes: they wrap
    ([1.0 / 3] * 12, torch.float64),
], ids=str)
def test_grad_fn_suffix(data, dtype):
    leaf = torch.tensor(data, dtype=dtype, requires_grad=True)
    expected = leaf * 1
    got = engine.tensor(data, dtype=dtype_to_engine(dtype))
    got.requires_grad = True
    got.grad_fn = _FakeGradFn("MulBackward0")
    assert repr(got) == repr(expected)


def test_grad_fn_name_drops_namespace():
    got = engine.tensor([1.0])
    got.grad_fn = _FakeGradFn("torch::autograd::AccumulateGrad")
    got.requires_grad = True
    assert repr(got) == "tensor([1.], grad_fn=<AccumulateGrad>)"


# ---- property tests ----
SPECIAL_FLOATS = [0.0, -0.0, NAN, INF, -INF, 1e-4, 1e8, 1e-5, 1e9, 0.5, 1.0, 1000.0, 1e-38, 3e38]


@st.composite
def tensors(draw):
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 5), max_size=3)))
    count = math.prod(shape)
    if dtype is torch.bool:
        element = st.booleans()
    elif dtype.is_floating_point:
        width = 32 if dtype is torch.float32 else 64
        element = st.one_of(
            st.sampled_from(SPECIAL_FLOATS),
            st.integers(-10 ** 6, 10 ** 6).map(float),
            st.floats(width=width, allow_subnormal=False),
            st.floats(-1e4, 1e4, width=width),
        )
    else:
        info = torch.iinfo(dtype)
        element = st.integers(info.min, info.max)
    values = draw(st.lists(element, min_size=count, max_size=count))
    return torch.tensor(values, dtype=dtype).reshape(shape)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tensors())
def test_random_tensors_match_torch(t):
    assert repr(to_engine(t)) == repr(t)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tensors(),
    st.fixed_dictionaries({}, optional={
        "precision": st.integers(0, 8),
        "threshold": st.integers(0, 40),
        "edgeitems": st.integers(0, 3),
        "linewidth": st.integers(1, 120),
        "sci_mode": st.sampled_from([True, False]),
    }),
)
def test_random_tensors_under_printoptions(t, options):
    with printoptions(**options):
        assert repr(to_engine(t)) == repr(t)
