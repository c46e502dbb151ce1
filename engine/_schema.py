"""torch's operator schemas as a typed model: parse, print back, and bind Python calls.

The schema strings are torch's own (`torch._C._jit_get_all_schemas()`, snapshot
in engine/op_schemas.json); `parse_schema(text)` turns one into a `FunctionSchema`
(name, overload name, positional and keyword-only arguments with their types,
defaults and alias annotations such as `Tensor(a!)`, returns) and `str()` prints
it back exactly as torch does. `engine._C.parse_schema` is the same function, as
`torch._C.parse_schema` is torch's.

Binding (`binding_error`) is for calls that already failed: the op's own Python
function raised, and the schemas decide whether the call was an argument error
(missing argument, unexpected keyword, too many positionals, wrong type) and
say so as torch's Python argument parser does, with a TypeError. The hot path
never binds through the model.
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field
from typing import Any, Optional

# ---- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AliasInfo:
    """An alias annotation: `(a!)` (set a, written), `(a)` (a view of a), `(*)` (wildcard)."""

    before_set: tuple
    is_write: bool
    after_set: tuple = ()  # `(b -> *)`: the set after the op

    def __str__(self):
        after = (" -> " + "|".join(self.after_set)) if self.after_set else ""
        return "(" + "|".join(self.before_set) + ("!" if self.is_write else "") + after + ")"


@dataclass(frozen=True)
class Type:
    """A schema type: a base name with, in source order, generic arguments `Dict(K, V)`, an alias
    annotation, list suffixes `[]` / `[2]` and optional `?` (e.g. `Tensor(a!)[]`, `int[1]?`)."""

    base: str
    suffixes: tuple = ()  # ("generic", (Type, ...)) | ("alias", AliasInfo) | ("list", size or None) | ("optional", None)

    def __str__(self):
        text = self.base
        for kind, value in self.suffixes:
            if kind == "generic":
                text += "(" + ", ".join(str(t) for t in value) + ")"
            elif kind == "alias":
                text += str(value)
            elif kind == "list":
                text += f"[{'' if value is None else value}]"
            else:
                text += "?"
        return text

    @property
    def alias_info(self) -> Optional[AliasInfo]:
        for kind, value in self.suffixes:
            if kind == "alias":
                return value
        return None

    @property
    def is_optional(self) -> bool:
        return bool(self.suffixes) and self.suffixes[-1][0] == "optional"

    @property
    def is_list(self) -> bool:
        kinds = [kind for kind, _ in self.suffixes if kind in ("list", "optional")]
        return "list" in kinds

    @property
    def list_size(self) -> Optional[int]:
        for kind, value in self.suffixes:
            if kind == "list":
                return value
        return None


@dataclass(frozen=True)
class Argument:
    name: str
    type: Type
    default: Optional[str] = None  # the default's source text, None when there is none
    kwarg_only: bool = False

    @property
    def has_default(self) -> bool:
        return self.default is not None

    @property
    def default_value(self) -> Any:
        return _default_value(self.default) if self.default is not None else None

    @property
    def alias_info(self) -> Optional[AliasInfo]:
        return self.type.alias_info

    @property
    def is_out(self) -> bool:
        info = self.type.alias_info
        return self.kwarg_only and info is not None and info.is_write

    def __str__(self):
        text = f"{self.type} {self.name}"
        return text + (f"={self.default}" if self.default is not None else "")


@dataclass(frozen=True)
class Return:
    type: Type
    name: str = ""

    @property
    def alias_info(self) -> Optional[AliasInfo]:
        return self.type.alias_info

    def __str__(self):
        return f"{self.type} {self.name}" if self.name else str(self.type)


@dataclass(frozen=True)
class FunctionSchema:
    name: str  # "aten::add"
    overload_name: str  # "Tensor", "" for the default overload
    arguments: tuple
    returns: tuple
    returns_tuple: bool = False  # `-> (Tensor a, Tensor b)` / `-> ()` rather than `-> Tensor`
    is_vararg: bool = False
    is_varret: bool = False  # `-> ...`

    @property
    def positional(self) -> tuple:
        return tuple(a for a in self.arguments if not a.kwarg_only)

    @property
    def kwarg_only(self) -> tuple:
        return tuple(a for a in self.arguments if a.kwarg_only)

    @property
    def is_out(self) -> bool:
        return any(a.is_out for a in self.arguments)

    @property
    def is_mutable(self) -> bool:
        return any(a.alias_info is not None and a.alias_info.is_write for a in self.arguments)

    def __str__(self):
        parts, star = [], False
        for argument in self.arguments:
            if argument.kwarg_only and not star:
                parts.append("*")
                star = True
            parts.append(str(argument))
        if self.is_vararg:
            parts.append("...")
        head = self.name + (f".{self.overload_name}" if self.overload_name else "")
        if self.is_varret:
            returns = "..."
        elif self.returns_tuple or len(self.returns) != 1:
            returns = "(" + ", ".join(str(r) for r in self.returns) + ")"
        else:
            returns = str(self.returns[0])
        return f"{head}({', '.join(parts)}) -> {returns}"


# ---- parsing -----------------------------------------------------------------------------------


class SchemaParseError(RuntimeError):
    pass


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def fail(self, what: str):
        raise SchemaParseError(f"schema {self.text!r}: expected {what} at position {self.pos}")

    def space(self):
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def peek(self, token: str) -> bool:
        self.space()
        return self.text.startswith(token, self.pos)

    def take(self, token: str) -> bool:
        if self.peek(token):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str):
        if not self.take(token):
            self.fail(repr(token))

    def ident(self, extra: str = "") -> str:
        self.space()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "_" + extra):
            self.pos += 1
        if start == self.pos:
            self.fail("a name")
        return self.text[start:self.pos]

    def alias(self) -> AliasInfo:
        # at "(": a, a!, a|b, *
        self.expect("(")
        names = [self.ident("*")]
        while self.take("|"):
            names.append(self.ident("*"))
        write = self.take("!")
        after = []
        if self.take("->"):
            after.append(self.ident("*"))
            while self.take("|"):
                after.append(self.ident("*"))
        self.expect(")")
        return AliasInfo(tuple(names), write, tuple(after))

    def type(self) -> Type:
        self.space()
        suffixes = []
        if self.text.startswith("(", self.pos):  # a tuple type: (str, tVal)
            self.pos += 1
            items = [self.type()]
            while self.take(","):
                items.append(self.type())
            self.expect(")")
            base = ""
            suffixes.append(("generic", tuple(items)))
        else:
            base = self.ident(".")
        while True:
            if self.text.startswith("(", self.pos):
                if base in ("Dict", "Tuple", "Future", "RRef", "Await", "Union") and not suffixes:
                    self.pos += 1
                    items = [] if self.peek(")") else [self.type()]
                    while self.take(","):
                        items.append(self.type())
                    self.expect(")")
                    suffixes.append(("generic", tuple(items)))
                else:
                    suffixes.append(("alias", self.alias()))
            elif self.text.startswith("[", self.pos):
                self.pos += 1
                size = None
                if not self.text.startswith("]", self.pos):
                    size = int(self.ident())
                self.expect("]")
                suffixes.append(("list", size))
            elif self.text.startswith("?", self.pos):
                self.pos += 1
                suffixes.append(("optional", None))
            else:
                return Type(base, tuple(suffixes))

    def default(self) -> str:
        self.space()
        start, depth, quote = self.pos, 0, None
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if quote:
                if ch == "\\":
                    self.pos += 1
                elif ch == quote:
                    quote = None
            elif ch in "\"'":
                quote = ch
            elif ch in "[(":
                depth += 1
            elif ch in "])":
                if depth == 0:
                    break
                depth -= 1
            elif ch == "," and depth == 0:
                break
            self.pos += 1
        text = self.text[start:self.pos].strip()
        if not text:
            self.fail("a default value")
        return text

    def schema(self) -> FunctionSchema:
        name = self.ident(":")
        overload = ""
        if self.text.startswith(".", self.pos):
            self.pos += 1
            overload = self.ident()
        self.expect("(")
        arguments, kwarg_only, vararg = [], False, False
        if not self.take(")"):
            while True:
                if self.take("*"):
                    kwarg_only = True
                elif self.take("..."):
                    vararg = True
                else:
                    kind = self.type()
                    arg_name = self.ident()
                    default = self.default() if self.take("=") else None
                    arguments.append(Argument(arg_name, kind, default, kwarg_only))
                if self.take(")"):
                    break
                self.expect(",")
        self.expect("->")
        returns, returns_tuple, varret = [], False, False
        self.space()
        if self.take("..."):
            varret = True
        elif self.text.startswith("(", self.pos) and not self.text.startswith("()", self.pos) or self.text.startswith("()", self.pos):
            returns_tuple = True
            self.pos += 1
            if not self.take(")"):
                while True:
                    returns.append(self._return())
                    if self.take(")"):
                        break
                    self.expect(",")
        else:
            returns.append(self._return())
        self.space()
        if self.pos != len(self.text):
            self.fail("the end of the schema")
        return FunctionSchema(name, overload, tuple(arguments),
                              tuple(returns), returns_tuple, vararg, varret)

    def _return(self) -> Return:
        kind = self.type()
        self.space()
        if self.pos < len(self.text) and (self.text[self.pos].isalpha() or self.text[self.pos] == "_"):
            return Return(kind, self.ident())
        return Return(kind)


def parse_schema(text: str) -> FunctionSchema:
    """A torch schema string as a FunctionSchema; raises SchemaParseError (a RuntimeError) when malformed."""
    if not isinstance(text, str):
        raise TypeError(f"parse_schema(): argument 'schema' must be str, not {type(text).__name__}")
    return _Parser(text.strip()).schema()


def _default_value(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    if text == "None":
        return None
    if text.startswith(("'", '"')):
        return text[1:-1]
    if text.startswith("["):
        inner = text[1:-1].strip()
        return [_default_value(part.strip()) for part in inner.split(",")] if inner else []
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text  # enum-like names: contiguous_format, Mean, ...


# ---- the engine's schemas ------------------------------------------------------------------------

_SCHEMA_FILE = pathlib.Path(__file__).with_name("op_schemas.json")
_PARSED: dict = {}


def schema_strings() -> dict:
    """aten short name -> torch's schema strings, from the snapshot (empty when it is missing)."""
    try:
        return json.loads(_SCHEMA_FILE.read_text())["schemas"]
    except (OSError, ValueError, KeyError):
        return {}


def schemas_for(aten_names) -> list:
    """Parsed schemas of these aten names (cached)."""
    key = tuple(aten_names)
    if key not in _PARSED:
        strings = schema_strings()
        _PARSED[key] = [parse_schema(text) for name in key for text in strings.get(name, [])]
    return _PARSED[key]


# ---- binding calls, as torch's Python argument parser does -----------------------------------------

_PY_TYPE_NAMES = {
    "Scalar": "Number", "ScalarType": "torch.dtype", "int[]": "tuple of ints", "SymInt[]": "tuple of ints",
    "SymInt": "int", "Tensor[]": "tuple of Tensors", "Tensor?[]": "tuple of Tensors", "float[]": "tuple of floats",
    "bool[]": "tuple of bools", "Layout": "torch.layout", "Device": "torch.device", "MemoryFormat": "torch.memory_format",
    "Generator": "torch.Generator", "Dimname": "name", "Dimname[]": "tuple of names", "str": "str",
}


def _plain(kind: Type) -> str:
    """The type without alias annotations and optional marker: `Tensor(a!)` -> Tensor, `int[1]?` -> int[]."""
    text = kind.base
    for suffix, value in kind.suffixes:
        if suffix == "list":
            text += "[]"
        elif suffix == "generic":
            text += "(" + ", ".join(str(t) for t in value) + ")"
    return text


def _python_type_name(kind: Type) -> str:
    plain = _plain(kind)
    return _PY_TYPE_NAMES.get(plain, plain)


_OPTIONAL_TENSOR = Type("Tensor", (("optional", None),))


@dataclass
class _Signature:
    """One Python signature of an op, as torch's arg parser builds it from a schema (out folded in)."""

    name: str
    params: list  # (python name, Type, default text or None, kwarg_only)
    hidden: bool = False

    @property
    def min_args(self) -> int:
        return sum(1 for _, _, default, _ in self.params if default is None)

    @property
    def max_pos(self) -> int:
        return sum(1 for *_, kw in self.params if not kw)

    def describe(self) -> str:
        parts, star = [], False
        for name, kind, default, kwarg_only in self.params:
            if kwarg_only and not star:
                parts.append("*")
                star = True
            text = f"{_python_type_name(kind)} {name}"
            if default is not None:
                text += f" = {default}"
            parts.append(text)
        return "(" + ", ".join(parts) + ")"


def _signatures(name: str, schemas: list, method: bool) -> list:
    """Python signatures torch shows for these schemas: out= overloads fold into their functional one,
    `self` is `input` for functions and dropped for methods; Scalar overloads torch hides are dropped."""
    by_key: dict = {}
    for schema in schemas:
        if schema.name.split("::", 1)[0] != "aten" or schema.overload_name.endswith(("_out", "out")) and not schema.is_out:
            continue
        if schema.overload_name in ("Scalar", "Scalar_Tensor", "Tensor_Scalar", "Scalar_out") and len(schemas) > 2:
            continue  # torch binds Python numbers to the Tensor overload
        params = []
        for argument in schema.arguments:
            if argument.is_out:
                continue
            if argument.name == "self" and method:
                continue
            if any(not isinstance(v, tuple) and False for v in ()):
                pass
            py_name = "input" if argument.name == "self" else argument.name
            params.append([py_name, argument.type, argument.default, argument.kwarg_only])
        if schema.is_out:
            params.append(["out", _OPTIONAL_TENSOR, "None", True])
        key = tuple((p[0], _plain(p[1])) for p in params if p[0] != "out")
        if key in by_key:
            if schema.is_out and not any(p[0] == "out" for p in by_key[key].params):
                by_key[key].params.append(["out", _OPTIONAL_TENSOR, "None", True])
            continue
        by_key[key] = _Signature(name, params)
    for signature in by_key.values():
        for param in signature.params:
            if param[2] is not None and param[1].is_optional and param[2] == "None":
                param[2] = "None"
    return list(by_key.values())


def _is_tensor(value) -> bool:
    from engine._tensor import Tensor

    return isinstance(value, Tensor)


def _accepts(kind: Type, value, first: bool = False) -> bool:
    if value is None:
        return kind.is_optional
    plain = _plain(kind)
    from engine._dtype import dtype as dtype_type

    if plain == "Tensor":  # torch's parser wraps Python numbers given for a Tensor other than the first
        return _is_tensor(value) or (not first and isinstance(value, (int, float, complex)))
    if plain in ("Scalar",):
        return isinstance(value, (int, float, complex)) or (_is_tensor(value) and value.numel() == 1)
    if plain in ("int", "SymInt"):
        return (isinstance(value, int) and not isinstance(value, bool)) or (_is_tensor(value) and value.dim() == 0)
    if plain == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) or (_is_tensor(value) and value.dim() == 0)
    if plain == "bool":
        return isinstance(value, bool)
    if plain == "str":
        return isinstance(value, str)
    if plain == "ScalarType":
        return isinstance(value, dtype_type) or value in (int, float, bool)
    if plain in ("int[]", "SymInt[]"):
        if isinstance(value, int) and not isinstance(value, bool):
            return kind.list_size is not None
        return isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    if plain in ("Tensor[]", "Tensor?[]"):
        return isinstance(value, (list, tuple)) and all(_is_tensor(v) or (v is None and plain == "Tensor?[]") for v in value)
    if plain == "float[]":
        return isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value)
    if plain == "Device":
        from engine._device import device

        return isinstance(value, (str, int, device))
    if plain in ("Layout", "MemoryFormat"):
        return type(value).__name__ in ("layout", "memory_format")
    return True  # types the engine does not model are not judged


def _type_label(value) -> str:
    if _is_tensor(value):
        return "Tensor"
    if isinstance(value, (list, tuple)):
        return type(value).__name__ + " of " + (_type_label(value[0]) if value else "")
    return type(value).__name__


@dataclass
class _Failure:
    message: str


def _bind_one(signature: _Signature, args: tuple, kwargs: dict, offset: int) -> Optional[_Failure]:
    params = signature.params
    positional = [p for p in params if not p[3]]
    if positional and _plain(positional[-1][1]) in ("int[]", "SymInt[]"):  # `int[] size` also takes varargs: x.view(2, 3)
        k = len(positional) - 1
        rest = args[k:]
        if rest and all(isinstance(v, int) and not isinstance(v, bool) for v in rest):
            args = tuple(args[:k]) + (tuple(rest),)
    if len(args) > len(positional):
        count = len(positional)
        return _Failure(f"{signature.name}() takes {count} positional argument{'s' if count != 1 else ''} but "
                        f"{len(args)} {'were' if len(args) != 1 else 'was'} given")
    names = {p[0] for p in params}
    for key in kwargs:
        if key not in names:
            return _Failure(f"{signature.name}() got an unexpected keyword argument '{key}'")
    for index, (name, kind, default, _) in enumerate(params):
        if index < len(args) and name in kwargs:
            return _Failure(f"{signature.name}() got multiple values for argument '{name}'")
        if index < len(args) and not params[index][3]:
            value, where = args[index], f" (position {index + 1 + offset})"
        elif name in kwargs:
            value, where = kwargs[name], ""
        elif default is None:
            return _Failure(f"{signature.name}() missing 1 required positional arguments: \"{name}\"")
        else:
            continue
        if not _accepts(kind, value, index == 0):
            element = _first_non_tensor(kind, value)
            if element is not None:  # torch's parser names the element of a Tensor list it cannot take
                return _Failure(f"expected Tensor as element {element[0]} in argument {index + offset}, but got "
                                f"{type(element[1]).__name__}")
            # "not list" here; only the invalid-combination summary spells out "list of int"
            return _Failure(f"{signature.name}(): argument '{name}'{where} must be {_python_type_name(kind)}, "
                            f"not {'Tensor' if _is_tensor(value) else type(value).__name__}")
    return None


def _first_non_tensor(kind: Type, value):
    """(position, element) of the first non-Tensor in a list or tuple given for a Tensor[] parameter."""
    if _plain(kind) not in ("Tensor[]", "Tensor?[]") or not isinstance(value, (list, tuple)):
        return None
    from engine._tensor import Tensor

    for position, element in enumerate(value):
        if not isinstance(element, Tensor) and not (element is None and _plain(kind) == "Tensor?[]"):
            return position, element
    return None


def binding_error(name: str, aten_names, args: tuple, kwargs: dict, method: bool = False) -> Optional[str]:
    """The TypeError message torch would give for this call, or None when some overload binds it."""
    signatures = _signatures(name, schemas_for(aten_names), method)
    if not signatures:
        return None
    failures = [_bind_one(s, args, kwargs, 0) for s in signatures]
    if any(f is None for f in failures):
        return None
    count = len(args) + len(kwargs)
    plausible = [i for i, s in enumerate(signatures) if s.min_args <= count <= len(s.params)]
    if len(plausible) == 1:
        return failures[plausible[0]].message
    got = ", ".join([_type_label(a) for a in args] + [f"{k}={_type_label(v)}" for k, v in kwargs.items()])
    if len(signatures) == 1:
        return (f"{name}() received an invalid combination of arguments - got ({got}), "
                f"but expected {signatures[0].describe()}")
    lines = "".join(f" * {s.describe()}\n" for s in signatures)
    return f"{name}() received an invalid combination of arguments - got ({got}), but expected one of:\n{lines}"
