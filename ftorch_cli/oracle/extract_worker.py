"""The extraction worker: one process per packet, the only place op_db is imported.

    python -m ftorch_cli.oracle.extract_worker REQUEST.json RESULT.pickle

The request names the packet, its generator ("views", "opinfo", "autograd", "serialization" or "optim"), the op names,
dtypes, caps and seed. The worker seeds torch, pins it to one thread (recorded
values must not depend on the machine's core count), generates and records the
cases, and pickles {"rows", "report"} to RESULT. A request whose `must_know`
ops (the packet.toml's own) are unknown comes back at once with
`report["unknown_required"]` and no rows; other unknown names are listed in
`report["unknown_ops"]`. Exit status 0 means RESULT is complete.
"""
from __future__ import annotations

import json
import pickle
import platform
import sys
import time
from collections import Counter


def _environment(torch) -> dict:
    import numpy

    return {
        "torch_version": torch.__version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
        "threads": torch.get_num_threads(),
    }


def _views(torch, request: dict, recorder) -> dict:
    from ftorch_cli.cases.views import VIEW_OPS, view_specs

    names = set(request["ops"])
    unknown = sorted(names - set(VIEW_OPS))
    if set(request.get("must_know", ())) & set(unknown):
        return {"unknown_required": sorted(set(request["must_know"]) & set(unknown))}
    for spec in view_specs(torch, request["dtypes"], names):
        recorder.add(spec)
    return {"ops_generated": sorted(names & set(VIEW_OPS)), "unknown_ops": unknown}


class _OpDb:
    """The op_db entries a request names, each with its public call; unknown and unresolved names kept for the report."""

    def __init__(self, request: dict, names: set):
        from torch.testing._internal.common_methods_invocations import op_db

        from ftorch_cli.packets.model import Caps

        self.entries, self.names = op_db, names
        self.known = {op.name for op in op_db}
        self.unknown = sorted(names - self.known)
        self.missing_required = sorted(set(request.get("must_know", ())) & set(self.unknown))
        self.caps = Caps(**{key: tuple(value) if isinstance(value, list) else value for key, value in request.get("caps", {}).items()})
        self.unresolved: list[str] = []

    def selected(self, torch, keep=lambda op: True):
        """(entry, call) for every named entry `keep` accepts that has a public spelling."""
        from ftorch_cli.cases.opinfo import opinfo_call

        for op in self.entries:
            if op.name not in self.names or not keep(op):
                continue
            call = opinfo_call(torch, op)
            if call is None:
                self.unresolved.append(op.name + (f".{op.variant_test_name}" if op.variant_test_name else ""))
                continue
            yield op, call

    def report(self) -> dict:
        from ftorch_cli.cases.families import family_of

        families = {op.name: family_of(op.name, type(op).__name__) for op in self.entries}
        return {"op_db_ops": sorted(self.known), "op_db_families": dict(sorted(families.items())),
                "unknown_ops": self.unknown, "unresolved_ops": self.unresolved}


def _opinfo(torch, request: dict, recorder) -> dict:
    from ftorch_cli.cases.opinfo import harvest_op

    names = set(request["ops"])
    db = _OpDb(request, names)
    if db.missing_required:
        return {"unknown_required": db.missing_required}
    per_op = Counter()
    for op, call in db.selected(torch):
        for spec in harvest_op(torch, op, call, request["dtypes"], db.caps, request["seed"], request.get("special", True)):
            if recorder.add(spec, drop_type_errors=spec.source == "generated.special_values") is not None:
                per_op[spec.op] += 1
    return {**db.report(), "ops_without_cases": sorted(names & db.known - set(per_op))}


def _autograd(torch, request: dict, recorder) -> dict:
    """FT-P2C-004: gradient cases from op_db (cases.autograd) and the semantic programs (cases.autograd_programs)."""
    from ftorch_cli.cases.autograd_programs import FAMILIES, program_specs

    names = set(request["ops"])
    families = names & set(FAMILIES)
    op_names = names - families
    report: dict = {"program_ops": sorted(families), "unknown_ops": []}
    for spec in program_specs(torch, families, request["dtypes"][0], request["seed"]):
        recorder.add(spec)
    if not op_names:
        return report
    from ftorch_cli.cases.autograd import gradient_specs

    db = _OpDb(request, op_names)
    if db.missing_required:
        return {"unknown_required": db.missing_required}
    for op, call in db.selected(torch, keep=lambda op: op.supports_autograd):
        for spec in gradient_specs(torch, op, call, request["dtypes"], db.caps, request["seed"], recorder.skipped):
            recorder.add(spec)
    report.update(
        db.report(),
        not_differentiable_ops=sorted({op.name for op in db.entries if op.name in op_names and not op.supports_autograd}),
        # What OpInfo says of every op_db name (an op counts when any of its variants says so).
        differentiable_ops=sorted({op.name for op in db.entries if op.supports_autograd}),
        gradgrad_ops=sorted({op.name for op in db.entries if op.supports_gradgrad}),
    )
    return report


def _serialization(torch, request: dict, recorder) -> dict:
    """FT-P2C-006: checkpoints torch writes, loaded and re-saved by `lib` (cases.serialization)."""
    from ftorch_cli.cases.serialization import FAMILIES, serialization_specs

    names = set(request["ops"])
    unknown = sorted(names - set(FAMILIES))
    if set(request.get("must_know", ())) & set(unknown):
        return {"unknown_required": sorted(set(request["must_know"]) & set(unknown))}
    for spec in serialization_specs(torch, names & set(FAMILIES), request["seed"]):
        recorder.add(spec)
    return {"program_ops": sorted(names & set(FAMILIES)), "unknown_ops": unknown}


def _engine_registry_facts() -> tuple[dict, dict, dict]:
    """op -> aten names, op -> Tensor method name and op -> dtypes, from the engine's registry (empty without it)."""
    try:
        import engine  # noqa: F401
        from engine._registry import REGISTRY
    except Exception:  # noqa: BLE001 - the engine is optional at extraction
        return {}, {}, {}
    return ({name: list(entry.aten) for name, entry in REGISTRY.items()},
            {name: entry.method for name, entry in REGISTRY.items() if entry.method},
            {name: sorted(entry.dtypes) for name, entry in REGISTRY.items()})


def _schemas(torch, request: dict, recorder) -> dict:
    """FT-P2C-003: schema round trips and binding errors (cases.schemas)."""
    from ftorch_cli.cases.schemas import binding_specs, schema_specs

    ops = sorted(request["ops"])
    aten, methods, dtypes = _engine_registry_facts()
    for spec in schema_specs(torch, ops, aten):
        recorder.add(spec)
    for spec in binding_specs(torch, ops, aten, methods, dtypes):
        recorder.add(spec)
    return {"unknown_ops": []}


def _dispatch(torch, request: dict, recorder) -> dict:
    """FT-P2C-002: dispatch key sets and routing (cases.dispatch)."""
    from ftorch_cli.cases.dispatch import dispatch_specs

    aten, _, _ = _engine_registry_facts()
    for spec in dispatch_specs(torch, sorted(request["ops"]), request["dtypes"], aten):
        recorder.add(spec)
    return {"unknown_ops": []}


def _devices(torch, request: dict, recorder) -> dict:
    """FT-P2C-007: the meta device, device/dtype transitions and execution modes (cases.devices)."""
    from ftorch_cli.cases.devices import device_specs

    names = set(request["ops"])
    db = _OpDb(request, names - {"devices"})
    for spec in device_specs(torch, db, request["dtypes"], request["seed"], scenarios="devices" in names):
        recorder.add(spec)
    report = db.report()
    report["unknown_ops"] = [name for name in report["unknown_ops"] if name != "devices"]
    return report


def _optim(torch, request: dict, recorder) -> dict:
    """FT-P2C-009: optimizer trajectories and LR schedules run by `lib` (cases.optim)."""
    from ftorch_cli.cases.optim import FAMILIES, optim_specs

    names = set(request["ops"])
    unknown = sorted(names - set(FAMILIES))
    if set(request.get("must_know", ())) & set(unknown):
        return {"unknown_required": sorted(set(request["must_know"]) & set(unknown))}
    for spec in optim_specs(torch, names & set(FAMILIES), request["seed"], recorder.skipped):
        recorder.add(spec)
    return {"program_ops": sorted(names & set(FAMILIES)), "unknown_ops": unknown}


def _modules(torch, request: dict, recorder) -> dict:
    """FT-P2C-008: torch.nn modules from module_db, rebuilt by `lib` from torch's state_dict (cases.modules)."""
    from ftorch_cli.cases.modules import module_names, module_specs

    known = set(module_names(torch))
    names = set(request["ops"])
    unknown = sorted(names - known)
    if set(request.get("must_know", ())) & set(unknown):
        return {"unknown_required": sorted(set(request["must_know"]) & set(unknown))}
    for spec in module_specs(torch, names & known, request["seed"]):
        recorder.add(spec)
    return {"program_ops": sorted(names & known), "unknown_ops": unknown}


GENERATORS = {"views": _views, "opinfo": _opinfo, "autograd": _autograd, "serialization": _serialization,
              "schemas": _schemas, "dispatch": _dispatch, "devices": _devices, "optim": _optim, "modules": _modules}


def run(request: dict) -> dict:
    import torch

    from ftorch_cli.cases.record import Recorder

    torch.set_num_threads(1)
    torch.manual_seed(request["seed"])
    started = time.perf_counter()
    recorder = Recorder(torch, request["packet_id"], request.get("scope_dtypes"))
    report = GENERATORS[request["generator"]](torch, request, recorder)
    report.update(
        ops_requested=list(request["ops"]),
        environment=_environment(torch),
        skipped=dict(recorder.skipped),
        seconds=round(time.perf_counter() - started, 3),
    )
    return {"rows": recorder.rows, "report": report}


def main(argv: list[str]) -> int:
    request_path, result_path = argv
    with open(request_path, encoding="utf-8") as handle:
        request = json.load(handle)
    result = run(request)
    with open(result_path, "wb") as handle:
        pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
