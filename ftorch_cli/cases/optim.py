"""FT-P2C-009 cases: torch.optim optimizers and LR schedulers, as `program` calls.

Each program is stored as source and runs with `lib` = torch (recording, `conform --live`)
or the engine (conform); its tensor inputs are the starting parameter values:

- optim.<Name> (one family per optimizer): every configuration torch's optim_db
  (`optim_inputs_func` in torch/testing/_internal/common_optimizers.py) gives the optimizer
  on CPU, plus a few of ours (two parameter groups, amsgrad with maximize, ...), run for
  STEPS steps on two fixed objectives (a quadratic with a coupling term and a scaled
  Rosenbrock function, gradients by autograd). Compared: the parameters after every step
  and the final `state_dict()` (torch's structure: int param ids, "state", "param_groups");
- optim.load_state_dict: a state_dict torch.save wrote after a few torch steps, loaded with
  `lib.load(weights_only=True)` into a fresh optimizer by `load_state_dict`, then more steps:
  the engine must resume torch's trajectory from torch's file;
- optim.engine_state_dict: the same with a state_dict `engine.save` wrote at extraction after
  3 engine steps: recorded with torch, this is torch loading and resuming from the engine's
  file (again under `conform --live`); the engine must resume alike;
- lr_scheduler.<Name>: the learning rates (and cycled momentum/betas) over EPOCHS epochs
  per scheduler configuration, then the scheduler's `state_dict()`.

Tensor learning rates (optim_db's "tensor lr" configurations) are stored as tensor inputs. Nothing here states an outcome: every expectation comes from running torch.
"""
from __future__ import annotations

import inspect
import io
import textwrap
from typing import Callable, Iterator

from ftorch_cli.cases.opinfo import stable_seed
from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec

SOURCE = "generated.optim"
OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam")
SCHEDULERS = ("LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR",
              "ReduceLROnPlateau")
FAMILIES = tuple(f"optim.{name}" for name in OPTIMIZERS) + ("optim.load_state_dict", "optim.engine_state_dict") + tuple(
    f"lr_scheduler.{name}" for name in SCHEDULERS)
STEPS = 5
EPOCHS = 20
OBJECTIVES = ("quadratic", "rosenbrock")
# Trajectories go through autograd and several float32 updates: the tolerance allows a few ulps
# of gradient difference compounded over the steps.
TOLERANCE = (1e-5, 1e-4, "optim trajectory (float32, 5 steps)")

# Configurations beyond optim_db's (label, kwargs, second group or None).
EXTRA_CONFIGS = {
    "SGD": [("two groups", {"lr": 0.01, "momentum": 0.9}, {"lr": 0.05, "weight_decay": 0.1})],
    "Adam": [("amsgrad, maximize", {"lr": 0.01, "amsgrad": True, "maximize": True}, None),
             ("two groups", {"lr": 0.01}, {"lr": 0.05, "betas": (0.8, 0.99)})],
    "AdamW": [("amsgrad, maximize", {"lr": 0.01, "amsgrad": True, "maximize": True}, None)],
    "RMSprop": [("momentum", {"lr": 0.01, "momentum": 0.5}, None)],
    "Adagrad": [("two groups", {"lr": 0.1}, {"lr": 0.05, "lr_decay": 0.1})],
    "Adadelta": [("lr and eps", {"lr": 0.5, "eps": 1e-4}, None)],
    "Adamax": [("betas", {"lr": 0.05, "betas": (0.8, 0.9)}, None)],
    "NAdam": [("decoupled, maximize", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
                                       "maximize": True}, None)],
    "RAdam": [("rectified early", {"lr": 0.01, "betas": (0.9, 0.9)}, None),
              ("decoupled, maximize", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True,
                                       "maximize": True}, None)],
}

SCHEDULER_CONFIGS = {
    "LambdaLR": [("linear decay", {"lr_lambda": "linear"}), ("exponential", {"lr_lambda": "exponential"}),
                 ("per group", {"lr_lambda": ["linear", "exponential"]})],
    "StepLR": [("step 3", {"step_size": 3}), ("step 5 gamma 0.5", {"step_size": 5, "gamma": 0.5}),
               ("closed form", {"step_size": 4, "gamma": 0.3, "$closed_form": True})],
    "MultiStepLR": [("milestones", {"milestones": [2, 5, 11]}),
                    ("repeated milestone", {"milestones": [3, 3, 8], "gamma": 0.5}),
                    ("closed form", {"milestones": [4, 9], "$closed_form": True})],
    "ExponentialLR": [("gamma 0.9", {"gamma": 0.9}), ("closed form", {"gamma": 0.8, "$closed_form": True})],
    "CosineAnnealingLR": [("T_max 10", {"T_max": 10}), ("T_max 6 eta_min", {"T_max": 6, "eta_min": 0.01}),
                          ("closed form", {"T_max": 7, "eta_min": 0.001, "$closed_form": True})],
    "OneCycleLR": [("cos", {"max_lr": 1.0, "total_steps": EPOCHS}),
                   ("linear three phase", {"max_lr": 0.5, "total_steps": EPOCHS, "anneal_strategy": "linear",
                                           "three_phase": True}),
                   ("epochs, no momentum", {"max_lr": [0.3, 0.6], "epochs": 4, "steps_per_epoch": 5,
                                            "cycle_momentum": False, "pct_start": 0.25}),
                   ("adam betas", {"max_lr": 0.1, "total_steps": EPOCHS, "$optimizer": "Adam"})],
    "ReduceLROnPlateau": [("min", {"patience": 2}),
                          ("max abs cooldown", {"mode": "max", "threshold_mode": "abs", "threshold": 0.05,
                                                "patience": 1, "cooldown": 2, "factor": 0.5}),
                          ("min_lr per group", {"patience": 0, "factor": 0.3, "min_lr": [0.01, 0.002]})],
}


# ---- the programs (source stored with each case; builtins only) ------------------------------

def optimize(lib, weight, bias, optimizer, config, second_group, objective, steps):
    w = weight.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    if second_group is None:
        opt = getattr(lib.optim, optimizer)([w, b], **config)
    else:
        opt = getattr(lib.optim, optimizer)([{"params": [w]}, dict(second_group, params=[b])], **config)

    def closure():
        opt.zero_grad()
        if objective == "quadratic":
            loss = (w * w * 0.75).sum() + (w.sum(1) * b).sum() * 0.5 + ((b - 1) * (b - 1)).sum()
        else:  # a scaled Rosenbrock function over the weight's rows and the bias
            x, y = w[0], w[1]
            loss = ((1 - x) * (1 - x)).sum() + 2.5 * ((y - x * x) * (y - x * x)).sum() + ((b - x[:2]) * (b - x[:2])).sum()
        loss.backward()
        return loss

    trajectory = []
    for _ in range(steps):
        loss = opt.step(closure)
        trajectory.append((loss.detach(), w.detach().clone(), b.detach().clone()))
    return trajectory, opt.state_dict()


def resume(lib, weight, bias, blob, optimizer, config, second_group, steps):
    import io

    w = weight.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    if second_group is None:
        opt = getattr(lib.optim, optimizer)([w, b], **config)
    else:
        opt = getattr(lib.optim, optimizer)([{"params": [w]}, dict(second_group, params=[b])], **config)
    opt.load_state_dict(lib.load(io.BytesIO(bytes(blob.tolist())), weights_only=True))
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (w * w * 0.75).sum() + (w.sum(1) * b).sum() * 0.5 + ((b - 1) * (b - 1)).sum()
        loss.backward()
        opt.step()
        trajectory.append((w.detach().clone(), b.detach().clone()))
    return trajectory, opt.state_dict()


def schedule(lib, weight, bias, scheduler, config, epochs):
    import math

    config = dict(config)
    closed_form = config.pop("$closed_form", False)
    kind = config.pop("$optimizer", "SGD")
    lambdas = {"linear": lambda epoch: 1.0 - epoch / 40.0, "exponential": lambda epoch: 0.93 ** epoch}
    if "lr_lambda" in config:
        chosen = config["lr_lambda"]
        config["lr_lambda"] = [lambdas[name] for name in chosen] if isinstance(chosen, list) else lambdas[chosen]
    w = weight.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    if kind == "Adam":
        opt = lib.optim.Adam([{"params": [w]}, {"params": [b], "lr": 0.02}], lr=0.01)
    else:
        opt = lib.optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.02}], lr=0.1, momentum=0.9)
    sched = getattr(lib.optim.lr_scheduler, scheduler)(opt, **config)
    metrics = [1.0, 0.9, 0.95, 0.97, 0.89, 0.9, 0.9, 0.91, 0.5, 0.6, 0.6, 0.49, 0.7, 0.7, 0.7, 0.7, 0.3, 0.31, 0.3, 0.3]
    history = [list(sched.get_last_lr())]
    for epoch in range(epochs):
        opt.zero_grad()
        (w.sum() + b.sum()).backward()
        opt.step()
        if scheduler == "ReduceLROnPlateau":
            sched.step(metrics[epoch % len(metrics)])
        elif closed_form:
            sched.step(epoch + 1)
        else:
            sched.step()
        groups = [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]
        history.append((list(sched.get_last_lr()), groups))
    state = {k: v for k, v in sched.state_dict().items() if k not in ("lr_lambdas",)}
    if "milestones" in state:
        state["milestones"] = sorted(state["milestones"].items())
    return history, state


# ---- the configurations (from torch's optim_db at extraction) -------------------------------

def _optim_configs(torch, name: str, skipped) -> Iterator[tuple[str, dict, object]]:
    from torch.testing._internal.common_optimizers import optim_db

    infos = [info for info in optim_db if info.optim_cls.__name__ == name]
    for info in infos:
        for optim_input in info.optim_inputs_func("cpu", torch.float32):
            kwargs = dict(optim_input.kwargs)
            if optim_input.params is not None:
                skipped["optim_db configuration with custom params"] += 1
                continue
            if any(kwargs.get(flag) for flag in ("foreach", "fused", "capturable", "differentiable")):
                skipped["optim_db configuration with foreach/fused/capturable/differentiable"] += 1
                continue
            yield f"optim_db {optim_input.desc}", kwargs, None
    for label, kwargs, second in EXTRA_CONFIGS.get(name, ()):
        yield label, dict(kwargs), second


def _start(torch, seed: int, label: str):
    generator = torch.Generator().manual_seed(stable_seed(seed, "optim", label))
    weight = (torch.rand(2, 3, generator=generator, dtype=torch.float32) * 2 - 1).round(decimals=3)
    bias = (torch.rand(2, generator=generator, dtype=torch.float32) * 2 - 1).round(decimals=3)
    return weight, bias


def _source(program: Callable) -> str:
    return textwrap.dedent(inspect.getsource(program))


def _saved_state_dict(torch, name, kwargs, second, weight, bias, steps) -> tuple[bytes, object, object]:
    w = weight.clone().requires_grad_(True)
    b = bias.clone().requires_grad_(True)
    groups = [w, b] if second is None else [{"params": [w]}, dict(second, params=[b])]
    opt = getattr(torch.optim, name)(groups, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        ((w * w * 0.75).sum() + (w.sum(1) * b).sum() * 0.5 + ((b - 1) * (b - 1)).sum()).backward()
        opt.step()
    from ftorch_cli.cases.serialization import _saved

    return _saved(torch, opt.state_dict()), w.detach().clone(), b.detach().clone()


def _engine_saved_state_dict(name, kwargs, second, weight, bias, steps) -> tuple[bytes, list, list]:
    """The engine's optimizer after `steps` steps from the same start: its state_dict as engine.save writes it."""
    import engine

    def convert(value):
        if hasattr(value, "untyped_storage"):  # a torch tensor hyperparameter (a Tensor lr)
            return engine.tensor(value.tolist(), dtype=engine.float32)
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return value

    w = engine.tensor(weight.tolist()).requires_grad_(True)
    b = engine.tensor(bias.tolist()).requires_grad_(True)
    groups = [w, b] if second is None else [{"params": [w]}, dict(convert(second), params=[b])]
    opt = getattr(engine.optim, name)(groups, **convert(kwargs))
    for _ in range(steps):
        opt.zero_grad()
        ((w * w * 0.75).sum() + (w.sum(1) * b).sum() * 0.5 + ((b - 1) * (b - 1)).sum()).backward()
        opt.step()
    buffer = io.BytesIO()
    engine.save(opt.state_dict(), buffer)
    return buffer.getvalue(), w.detach().tolist(), b.detach().tolist()


def optim_specs(torch, families: set, seed: int, skipped) -> Iterator[CaseSpec]:
    resumes = {"optim.load_state_dict", "optim.engine_state_dict"} & families
    for name in OPTIMIZERS:
        family = f"optim.{name}"
        if family not in families and not resumes:
            continue
        for label, kwargs, second in _optim_configs(torch, name, skipped):
            if family in families:
                for objective in OBJECTIVES:
                    weight, bias = _start(torch, seed, f"{name}:{label}:{objective}")
                    yield CaseSpec(op=family, dtype="float32", source=SOURCE, label=f"{label} [{objective}]",
                                   call=Call("program", "optimize", source=_source(optimize)),
                                   args=[weight, bias, name, kwargs, second, objective, STEPS],
                                   tolerance=TOLERANCE, stride_check="exact")
            if "optim.load_state_dict" in families:
                weight, bias = _start(torch, seed, f"{name}:{label}:resume")
                blob, w, b = _saved_state_dict(torch, name, kwargs, second, weight, bias, 3)
                data = torch.frombuffer(bytearray(blob), dtype=torch.uint8).clone()
                yield CaseSpec(op="optim.load_state_dict", dtype="float32", source=SOURCE, label=f"{name} {label}",
                               call=Call("program", "resume", source=_source(resume)),
                               args=[w, b, data, name, kwargs, second, 2], tolerance=TOLERANCE, stride_check="exact")
            if "optim.engine_state_dict" in families:
                weight, bias = _start(torch, seed, f"{name}:{label}:engine_resume")
                blob, w, b = _engine_saved_state_dict(name, kwargs, second, weight, bias, 3)
                data = torch.frombuffer(bytearray(blob), dtype=torch.uint8).clone()
                yield CaseSpec(op="optim.engine_state_dict", dtype="float32", source=SOURCE, label=f"{name} {label}",
                               call=Call("program", "resume", source=_source(resume)),
                               args=[torch.tensor(w), torch.tensor(b), data, name, kwargs, second, 2],
                               tolerance=TOLERANCE, stride_check="exact")
    for name in SCHEDULERS:
        family = f"lr_scheduler.{name}"
        if family not in families:
            continue
        for label, config in SCHEDULER_CONFIGS[name]:
            weight, bias = _start(torch, seed, f"{name}:{label}")
            yield CaseSpec(op=family, dtype="float32", source=SOURCE, label=label,
                           call=Call("program", "schedule", source=_source(schedule)),
                           args=[weight, bias, name, config, EPOCHS], tolerance=TOLERANCE, stride_check="exact")
