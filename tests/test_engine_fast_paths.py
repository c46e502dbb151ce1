"""The small-tensor fast paths (engine/_ops/_fast.py, the fast `sum`, autograd's
recording plans and backward loop) must be invisible: every call they take gives
exactly what the full implementation (`fn.__slow_path__`) gives — dtype, shape,
strides, values bit for bit, autograd history — and every call they decline
still works. No timing here: speed is `ftorch bench`'s business."""
from __future__ import annotations

import gc
import itertools
import weakref

import numpy as np
import pytest

import engine
from engine._ops import elementwise_binary as B
from engine._tensor import Tensor, new_contiguous

FLOAT_DTYPES = (engine.float32, engine.float64)
DTYPES = FLOAT_DTYPES + (engine.int64, engine.int32, engine.uint8, engine.bool)


def _values(shape, dtype, seed):
    rng = np.random.RandomState(seed)
    if dtype is engine.bool:
        data = np.asarray(rng.rand(*shape) > 0.5)
    elif dtype.is_floating_point:
        data = np.asarray(rng.randn(*shape) * 3)
        if data.size > 2:
            data.flat[0], data.flat[1] = np.nan, -0.0
    else:
        data = np.asarray(rng.randint(1, 9, size=shape))
    return engine.from_numpy(np.ascontiguousarray(data).astype(np.dtype(dtype.name if dtype is not engine.bool
                                                                           else "bool")))


def _layouts(dtype, seed):
    """Tensors of one dtype in the layouts the fast paths classify differently."""
    base = _values((4, 3), dtype, seed)
    single = _values((1,), dtype, seed + 1)
    return {
        "contiguous": base,
        "1-d": _values((16,), dtype, seed + 2),
        "0-dim": _values((), dtype, seed + 3),
        "single (1,)": single,
        "single (1, 1)": _values((1, 1), dtype, seed + 4),
        "expanded scalar": single.expand(4, 3),
        "expanded 0-dim": _values((), dtype, seed + 5).expand(16),
        "transposed": _values((3, 4), dtype, seed + 6).t(),
        "row slice": _values((4, 6), dtype, seed + 7)[:, ::2],
        "odd size-1 strides": _values((1, 12), dtype, seed + 8).as_strided((1, 1, 12), (5, 7, 1)),
        "offset view": _values((5, 3), dtype, seed + 9)[1:],
        "empty": _values((0, 3), dtype, seed + 10),
    }


def _assert_identical(fast, slow):
    assert type(fast) is type(slow)
    if not isinstance(slow, Tensor):
        assert fast == slow
        return
    assert fast.dtype is slow.dtype
    assert fast.shape == slow.shape
    assert fast.stride() == slow.stride()
    assert fast.storage_offset() == slow.storage_offset()
    assert fast.is_contiguous() == slow.is_contiguous()
    assert fast._flat_step == engine._tensor.flat_step(fast._shape, fast._stride)
    assert fast.requires_grad == slow.requires_grad
    assert (fast.grad_fn is None) == (slow.grad_fn is None)
    if fast.grad_fn is not None:
        assert fast.grad_fn.name() == slow.grad_fn.name()
    f = fast.detach().contiguous().numpy()
    s = slow.detach().contiguous().numpy()
    assert f.tobytes() == s.tobytes()


def _both(fn, *args, **kwargs):
    """(fast result or exception, slow result or exception) of one call."""
    results = []
    for f in (fn, fn.__slow_path__):
        try:
            results.append(f(*args, **kwargs))
        except Exception as e:  # noqa: BLE001 - compared below
            results.append(e)
    return results


def _check_same(fn, *args, **kwargs):
    fast, slow = _both(fn, *args, **kwargs)
    if isinstance(slow, Exception):
        assert type(fast) is type(slow) and str(fast) == str(slow)
    else:
        _assert_identical(fast, slow)


BINARY = [B.add, B.sub, B.mul, B.div, B.true_divide, B.maximum, B.eq, B.lt, B.logical_and, B.bitwise_and,
          B.remainder, B.atan2]


@pytest.mark.parametrize("fn", BINARY, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_binary_fast_path_matches_the_full_path(fn, dtype):
    layouts = _layouts(dtype, 0)
    others = _layouts(dtype, 100)
    for (na, a), (nb, b) in itertools.product(layouts.items(), others.items()):
        _check_same(fn, a, b)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_mixed_dtypes_and_scalars_take_the_full_path(dtype):
    a = _values((4, 3), dtype, 1)
    for other in (_values((4, 3), engine.float64, 2), _values((), engine.int64, 3), 2, 2.5, True):
        for fn in (B.add, B.mul, B.div, B.eq):
            _check_same(fn, a, other)
            _check_same(fn, other, a) if isinstance(other, Tensor) else None


def test_add_and_sub_with_alpha_and_out():
    a, b = _values((4, 3), engine.float32, 1), _values((4, 3), engine.float32, 2)
    _check_same(B.add, a, b, alpha=2)
    _check_same(B.sub, a, b, alpha=0.5)
    out = engine.empty(4, 3)
    assert B.add(a, b, out=out) is out
    _assert_identical(out, B.add.__slow_path__(a, b))


UNARY = ["exp", "neg", "abs", "sqrt", "sigmoid", "floor", "isnan", "logical_not", "bitwise_not", "sign", "relu"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_unary_fast_path_matches_the_full_path(name, dtype):
    fn = getattr(engine, name)
    for x in _layouts(dtype, 3).values():
        _check_same(fn, x)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_sum_fast_path_matches_the_full_path(dtype):
    for x in _layouts(dtype, 4).values():
        _check_same(engine.sum, x)
        _check_same(engine.sum, x, 0) if x.dim() else None
        _check_same(engine.sum, x, dtype=engine.float64)


def test_operators_take_the_fast_path_and_keep_their_fallbacks():
    a, b = _values((4, 3), engine.float32, 1), _values((4, 3), engine.float32, 2)
    _assert_identical(a + b, B.add.__slow_path__(a, b))
    _assert_identical(a * b, B.mul.__slow_path__(a, b))
    _assert_identical(a / b, B.div.__slow_path__(a, b))
    _assert_identical(a == b, B.eq.__slow_path__(a, b))
    assert (a == None) is False  # noqa: E711 - the reflected fallback still answers
    assert np.array_equal(a.__radd__(b).numpy(), (b + a).numpy(), equal_nan=True)
    _assert_identical(2 * a, B.mul.__slow_path__(a, 2))


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES + (engine.int64,), ids=str)
def test_inplace_fast_path_matches_the_full_path(name, dtype):
    if name == "div_" and not dtype.is_floating_point:
        return
    for other in _layouts(dtype, 5).values():
        fast_self = _values((4, 3), dtype, 6)
        slow_self = _values((4, 3), dtype, 6)
        method = getattr(Tensor, name)
        fast = slow = None
        try:
            fast = method(fast_self, other)
        except RuntimeError as e:
            fast = e
        try:
            slow = method.__slow_path__(slow_self, other)
        except RuntimeError as e:
            slow = e
        if isinstance(slow, Exception):
            assert type(fast) is type(slow) and str(fast) == str(slow)
            continue
        assert fast is fast_self and slow is slow_self
        _assert_identical(fast_self, slow_self)
        assert fast_self._version == slow_self._version == 1


def test_inplace_on_itself_and_on_views_of_itself():
    x = _values((4, 3), engine.float32, 1)
    expected = x.numpy() + x.numpy()
    x.add_(x)
    assert np.array_equal(x.numpy(), expected, equal_nan=True)
    y = _values((12,), engine.float32, 2)
    with pytest.raises(RuntimeError, match="single memory location"):
        y[1:].add_(y[:-1])


def test_autograd_through_the_fast_paths_matches_the_full_path():
    def run(mul, add, summ):
        torch_like = [_values((16,), engine.float32, k).requires_grad_() for k in range(3)]
        a, b, c = torch_like
        y = summ(add(mul(a, b), c))
        y.backward()
        return y, [t.grad for t in torch_like]

    fast_y, fast_grads = run(B.mul, B.add, engine.sum)
    slow_y, slow_grads = run(B.mul.__slow_path__, B.add.__slow_path__, engine.sum.__slow_path__)
    assert fast_y.grad_fn.name() == slow_y.grad_fn.name() == "SumBackward0"
    for f, s in zip(fast_grads, slow_grads):
        _assert_identical(f, s)


def test_fast_paths_leave_grad_mode_and_inference_mode_alone():
    a = _values((16,), engine.float32, 1).requires_grad_()
    b = _values((16,), engine.float32, 2)
    with engine.no_grad():
        y = a * b
    assert y.grad_fn is None and not y.requires_grad
    assert (a * b).grad_fn.name() == "MulBackward0"
    assert engine.exp(a).grad_fn.name() == "ExpBackward0"
    with engine.inference_mode():
        z = b + b
        s = b.sum()
    assert z.is_inference() and s.is_inference()
    assert not (b + b).is_inference()


def test_a_graph_is_freed_without_the_cycle_collector():
    a = _values((16,), engine.float32, 1).requires_grad_()
    b = _values((16,), engine.float32, 2).requires_grad_()
    gc.disable()
    try:
        y = (a * b).exp().sum()  # exp saves its output
        exp_node = weakref.ref(y.grad_fn.next_functions[0][0])
        mul_node = weakref.ref(exp_node().next_functions[0][0])
        del y
        assert exp_node() is None and mul_node() is None
    finally:
        gc.enable()


def test_version_counters_are_made_when_shared():
    x = _values((4, 3), engine.float32, 1)
    assert x._version == 0
    v = x[1]
    x.add_(1)
    assert x._version == v._version == 1
    fresh = engine.exp(x).requires_grad_()
    assert fresh._version_counter is None  # made only when shared or bumped
    y = fresh * _values((4, 3), engine.float32, 2).requires_grad_()  # saves fresh
    fresh.detach().add_(1)  # a write through a detached alias is seen by the saved tensor's check
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_storage_blocks_small_and_large():
    small = new_contiguous((16,), engine.float32, 64)
    large = new_contiguous((4096,), engine.float64, 4096 * 8)
    for t in (small, large):
        assert t.data_ptr() % 16 == 0
        t.fill_(2.5)
        assert float(t.sum()) == 2.5 * t.numel()
    s = small.untyped_storage()
    s.resize_(8192)  # grows past the small-block size, keeping the contents
    assert s.nbytes() == 8192
    assert np.frombuffer(s.tobytes()[:64], dtype=np.float32).tolist() == [2.5] * 16
    assert engine.zeros(3).tolist() == [0.0, 0.0, 0.0]
    assert engine.UntypedStorage(10).nbytes() == 10


def test_out_restride_refreshes_the_layout_cache():
    a = _values((4, 3), engine.float32, 1)
    out = engine.empty(0)
    engine.add(a.t().contiguous().t(), a.t().contiguous().t(), out=out)
    assert out._flat_step == engine._tensor.flat_step(out._shape, out._stride)
    out.resize_(12)
    assert out._flat_step == 1 and out.is_contiguous()


def test_backward_from_several_outputs_of_one_node():
    x = engine.from_numpy(np.array([0.5, -2.0, 3.0, 1.0, 0.0], np.float32)).requires_grad_()
    low, high = engine.aminmax(x)
    (grad,) = engine.autograd.grad((low, high), x, retain_graph=True)
    expected = np.zeros(5, np.float32)
    expected[int(np.argmin(x.detach().numpy()))] += 1
    expected[int(np.argmax(x.detach().numpy()))] += 1
    assert grad.numpy().tolist() == expected.tolist()
    (low + high).backward()
    assert x.grad.numpy().tolist() == expected.tolist()


def test_saved_outputs_keep_double_backward_and_version_checks():
    x = engine.from_numpy(np.array([0.5, -1.0, 2.0], np.float32)).requires_grad_()
    y = x.exp()
    (g,) = engine.autograd.grad(y.sum(), x, create_graph=True)
    (gg,) = engine.autograd.grad(g.sum(), x)
    assert np.allclose(gg.numpy(), np.exp(x.detach().numpy()))
    z = x.sigmoid()
    z.detach().mul_(2)  # the saved output changed under the node
    with pytest.raises(RuntimeError, match="output 0 of SigmoidBackward0"):
        z.sum().backward()
