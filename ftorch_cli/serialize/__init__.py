"""The one tensor/value (de)serializer of ftorch.

- values: non-tensor values <-> JSON-able tagged tree
- storage: torch tensors -> storage records (bit-exact, shared storage kept)
- backends: tree -> torch tensors, engine tensors, or numpy TensorFacts
- table: the recorded case table (Arrow IPC) and its manifest
"""
from ftorch_cli.serialize.backends import EngineBackend, NumpyBackend, TensorFacts, TorchBackend
from ftorch_cli.serialize.storage import CaseEncoder
from ftorch_cli.serialize.values import NamedResult, UnsupportedValue, decode_value, encode_value

__all__ = [
    "CaseEncoder",
    "EngineBackend",
    "NamedResult",
    "NumpyBackend",
    "TensorFacts",
    "TorchBackend",
    "UnsupportedValue",
    "decode_value",
    "encode_value",
]
