"""A second witness for gradients: central finite differences (torch.autograd.gradcheck's fast mode).

A recorded gradient is torch's; this check asks the library itself whether its
analytic gradient agrees with its own forward. For every input that requires
grad, with a random unit direction u (seeded by the case) and the case's
upstream gradient v (ones, or its recorded random tensors):

    analytic = <J^T v, u>   (the library's gradient, dotted with u)
    numeric  = <v, (f(x + eps*u) - f(x - eps*u)) / (2*eps)>

and |analytic - numeric| <= atol + rtol * |numeric| with gradcheck's defaults
(eps 1e-6, atol 1e-5, rtol 1e-3). It runs in float64 only. At extraction it
runs on torch: a sample where torch fails it (a kink, a discontinuity within
eps) is stored as not applicable, so at conformance a failure is the engine's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from ftorch_cli.cases.gradients import run_gradients, selected_outputs, split_vectors
from ftorch_cli.cases.program import Call, replace_tensors, resolve, tensor_leaves

EPS = 1e-6  # torch.autograd.gradcheck defaults
ATOL = 1e-5
RTOL = 1e-3
DTYPE = "float64"


@dataclass
class WitnessResult:
    status: str  # "pass" | "fail" | "not_applicable"
    message: str = ""
    worst_error: Optional[float] = None  # greatest |analytic - numeric| over the inputs


def _numpy(tensor) -> np.ndarray:
    return np.array(tensor.detach().numpy(), dtype=np.float64)


def finite_difference_check(lib, call: Call, args: list, kwargs: dict, grad_args: tuple, is_tensor: Callable[[Any], bool],
                            seed: int) -> WitnessResult:
    """Run the check on `lib`; exceptions from `lib` propagate (the caller reports them)."""
    bound = resolve(lib, call, args)
    inputs = [t for t in tensor_leaves([args, kwargs], is_tensor) if t.requires_grad]
    if not inputs:
        return WitnessResult("not_applicable", "no input requires grad")
    first_order = {**call.grad, "order": 1}
    output = bound(args, kwargs)
    outputs = selected_outputs(first_order, tensor_leaves(output, is_tensor))
    analytic_grads = run_gradients(lib, first_order, tensor_leaves(output, is_tensor), inputs, list(grad_args)).gradients
    upstream, _ = split_vectors(first_order, list(grad_args))
    vectors = [np.ones(tuple(o.shape)) for o in outputs] if upstream is None else [_numpy(v) for v in upstream]

    def evaluate(index: int, values: np.ndarray) -> list[np.ndarray]:
        replacement = {id(inputs[index]): lib.from_numpy(np.array(values, dtype=np.float64))}
        with lib.no_grad():
            result = bound(replace_tensors(args, replacement, is_tensor), replace_tensors(kwargs, replacement, is_tensor))
        return [_numpy(o) for o in selected_outputs(first_order, tensor_leaves(result, is_tensor))]

    generator = np.random.default_rng(seed)
    worst, problems = 0.0, []
    for index, (tensor, gradient) in enumerate(zip(inputs, analytic_grads)):
        point = _numpy(tensor)
        direction = generator.standard_normal(point.shape)
        norm = float(np.linalg.norm(direction))
        if norm:
            direction /= norm
        plus, minus = evaluate(index, point + EPS * direction), evaluate(index, point - EPS * direction)
        numeric = sum(float(np.sum(v * (p - m))) for v, p, m in zip(vectors, plus, minus)) / (2 * EPS)
        analytic = 0.0 if gradient is None else float(np.sum(_numpy(gradient) * direction))
        if not (np.isfinite(numeric) and np.isfinite(analytic)):
            return WitnessResult("not_applicable", f"input #{index}: analytic {analytic!r}, numeric {numeric!r} (not finite)")
        error = abs(analytic - numeric)
        worst = max(worst, error)
        if error > ATOL + RTOL * abs(numeric):
            problems.append(f"input #{index}: analytic {analytic:.6g}, numeric {numeric:.6g}")
    if problems:
        return WitnessResult("fail", "; ".join(problems) + f" (eps {EPS:g}, atol {ATOL:g}, rtol {RTOL:g})", worst)
    return WitnessResult("pass", "", worst)
