"""Helpers shared by the engine's optimizers."""
from __future__ import annotations

import engine


def closure_loss(closure):
    if closure is None:
        return None
    with engine.enable_grad():
        return closure()


def scalar_tensor(value: float):
    """torch's CPU `step`/`mu_product` state: a 0-dim float32 tensor."""
    return engine.tensor(value, dtype=engine.float32)


def zeros_like(p):
    return engine.zeros_like(p, memory_format=engine.preserve_format)


def check_betas(lr, eps, betas, weight_decay):
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def set_defaults(optimizer, **defaults):
    for group in optimizer.param_groups:
        for key, value in defaults.items():
            group.setdefault(key, value)


def step_to_tensor(optimizer):
    """Old state dicts stored `step` as a number; torch turns it into a tensor on load."""
    for group in optimizer.param_groups:
        for p in group["params"]:
            p_state = optimizer.state.get(p, [])
            if len(p_state) != 0 and "step" in p_state and not isinstance(p_state["step"], engine.Tensor):
                p_state["step"] = scalar_tensor(float(p_state["step"]))
