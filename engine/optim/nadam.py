"""NAdam (torch/optim/nadam.py, the single-tensor non-capturable path)."""
from __future__ import annotations

from engine.optim._common import check_betas, closure_loss, scalar_tensor, set_defaults, step_to_tensor, zeros_like
from engine.optim.optimizer import Optimizer, _check_lr, _check_unsupported, _get_value, _scalar_arg, _to_scalar

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """torch.optim.NAdam."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_lr(lr)
        check_betas(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        _check_unsupported("NAdam", defaults)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_defaults(self, maximize=False, foreach=None, capturable=False, differentiable=False,
                     decoupled_weight_decay=False)
        step_to_tensor(self)
        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p, [])
                if len(p_state) != 0 and not hasattr(p_state["mu_product"], "item"):
                    p_state["mu_product"] = scalar_tensor(float(p_state["mu_product"]))

    def step(self, closure=None):
        loss = closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, eps, weight_decay = _to_scalar(group["lr"]), group["eps"], group["weight_decay"]
            momentum_decay, decoupled, maximize = (group["momentum_decay"], group["decoupled_weight_decay"],
                                                   group["maximize"])
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if len(state) == 0:
                    state["step"] = scalar_tensor(0.0)
                    state["mu_product"] = scalar_tensor(1.0)
                    state["exp_avg"] = zeros_like(param)
                    state["exp_avg_sq"] = zeros_like(param)
                grad = param.grad if not maximize else -param.grad
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                mu_product, step_t = state["mu_product"], state["step"]
                step_t += 1
                step = _get_value(step_t)
                bias_correction2 = 1 - beta2**step
                if weight_decay != 0:
                    if decoupled:
                        param.mul_(1 - lr * weight_decay)
                    else:
                        grad = grad.add(param, alpha=weight_decay)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product *= mu
                exp_avg.lerp_(grad, 1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = exp_avg_sq.div(bias_correction2).sqrt()
                mu_product_next = _get_value(mu_product) * mu_next
                denom.add_(eps)
                param.addcdiv_(grad, denom, value=_scalar_arg(-lr * (1.0 - mu) / (1.0 - _get_value(mu_product))))
                param.addcdiv_(exp_avg, denom, value=_scalar_arg((-lr * mu_next) / (1.0 - mu_product_next)))
        return loss
