"""FT-P2C-004 gradient cases from OpInfo: first and second order, per op and floating dtype.

For every op OpInfo says `supports_autograd`, its samples are drawn with
requires_grad=True and each becomes:

- `opinfo.gradients` `sample:N:sum` — gradients of the sum of the outputs
  (upstream ones) with respect to every input that requires grad;
- `opinfo.gradients` `sample:N:random` — the same with a seeded random upstream
  gradient per output (recorded with the case);
- `opinfo.gradgrad` `sample:N` — when OpInfo says `supports_gradgrad`: the first
  gradients with create_graph=True, differentiated again against seeded random
  vectors (cases.gradients explains the step).

Each records the forward output, the gradients and the grad_fn names. float64
first-order cases also carry the finite-difference witness (cases.gradcheck):
its seed, or why it does not apply because torch itself fails it at that sample.

Runs only inside the oracle worker (it needs op_db).
"""
from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from typing import Any, Iterator

from ftorch_cli.cases.gradcheck import DTYPE as GRADCHECK_DTYPE
from ftorch_cli.cases.gradcheck import finite_difference_check
from ftorch_cli.cases.opinfo import seed_everything, spread_evenly, stable_seed, tolerance_for
from ftorch_cli.cases.program import Call, resolve, tensor_leaves
from ftorch_cli.cases.record import CaseSpec
from ftorch_cli.packets.model import Caps
from ftorch_cli.serialize.dtypes import dtype_name

GRADIENTS = "opinfo.gradients"
GRADGRAD = "opinfo.gradgrad"
FLOATING = ("float16", "bfloat16", "float32", "float64")


def _has_default(function: Any, qualified_default: str) -> bool:
    return getattr(function, "__qualname__", "") == qualified_default


def _fresh_leaves(value: Any, is_tensor) -> Any:
    """Every tensor that requires grad becomes its own leaf (same storage and strides), so the
    recorded inputs rebuild to exactly the graph torch ran, even where OpInfo passed a view."""
    if is_tensor(value):
        return value.detach().requires_grad_(True) if value.requires_grad else value
    if isinstance(value, list):
        return [_fresh_leaves(item, is_tensor) for item in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(_fresh_leaves(item, is_tensor) for item in value)
    if isinstance(value, dict):
        return {key: _fresh_leaves(item, is_tensor) for key, item in value.items()}
    return value


def record_witness(torch, call: Call, args, kwargs, grad_args, is_tensor, seed: int) -> dict:
    """The finite-difference witness on torch: its seed when torch passes it, else why it does not apply."""
    try:
        result = finite_difference_check(torch, call, args, kwargs, grad_args, is_tensor, seed)
    except Exception as exc:  # torch cannot run it (an op that refuses no_grad re-evaluation, ...)
        return {"skip": f"torch cannot run it: {type(exc).__name__}: {str(exc)[:120]}"}
    if result.status == "pass":
        return {"seed": seed}
    if result.status == "fail":
        return {"skip": f"torch itself fails it here: {result.message[:200]}"}
    return {"skip": result.message[:200]}


def gradient_specs(torch, op, call: Call, dtype_names: list[str], caps: Caps, seed: int, skipped: Counter) -> Iterator[CaseSpec]:
    """Every gradient spec one OpInfo entry contributes, in a deterministic order (`skipped` counts what is left out)."""
    if not _has_default(op.gradcheck_wrapper, "OpInfo.<lambda>"):
        skipped["gradients: OpInfo wraps the op for gradcheck"] += 1
        return
    full_name = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
    supported = {dtype_name(d) for d in op.supported_backward_dtypes("cpu")} & {dtype_name(d) for d in op.supported_dtypes("cpu")}
    is_tensor = lambda value: isinstance(value, torch.Tensor)  # noqa: E731
    for name in dtype_names:
        if name not in supported or name not in FLOATING:
            continue
        dtype = getattr(torch, name)
        tolerance = tolerance_for(torch, op, dtype)
        seed_everything(torch, seed, full_name, name, "gradients")
        samples = list(op.sample_inputs_func(op, "cpu", dtype, True))
        for number, sample in enumerate(spread_evenly(samples, caps.samples)):
            if not _has_default(sample.output_process_fn_grad, "SampleInput.__init__.<locals>.<lambda>"):
                skipped["gradients: the sample post-processes the output before differentiating"] += 1
                continue
            args = _fresh_leaves([sample.input, *sample.args], is_tensor)
            kwargs = _fresh_leaves(dict(sample.kwargs), is_tensor)
            inputs = [t for t in tensor_leaves([args, kwargs], is_tensor) if t.requires_grad]
            picked = _differentiable_outputs(torch, call, args, kwargs, is_tensor)
            if not inputs or not picked:
                skipped["gradients: no input requires grad or no output is differentiable"] += 1
                continue
            outputs = picked[1]
            upstream = [torch.randn_like(output.detach()) for output in outputs]
            common = dict(op=op.name, dtype=name, args=args, kwargs=kwargs, variant_name=op.variant_test_name, tolerance=tolerance)
            for kind, grad_args in (("sum", ()), ("random", tuple(upstream))):
                label = f"sample:{number}:{kind}"
                grad_call = dataclasses.replace(call, grad={"outputs": picked[0], "upstream": "ones" if kind == "sum" else "given", "order": 1})
                checks = {}
                if name == GRADCHECK_DTYPE:
                    witness_seed = stable_seed(seed, full_name, name, label)
                    checks["gradcheck"] = record_witness(torch, grad_call, args, kwargs, grad_args, is_tensor, witness_seed)
                yield CaseSpec(source=GRADIENTS, label=label, call=grad_call, grad_args=grad_args, extra_checks=checks, **common)
            if op.supports_gradgrad and number < caps.second_order:
                vectors = tuple(torch.randn_like(t.detach()) for t in inputs)
                grad_call = dataclasses.replace(call, grad={"outputs": picked[0], "upstream": "given", "order": 2})
                yield CaseSpec(source=GRADGRAD, label=f"sample:{number}", call=grad_call, grad_args=tuple(upstream) + vectors, **common)


def _differentiable_outputs(torch, call: Call, args, kwargs, is_tensor):
    """(indices, tensors) of the output's tensor leaves that require grad in torch, or None when the call fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = resolve(torch, call, args)(args, kwargs)
    except Exception:
        return None
    leaves = tensor_leaves(output, is_tensor)
    picked = [index for index, leaf in enumerate(leaves) if leaf.requires_grad]
    return (picked, [leaves[index] for index in picked]) if picked else None
