"""Adamax (torch/optim/adamax.py, the single-tensor non-capturable path)."""
from __future__ import annotations

import engine
from engine.optim._common import check_betas, closure_loss, scalar_tensor, set_defaults, step_to_tensor, zeros_like
from engine.optim.optimizer import Optimizer, _check_lr, _check_unsupported, _get_value, _scalar_arg, _to_scalar

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """torch.optim.Adamax."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        check_betas(lr, eps, betas, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        _check_unsupported("Adamax", defaults)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self, foreach=None, maximize=False, differentiable=False, capturable=False)
        step_to_tensor(self)

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay, maximize = _to_scalar(group["lr"]), group["eps"], group["weight_decay"], group["maximize"]
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = scalar_tensor(0.0)
                    state["exp_avg"] = zeros_like(param)
                    state["exp_inf"] = zeros_like(param)
                exp_avg, exp_inf, step_t = state["exp_avg"], state["exp_inf"], state["step"]
                grad = param.grad if not maximize else -param.grad
                step_t += 1
                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)
                exp_avg.lerp_(grad, 1 - beta1)
                engine.maximum(exp_inf.mul_(beta2), grad.abs().add_(eps), out=exp_inf)
                bias_correction = 1 - beta1 ** _get_value(step_t)
                clr = lr / bias_correction
                param.addcdiv_(exp_avg, exp_inf, value=_scalar_arg(-clr))
        return loss
