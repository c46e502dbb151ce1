"""Turning a generated case (live torch inputs) into a recorded row by running torch.

Generators (views, OpInfo, special values) yield `CaseSpec`s; `Recorder` runs each
through torch with `cases.program`, snapshots inputs before and outputs after
with one `CaseEncoder`, and numbers the cases into stable ids.
"""
from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Optional

from ftorch_cli.cases.program import Call, UnresolvedCall, exception_record, resolve, run_program
from ftorch_cli.serialize.storage import CaseEncoder
from ftorch_cli.serialize.values import UnsupportedValue, iter_tensor_records

SOURCE_SHORT = {
    "opinfo.sample_inputs": "sample",
    "opinfo.reference_inputs": "reference",
    "opinfo.error_inputs": "error",
    "opinfo.gradients": "grad",
    "opinfo.gradgrad": "gradgrad",
    "generated.views": "view",
    "generated.special_values": "special",
    "generated.autograd_programs": "program",
    "generated.serialization": "serialization",
    "generated.schemas": "schema",
    "generated.bindings": "binding",
    "generated.dispatch": "dispatch",
    "generated.devices": "device",
    "generated.meta": "meta",
    "generated.optim": "optim",
    "generated.modules": "module",
}

# Ops whose outputs are uninitialised memory in torch: their output bytes are
# recorded as zeros (reproducible tables) and compared as metadata only.
UNINITIALIZED_OUTPUT_OPS = frozenset(
    {"empty", "empty_like", "new_empty", "empty_strided", "new_empty_strided", "empty_permuted"}
)

# A case whose storages exceed this is not recorded (keeps tables small and conform fast).
MAX_CASE_BYTES = 256 << 10


@dataclass
class CaseSpec:
    op: str
    dtype: str
    source: str
    label: str
    call: Call
    args: list
    kwargs: dict = field(default_factory=dict)
    variant_name: str = ""
    tolerance: Optional[tuple] = None  # (atol, rtol, source)
    write_args: tuple = ()
    stride_check: Optional[str] = None  # force "exact" / "significant" / "none"
    grad_args: tuple = ()  # tensors of the gradient step (upstream gradients, second-order vectors)
    extra_checks: dict = field(default_factory=dict)  # merged into the row's checks (e.g. "gradcheck")


class SkipCase(Exception):
    """The spec cannot be recorded; the reason is counted in the manifest."""


class Recorder:
    def __init__(self, torch, packet_id: str, scope_dtypes=None):
        """scope_dtypes: the packet's dtypes; a case whose tensors use another dtype (a complex
        or bfloat16 tensor inside a float32 sample) is outside the packet and skipped."""
        self.torch = torch
        self.packet_id = packet_id
        self.scope_dtypes = frozenset(scope_dtypes) if scope_dtypes else None
        self.rows: list[dict] = []
        self.skipped: Counter = Counter()
        self._numbers: Counter = Counter()
        self._is_tensor = lambda value: isinstance(value, torch.Tensor)

    def add(self, spec: CaseSpec, *, drop_type_errors: bool = False) -> Optional[dict]:
        """Record one spec; returns the row, or None (and counts why) when it cannot be stored."""
        try:
            row = self.record(spec, drop_type_errors)
        except SkipCase as exc:
            self.skipped[str(exc)] += 1
            return None
        except UnsupportedValue as exc:
            self.skipped[f"unsupported value: {str(exc)[:60]}"] += 1
            return None
        short = SOURCE_SHORT[spec.source]
        op_part = spec.op + (f".{spec.variant_name}" if spec.variant_name else "")
        key = (op_part, spec.dtype, short)
        self._numbers[key] += 1
        row["case_id"] = f"{self.packet_id}/{op_part}/{spec.dtype}/{short}/{self._numbers[key]:04d}"
        self.rows.append(row)
        return row

    def record(self, spec: CaseSpec, drop_type_errors: bool = False) -> dict:
        """Run one spec in torch and return its row (without case id); raises SkipCase or UnsupportedValue."""
        torch = self.torch
        encoder = CaseEncoder(torch)
        inputs = {"args": encoder.encode_inputs(list(spec.args)), "kwargs": encoder.encode_inputs(dict(spec.kwargs))}
        call = spec.call
        if call.write is not None:  # the write's arguments are stored with the call
            call = dataclasses.replace(call, write={**call.write, "args": encoder.encode_inputs(list(spec.write_args))})
        if call.grad is not None:  # so are the gradient step's tensors
            call = dataclasses.replace(call, grad={**call.grad, "args": encoder.encode_inputs(list(spec.grad_args))})
        if sum(len(data) for data in encoder.storages) > MAX_CASE_BYTES:
            raise SkipCase("inputs larger than the per-case cap")
        try:
            bound = resolve(torch, call, spec.args)
        except UnresolvedCall as exc:
            raise SkipCase(f"torch cannot resolve the call: {exc}") from None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            observation = run_program(bound, call, spec.args, spec.kwargs, self._is_tensor, spec.write_args,
                                      spec.grad_args, torch)
        if observation.exception is not None:
            if drop_type_errors and isinstance(observation.exception, TypeError):
                raise SkipCase("generator produced arguments the op does not take")
            expected = exception_record(observation.exception, observation.stage)
            checks: dict[str, Any] = {}
        else:
            expected = {"kind": "value", "output": encoder.encode_outputs(observation.output)}
            if spec.op in UNINITIALIZED_OUTPUT_OPS:
                for record in iter_tensor_records(expected["output"]):
                    if record["alias"] is None:
                        encoder.storages[record["storage"]] = bytes(len(encoder.storages[record["storage"]]))
            if call.observe_inputs:
                expected["inputs_after"] = encoder.encode_outputs(list(spec.args))
            if observation.versions is not None:
                expected["versions"] = observation.versions
            if observation.gradients is not None:
                expected.update(_encode_gradients(encoder, observation.gradients))
            checks = {"strides": spec.stride_check or self._stride_check(observation, expected), "alias": True,
                      **spec.extra_checks}
            _zero_unreferenced_bytes(encoder.storages, inputs, expected)
            if sum(len(data) for data in encoder.storages) > 2 * MAX_CASE_BYTES:
                raise SkipCase("outputs larger than the per-case cap")
        if self.scope_dtypes is not None:
            nodes = (inputs["args"], inputs["kwargs"], expected.get("output"))
            used = {record["dtype"] for node in nodes for record in iter_tensor_records(node)}
            outside = sorted(used - self.scope_dtypes)
            if outside:
                raise SkipCase(f"uses {outside[0]} tensors, outside the packet's dtypes")
        atol, rtol, tolerance_source = spec.tolerance if spec.tolerance else (None, None, "")
        return {
            "packet_id": self.packet_id,
            "op": spec.op,
            "variant_name": spec.variant_name,
            "dtype": spec.dtype,
            "source": spec.source,
            "label": spec.label,
            "call": call.to_json(),
            "inputs": inputs,
            "expected": expected,
            "storages": encoder.storages,
            "atol": atol,
            "rtol": rtol,
            "tolerance_source": tolerance_source,
            "checks": checks,
        }

    def _stride_check(self, observation, expected) -> str:
        """Where torch defines strides: views always; fresh outputs of dense, non-overlapping contiguous inputs."""
        outputs = list(iter_tensor_records(expected["output"]))
        if any(record.get("alias") is not None for record in outputs):
            return "exact"
        if all(tensor.is_contiguous() for tensor in observation.tensors_in):
            return "significant"
        return "none"



def _zero_unreferenced_bytes(storages: list, inputs: dict, expected: dict) -> None:
    """Zero the bytes of result storages that no recorded tensor covers. torch may hand back a view
    into a larger fresh buffer (a 0-dim loss inside its reduction buffer); the rest of that buffer is
    uninitialised memory, which would make the table differ from run to run."""
    import numpy as np

    from ftorch_cli.serialize.dtypes import DTYPES

    input_storages = {r["storage"] for node in (inputs["args"], inputs["kwargs"]) for r in iter_tensor_records(node)}
    covered: dict = {}
    for value in expected.values():
        for record in iter_tensor_records(value) if isinstance(value, (list, dict)) else ():
            index = record["storage"]
            if index in input_storages or record.get("alias") is not None:
                continue
            size = len(storages[index])
            itemsize = DTYPES[record["dtype"]].itemsize
            positions = np.array([record["offset"]], dtype=np.int64)
            for extent, step in zip(record["shape"], record["stride"]):
                positions = (positions[:, None] + np.arange(extent, dtype=np.int64)[None, :] * step).reshape(-1)
            starts = positions * itemsize
            mask = covered.setdefault(index, np.zeros(size, dtype=bool))
            for k in range(itemsize):
                at = starts + k
                mask[at[(at >= 0) & (at < size)]] = True
    for index, mask in covered.items():
        if not mask.all():
            data = np.frombuffer(storages[index], dtype=np.uint8).copy()
            data[~mask] = 0
            storages[index] = data.tobytes()


def _encode_gradients(encoder: CaseEncoder, gradients) -> dict:
    encoded = {"gradients": encoder.encode_outputs(list(gradients.gradients)), "grad_fn": list(gradients.grad_fn)}
    if gradients.second_order is not None:
        encoded["second_order"] = encoder.encode_outputs(list(gradients.second_order))
    return encoded
