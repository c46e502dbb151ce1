"""Tensors -> storage records, bit-exact, with shared storage kept.

A case owns a list of storages (raw bytes, the whole storage of each tensor it
uses). A tensor is a record pointing into that list:

    {"dtype": "float32", "shape": [2, 3], "stride": [1, 2], "offset": 0,
     "storage": 0, "alias": 0}

plus `"requires_grad": true` for a tensor that requires grad (absent: false);
decoded inputs that carry it are leaves requiring grad.

Tensors that share a storage in torch point at one storage entry, so `x` and
`x.t()` come back sharing memory. A case is snapshotted twice: its inputs before
the call ("before") and its outputs and mutated inputs after it ("after"). An
"after" tensor whose storage is one of the inputs' carries `alias`, the index of
that input storage; its bytes are stored again only if the call changed them.
"""
from __future__ import annotations

from typing import Any

from ftorch_cli.serialize.dtypes import dtype_name
from ftorch_cli.serialize.values import UnsupportedValue, encode_value


def torch_storage_key(tensor) -> int:
    """Identity of a torch tensor's storage (the StorageImpl address; stable, unlike data_ptr for empty storages)."""
    return tensor.untyped_storage()._cdata


def torch_storage_bytes(torch, tensor) -> bytes:
    storage = tensor.untyped_storage()
    raw = torch.empty(0, dtype=torch.uint8).set_(storage, 0, (storage.nbytes(),), (1,))
    return raw.numpy().tobytes()


class CaseEncoder:
    """Encodes one case's torch values; collects the storages they use."""

    def __init__(self, torch):
        self._torch = torch
        self.storages: list[bytes] = []
        self._input_storage: dict[int, int] = {}  # storage key -> index, "before" snapshot
        self._after_storage: dict[int, int] = {}  # storage key -> index, "after" snapshot
        self._phase = "before"

    def encode_inputs(self, value: Any) -> Any:
        if self._phase != "before":
            raise RuntimeError("inputs must be encoded before outputs")
        return encode_value(value, self._encode_tensor)

    def encode_outputs(self, value: Any) -> Any:
        """Encode values observed after the call (outputs, mutated inputs)."""
        self._phase = "after"
        return encode_value(value, self._encode_tensor)

    def _storage_index(self, tensor, key: int) -> int:
        if self._phase == "before":
            table = self._input_storage
        else:
            table = self._after_storage
        index = table.get(key)
        if index is None:
            data = torch_storage_bytes(self._torch, tensor)
            input_index = self._input_storage.get(key)
            if input_index is not None and self._phase == "after" and self.storages[input_index] == data:
                index = input_index  # unchanged by the call: share the bytes
            else:
                index = len(self.storages)
                self.storages.append(data)
            table[key] = index
        return index

    def _encode_tensor(self, tensor) -> dict:
        if tensor.layout != self._torch.strided or tensor.device.type != "cpu":
            raise UnsupportedValue(f"only strided CPU tensors are stored, got {tensor.layout} on {tensor.device}")
        if tensor.is_conj() or tensor.is_neg():
            raise UnsupportedValue("tensors with a lazy conjugate/negative bit are not stored")
        requires_grad = bool(tensor.requires_grad)
        tensor = tensor.detach() if requires_grad else tensor
        key = torch_storage_key(tensor)
        record = {
            "dtype": dtype_name(tensor.dtype),
            "shape": list(tensor.shape),
            "stride": list(tensor.stride()),
            "offset": int(tensor.storage_offset()),
            "storage": self._storage_index(tensor, key),
        }
        if self._phase == "after":
            record["alias"] = self._input_storage.get(key)
        if requires_grad:
            record["requires_grad"] = True
        return record
