"""The meta device and device transitions against torch (FT-P2C-007)."""
import pytest
import torch

import engine


def facts(t):
    return (str(t.device), str(t.dtype).replace("engine.", "torch."), tuple(t.shape), tuple(t.stride()), t.storage_offset())


CALLS = [
    lambda lib, m: m + 1,
    lambda lib, m: m.t() * m.t(),
    lambda lib, m: m.sum(0, keepdim=True),
    lambda lib, m: lib.mm(m, m.t()),
    lambda lib, m: m[:, 1:],
    lambda lib, m: m.view(3, 2),
    lambda lib, m: lib.softmax(m, 1),
    lambda lib, m: m.to(lib.float64),
    lambda lib, m: m.t().contiguous(),
    lambda lib, m: m.exp_(),
    lambda lib, m: lib.where(m > 0, m, m.t().t()),
    lambda lib, m: lib.max(m, 1)[1],
]


@pytest.mark.parametrize("index", range(len(CALLS)))
def test_meta_results_match_torch(index):
    expected = CALLS[index](torch, torch.ones(2, 3).to("meta"))
    got = CALLS[index](engine, engine.ones(2, 3).to("meta"))
    assert got.is_meta and facts(got) == facts(expected)


def test_meta_factories_allocate_nothing():
    m = engine.empty(10 ** 6, 10 ** 6, device="meta")
    assert m.is_meta and m.shape == (10 ** 6, 10 ** 6) and m.data_ptr() == 0
    assert facts(engine.empty_strided((2, 3), (1, 2), device="meta")) == facts(torch.empty_strided((2, 3), (1, 2), device="meta"))
    assert facts(engine.zeros(4, dtype=engine.int64, device=engine.device("meta"))) == facts(torch.zeros(4, dtype=torch.int64, device="meta"))
    assert repr(engine.empty(2, 3, device="meta")) == repr(torch.empty(2, 3, device="meta"))


@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(2, 3).to("meta").cpu(),
    lambda lib: lib.ones(2, 3).to("meta").to("cpu"),
    lambda lib: lib.ones(2, 3).to("meta").tolist(),
    lambda lib: lib.ones(2, 3).to("meta").numpy(),
    lambda lib: lib.ones(2, 3).to("meta").item(),
    lambda lib: lib.ones(2, 3).copy_(lib.ones(2, 3).to("meta")),
    lambda lib: lib.ones(2, 3).to("meta") + lib.ones(2, 3),
    lambda lib: lib.ones(2, 3) + lib.ones(2, 3).to("meta"),
])
def test_meta_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(Exception) as got:
        call(engine)
    assert type(got.value).__name__ == type(expected.value).__name__
    assert str(got.value) == str(expected.value).split("\nException raised from")[0] or "meta" in str(got.value)


def test_to_type_cpu():
    x = engine.ones(2, 3)
    assert x.to(engine.float32) is x and x.cpu() is x and x.to("cpu") is x
    assert x.type() == "torch.FloatTensor" and x.int().type() == "torch.IntTensor"
    assert x.to("meta").type() == "torch.meta.FloatTensor"
    assert x.to("cpu", engine.float64, non_blocking=True, copy=False).dtype is engine.float64
    y = engine.zeros(2, 3, dtype=engine.int32)
    y.copy_(x * 2.5)
    assert y.tolist() == [[2, 2, 2], [2, 2, 2]]
    m = x.to("meta")
    assert m.to("meta") is m and x.to(m).is_meta and m.view(-1)._base is m


def test_deterministic_mode_state():
    assert not engine.are_deterministic_algorithms_enabled()
    try:
        engine.use_deterministic_algorithms(True, warn_only=True)
        assert engine.are_deterministic_algorithms_enabled() and engine.is_deterministic_algorithms_warn_only_enabled()
        assert engine.get_deterministic_debug_mode() == 1
        with pytest.raises(TypeError):
            engine.use_deterministic_algorithms("yes")
        with pytest.raises(RuntimeError):
            engine.set_deterministic_debug_mode("sometimes")
    finally:
        engine.use_deterministic_algorithms(False)
    assert engine.get_deterministic_debug_mode() == 0
