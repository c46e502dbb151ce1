"""FT-P2C-003 cases: torch's operator schemas, parsed and printed back, and argument binding.

Two kinds of cases, for every op the packet names (with `include_engine_registry`,
every op the engine registers):

- `generated.schemas`: one program case per torch schema of the op's aten names
  (`torch._C._jit_get_all_schemas()` at extract time): `lib._C.parse_schema(text)`
  and the parsed model's name, overload name, arguments (name, kwarg-only, alias
  annotation, written, has a default), returns and the printed text; the engine's
  parser (engine/_schema.py) must give torch's answer, and print the text back
  unchanged.
- `generated.bindings`: wrong calls of the op's public function and method
  (missing arguments, an unexpected keyword, too many positionals, a string for
  the first Tensor argument, a string for `dtype=`), each kept only when torch
  raises; the engine must raise the same exception type (messages are recorded).
"""
from __future__ import annotations

from typing import Iterator

from ftorch_cli.cases.autograd_programs import program_source
from ftorch_cli.cases.program import Call, dotted_attribute
from ftorch_cli.cases.record import CaseSpec

SCHEMA_SOURCE = "generated.schemas"
BINDING_SOURCE = "generated.bindings"


def schema_round_trip(lib, text):
    schema = lib._C.parse_schema(text)
    arguments = []
    for argument in schema.arguments:
        alias = argument.alias_info
        arguments.append((argument.name, argument.kwarg_only, alias is not None, alias is not None and alias.is_write))
    returns = [(item.name, item.alias_info is not None) for item in schema.returns]
    return str(schema), schema.name, schema.overload_name, arguments, returns


def schema_parse_error(lib, text):
    return lib._C.parse_schema(text)


MALFORMED = ("aten::add(Tensor self", "aten::add(Tensor self) ->", "aten::add(Tensor) -> Tensor", "aten::add(Tensor self) -> Tensor junk",
             "aten::add.(Tensor self) -> Tensor")


def _aten_names(entry_aten: dict, op: str) -> tuple:
    return tuple(entry_aten.get(op) or (op.rsplit(".", 1)[-1],))


def schema_specs(torch, ops: list, aten: dict) -> Iterator[CaseSpec]:
    """One round-trip case per schema of each op's aten names; `aten` maps op -> aten names (engine registry)."""
    by_name: dict = {}
    for schema in torch._C._jit_get_all_schemas():
        by_name.setdefault(schema.name, []).append(str(schema))
    source = program_source(schema_round_trip)
    for op in ops:
        for name in _aten_names(aten, op):
            for text in sorted(by_name.get(f"aten::{name}", [])):
                call = Call("program", "schema_round_trip", source=source)
                label = text.split("(", 1)[0]
                yield CaseSpec(op=op, dtype="float32", source=SCHEMA_SOURCE, label=label, call=call, args=[text],
                               stride_check="none")
    if ops:
        error_source = program_source(schema_parse_error)
        for text in MALFORMED:
            call = Call("program", "schema_parse_error", source=error_source)
            yield CaseSpec(op="parse_schema", dtype="float32", source=SCHEMA_SOURCE, label=f"malformed:{text}", call=call,
                           args=[text], stride_check="none")


def _wrong_calls(torch, schemas: list, dtype_name: str) -> list:
    """(label, args, kwargs) of wrong calls, built from what the schemas say the op takes."""
    x = torch.ones(2, 3, dtype=getattr(torch, dtype_name))
    takes_dtype = any(a.name == "dtype" for s in schemas for a in s.arguments)
    calls = [
        ("missing_arguments", [], {}),
        ("unexpected_keyword", [x], {"not_an_argument": 1}),
        ("too_many_positionals", [x] * 9, {}),
        ("string_for_tensor", ["not a tensor"], {}),
        ("list_for_tensor", [[1.0, 2.0]], {}),
    ]
    if takes_dtype:
        calls.append(("string_for_dtype", [x], {"dtype": "float32"}))
    return calls


def _case_dtype(dtypes: dict, op: str) -> str:
    """float32 where the engine registers it for the op, else its first registered dtype (so the case is not skipped)."""
    names = sorted(dtypes.get(op) or ("float32",))
    return "float32" if "float32" in names else ("int64" if "int64" in names else names[0])


def binding_specs(torch, ops: list, aten: dict, methods: dict, dtypes: dict = {}) -> Iterator[CaseSpec]:
    """Wrong calls of each op's function (and Tensor method), kept where torch raises."""
    by_name: dict = {}
    for schema in torch._C._jit_get_all_schemas():
        by_name.setdefault(schema.name, []).append(schema)
    for op in ops:
        if op.startswith("__"):
            continue
        schemas = [s for name in _aten_names(aten, op) for s in by_name.get(f"aten::{name}", [])]
        if not schemas:
            continue
        variants = []
        if callable(dotted_attribute(torch, op)):
            variants.append(Call("function", op))
        method = methods.get(op)
        if method and callable(getattr(torch.Tensor, method, None)):
            variants.append(Call("method", method))
        for call in variants:
            dtype_name = _case_dtype(dtypes, op)
            for label, args, kwargs in _wrong_calls(torch, schemas, dtype_name):
                if call.variant == "method":
                    if not args or not isinstance(args[0], torch.Tensor):
                        continue
                    args = [args[0], *args[2:]] if label == "too_many_positionals" else args
                    if label == "missing_arguments":
                        continue
                if not _raises_type_error(torch, call, args, kwargs):
                    continue
                yield CaseSpec(op=op, dtype=dtype_name, source=BINDING_SOURCE, label=f"{call.variant}:{label}",
                               call=call, args=list(args), kwargs=dict(kwargs), stride_check="none")


def _raises_type_error(torch, call: Call, args: list, kwargs: dict) -> bool:
    import warnings

    function = dotted_attribute(torch, call.target) if call.variant == "function" else getattr(args[0], call.target)
    rest = args if call.variant == "function" else args[1:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            function(*rest, **kwargs)
    except TypeError:
        return True
    except Exception:
        return False
    return False
