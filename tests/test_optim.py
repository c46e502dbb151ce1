"""engine.optim optimizers against torch.optim (single-tensor paths) directly."""
from __future__ import annotations

import io
import warnings

import pytest
import torch

import engine

W0 = [[0.5, -1.25, 0.75], [1.5, 0.25, -0.5]]
B0 = [0.3, -0.7]

CONFIGS = [
    ("SGD", {"lr": 0.05}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.3}),
    ("RMSprop", {}),
    ("RMSprop", {"centered": True, "momentum": 0.4, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr_decay": 0.2, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.05, "momentum_decay": 6e-3}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
]
TENSOR_LR = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"]


def _params(lib):
    return [lib.nn.Parameter(lib.tensor(W0)), lib.nn.Parameter(lib.tensor(B0))]


def _loss(w, b):
    return (w * w * 0.75).sum() + (w.sum(1) * b).sum() * 0.5 + ((b - 1) * (b - 1)).sum()


def _run(lib, name, kwargs, steps=6, params=None):
    w, b = params or _params(lib)
    opt = getattr(lib.optim, name)([w, b], **kwargs)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(w, b).backward()
        opt.step()
        trajectory.append((w.detach().clone().tolist(), b.detach().clone().tolist()))
    return trajectory, opt


def _close(a, b, atol=1e-6, rtol=1e-5):
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, atol, rtol)
    else:
        assert abs(a - b) <= atol + rtol * abs(b), (a, b)


def _to_plain(value):
    if isinstance(value, (torch.Tensor, engine.Tensor)):
        return ("tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.tolist())
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_plain(v) for v in value)
    return value


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_trajectory_and_state_dict_match_torch(name, kwargs):
    expected, topt = _run(torch, name, kwargs)
    actual, eopt = _run(engine, name, kwargs)
    _close(actual, expected)
    tsd, esd = _to_plain(topt.state_dict()), _to_plain(eopt.state_dict())
    assert esd["param_groups"] == tsd["param_groups"]
    assert list(esd["state"]) == list(tsd["state"])
    for key in tsd["state"]:
        assert list(esd["state"][key]) == list(tsd["state"][key])
        for field, value in tsd["state"][key].items():
            mine = esd["state"][key][field]
            assert mine[:3] == value[:3], field
            _close(mine[3], value[3])


@pytest.mark.parametrize("name,kwargs", [CONFIGS[1], CONFIGS[4], CONFIGS[8], CONFIGS[10], CONFIGS[15]])
def test_state_dict_crosses_between_torch_and_engine(name, kwargs):
    # torch state -> torch.save -> engine.load -> engine optimizer resumes torch's trajectory
    _, topt = _run(torch, name, kwargs, steps=3)
    buffer = io.BytesIO()
    torch.save(topt.state_dict(), buffer)
    w_t, b_t = topt.param_groups[0]["params"]
    resumed = [engine.nn.Parameter(engine.tensor(w_t.detach().tolist())), engine.nn.Parameter(engine.tensor(b_t.detach().tolist()))]
    eopt = getattr(engine.optim, name)(resumed, **kwargs)
    eopt.load_state_dict(engine.load(io.BytesIO(buffer.getvalue()), weights_only=True))
    for _ in range(3):
        for opt, (w, b) in ((topt, (w_t, b_t)), (eopt, resumed)):
            opt.zero_grad()
            _loss(w, b).backward()
            opt.step()
    _close(resumed[0].tolist(), w_t.tolist())
    _close(resumed[1].tolist(), b_t.tolist())
    # engine state -> engine.save -> torch.load(weights_only=True) -> torch optimizer
    buffer = io.BytesIO()
    engine.save(eopt.state_dict(), buffer)
    loaded = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    assert _to_plain(loaded)["param_groups"] == _to_plain(topt.state_dict())["param_groups"]
    fresh = getattr(torch.optim, name)([torch.nn.Parameter(w_t.detach().clone()), torch.nn.Parameter(b_t.detach().clone())],
                                       **kwargs)
    fresh.load_state_dict(loaded)
    for key, state in topt.state_dict()["state"].items():
        for field, value in state.items():
            assert torch.allclose(fresh.state_dict()["state"][key][field], value, atol=1e-6)


def test_param_groups_defaults_and_add_param_group():
    for lib in (torch, engine):
        w, b = _params(lib)
        opt = lib.optim.SGD([{"params": [w]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
        extra = lib.nn.Parameter(lib.zeros(3))
        opt.add_param_group({"params": [extra], "weight_decay": 0.2})
        groups = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        if lib is torch:
            expected = groups
        else:
            assert groups == expected
            assert [len(g["params"]) for g in opt.param_groups] == [1, 1, 1]


def _error(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__, str(exc)
    return None


@pytest.mark.parametrize("case", [
    "empty", "tensor_params", "set_params", "non_tensor", "non_leaf", "duplicate_across_groups", "bad_lr",
    "bad_momentum", "nesterov", "bad_beta", "bad_eps", "bad_rho", "bad_lr_decay", "bad_momentum_decay",
    "group_not_dict", "state_dict_groups", "state_dict_sizes",
])
def test_errors_match_torch(case):
    def build(lib):
        w, b = _params(lib)
        return {
            "empty": lambda: lib.optim.SGD([], lr=0.1),
            "tensor_params": lambda: lib.optim.SGD(w, lr=0.1),
            "set_params": lambda: lib.optim.Adam([{"params": {w}}]),
            "non_tensor": lambda: lib.optim.SGD([w, 3], lr=0.1),
            "non_leaf": lambda: lib.optim.SGD([w * 2], lr=0.1),
            "duplicate_across_groups": lambda: lib.optim.SGD([{"params": [w]}, {"params": [w, b]}], lr=0.1),
            "bad_lr": lambda: lib.optim.Adam([w], lr=-1.0),
            "bad_momentum": lambda: lib.optim.SGD([w], lr=0.1, momentum=-0.5),
            "nesterov": lambda: lib.optim.SGD([w], lr=0.1, nesterov=True),
            "bad_beta": lambda: lib.optim.NAdam([w], betas=(0.9, 1.0)),
            "bad_eps": lambda: lib.optim.RMSprop([w], eps=-1e-3),
            "bad_rho": lambda: lib.optim.Adadelta([w], rho=1.5),
            "bad_lr_decay": lambda: lib.optim.Adagrad([w], lr_decay=-0.1),
            "bad_momentum_decay": lambda: lib.optim.NAdam([w], momentum_decay=-0.1),
            "group_not_dict": lambda: lib.optim.SGD([w], lr=0.1).add_param_group([b]),
            "state_dict_groups": lambda: lib.optim.SGD([w], lr=0.1).load_state_dict(
                lib.optim.SGD([{"params": [w]}, {"params": [b]}], lr=0.1).state_dict()),
            "state_dict_sizes": lambda: lib.optim.SGD([w], lr=0.1).load_state_dict(
                lib.optim.SGD([w, b], lr=0.1).state_dict()),
        }[case]

    expected = _error(build(torch))
    assert expected is not None
    assert _error(build(engine)) == expected


@pytest.mark.parametrize("flag", ["foreach", "fused", "capturable", "differentiable"])
def test_unsupported_flags_are_refused(flag):
    w = engine.nn.Parameter(engine.ones(2))
    with pytest.raises(RuntimeError, match=flag):
        engine.optim.Adam([w], **{flag: True})
    engine.optim.Adam([engine.nn.Parameter(engine.ones(2))], **{flag: False})


def test_zero_grad_closure_and_skipped_params():
    for set_to_none in (True, False):
        w, b = _params(engine)
        opt = engine.optim.Adam([w, b], lr=0.1)
        loss = opt.step(lambda: _loss(w, b).sum().backward() or _loss(w, b))
        assert isinstance(loss, engine.Tensor)
        opt.zero_grad(set_to_none=set_to_none)
        if set_to_none:
            assert w.grad is None
        else:
            assert w.grad.tolist() == [[0.0] * 3] * 2
    # a parameter without a gradient is skipped and gets no state, as in torch
    for lib in (torch, engine):
        w, b = _params(lib)
        opt = lib.optim.Adam([w, b], lr=0.1)
        (w * w).sum().backward()
        opt.step()
        assert list(opt.state_dict()["state"]) == [0]
        assert b.tolist() == lib.tensor(B0).tolist()


def test_step_runs_without_grad_and_hooks():
    w, b = _params(engine)
    opt = engine.optim.SGD([w, b], lr=0.1)
    seen = []
    handle = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", engine.is_grad_enabled())))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append("post"))
    _loss(w, b).backward()
    opt.step()
    handle.remove()
    opt.step()
    assert seen == [("pre", True), "post", "post"]
    # hooks see args as torch passes them: (optimizer, *step arguments)
    for lib in (torch, engine):
        opt = lib.optim.SGD(_params(lib), lr=0.1)
        calls = []
        opt.register_step_pre_hook(lambda o, args, kwargs: calls.append((len(args), args[0] is o, dict(kwargs))))
        opt.step(closure=None)
        opt.step(None)
        if lib is torch:
            expected = calls
    assert calls == expected
    assert w.grad_fn is None and not w.grad.requires_grad


@pytest.mark.parametrize("name", TENSOR_LR)
def test_tensor_lr_matches_torch(name):
    kwargs = {"lr": 0.02, "weight_decay": 0.1} if name != "Adadelta" else {"lr": 0.5}
    runs = []
    for lib in (torch, engine):
        w, b = _params(lib)
        opt = getattr(lib.optim, name)([w, b], **dict(kwargs, lr=lib.tensor([kwargs["lr"]])))
        for _ in range(4):
            opt.zero_grad()
            _loss(w, b).backward()
            opt.step()
        runs.append((w.tolist(), b.tolist(), _to_plain(opt.state_dict()["param_groups"])))
    _close(runs[1][:2], runs[0][:2])
    assert runs[1][2] == runs[0][2]
    for lib in (torch, engine):
        with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
            getattr(lib.optim, name)(_params(lib), lr=lib.tensor([0.1, 0.2]))


def test_module_parameters_and_named_parameters():
    states = []
    for lib in (torch, engine):
        class Model(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.weight = lib.nn.Parameter(lib.tensor(W0))
                self.bias = lib.nn.Parameter(lib.tensor(B0))

        model = Model()
        opt = lib.optim.Adam(model.named_parameters(), lr=0.05)
        opt.add_param_group({"params": [("extra", lib.nn.Parameter(lib.ones(2)))], "lr": 0.1})
        for _ in range(3):
            opt.zero_grad()
            _loss(model.weight, model.bias).backward()
            opt.step()
        states.append((_to_plain(opt.state_dict()["param_groups"]), model.weight.tolist()))
        with pytest.raises(ValueError, match="with/without names"):
            opt.add_param_group({"params": [lib.nn.Parameter(lib.ones(1))]})
    assert states[1][0] == states[0][0]
    _close(states[1][1], states[0][1])
