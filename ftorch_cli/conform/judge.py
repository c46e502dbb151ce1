"""Judging one case: what the engine (or the live torch) observed against the expectation.

Both sides are first turned into the same `Observed` record — output as a tree
of TensorFacts and plain values, inputs after the call, version deltas,
gradients, or the exception — so engine-vs-recorded, engine-vs-live and
live-vs-recorded are one comparison. The first difference decides the reason
code (conform.reasons). grad_fn names are judged apart (`judge_grad_fn`), so a
naming difference never hides whether the gradients are right.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from ftorch_cli.cases.program import Observation, exception_record
from ftorch_cli.conform.comparators import (
    CLOSE, Comparator, Tolerance, ValueDiff, comparator_for, tolerance_for, tolerance_for_magnitude,
)
from ftorch_cli.conform.engine_adapter import ObservationError, tensor_facts
from ftorch_cli.conform.reasons import reason
from ftorch_cli.serialize.backends import DtypeName, NumpyBackend, TensorFacts
from ftorch_cli.serialize.dtypes import DTYPES, dtype_name
from ftorch_cli.serialize.values import NamedResult


@dataclass
class Observed:
    kind: str  # "value" | "exception"
    output: Any = None
    inputs_after: Any = None
    versions: Optional[dict] = None
    exception: dict = field(default_factory=dict)  # type, mro, message, stage
    crash: bool = False
    gradients: Optional[list] = None  # first-order gradient per differentiated input (cases.gradients)
    second_order: Optional[list] = None
    grad_fn: Optional[list] = None  # grad_fn names of the differentiated outputs


def observed_from_record(expected: dict, storages: list[bytes]) -> Observed:
    """The recorded (or live) expectation as an Observed; malformed input raises ValueError/UnsupportedValue."""
    kind = expected.get("kind")
    if kind == "exception":
        return Observed("exception", exception=expected)
    if kind != "value":
        raise ValueError(f"unknown expectation kind {kind!r}")
    backend = NumpyBackend(storages)

    def optional(key):
        return backend.decode(expected[key]) if expected.get(key) is not None else None

    return Observed(
        "value",
        output=backend.decode(expected["output"]),
        inputs_after=optional("inputs_after"),
        versions=expected.get("versions"),
        gradients=optional("gradients"),
        second_order=optional("second_order"),
        grad_fn=expected.get("grad_fn"),
    )


def observed_from_engine(observation: Observation, args: list, input_keys: dict, is_tensor, observe_inputs: bool) -> Observed:
    if observation.exception is not None:
        return Observed(
            "exception",
            exception=exception_record(observation.exception, observation.stage),
            crash=not isinstance(observation.exception, Exception),
        )
    convert = lambda value: _facts_tree(value, input_keys, is_tensor)  # noqa: E731
    observed = Observed(
        "value",
        output=convert(observation.output),
        inputs_after=convert(list(args)) if observe_inputs else None,
        versions=observation.versions,
    )
    gradients = observation.gradients
    if gradients is not None:
        observed.gradients = convert(list(gradients.gradients))
        observed.second_order = convert(list(gradients.second_order)) if gradients.second_order is not None else None
        observed.grad_fn = list(gradients.grad_fn)
    return observed


def _facts_tree(value: Any, input_keys: dict, is_tensor) -> Any:
    if is_tensor(value):
        return tensor_facts(value, input_keys)
    if value is None or value is Ellipsis or isinstance(value, (bool, int, float, complex, str, slice)):
        return value
    fields = getattr(type(value), "_fields", None) or getattr(type(value), "__match_args__", None)
    if isinstance(value, tuple) and fields:
        return NamedResult([_facts_tree(item, input_keys, is_tensor) for item in value], type(value).__name__, fields)
    if isinstance(value, tuple):  # tuple and Size-like subclasses
        return tuple(_facts_tree(item, input_keys, is_tensor) for item in value)
    if isinstance(value, list):
        return [_facts_tree(item, input_keys, is_tensor) for item in value]
    if isinstance(value, dict):  # dict, OrderedDict (a state_dict): recorded as {"$dict": ...}, compared as a dict
        return {_facts_tree(key, input_keys, is_tensor): _facts_tree(item, input_keys, is_tensor) for key, item in value.items()}
    if type(value).__name__ == "dtype":
        return DtypeName(dtype_name(value))
    if type(value).__name__ == "device":  # recorded as {"$device": "cpu"}, decoded as its name
        return str(value)
    if isinstance(value, (np.generic,)):
        return value.item()
    return f"{type(value).__name__}:{value}"


@dataclass
class CaseContext:
    op: str
    dtype: str
    override: Optional[Tolerance]  # the case's OpInfo tolerance override, if any
    strides: str  # "exact" | "significant" | "none"
    check_alias: bool = True
    magnitude_atol: bool = False  # gradients: atol at least rtol x the tensor's largest magnitude (normwise)

    def comparison_for(self, output_dtype: str, expected_values=None) -> tuple[Comparator, Tolerance]:
        """Comparator and tolerance for one output tensor: by its own dtype; the override applies to floating outputs.

        With `magnitude_atol`, atol is at least rtol x max |expected|: a gradient of a broadcast input
        is a sum whose order torch does not fix, so its rounding is relative to the size of the terms,
        not to each element (tolerance_for_magnitude)."""
        comparator = comparator_for(self.op, output_dtype)
        floating = DTYPES[output_dtype].kind in ("float", "complex")
        tolerance = self.override if self.override is not None and floating else tolerance_for(output_dtype)
        if self.magnitude_atol and floating and expected_values is not None:
            tolerance = tolerance_for_magnitude(tolerance, expected_values, output_dtype)
        return comparator, tolerance


@dataclass
class Verdict:
    outcome: str
    reason_code: str
    message: str = ""
    max_abs_err: Optional[float] = None
    max_ulp: Optional[float] = None
    detail: str = ""


class _Mismatch(Exception):
    def __init__(self, code: str, message: str, detail: str = ""):
        super().__init__(message)
        self.code, self.message, self.detail = reason(code), message, detail


@dataclass
class _Totals:
    max_abs: Optional[float] = None
    max_ulp: Optional[float] = None

    def add(self, diff: ValueDiff):
        self.max_abs = diff.max_abs if self.max_abs is None else max(self.max_abs, diff.max_abs)
        if diff.max_ulp is not None:
            self.max_ulp = diff.max_ulp if self.max_ulp is None else max(self.max_ulp, diff.max_ulp)


def judge(actual: Observed, expected: Observed, context: CaseContext) -> Verdict:
    if expected.kind == "exception":
        return _judge_exception(actual, expected)
    if actual.kind == "exception":
        info = actual.exception
        code = "engine_crash" if actual.crash else "engine_exception"
        return Verdict("error", reason(code), f"{info['type']}: {info['message'][:300]} (at {info['stage']})")
    totals = _Totals()
    try:
        _compare(actual.output, expected.output, context, totals, "output")
        if expected.inputs_after is not None:
            try:
                _compare(actual.inputs_after, expected.inputs_after, context, totals, "input")
            except _Mismatch as mismatch:
                raise _Mismatch("input_mutation_mismatch", mismatch.message, mismatch.detail) from None
        if expected.versions is not None:
            _compare_versions(actual.versions, expected.versions)
        _compare_gradients(actual, expected, context, totals)
    except _Mismatch as mismatch:
        return Verdict("fail", mismatch.code, mismatch.message, totals.max_abs, totals.max_ulp, mismatch.detail)
    return Verdict("pass", reason("ok"), "", totals.max_abs, totals.max_ulp)


def _judge_exception(actual: Observed, expected: Observed) -> Verdict:
    want = expected.exception
    if actual.kind != "exception":
        return Verdict("fail", reason("missing_exception"), f"torch raised {want['type']}: {want['message'][:200]}")
    got = actual.exception
    note = f"torch: {want['type']}: {want['message'][:150]} | engine: {got['type']}: {got['message'][:150]}"
    if want["type"] not in got.get("mro", [got["type"]]) and want["type"] != got["type"]:
        return Verdict("fail", reason("exception_type_mismatch"), note)
    if want.get("stage") != got.get("stage"):
        return Verdict("fail", reason("exception_type_mismatch"), f"raised at {got.get('stage')}, torch at {want.get('stage')}; {note}")
    return Verdict("pass", reason("ok"), note)


def _kind(value: Any) -> str:
    if isinstance(value, TensorFacts):
        return "tensor"
    if isinstance(value, NamedResult):
        return f"named tuple {value.type_name}{value.fields}"
    return type(value).__name__


def _compare(actual: Any, expected: Any, context: CaseContext, totals: _Totals, where: str) -> None:
    if isinstance(expected, TensorFacts):
        if not isinstance(actual, TensorFacts):
            raise _Mismatch("structure_mismatch", f"{where}: torch gives a tensor, the engine {_kind(actual)}")
        _compare_tensor(actual, expected, context, totals, where)
        return
    if isinstance(expected, (tuple, list)):
        if isinstance(expected, NamedResult):
            same_kind = isinstance(actual, NamedResult) and actual.fields == expected.fields
        else:
            same_kind = type(actual) is type(expected)
        if not same_kind or len(actual) != len(expected):
            size = f" of {len(actual)}" if isinstance(actual, (tuple, list)) else ""
            raise _Mismatch("structure_mismatch", f"{where}: torch gives {_kind(expected)} of {len(expected)}, the engine {_kind(actual)}{size}")
        for index, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, context, totals, f"{where}[{index}]")
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or list(actual) != list(expected):
            keys = f" with keys {list(actual)[:20]!r}" if isinstance(actual, dict) else ""
            raise _Mismatch("structure_mismatch", f"{where}: torch gives dict with keys {list(expected)[:20]!r}, "
                                                  f"the engine {_kind(actual)}{keys}")
        for key in expected:
            _compare(actual[key], expected[key], context, totals, f"{where}[{key!r}]")
        return
    if isinstance(actual, TensorFacts):
        raise _Mismatch("structure_mismatch", f"{where}: torch gives {_kind(expected)}, the engine a tensor")
    if type(actual) is not type(expected) and not (isinstance(expected, DtypeName) and isinstance(actual, str)):
        raise _Mismatch("type_mismatch", f"{where}: torch gives {_kind(expected)} {expected!r}, the engine {_kind(actual)} {actual!r}")
    if isinstance(expected, float):
        diff = CLOSE.compare(np.array([actual]), np.array([expected]), "float64", context.override or tolerance_for("float64"))
        if not diff.ok:
            raise _Mismatch("type_mismatch", f"{where}: torch gives {expected!r}, the engine {actual!r}")
    elif actual != expected:
        raise _Mismatch("type_mismatch", f"{where}: torch gives {expected!r}, the engine {actual!r}")


def _compare_tensor(actual: TensorFacts, expected: TensorFacts, context: CaseContext, totals: _Totals, where: str) -> None:
    if actual.dtype != expected.dtype:
        raise _Mismatch("dtype_mismatch", f"{where}: dtype {actual.dtype}, torch {expected.dtype}")
    if actual.shape != expected.shape:
        raise _Mismatch("shape_mismatch", f"{where}: shape {list(actual.shape)}, torch {list(expected.shape)}")
    # "significant": the strides that address memory — dims of size > 1 of a tensor with elements
    # (torch calls any layout of a size-1 dim or of an empty tensor contiguous).
    significant = context.strides == "significant" and 0 not in expected.shape
    if context.strides == "exact" or significant:
        strides_differ = (
            actual.stride != expected.stride
            if context.strides == "exact"
            else any(a != e for a, e, n in zip(actual.stride, expected.stride, expected.shape) if n > 1)
        )
        if strides_differ:
            raise _Mismatch("stride_mismatch", f"{where}: strides {list(actual.stride)}, torch {list(expected.stride)} (shape {list(expected.shape)})")
        if actual.offset != expected.offset:
            raise _Mismatch("storage_offset_mismatch", f"{where}: storage offset {actual.offset}, torch {expected.offset}")
    if actual.requires_grad != expected.requires_grad:
        raise _Mismatch("requires_grad_mismatch", f"{where}: requires_grad={actual.requires_grad}, torch {expected.requires_grad}")
    if context.check_alias and actual.alias != expected.alias:
        def describe(alias):
            return "a new storage" if alias is None else f"the storage of input #{alias}"
        raise _Mismatch("alias_mismatch", f"{where}: uses {describe(actual.alias)}, torch {describe(expected.alias)}")
    comparator, tolerance = context.comparison_for(expected.dtype, expected.values)
    diff = comparator.compare(actual.values, expected.values, expected.dtype, tolerance)
    totals.add(diff)
    if not diff.ok:
        summary = (f"{where}: {diff.mismatched}/{diff.total} mismatched ({100.0 * diff.mismatched / max(diff.total, 1):.1f}%), "
                   f"greatest abs diff {diff.max_abs:.4g} at {diff.abs_index}, rel {diff.max_rel:.4g} at {diff.rel_index}")
        raise _Mismatch("value_mismatch", summary, diff.describe())


def _compare_gradients(actual: Observed, expected: Observed, context: CaseContext, totals: _Totals) -> None:
    """Gradients by value (their layout and memory are the backward formula's business, not torch's contract),
    with atol relative to each gradient's magnitude (CaseContext.comparison_for)."""
    gradient_context = dataclasses.replace(context, strides="none", check_alias=False, magnitude_atol=True)
    for name, code, where in (("gradients", "gradient_mismatch", "grad"), ("second_order", "second_order_mismatch", "gradgrad")):
        wanted = getattr(expected, name)
        if wanted is None:
            continue
        got = getattr(actual, name)
        if got is None:
            raise _Mismatch(code, f"{where}: the engine computed no gradients")
        try:
            _compare(got, wanted, gradient_context, totals, where)
        except _Mismatch as mismatch:
            raise _Mismatch(code, mismatch.message, mismatch.detail) from None


def judge_grad_fn(actual: Observed, expected: Observed) -> Optional[Verdict]:
    """The grad_fn names check (None when the case records none or the engine did not get that far)."""
    if expected.kind != "value" or expected.grad_fn is None or actual.kind != "value":
        return None
    if actual.grad_fn == expected.grad_fn:
        return Verdict("pass", reason("ok"))
    return Verdict("fail", reason("grad_fn_mismatch"), f"grad_fn {actual.grad_fn}, torch {expected.grad_fn}")


def _compare_versions(actual: Optional[dict], expected: dict) -> None:
    if actual is None:
        raise _Mismatch("version_mismatch", "the engine recorded no version counters")
    for key, deltas in expected.items():
        got = actual.get(key)
        if got != deltas:
            missing = got is not None and None in got
            note = " (engine tensors have no _version)" if missing else ""
            raise _Mismatch("version_mismatch", f"version deltas {key}: engine {got}, torch {deltas}{note}")


def observe_engine_safely(observation: Observation, args, input_keys, is_tensor, observe_inputs) -> Observed | Verdict:
    """Observed for an engine run, or a failing Verdict when its outputs cannot be read back."""
    try:
        return observed_from_engine(observation, args, input_keys, is_tensor, observe_inputs)
    except ObservationError as exc:
        return Verdict("fail", reason("unreadable_output"), str(exc))
