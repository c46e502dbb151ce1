"""engine.nn.Module core, Parameter and containers against torch.nn."""
from __future__ import annotations

import collections
import copy
import io

import pytest
import torch

import engine


def _define(lib):
    nn = lib.nn

    class Affine(nn.Module):
        def __init__(self, n_in, n_out, bias=True):
            super().__init__()
            self.weight = nn.Parameter(lib.ones(n_out, n_in) * 0.5)
            if bias:
                self.bias = nn.Parameter(lib.zeros(n_out))
            else:
                self.register_parameter("bias", None)
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            y = x @ self.weight.t()
            return y + self.bias if self.bias is not None else y

        def extra_repr(self):
            return f"in={self.weight.shape[1]}, out={self.weight.shape[0]}"

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(Affine(3, 4), Affine(4, 4, bias=False))
            self.heads = nn.ModuleDict({"a": Affine(4, 2), "b": Affine(4, 1)})
            self.extra = nn.ModuleList([Affine(2, 2)])
            self.shared = self.body[0]  # the same module twice

        def forward(self, x):
            h = self.body(x)
            return self.heads["a"](h), self.heads["b"](h)

    return Affine, Net


T_AFFINE, T_NET = _define(torch)
E_AFFINE, E_NET = _define(engine)


def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return type(exc), str(exc)
    return None


def test_names_state_dict_and_repr_match_torch():
    t, e = T_NET(), E_NET()
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert [n for n, _ in e.named_parameters(prefix="root", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="root", recurse=False)]
    es, ts = e.state_dict(), t.state_dict()
    assert list(es) == list(ts) and es._metadata == ts._metadata
    assert all(not v.requires_grad for v in es.values())
    assert all(isinstance(v, engine.nn.Parameter) for k, v in e.state_dict(keep_vars=True).items() if "steps" not in k)
    assert repr(e) == repr(t)
    assert repr(engine.nn.Parameter(engine.ones(2))) == repr(torch.nn.Parameter(torch.ones(2)))


def test_state_dict_crosses_libraries_through_checkpoints():
    t, e = T_NET(), E_NET()
    with torch.no_grad():
        for p in t.parameters():
            p.uniform_()
    buffer = io.BytesIO()
    torch.save(t.state_dict(), buffer)
    assert repr(e.load_state_dict(engine.load(io.BytesIO(buffer.getvalue())))) == "<All keys matched successfully>"
    x = torch.randn(5, 3)
    for a, b in zip(e(engine.from_numpy(x.numpy())), t(x)):
        assert torch.allclose(torch.from_numpy(a.detach().numpy()), b.detach())
    out = io.BytesIO()
    engine.save(e.state_dict(), out)
    fresh = T_NET()
    fresh.load_state_dict(torch.load(io.BytesIO(out.getvalue()), weights_only=True))
    for (n1, p1), (n2, p2) in zip(fresh.state_dict().items(), t.state_dict().items()):
        assert n1 == n2 and torch.equal(p1, p2)


@pytest.mark.parametrize("case", ["missing", "unexpected", "size", "not_tensor", "scalar_from_1"])
def test_load_state_dict_errors_match_torch(case):
    t, e = T_AFFINE(2, 3), E_AFFINE(2, 3)

    def make(lib):
        sd = {"weight": lib.ones(3, 2), "bias": lib.ones(3), "steps": lib.zeros((), dtype=lib.int64)}
        if case == "missing":
            del sd["bias"]
        elif case == "unexpected":
            sd["zzz"] = lib.ones(1)
            sd["bias.x"] = lib.ones(1)
        elif case == "size":
            sd["weight"] = lib.ones(2, 2)
        elif case == "not_tensor":
            sd["bias"] = [1.0, 2.0, 3.0]
        elif case == "scalar_from_1":
            sd["steps"] = lib.ones(1, dtype=lib.int64)
        return sd

    for strict in (True, False):
        expected = _error(lambda: t.load_state_dict(make(torch), strict=strict))
        actual = _error(lambda: e.load_state_dict(make(engine), strict=strict))
        if expected is None:
            assert actual is None
            assert repr(e.load_state_dict(make(engine), strict=strict)) == repr(t.load_state_dict(make(torch), strict=strict))
        else:
            assert actual is not None and actual[0] is expected[0]
            assert actual[1] == expected[1]


def test_load_state_dict_assign_and_type_error():
    e = E_AFFINE(2, 3)
    new = engine.full((3, 2), 2.0)
    e.load_state_dict({"weight": new, "bias": engine.zeros(3), "steps": engine.zeros((), dtype=engine.int64)},
                      assign=True)
    assert isinstance(e.weight, engine.nn.Parameter) and e.weight.requires_grad
    assert e.weight.data_ptr() == new.data_ptr()
    assert _error(lambda: E_AFFINE(2, 3).load_state_dict([1]))[1] == _error(lambda: T_AFFINE(2, 3).load_state_dict([1]))[1]


def test_registration_errors_match_torch():
    def attempts(lib):
        nn = lib.nn
        m = nn.Module()
        m.a = nn.Parameter(lib.ones(1))
        yield lambda: m.register_parameter("x.y", None)
        yield lambda: m.register_parameter("", None)
        yield lambda: m.register_parameter(3, None)
        yield lambda: m.register_parameter("w", lib.ones(1))
        yield lambda: m.register_parameter("w", (lib.ones(1, requires_grad=True) * 2))
        yield lambda: m.register_buffer("a", lib.ones(1))
        yield lambda: m.register_buffer("b.c", lib.ones(1))
        yield lambda: m.register_buffer("b", 3)
        yield lambda: m.add_module("z", 3)
        yield lambda: m.add_module("a", nn.Module())
        yield lambda: m.add_module("q.r", nn.Module())
        yield lambda: setattr(m, "a", lib.ones(1))
        yield lambda: getattr(m, "nothing")
        yield lambda: m.train("yes")
        yield lambda: m()
        yield lambda: nn.Sequential(nn.Module())[3]
        yield lambda: nn.ModuleList([nn.Module()])[-2]
        yield lambda: nn.ModuleDict()["k"]

    for expected, actual in zip([_error(f) for f in attempts(torch)], [_error(f) for f in attempts(engine)]):
        assert expected is not None and actual is not None
        assert actual[0] is expected[0], (actual, expected)
        assert actual[1] == expected[1], (actual, expected)


def test_modes_hooks_zero_grad_apply():
    for lib in (torch, engine):
        affine = T_AFFINE if lib is torch else E_AFFINE
        m = lib.nn.Sequential(affine(2, 2), affine(2, 1))
        assert m.eval() is m and not any(x.training for x in m.modules())
        m.train()
        assert all(x.training for x in m.modules())
        events = []
        h1 = m.register_forward_pre_hook(lambda mod, args: events.append("pre") or (args[0] * 2,))
        h2 = m.register_forward_hook(lambda mod, args, out: events.append("post") or out + 1)
        h3 = m.register_forward_hook(lambda mod, args, out: events.append("first"), prepend=True)
        out = m(lib.ones(1, 2))
        assert events == ["pre", "first", "post"]
        assert out.item() == pytest.approx(2 * 0.5 * 2 * 0.5 * 2 + 1)  # doubled input, then +1
        for h in (h1, h2, h3):
            h.remove()
        m(lib.ones(1, 2)).sum().backward()
        assert all(p.grad is not None for p in m.parameters())
        m.zero_grad(set_to_none=False)
        assert all(p.grad.abs().sum().item() == 0 for p in m.parameters())
        m.zero_grad()
        assert all(p.grad is None for p in m.parameters())
        visited = []
        m.apply(lambda mod: visited.append(type(mod).__name__))
        assert visited == ["Affine", "Affine", "Sequential"]
        m.requires_grad_(False)
        assert not any(p.requires_grad for p in m.parameters())
        assert m.double()[0].weight.dtype == lib.float64 and m[0].steps.dtype == lib.int64


def test_containers():
    for lib in (torch, engine):
        nn = lib.nn
        a, b, c = nn.Module(), nn.Module(), nn.Module()
        seq = nn.Sequential(collections.OrderedDict([("x", a), ("y", b)]))
        assert list(seq._modules) == ["x", "y"] and seq[-1] is b and len(seq[0:1]) == 1
        seq.append(c)
        assert list(seq._modules) == ["x", "y", "2"]
        del seq[0]
        assert list(seq._modules) == ["0", "1"]
        ml = nn.ModuleList([a, b])
        ml.insert(1, c)
        assert list(ml) == [a, c, b]
        ml += [a]
        assert len(ml) == 4 and ml.pop(0) is a and list(ml._modules) == ["0", "1", "2"]
        md = nn.ModuleDict([("p", a), ("q", b)])
        md.update({"r": c})
        assert list(md.keys()) == ["p", "q", "r"] and "q" in md and md.pop("q") is b and len(md) == 2


def test_parameter_semantics():
    p = engine.nn.Parameter(engine.arange(4.0))
    assert p.is_leaf and p.requires_grad and type(p * 2) is engine.Tensor and type(p[1:]) is engine.Tensor
    frozen = engine.nn.Parameter(engine.ones(2), requires_grad=False)
    assert not frozen.requires_grad
    q = copy.deepcopy(p)
    assert isinstance(q, engine.nn.Parameter) and q.data_ptr() != p.data_ptr() and q.tolist() == p.tolist()
    assert engine.nn.Parameter().shape == torch.nn.Parameter().shape


class _Scale(engine.nn.Module):  # module level, so pickle can find it
    def __init__(self):
        super().__init__()
        self.weight = engine.nn.Parameter(engine.arange(3.0))
        self.register_buffer("steps", engine.zeros((), dtype=engine.int64))

    def forward(self, x):
        return x * self.weight


def test_modules_copy_and_pickle():
    import pickle

    m = engine.nn.Sequential(_Scale())
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert list(clone.state_dict()) == list(m.state_dict())
        assert isinstance(clone[0].weight, engine.nn.Parameter) and clone[0].weight.requires_grad
        assert clone[0].weight.data_ptr() != m[0].weight.data_ptr()
        assert clone[0].weight.tolist() == m[0].weight.tolist()
