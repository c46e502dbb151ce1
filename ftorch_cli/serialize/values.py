"""Non-tensor values <-> a JSON-able tagged tree.

Plain JSON carries None, bool, int, str and list. Everything else is a one-key
dict whose key starts with "$":

| value                         | node                                          |
|-------------------------------|-----------------------------------------------|
| float (nan, inf, -0.0 exact)  | {"$float": float.hex(v)}                      |
| complex                       | {"$complex": [hex(real), hex(imag)]}          |
| tuple                         | {"$tuple": [...]}                             |
| dict                          | {"$dict": [[key, value], ...]}                |
| slice                         | {"$slice": [start, stop, step]}               |
| Ellipsis                      | {"$ellipsis": null}                           |
| torch.dtype                   | {"$dtype": "float32"}                         |
| torch.Size                    | {"$size": [2, 3]}                             |
| torch.memory_format           | {"$memory_format": "contiguous_format"}       |
| torch.layout / torch.device   | {"$layout": "strided"} / {"$device": "cpu"}   |
| torch.return_types.*          | {"$structseq": {"type", "fields", "items"}}   |
| tensor                        | {"$tensor": record} (see serialize.storage)   |

Encoding knows torch's types by duck typing so this module never imports torch;
decoding hands the torch/engine/numpy-specific parts to a backend
(serialize.backends).
"""
from __future__ import annotations

import numbers
from typing import Any, Callable

from ftorch_cli.serialize.dtypes import dtype_name

class UnsupportedValue(Exception):
    """A value the case format cannot carry, or a node a backend cannot build."""


def _type_path(value) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _short_name(value) -> str:
    """torch.float32 -> "float32", torch.contiguous_format -> "contiguous_format"."""
    return dtype_name(value)


def encode_value(value: Any, encode_tensor: Callable[[Any], dict]) -> Any:
    """Encode `value`; tensors go through `encode_tensor`, which returns their record."""
    if value is None or isinstance(value, (bool, str)):
        return value
    path = _type_path(value)
    if path.startswith("torch.") and hasattr(value, "untyped_storage"):
        return {"$tensor": encode_tensor(value)}
    if path == "numpy.bool_":
        return bool(value)
    if isinstance(value, numbers.Integral):  # int and numpy integers
        return int(value)
    if isinstance(value, numbers.Real):  # float and numpy floats
        return {"$float": float(value).hex()}
    if isinstance(value, complex):
        return {"$complex": [value.real.hex(), value.imag.hex()]}
    if value is Ellipsis:
        return {"$ellipsis": None}
    if isinstance(value, slice):
        return {"$slice": [encode_value(part, encode_tensor) for part in (value.start, value.stop, value.step)]}
    if path == "torch.dtype":
        return {"$dtype": _short_name(value)}
    if path == "torch.Size":
        return {"$size": [int(item) for item in value]}
    if path == "torch.memory_format":
        return {"$memory_format": _short_name(value)}
    if path == "torch.layout":
        return {"$layout": _short_name(value)}
    if path == "torch.device":
        return {"$device": str(value)}
    if path.startswith("torch.return_types."):
        fields = list(getattr(type(value), "__match_args__", ()))
        return {
            "$structseq": {
                "type": type(value).__name__,
                "fields": fields,
                "items": [encode_value(item, encode_tensor) for item in value],
            }
        }
    if isinstance(value, list):
        return [encode_value(item, encode_tensor) for item in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return {"$tuple": [encode_value(item, encode_tensor) for item in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode_value(k, encode_tensor), encode_value(v, encode_tensor)] for k, v in value.items()]}
    raise UnsupportedValue(f"cannot encode a value of type {path}")


class NamedResult(tuple):
    """A decoded torch.return_types value: a tuple that also answers its field names."""

    type_name: str = ""
    fields: tuple[str, ...] = ()

    def __new__(cls, items, type_name: str, fields):
        result = super().__new__(cls, items)
        result.type_name = type_name
        result.fields = tuple(fields)
        return result

    def __getattr__(self, name):
        try:
            return self[self.fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None


def decode_value(node: Any, backend) -> Any:
    """Rebuild a value from its node; torch/engine/numpy specifics come from `backend`."""
    if node is None or isinstance(node, (bool, int, str)):
        return node
    if isinstance(node, list):
        return [decode_value(item, backend) for item in node]
    if not isinstance(node, dict) or len(node) != 1:
        raise UnsupportedValue(f"malformed value node {str(node)[:80]!r}")
    (tag, body), = node.items()
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise UnsupportedValue(f"unknown value tag {tag!r}")
    return decoder(body, backend)


def _decode_float(body, backend):
    return float.fromhex(body)


def _decode_structseq(body, backend):
    items = [decode_value(item, backend) for item in body["items"]]
    return NamedResult(items, body["type"], body["fields"])


_DECODERS: dict[str, Callable[[Any, Any], Any]] = {
    "$float": _decode_float,
    "$complex": lambda body, backend: complex(float.fromhex(body[0]), float.fromhex(body[1])),
    "$tuple": lambda body, backend: tuple(decode_value(item, backend) for item in body),
    "$dict": lambda body, backend: {decode_value(k, backend): decode_value(v, backend) for k, v in body},
    "$slice": lambda body, backend: slice(*(decode_value(part, backend) for part in body)),
    "$ellipsis": lambda body, backend: Ellipsis,
    "$dtype": lambda body, backend: backend.dtype(body),
    "$size": lambda body, backend: backend.size(body),
    "$memory_format": lambda body, backend: backend.named_constant("memory_format", body),
    "$layout": lambda body, backend: backend.named_constant("layout", body),
    "$device": lambda body, backend: backend.device(body),
    "$structseq": _decode_structseq,
    "$tensor": lambda body, backend: backend.tensor(body),
}


def iter_tensor_records(node: Any):
    """Yield every tensor record in a node tree, depth first, in argument order."""
    if isinstance(node, list):
        for item in node:
            yield from iter_tensor_records(item)
    elif isinstance(node, dict) and len(node) == 1:
        (tag, body), = node.items()
        if tag == "$tensor":
            yield body
        elif tag in ("$tuple", "$slice"):
            yield from iter_tensor_records(body)
        elif tag == "$dict":
            for key, value in body:
                yield from iter_tensor_records(key)
                yield from iter_tensor_records(value)
        elif tag == "$structseq":
            yield from iter_tensor_records(body["items"])

