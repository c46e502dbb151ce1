"""engine.optim.lr_scheduler against torch.optim.lr_scheduler directly."""
from __future__ import annotations

import warnings

import pytest
import torch

import engine

EPOCHS = 25

CONFIGS = [
    ("StepLR", {"step_size": 3}),
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 11], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 0.95 ** epoch}),
    ("LambdaLR", {"lr_lambda": [lambda epoch: 1 / (epoch + 1), lambda epoch: 0.9 ** epoch]}),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": EPOCHS}),
    ("OneCycleLR", {"max_lr": [0.4, 0.8], "total_steps": EPOCHS, "anneal_strategy": "linear", "three_phase": True}),
    ("OneCycleLR", {"max_lr": 0.5, "epochs": 5, "steps_per_epoch": 5, "cycle_momentum": False, "pct_start": 0.2}),
]


def _optimizer(lib, kind="SGD"):
    w = lib.nn.Parameter(lib.ones(2))
    b = lib.nn.Parameter(lib.zeros(1))
    groups = [{"params": [w]}, {"params": [b], "lr": 0.02}]
    if kind == "Adam":
        return lib.optim.Adam(groups, lr=0.01)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def _schedule(lib, name, config, kind="SGD", closed_form=False):
    opt = _optimizer(lib, kind)
    sched = getattr(lib.optim.lr_scheduler, name)(opt, **config)
    history = [list(sched.get_last_lr())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(EPOCHS):
            opt.step()
            sched.step(epoch + 1) if closed_form else sched.step()
            history.append((list(sched.get_last_lr()),
                            [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]))
    return history, sched


def _state(sched):
    state = dict(sched.state_dict())
    state.pop("lr_lambdas", None)
    return state


@pytest.mark.parametrize("name,config", CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)])
def test_schedule_matches_torch(name, config):
    expected, tsched = _schedule(torch, name, config)
    actual, esched = _schedule(engine, name, config)
    assert actual == expected
    assert _state(esched) == _state(tsched)
    assert list(_state(esched)) == list(_state(tsched))


@pytest.mark.parametrize("name,config", [c for c in CONFIGS if c[0] in ("StepLR", "MultiStepLR", "ExponentialLR",
                                                                         "CosineAnnealingLR")])
def test_closed_form_matches_torch(name, config):
    assert _schedule(engine, name, config, closed_form=True)[0] == _schedule(torch, name, config, closed_form=True)[0]


def test_one_cycle_cycles_adam_betas():
    config = {"max_lr": 0.1, "total_steps": EPOCHS}
    assert _schedule(engine, "OneCycleLR", config, "Adam")[0] == _schedule(torch, "OneCycleLR", config, "Adam")[0]


@pytest.mark.parametrize("config", [
    {"patience": 2},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 1, "cooldown": 2, "factor": 0.5},
    {"patience": 0, "factor": 0.3, "min_lr": [0.01, 0.002]},
])
def test_reduce_on_plateau_matches_torch(config):
    metrics = [1.0, 0.9, 0.95, 0.97, 0.89, 0.9, 0.9, 0.91, 0.5, 0.6, 0.6, 0.49, 0.7, 0.7, 0.7, 0.7, 0.3, 0.31]
    runs = []
    for lib in (torch, engine):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **config)
        lrs = []
        for metric in metrics:
            opt.step()
            sched.step(metric)
            lrs.append(sched.get_last_lr())
        runs.append((lrs, sched.state_dict()))
    assert runs[1] == runs[0]


def test_state_dict_round_trip_resumes_schedule():
    for lib in (torch, engine):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8)
        for _ in range(3):
            opt.step()
            sched.step()
        saved = sched.state_dict()
        opt2 = _optimizer(lib)
        opt2.load_state_dict(opt.state_dict())
        sched2 = lib.optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=8)
        sched2.load_state_dict(saved)
        lrs = []
        for _ in range(5):
            opt2.step()
            sched2.step()
            lrs.append(sched2.get_last_lr())
        if lib is torch:
            expected = lrs
    assert lrs == expected


def _error(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__, str(exc)
    return None


@pytest.mark.parametrize("case", ["not_optimizer", "resume_without_initial_lr", "lambda_count", "plateau_factor",
                                  "plateau_mode", "plateau_min_lrs", "one_cycle_steps", "one_cycle_pct",
                                  "one_cycle_anneal", "one_cycle_momentum", "one_cycle_overrun", "one_cycle_max_lr"])
def test_errors_match_torch(case):
    def build(lib):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler
        no_momentum = lib.optim.Adagrad([lib.nn.Parameter(lib.ones(1))])

        def overrun():
            s = sched.OneCycleLR(opt, max_lr=1.0, total_steps=3)
            for _ in range(4):
                s.step()

        return {
            "not_optimizer": lambda: sched.StepLR(object(), 3),
            "resume_without_initial_lr": lambda: sched.StepLR(opt, 3, last_epoch=4),
            "lambda_count": lambda: sched.LambdaLR(opt, [lambda e: 1.0]),
            "plateau_factor": lambda: sched.ReduceLROnPlateau(opt, factor=1.5),
            "plateau_mode": lambda: sched.ReduceLROnPlateau(opt, mode="up"),
            "plateau_min_lrs": lambda: sched.ReduceLROnPlateau(opt, min_lr=[0.1]),
            "one_cycle_steps": lambda: sched.OneCycleLR(opt, max_lr=1.0),
            "one_cycle_pct": lambda: sched.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1),
            "one_cycle_anneal": lambda: sched.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
            "one_cycle_momentum": lambda: sched.OneCycleLR(no_momentum, max_lr=1.0, total_steps=10),
            "one_cycle_overrun": overrun,
            "one_cycle_max_lr": lambda: sched.OneCycleLR(opt, max_lr=[1.0], total_steps=10),
        }[case]

    expected = _error(build(torch))
    assert expected is not None
    assert _error(build(engine)) == expected


def test_warnings_match_torch():
    messages = []
    for lib in (torch, engine):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step()  # before optimizer.step()
            sched.get_lr()  # outside step()
        messages.append([str(w.message) for w in caught])
    assert messages[1] == messages[0] and len(messages[0]) == 2
