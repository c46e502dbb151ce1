"""A tiny numpy-only stand-in for the engine, for pipeline tests only.

It offers just what conformance relies on (ftorch_cli/conform/engine_adapter.py):
a registry, `Tensor` with shape/stride/storage_offset/dtype/numpy/_version/
untyped_storage/as_strided, `from_numpy`, and three ops — `add` and `neg`
(fresh outputs) and `transpose` (a view). `BROKEN` names ops that return wrong
values and `RAISING` ops that raise, so tests can show conform catching them.
Never imports torch.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

BROKEN: set = set(filter(None, os.environ.get("FAKE_ENGINE_BROKEN", "").split(",")))
RAISING: set = set(filter(None, os.environ.get("FAKE_ENGINE_RAISING", "").split(",")))


class dtype:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self):
        return f"fake.{self.name}"

    __str__ = __repr__


DTYPES = {name: dtype(name) for name in ("bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64")}
globals().update(DTYPES)


class Storage:
    def __init__(self, flat: np.ndarray):
        self.flat = flat


class _Version:
    def __init__(self):
        self.value = 0


class Tensor:
    def __init__(self, storage: Storage, shape, stride, offset, version=None):
        self._storage, self._shape, self._stride, self._offset = storage, tuple(shape), tuple(stride), int(offset)
        self._counter = version or _Version()

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return DTYPES[self._storage.flat.dtype.name if self._storage.flat.dtype != np.bool_ else "bool"]

    def stride(self):
        return self._stride

    def storage_offset(self):
        return self._offset

    @property
    def _version(self):
        return self._counter.value

    def untyped_storage(self):
        return self._storage

    def numpy(self):
        flat = self._storage.flat
        size = flat.itemsize
        return np.lib.stride_tricks.as_strided(flat[self._offset:], self._shape, [s * size for s in self._stride])

    def as_strided(self, shape, stride, offset=0):
        return Tensor(self._storage, shape, stride, offset, self._counter)

    def transpose(self, dim0, dim1):
        _maybe_raise("transpose")
        ndim = len(self._shape)
        dim0, dim1 = dim0 % max(ndim, 1), dim1 % max(ndim, 1)
        shape, stride = list(self._shape), list(self._stride)
        shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
        stride[dim0], stride[dim1] = stride[dim1], stride[dim0]
        return Tensor(self._storage, shape, stride, self._offset, self._counter)

    def add_(self, other):
        self.numpy()[...] += other
        self._counter.value += 1
        return self


def from_numpy(array: np.ndarray) -> Tensor:
    flat = np.ascontiguousarray(array).reshape(-1)
    return Tensor(Storage(flat), array.shape, [s // array.itemsize for s in array.strides], 0)


def _fresh(values: np.ndarray) -> Tensor:
    values = np.ascontiguousarray(values)
    return from_numpy(values)


def _maybe_raise(op: str):
    if op in RAISING:
        raise RuntimeError(f"fake engine: {op} is broken on purpose")


def _value(operand):
    return operand.numpy() if isinstance(operand, Tensor) else operand


def add(input, other, alpha=1):
    _maybe_raise("add")
    result = _value(input) + _value(other) * alpha
    if "add" in BROKEN:
        result = result + 1
    return _fresh(np.asarray(result, dtype=input.numpy().dtype))


def neg(input):
    _maybe_raise("neg")
    result = -input.numpy()
    if "neg" in BROKEN:
        result = result * 2
    return _fresh(result)


@dataclass
class OpEntry:
    name: str
    dtypes: frozenset


FLOATS = frozenset({"float32", "float64"})
_registry = SimpleNamespace(
    REGISTRY={
        "add": OpEntry("add", FLOATS | {"int64"}),
        "neg": OpEntry("neg", FLOATS),
        "transpose": OpEntry("transpose", frozenset(DTYPES)),
    }
)
