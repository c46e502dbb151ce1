"""Turning a workload into callables for one library (`torch` or the engine).

Both libraries get the same source text compiled the same way, with tensors
built by `lib.from_numpy` from one numpy array per input (copied, so the two
never share memory or cache lines). The timed callable runs the program in a
loop (like timeit's template) so a call costs no extra Python frame, and every
name is a local of that function.
"""
from __future__ import annotations

import ast
import itertools
import textwrap
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from ftorch_cli.bench.workloads import InputSpec, Workload
from ftorch_cli.conform.engine_adapter import registered_dtypes

# What an engine raises for a feature it does not have yet: the workload is then
# `unsupported`, not an error.
UNSUPPORTED_ERRORS = (AttributeError, NotImplementedError)


class Unsupported(Exception):
    """The engine lacks an op, a dtype or backward that the workload needs."""


@dataclass
class BoundProgram:
    once: Callable[[], Any]  # one run, returning the result that is checked against torch
    batch: Callable[[int], None]  # `calls` runs back to back, returning nothing


def make_arrays(workload: Workload) -> dict[str, np.ndarray]:
    """The workload's input data, the same on every run (seeded by its name)."""
    generator = np.random.default_rng(workload.seed)
    return {spec.name: _array(generator, spec) for spec in workload.inputs}


def _array(generator: np.random.Generator, spec: InputSpec) -> np.ndarray:
    if spec.kind == "bool" or spec.dtype == "bool":
        return generator.random(spec.shape) < 0.5
    if spec.dtype.startswith("int"):
        low = 1 if spec.kind == "positive" else -100
        return generator.integers(low, 100, size=spec.shape, dtype=spec.dtype)
    if spec.kind == "positive":
        return generator.uniform(0.1, 10.0, size=spec.shape).astype(spec.dtype)
    return generator.standard_normal(spec.shape, dtype=np.dtype(spec.dtype))


def check_registry(workload: Workload, registry: dict) -> None:
    """Raise Unsupported when the engine's op registry lacks an op, the dtype or backward."""
    for op in workload.ops:
        entry = registry.get(op)
        if entry is None:
            raise Unsupported(f"{op} is not in the engine's op registry")
        dtypes = registered_dtypes(entry)
        if dtypes is not None and workload.dtype not in dtypes:
            raise Unsupported(f"{op} is not registered for {workload.dtype}")
        if workload.backward and not getattr(entry, "has_backward", False):
            raise Unsupported(f"{op} has no backward in the engine")


def bind(workload: Workload, lib, arrays: dict[str, np.ndarray]) -> BoundProgram:
    """Build the inputs in `lib` and compile the program; raises what `lib` raises."""
    names: dict[str, Any] = {"lib": lib}
    for spec in workload.inputs:
        tensor = lib.from_numpy(arrays[spec.name].copy())
        if spec.requires_grad:
            tensor.requires_grad_(True)
        names[spec.name] = tensor
    if workload.setup:
        namespace = dict(names)
        exec(compile(workload.setup, f"<setup of {workload.name}>", "exec"), namespace)
        names.update((name, value) for name, value in namespace.items() if not name.startswith("__"))
    parameters = sorted(names)
    once = _compile(_once_source(workload, parameters), "_once", workload.name)
    batch = _compile(_batch_source(workload, parameters), "_batch", workload.name)
    values = tuple(names[name] for name in parameters)
    once.__defaults__ = values
    batch.__defaults__ = values
    return BoundProgram(once, batch)


def _once_source(workload: Workload, parameters: list[str]) -> str:
    body = ast.parse(workload.program).body
    if workload.result is not None:
        body.append(ast.Return(ast.parse(workload.result, mode="eval").body))
    elif body and isinstance(body[-1], ast.Expr):
        body[-1] = ast.Return(body[-1].value)
    text = ast.unparse(ast.Module(body=body, type_ignores=[]))
    return f"def _once({', '.join(parameters)}):\n{textwrap.indent(text, '    ')}\n"


def _batch_source(workload: Workload, parameters: list[str]) -> str:
    loop = f"for _ in _repeat(None, _calls):\n{textwrap.indent(workload.program, '    ')}"
    return f"def _batch(_calls, {', '.join(parameters)}):\n{textwrap.indent(loop, '    ')}\n"


def _compile(source: str, name: str, workload_name: str) -> Callable:
    namespace: dict[str, Any] = {"_repeat": itertools.repeat}
    exec(compile(source, f"<workload {workload_name}>", "exec"), namespace)
    return namespace[name]


def to_numpy(value) -> Any:
    """A program's result as numpy (tensors), a list (tuples of them) or None."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)):
        return [to_numpy(item) for item in value]
    if hasattr(value, "numpy"):
        detached = value.detach() if hasattr(value, "detach") else value
        return np.asarray(detached.numpy())
    return np.asarray(value)


def result_difference(engine_result, torch_result) -> Optional[str]:
    """None if the engine's result matches torch's on this input, else what differs.

    A sanity check on the benchmark's own data, not conformance: floats within
    rtol 1e-3 and an absolute 1e-3 of the result's largest magnitude (so long
    reductions in another summation order pass), everything else exactly.
    """
    if isinstance(torch_result, list):
        if not isinstance(engine_result, list) or len(engine_result) != len(torch_result):
            return f"result structure differs from torch's ({_kind(engine_result)} vs {_kind(torch_result)})"
        for index, (mine, theirs) in enumerate(zip(engine_result, torch_result)):
            problem = result_difference(mine, theirs)
            if problem:
                return f"result[{index}]: {problem}"
        return None
    if torch_result is None or engine_result is None:
        return None if engine_result is torch_result else f"result is {_kind(engine_result)}, torch's is {_kind(torch_result)}"
    if engine_result.shape != torch_result.shape or engine_result.dtype != torch_result.dtype:
        return (
            f"result is {engine_result.dtype}{list(engine_result.shape)}, "
            f"torch's is {torch_result.dtype}{list(torch_result.shape)}"
        )
    if torch_result.dtype.kind != "f":
        mismatched = int(np.count_nonzero(engine_result != torch_result))
        return f"{mismatched} element(s) differ from torch's" if mismatched else None
    expected = torch_result.astype(np.float64)
    actual = engine_result.astype(np.float64)
    finite = np.abs(expected[np.isfinite(expected)])
    scale = float(finite.max()) if finite.size else 0.0
    if np.allclose(actual, expected, rtol=1e-3, atol=1e-3 * scale + 1e-6, equal_nan=True):
        return None
    with np.errstate(invalid="ignore"):
        error = float(np.nanmax(np.abs(actual - expected)))
    return f"result differs from torch's (max abs err {error:.3g}, largest |value| {scale:.3g})"


def _kind(value) -> str:
    if isinstance(value, list):
        return f"a sequence of {len(value)}"
    return "None" if value is None else "a tensor"
