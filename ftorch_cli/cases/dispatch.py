"""FT-P2C-002 cases: dispatch key sets and routing, as programs run on torch and on the engine.

- `dispatch_key_set`: `str(lib._C._dispatch_keys(t))` for tensors of every packet dtype,
  requiring grad or not, views and non-views, made normally, under no_grad or under
  inference_mode, and meta tensors;
- `tls_key_sets`: the thread's included and excluded keys under each grad mode;
- `dispatch_route`: for an operator (every schema overload of each op the engine
  registers, up to a few) and inputs, the key whose kernel runs: the highest-priority
  key of the inputs' and included keys that is not excluded and whose entry in the
  op's computed dispatch table (`_dispatch_dump_table`) is not a fallthrough; under
  plain, requires-grad, no_grad, inference_mode and inference-tensor inputs, and none
  (factories). The same program reads torch's tables or the engine's model.
"""
from __future__ import annotations

from typing import Iterator

from ftorch_cli.cases.autograd_programs import program_source
from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec

SOURCE = "generated.dispatch"


def dispatch_key_set(lib, x, how, requires_grad):
    if requires_grad:
        x = x.detach().requires_grad_(True)
    if how == "view":
        t = x.view(-1)
    elif how == "transposed":
        t = x.t()
    elif how == "no_grad":
        with lib.no_grad():
            t = x * 1 if x.dtype != lib.bool else x.clone()
    elif how == "inference_mode":
        with lib.inference_mode():
            t = x.clone()
    elif how == "inference_view":
        with lib.inference_mode():
            t = x.clone()
        t = t.view(-1)
    elif how == "meta":
        t = lib.empty(x.shape, dtype=x.dtype, device="meta")
    elif how == "meta_inference":
        with lib.inference_mode():
            t = lib.empty(x.shape, dtype=x.dtype, device="meta")
    else:
        t = x
    keys = lib._C._dispatch_keys(t)
    return str(keys), t.requires_grad


def tls_key_sets(lib, mode):
    C = lib._C
    if mode == "no_grad":
        with lib.no_grad():
            return str(C._dispatch_tls_local_include_set()), str(C._dispatch_tls_local_exclude_set())
    if mode == "inference_mode":
        with lib.inference_mode():
            return str(C._dispatch_tls_local_include_set()), str(C._dispatch_tls_local_exclude_set())
    if mode == "inference_mode_off":
        with lib.inference_mode(False):
            return str(C._dispatch_tls_local_include_set()), str(C._dispatch_tls_local_exclude_set())
    return str(C._dispatch_tls_local_include_set()), str(C._dispatch_tls_local_exclude_set())


def dispatch_route(lib, operator, scenario, x):
    C = lib._C

    def names(keys):
        text = str(keys)
        inner = text[text.index("(") + 1: text.rindex(")")]
        return [name.strip() for name in inner.split(",") if name.strip()]

    def route(tensors):
        table = {}
        for line in C._dispatch_dump_table(operator).splitlines():
            key, _, text = line.partition(": ")
            table[key] = not text.startswith("fallthrough")
        order = names(C._dispatch_keyset_full())
        keys = set(names(C._dispatch_tls_local_include_set()))
        for t in tensors:
            keys.update(names(C._dispatch_keys(t)))
        # Excluding a functionality (autograd under inference_mode prints as AutogradOther, ...) excludes it for every backend.
        autograd_excluded = "AutogradOther" in names(C._dispatch_tls_local_exclude_set())
        for key in sorted(keys, key=order.index, reverse=True):
            if C._dispatch_tls_is_dispatch_key_excluded(getattr(C.DispatchKey, key)):
                continue
            if autograd_excluded and key.startswith("Autograd"):
                continue
            if table.get(key):
                return key
        return None

    if scenario == "factory":
        return route([])
    if scenario == "requires_grad":
        return route([x.detach().requires_grad_(True)])
    if scenario == "no_grad":
        with lib.no_grad():
            return route([x.detach().requires_grad_(True)])
    if scenario == "inference_mode":
        with lib.inference_mode():
            return route([x])
    if scenario == "inference_tensor":
        with lib.inference_mode():
            t = x.clone()
            return route([t])
    if scenario == "meta":
        return route([lib.empty(x.shape, dtype=x.dtype, device="meta")])
    return route([x])


def _has_backend_kernel(torch, qualified: str) -> bool:
    try:
        table = torch._C._dispatch_dump_table(qualified)
    except RuntimeError:
        return False
    return any(line.startswith("CPU: registered") for line in table.splitlines())


KEY_SET_HOWS = ("plain", "view", "transposed", "no_grad", "inference_mode", "inference_view", "meta", "meta_inference")
ROUTE_SCENARIOS = ("plain", "requires_grad", "no_grad", "inference_mode", "inference_tensor", "meta")
OVERLOADS_PER_OP = 3


def dispatch_specs(torch, ops: list, dtypes: list, aten: dict) -> Iterator[CaseSpec]:
    key_source, tls_source, route_source = (program_source(f) for f in (dispatch_key_set, tls_key_sets, dispatch_route))
    for dtype_name in dtypes:
        dtype = getattr(torch, dtype_name)
        for how in KEY_SET_HOWS:
            for requires_grad in ((False, True) if dtype.is_floating_point else (False,)):
                if requires_grad and how.startswith(("meta", "inference")):
                    continue
                x = torch.ones(2, 3, dtype=dtype)
                yield CaseSpec(op="dispatch.keys", dtype=dtype_name, source=SOURCE,
                               label=f"{how}{':requires_grad' if requires_grad else ''}",
                               call=Call("program", "dispatch_key_set", source=key_source), args=[x, how, requires_grad],
                               stride_check="none")
    for mode in ("default", "no_grad", "inference_mode", "inference_mode_off"):
        yield CaseSpec(op="dispatch.tls", dtype="float32", source=SOURCE, label=mode,
                       call=Call("program", "tls_key_sets", source=tls_source), args=[mode], stride_check="none")
    by_name: dict = {}
    for schema in torch._C._jit_get_all_schemas():
        if schema.name.startswith("aten::"):
            by_name.setdefault(schema.name[len("aten::"):], []).append(schema)
    for op in ops:
        names = aten.get(op) or [op.rsplit(".", 1)[-1]]
        schemas = [s for name in names for s in sorted(by_name.get(name, []), key=lambda s: s.overload_name)]
        picked = [s for s in schemas if not any(a.type.kind() not in ("TensorType", "OptionalType", "IntType", "FloatType",
                                                                       "BoolType", "NumberType", "ListType", "IntType",
                                                                       "ScalarTypeType", "StringType", "DeviceObjType",
                                                                       "LayoutType", "MemoryFormatType", "SymIntType")
                                            for a in s.arguments)][:OVERLOADS_PER_OP]
        for schema in picked:
            qualified = schema.name + (f".{schema.overload_name}" if schema.overload_name else "")
            if not _has_backend_kernel(torch, qualified):
                continue  # TorchScript-only overloads (aten::eq.int, __getitem__.str) have no dispatch table
            factory = not any("Tensor" in str(a.type) for a in schema.arguments)
            for scenario in (("factory",) if factory else ROUTE_SCENARIOS):
                x = torch.ones(2, 3)
                yield CaseSpec(op=op, dtype="float32", source=SOURCE, label=f"route:{qualified}:{scenario}",
                               call=Call("program", "dispatch_route", source=route_source), args=[qualified, scenario, x],
                               stride_check="none")
