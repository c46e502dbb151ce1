"""The engine's RNG is bit-identical to torch's CPU generator: same seed, same bytes."""
import numpy as np
import pytest
import torch

import engine

SEEDS = [0, 1, 7, 42, 123456789, 2**32 + 5, 67280421310721]
SIZES = [1, 2, 3, 15, 16, 17, 31, 32, 33, 100]
FLOATS = ["float32", "float64"]


def same(a, t):
    a, t = np.asarray(a.numpy()), t.detach().numpy()
    assert a.dtype == t.dtype and a.shape == t.shape
    assert a.tobytes() == t.tobytes(), (a, t)


def both(fn, seed):
    engine.manual_seed(seed)
    torch.manual_seed(seed)
    return fn(engine), fn(torch)


def run(fn, seed=0):
    a, t = both(fn, seed)
    if isinstance(t, tuple):
        for x, y in zip(a, t):
            same(x, y)
    else:
        same(a, t)
    same(engine.get_rng_state(), torch.get_rng_state())


@pytest.mark.parametrize("seed", SEEDS)
def test_state_matches_torch(seed):
    run(lambda m: m.get_rng_state(), seed)
    engine.manual_seed(seed)
    assert engine.initial_seed() == torch.initial_seed() == seed


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("seed", SEEDS[:4])
def test_rand_randn(seed, n, dtype):
    run(lambda m: m.rand(n, dtype=getattr(m, dtype)), seed)
    run(lambda m: m.randn(n, dtype=getattr(m, dtype)), seed)
    run(lambda m: m.randn(n, 3, dtype=getattr(m, dtype)), seed)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("seed", SEEDS)
def test_repeated_calls_and_normal_cache(seed, dtype):
    # small normals use normal_distribution<double>, whose cached second sample carries over
    run(lambda m: (m.randn(1, dtype=getattr(m, dtype)), m.randn(3, dtype=getattr(m, dtype)),
                   m.rand(5, dtype=getattr(m, dtype)), m.randn(40, dtype=getattr(m, dtype)),
                   m.randn(5, dtype=getattr(m, dtype))), seed)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("seed", SEEDS[:4])
def test_in_place_samplers(seed, dtype):
    def go(m):
        d = getattr(m, dtype)
        return (m.empty(37, dtype=d).uniform_(-3, 7.3), m.empty(5, dtype=d).uniform_(0.25, 0.5),
                m.empty(37, dtype=d).normal_(0.5, 0.3), m.empty(7, dtype=d).normal_(-2, 3.1),
                m.empty(20, dtype=d).exponential_(1.7), m.empty(20, dtype=d).bernoulli_(0.3),
                m.empty(20, dtype=d).geometric_(0.2), m.empty(20, dtype=d).log_normal_(0.1, 0.5),
                m.empty(20, dtype=d).cauchy_(1.0, 2.0), m.empty(20, dtype=d).random_(),
                m.empty(20, dtype=d).random_(-5, 9), m.empty(20, dtype=d).random_(10))
    run(go, seed)


def test_non_contiguous_outputs_fill_in_memory_order():
    def go(m):
        a = m.zeros(6, 5).t()
        a.normal_()
        b = m.zeros(8, 6)[:, ::2]
        b.uniform_()
        c = m.zeros(4, 3, dtype=m.float64).t()
        c.normal_(1.0, 2.0)
        d = m.zeros(10, 4)[::2]
        d.bernoulli_(0.4)
        return a, b, c, d
    run(go, 11)


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "int64", "bool", "float32", "float64"])
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_random_integers(seed, dtype):
    def go(m):
        d = getattr(m, dtype)
        hi = 2 if dtype == "bool" else 100
        return (m.randint(0, hi, (30,), dtype=d), m.randint(hi, (3, 4), dtype=d), m.empty(25, dtype=d).random_(),
                m.randint_like(m.zeros(7, dtype=d), 0, hi))
    run(go, seed)


def test_randint_wide_ranges_use_random64():
    run(lambda m: (m.randint(-2**40, 2**40, (20,)), m.randint(0, 2**28, (9,)), m.randint(0, 2**28 - 1, (9,)),
                   m.empty(6, dtype=m.int64).random_(-2**63, None)), 3)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 16, 100, 1000])
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_randperm(seed, n):
    run(lambda m: m.randperm(n), seed)
    run(lambda m: m.randperm(n, dtype=m.float32), seed)


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_bernoulli(seed):
    def go(m):
        p32 = m.arange(23.0) / 22
        p64 = m.arange(23.0, dtype=m.float64) / 22
        return (m.bernoulli(p32), m.bernoulli(p64), m.bernoulli(p32, 0.3), m.bernoulli(m.ones(4, 5) * 0.5),
                m.zeros(23, dtype=m.int64).bernoulli_(p32), m.zeros(3, 23).bernoulli_(p64),
                p32.bernoulli(), m.bernoulli(p32, generator=None))
    run(go, seed)


@pytest.mark.parametrize("seed", SEEDS[:4])
def test_normal_overloads(seed):
    def go(m):
        mean = m.arange(20.0)
        std = m.arange(1.0, 21.0) / 10
        return (m.normal(mean, std), m.normal(mean, 0.5), m.normal(2.0, std), m.normal(0.5, 2.0, (4, 5)),
                m.normal(mean.reshape(4, 5), std[:5]), m.normal(mean[:3], 1.5), m.normal(-1.0, std[:7]),
                m.normal(0.0, 1.0, size=(3,), dtype=m.float64))
    run(go, seed)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9, 1.0])
def test_dropout(p, dtype):
    def go(m):
        x = m.randn(7, 9, dtype=getattr(m, dtype))
        y = m.nn.functional.dropout(x, p)
        z = m.nn.functional.dropout(x, p, training=False)
        w = m.nn.functional.dropout(x.clone(), p, inplace=True)
        return x, y, z, w
    run(go, 5)
    x = engine.randn(3)
    assert engine.nn.functional.dropout(x, 0.0) is x
    assert engine.nn.functional.dropout(x, 0.5, training=False) is x


def test_dropout_gradient_matches_torch():
    def go(m):
        x = m.randn(4, 6, requires_grad=True)
        y = m.nn.functional.dropout(x, 0.3)
        y.sum().backward()
        return y.detach(), x.grad
    run(go, 9)


def test_generators_are_independent_and_match_torch():
    g, tg = engine.Generator().manual_seed(99), torch.Generator().manual_seed(99)
    engine.manual_seed(1)
    torch.manual_seed(1)
    same(engine.rand(10, generator=g), torch.rand(10, generator=tg))
    same(engine.randn(20, generator=g), torch.randn(20, generator=tg))
    same(engine.randint(0, 5, (6,), generator=g), torch.randint(0, 5, (6,), generator=tg))
    same(engine.randperm(9, generator=g), torch.randperm(9, generator=tg))
    same(engine.empty(5).uniform_(generator=g), torch.empty(5).uniform_(generator=tg))
    same(engine.bernoulli(engine.full((9,), 0.5), generator=g), torch.bernoulli(torch.full((9,), 0.5), generator=tg))
    same(g.get_state(), tg.get_state())
    same(engine.get_rng_state(), torch.get_rng_state())  # the default generator was not touched
    assert engine.Generator().initial_seed() == torch.Generator().initial_seed() == 67280421310721


def test_set_rng_state_round_trips_with_torch_state():
    torch.manual_seed(4)
    torch.randn(3)  # leaves a cached normal sample in the state
    engine.set_rng_state(engine.from_numpy(torch.get_rng_state().numpy().copy()))
    same(engine.randn(5), torch.randn(5))
    state = engine.get_rng_state()
    a = engine.rand(8)
    engine.set_rng_state(state)
    same(engine.rand(8), torch.from_numpy(a.numpy()))
    with pytest.raises(RuntimeError, match="Expected a CPUGeneratorImplState of size 5056"):
        engine.set_rng_state(engine.zeros(10, dtype=engine.uint8))


def test_errors_match_torch():
    cases = [
        lambda m: m.rand(3, dtype=m.int64),
        lambda m: m.randn(3, dtype=m.int64),
        lambda m: m.randint(5, 3, (3,)),
        lambda m: m.empty(3).uniform_(2, 1),
        lambda m: m.empty(3).normal_(0, -1),
        lambda m: m.empty(3).bernoulli_(1.5),
        lambda m: m.bernoulli(m.tensor([1.5])),
        lambda m: m.randint(0, 300, (3,), dtype=m.uint8),
        lambda m: m.nn.functional.dropout(m.ones(3), 1.5),
        lambda m: m.empty(3).exponential_(-1),
        lambda m: m.normal(m.zeros(3), -1.0),
    ]
    for case in cases:
        with pytest.raises(Exception) as expected:
            case(torch)
        with pytest.raises(type(expected.value)) as got:
            case(engine)
        assert str(got.value) == str(expected.value)
