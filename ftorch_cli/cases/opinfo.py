"""FT-P2C-005 cases harvested from OpInfo (`op_db`): samples, reference inputs,
error inputs and tolerance overrides, plus the special-value cases per op family.

Runs only inside the oracle worker process (oracle/extract_worker.py): importing
op_db costs seconds and pulls in torch's test machinery.

Calls resolve on the engine the way op_db resolves them on torch: `op.op` when it
is the public function of that name; the method variant when `op.op` is a lambda
(view, expand, where, ...); the Tensor attribute for properties (T, mT).
"""
from __future__ import annotations

import inspect
import itertools
import random
import zlib

import numpy
from typing import Iterator, Optional

from ftorch_cli.cases.program import Call, dotted_attribute
from ftorch_cli.cases.record import CaseSpec
from ftorch_cli.cases.special_values import special_specs
from ftorch_cli.packets.model import Caps
from ftorch_cli.serialize.dtypes import dtype_name


FAMILIES = {"UnaryUfuncInfo": "unary", "BinaryUfuncInfo": "binary", "ReductionOpInfo": "reduction"}
MATMUL_OPS = {"mm", "bmm", "matmul", "dot", "mv", "outer"}


def op_family(op) -> Optional[str]:
    if op.variant_test_name not in ("", "binary"):
        return None
    if op.name in MATMUL_OPS:
        return "matmul"
    return FAMILIES.get(type(op).__name__)


def opinfo_call(torch, op) -> Optional[Call]:
    """How to call this OpInfo by name, or None when it has no public spelling."""
    if dotted_attribute(torch, op.name) is op.op:
        return Call("function", op.name)
    if op.method_variant is not None:
        return Call("method", op.method_variant.__name__)
    if inspect.isdatadescriptor(getattr(torch.Tensor, op.name, None)):  # properties such as T, mT
        return Call("attribute", op.name)
    return None


def tolerance_for(torch, op, dtype) -> Optional[tuple]:
    """The loosest CPU tolerance override OpInfo declares for this op and dtype, or None."""
    from torch.testing._internal.common_device_type import precisionOverride, toleranceOverride
    from torch.testing._internal.opinfo.core import DecorateInfo

    best: Optional[tuple] = None

    def consider(atol, rtol, where):
        nonlocal best
        if best is None or (atol, rtol) > best[:2]:
            best = (float(atol), float(rtol), where)

    for decorator in op.decorators:
        if isinstance(decorator, DecorateInfo):
            if decorator.device_type not in (None, "cpu") or (decorator.dtypes is not None and dtype not in decorator.dtypes):
                continue
            if decorator.active_if is False:
                continue
            for inner in decorator.decorators:
                if isinstance(inner, toleranceOverride) and dtype in inner.d:
                    tol = inner.d[dtype]
                    consider(tol.atol, tol.rtol, f"opinfo:{decorator.cls_name}.{decorator.test_name}")
        elif isinstance(decorator, toleranceOverride) and dtype in decorator.d:
            tol = decorator.d[dtype]
            consider(tol.atol, tol.rtol, "opinfo:toleranceOverride")
        elif isinstance(decorator, precisionOverride) and dtype in decorator.d:
            default_rtol = {torch.float32: 1.3e-6, torch.float64: 1e-7}.get(dtype, 0.0)
            consider(decorator.d[dtype], default_rtol, "opinfo:precisionOverride")
    return best


def stable_seed(*parts) -> int:
    return zlib.crc32("/".join(str(part) for part in parts).encode()) & 0x7FFFFFFF


def seed_everything(torch, *parts) -> None:
    """Seed torch, Python's random and numpy (OpInfo generators use all three) from a stable key."""
    seed = stable_seed(*parts)
    torch.manual_seed(seed)
    random.seed(seed)
    numpy.random.seed(seed)


def spread_evenly(items: list, cap: int) -> list:
    """Up to `cap` items spread evenly over the list (OpInfo lists small shapes first)."""
    if len(items) <= cap:
        return items
    if cap <= 0:
        return []
    step = len(items) / cap
    return [items[int(i * step)] for i in range(cap)]


# OpInfo.sample_inputs / reference_inputs / error_inputs wrap these generators in
# TrackedInputIter, which walks the whole Python stack (inspect.stack) on every
# call to find the running unittest: ~90% of extraction time and useless outside
# torch's test suite. The generators themselves are what op_db defines.
def _sample_inputs(op, dtype):
    return op.sample_inputs_func(op, "cpu", dtype, False)


def _reference_inputs(op, dtype):
    return op.reference_inputs_func(op, "cpu", dtype, False)


def _error_inputs(op):
    return op.error_inputs_func(op, "cpu")


def _zero_out_arguments(kwargs: dict) -> dict:
    """OpInfo builds `out=` tensors with torch.empty; their bytes are garbage that the op
    overwrites. Zeroing them keeps recordings reproducible without changing the case."""
    out = kwargs.get("out")
    for tensor in out if isinstance(out, (tuple, list)) else (out,):
        if hasattr(tensor, "zero_"):
            tensor.zero_()
    return kwargs


def _sample_spec(op, call, dtype_name, source, label, sample, tolerance) -> CaseSpec:
    return CaseSpec(
        op=op.name,
        dtype=dtype_name,
        source=source,
        label=label,
        call=call,
        args=[sample.input, *sample.args],
        kwargs=_zero_out_arguments(dict(sample.kwargs)),
        variant_name=op.variant_test_name,
        tolerance=tolerance,
    )


def harvest_op(torch, op, call: Call, dtype_names: list[str], caps: Caps, seed: int, special: bool) -> Iterator[CaseSpec]:
    """Every spec one OpInfo entry contributes, in a deterministic order."""
    full_name = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
    supported = {dtype_name(d) for d in op.supported_dtypes("cpu")}
    for name in dtype_names:
        if name not in supported:
            continue
        dtype = getattr(torch, name)
        tolerance = tolerance_for(torch, op, dtype)
        sample_cap, reference_cap = caps.for_dtype(name)
        seed_everything(torch, seed, full_name, name, "sample")
        samples = list(_sample_inputs(op, dtype))
        for number, sample in enumerate(spread_evenly(samples, sample_cap)):
            yield _sample_spec(op, call, name, "opinfo.sample_inputs", f"sample:{number}", sample, tolerance)
        if op.reference_inputs_func is not None and reference_cap:
            seed_everything(torch, seed, full_name, name, "reference")
            # reference_inputs starts by repeating sample_inputs; keep only what it adds.
            limit = len(samples) + reference_cap * 6
            extra = list(itertools.islice(_reference_inputs(op, dtype), limit))[len(samples):]
            for number, sample in enumerate(spread_evenly(extra, reference_cap)):
                yield _sample_spec(op, call, name, "opinfo.reference_inputs", f"reference:{number}", sample, tolerance)
        family = op_family(op)
        if special and family is not None and name in caps.special_dtypes:
            seed_everything(torch, seed, full_name, name, "special")
            for spec in special_specs(torch, op.name, op.variant_test_name, family, call, name):
                spec.tolerance = tolerance
                yield spec
    if op.error_inputs_func is not None and caps.errors:
        seed_everything(torch, seed, full_name, "error")
        errors = list(itertools.islice(_error_inputs(op), caps.errors * 4))
        for number, error in enumerate(spread_evenly(errors, caps.errors)):
            sample = error.sample_input
            error_dtype = dtype_name(getattr(sample.input, "dtype", "float32"))
            yield _sample_spec(op, call, error_dtype, "opinfo.error_inputs", f"error:{number}", sample, None)
