"""Decoding backends: the same case rebuilt as torch tensors, engine tensors or numpy facts.

- `TorchBackend`: real torch tensors sharing one UntypedStorage per storage entry
  (the live oracle, round-trip tests).
- `EngineBackend`: engine tensors. Per storage entry, the bytes become one flat
  engine tensor through `engine.from_numpy` and every tensor on that storage is
  `base.as_strided(shape, stride, offset)`, so inputs that share memory in torch
  share it in the engine. Nothing engine-specific beyond torch's public API.

Records marked `requires_grad` become leaves requiring grad (`requires_grad_()`)
in torch and in the engine (there detached from the rebuilt storage's base
first, so the leaf is the root of its views as torch's `set_()` tensor is).
- `NumpyBackend`: `TensorFacts` (dtype, shape, strides, offset, alias and a
  read-only numpy view of the values) for expected outputs; needs no torch and no
  engine.

Every record is checked against its storage before anything reads memory, so a
damaged table fails closed instead of reading past a buffer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from ftorch_cli.serialize.dtypes import DTYPES
from ftorch_cli.serialize.values import UnsupportedValue, decode_value


@dataclass
class TensorFacts:
    """What a comparison needs to know about one tensor, from any source."""

    dtype: str
    shape: tuple
    stride: tuple
    offset: int
    values: np.ndarray  # laid out by the storage dtype (bfloat16 as uint16 bits)
    alias: Optional[int] = None  # index of the input storage it shares, if any
    storage: Optional[int] = None
    requires_grad: bool = False


def _check_record(record: dict, storages: list[bytes]) -> tuple:
    try:
        dtype = record["dtype"]
        shape = tuple(int(n) for n in record["shape"])
        stride = tuple(int(s) for s in record["stride"])
        offset = int(record["offset"])
        index = int(record["storage"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UnsupportedValue(f"malformed tensor record: {exc}") from None
    info = DTYPES.get(dtype)
    if info is None:
        raise UnsupportedValue(f"unknown dtype {dtype!r} in tensor record")
    if not 0 <= index < len(storages):
        raise UnsupportedValue(f"tensor record names storage {index}, the case has {len(storages)}")
    if len(shape) != len(stride) or any(n < 0 for n in shape) or any(s < 0 for s in stride) or offset < 0:
        raise UnsupportedValue(f"malformed tensor geometry shape={shape} stride={stride} offset={offset}")
    if all(shape):
        last = offset + sum((n - 1) * s for n, s in zip(shape, stride))
        if (last + 1) * info.itemsize > len(storages[index]):
            raise UnsupportedValue(
                f"tensor shape={shape} stride={stride} offset={offset} reaches past its {len(storages[index])}-byte storage"
            )
    return dtype, shape, stride, offset, index


class DecodeBackend:
    """Builds the parts of a value tree that depend on the target library."""

    def __init__(self, storages: list[bytes]):
        self.storages = storages

    def decode(self, node: Any) -> Any:
        return decode_value(node, self)

    # hooks -----------------------------------------------------------------
    def tensor(self, record: dict):
        raise NotImplementedError

    def dtype(self, name: str):
        raise NotImplementedError

    def size(self, items):
        return tuple(items)

    def named_constant(self, kind: str, name: str):
        raise NotImplementedError

    def device(self, name: str):
        return name


class NumpyBackend(DecodeBackend):
    """Expected values as TensorFacts; dtypes, memory formats and layouts as their names."""

    def tensor(self, record: dict) -> TensorFacts:
        dtype, shape, stride, offset, index = _check_record(record, self.storages)
        info = DTYPES[dtype]
        data = self.storages[index]
        base = np.frombuffer(data, dtype=info.numpy_storage, count=len(data) // info.itemsize)
        if all(shape):
            values = np.lib.stride_tricks.as_strided(
                base[offset:], shape=shape, strides=[s * info.itemsize for s in stride], writeable=False
            )
        else:
            values = np.empty(shape, dtype=info.numpy_storage)
        return TensorFacts(dtype, shape, stride, offset, values, record.get("alias"), index, bool(record.get("requires_grad")))

    def dtype(self, name: str):
        return DtypeName(name)

    def named_constant(self, kind: str, name: str):
        return f"{kind}:{name}"


class DtypeName(str):
    """A dtype decoded without a library: compares equal to the name."""


class TorchBackend(DecodeBackend):
    def __init__(self, torch, storages: list[bytes]):
        super().__init__(storages)
        self._torch = torch
        self._storage_objects: dict[int, Any] = {}

    def tensor(self, record: dict):
        torch = self._torch
        dtype, shape, stride, offset, index = _check_record(record, self.storages)
        storage = self._storage_objects.get(index)
        if storage is None:
            storage = torch.UntypedStorage.from_buffer(bytearray(self.storages[index]), dtype=torch.uint8)
            self._storage_objects[index] = storage
        tensor = torch.empty(0, dtype=getattr(torch, dtype)).set_(storage, offset, shape, stride)
        return tensor.requires_grad_(True) if record.get("requires_grad") else tensor

    def dtype(self, name: str):
        return getattr(self._torch, name)

    def size(self, items):
        return self._torch.Size(items)

    def named_constant(self, kind: str, name: str):
        return getattr(self._torch, name)

    def device(self, name: str):
        return self._torch.device(name)


class EngineBackend(DecodeBackend):
    """Engine tensors via `engine.from_numpy` + `Tensor.as_strided` (see module doc)."""

    def __init__(self, engine, storages: list[bytes]):
        super().__init__(storages)
        self._engine = engine
        self._bases: dict[tuple[int, str], Any] = {}

    def _base(self, index: int, dtype: str):
        base = self._bases.get((index, dtype))
        if base is None:
            if any(key[0] == index for key in self._bases):
                raise UnsupportedValue("one storage viewed with two dtypes cannot be rebuilt in the engine")
            info = DTYPES[dtype]
            data = self.storages[index]
            if dtype == "bfloat16" or len(data) % info.itemsize:
                raise UnsupportedValue(f"storage of {len(data)} bytes cannot be rebuilt as {dtype} in the engine")
            array = np.frombuffer(data, dtype=info.numpy_storage).copy()
            try:
                base = self._engine.from_numpy(array)
            except Exception as exc:
                raise UnsupportedValue(f"engine.from_numpy failed for {dtype}: {type(exc).__name__}: {exc}") from None
            self._bases[(index, dtype)] = base
        return base

    def storage_keys(self, key_of) -> dict:
        """Storage identity (as `key_of` computes it) of every rebuilt storage -> its storage index."""
        return {key_of(base): index for (index, _), base in self._bases.items()}

    def tensor(self, record: dict):
        dtype, shape, stride, offset, index = _check_record(record, self.storages)
        base = self._base(index, dtype)
        try:
            tensor = base.as_strided(shape, stride, offset)
            if record.get("requires_grad"):
                # A leaf of its own, like torch's set_() tensor: not a view of the rebuilt storage, whose
                # views would otherwise not count as views of this leaf in the engine's autograd.
                tensor = tensor.detach().requires_grad_(True)
            return tensor
        except Exception as exc:
            raise UnsupportedValue(f"engine as_strided failed: {type(exc).__name__}: {exc}") from None

    def dtype(self, name: str):
        return self._engine_attribute(name, "dtype")

    def size(self, items):
        size_type = getattr(self._engine, "Size", None)
        return size_type(items) if size_type is not None else tuple(items)

    def named_constant(self, kind: str, name: str):
        return self._engine_attribute(name, kind)

    def device(self, name: str):
        device_type = getattr(self._engine, "device", None)
        return device_type(name) if callable(device_type) else name

    def _engine_attribute(self, name: str, kind: str):
        value = getattr(self._engine, name, None)
        if value is None:
            raise UnsupportedValue(f"the engine has no {kind} named {name!r}")
        return value
