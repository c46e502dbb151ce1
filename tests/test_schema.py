"""engine/_schema.py: torch's schemas parse into the model and print back unchanged; argument
errors are TypeErrors as in torch (FT-P2C-003)."""
import pytest
import torch

import engine
from engine._schema import SchemaParseError, binding_error, parse_schema


def test_every_torch_schema_round_trips():
    for schema in torch._C._jit_get_all_schemas():
        text = str(schema)
        parsed = parse_schema(text)
        assert str(parsed) == text
        assert parsed.name == schema.name and parsed.overload_name == schema.overload_name
        assert [a.name for a in parsed.arguments] == [a.name for a in schema.arguments]
        assert [a.kwarg_only for a in parsed.arguments] == [a.kwarg_only for a in schema.arguments]
        assert len(parsed.returns) == len(schema.returns)


def test_model_fields():
    s = parse_schema("aten::add.out(Tensor self, Tensor other, *, Scalar alpha=1, Tensor(a!) out) -> Tensor(a!)")
    assert s.name == "aten::add" and s.overload_name == "out" and s.is_out and s.is_mutable
    assert [a.name for a in s.positional] == ["self", "other"]
    assert [a.name for a in s.kwarg_only] == ["alpha", "out"]
    assert s.arguments[2].default_value == 1 and str(s.arguments[3].type) == "Tensor(a!)"
    assert s.arguments[3].alias_info.is_write and s.returns[0].alias_info.before_set == ("a",)
    m = parse_schema("aten::max.dim(Tensor self, int dim, bool keepdim=False) -> (Tensor values, Tensor indices)")
    assert [r.name for r in m.returns] == ["values", "indices"] and m.arguments[2].default_value is False


@pytest.mark.parametrize("text", ["aten::add(Tensor self", "aten::add(Tensor self) ->", "aten::add(Tensor) -> Tensor"])
def test_malformed_schema_is_runtime_error(text):
    with pytest.raises(RuntimeError):
        torch._C.parse_schema(text)
    with pytest.raises(SchemaParseError):
        engine._C.parse_schema(text)


CALLS = [
    lambda lib: lib.add(lib.ones(2), 1, foo=1),
    lambda lib: lib.add("x", 1),
    lambda lib: lib.sum(lib.ones(2), dtype="float32"),
    lambda lib: lib.abs(lib.ones(2), 1),
    lambda lib: lib.mm("a", "b"),
    lambda lib: lib.exp([1.0, 2.0]),
    lambda lib: lib.zeros(),
    lambda lib: lib.arange(),
    lambda lib: lib.ones(2).sum(foo=3),
]


@pytest.mark.parametrize("index", range(len(CALLS)))
def test_argument_errors_are_type_errors_like_torch(index):
    with pytest.raises(TypeError) as expected:
        CALLS[index](torch)
    with pytest.raises(TypeError) as got:
        CALLS[index](engine)
    assert str(got.value).split("(")[0] == str(expected.value).split("(")[0]


def test_binding_error_messages():
    ones = engine.ones(2)
    assert binding_error("add", ("add",), (ones, ones), {}) is None
    assert binding_error("add", ("add",), (ones, 1), {"foo": 1}) == "add() got an unexpected keyword argument 'foo'"
    assert binding_error("mm", ("mm",), ("a", ones), {}) == "mm(): argument 'input' (position 1) must be Tensor, not str"
    assert binding_error("abs", ("abs",), (ones, 1), {}) == "abs() takes 1 positional argument but 2 were given"
    assert binding_error("add", ("add",), (), {}).startswith("add() received an invalid combination of arguments - got ()")
