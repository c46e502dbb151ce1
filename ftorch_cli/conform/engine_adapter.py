"""Everything conformance needs to know about the engine, in one place.

What is relied on (all torch's public API, mirrored by the engine):
- `engine._registry.REGISTRY: dict[str, OpEntry]` with `OpEntry.dtypes`
  (dtype names) — which ops and dtypes the engine claims;
- `engine.Tensor`, `engine.from_numpy`, `Tensor.as_strided` — building inputs
  (serialize.backends.EngineBackend);
- `Tensor.shape`, `.stride()`, `.storage_offset()`, `.dtype`, `.numpy()`,
  `._version`, `.requires_grad` — observing outputs;
- for autograd cases (FT-P2C-004): `Tensor.requires_grad_`, `.grad_fn.name()`,
  `engine.autograd.grad`, `engine.ones_like`, `engine.no_grad` (cases.gradients);
- `Tensor.untyped_storage()` returning the same storage object (or one with
  torch's `_cdata`) for tensors that share memory — aliasing;
- optionally `engine._set_hardened(bool)`: hardened mode's defensive checks.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Optional

import numpy as np

from ftorch_cli.errors import FtorchError
from ftorch_cli.serialize.backends import TensorFacts
from ftorch_cli.serialize.dtypes import DTYPES, dtype_name


class EngineUnavailable(FtorchError):
    """The engine cannot be imported or lacks its op registry."""


def load_engine(module_name: str = "engine"):
    try:
        return importlib.import_module(module_name)
    except Exception as exc:  # a broken build raises anything from ImportError to OSError
        raise EngineUnavailable(
            f"the engine module {module_name!r} cannot be imported ({type(exc).__name__}: {exc}); "
            "run `pip install -e .` to build it"
        ) from None


def registry_of(engine) -> dict:
    registry = getattr(getattr(engine, "_registry", None), "REGISTRY", None)
    if registry is None:
        try:
            registry = importlib.import_module(f"{engine.__name__}._registry").REGISTRY
        except Exception:
            raise EngineUnavailable(f"{engine.__name__} has no op registry ({engine.__name__}._registry.REGISTRY)") from None
    return registry


def registered_dtypes(entry) -> Optional[frozenset]:
    dtypes = getattr(entry, "dtypes", None)
    return frozenset(dtype_name(d) for d in dtypes) if dtypes else None


def tensor_predicate(engine) -> Callable[[Any], bool]:
    tensor_type = getattr(engine, "Tensor", None)
    if tensor_type is None:
        raise EngineUnavailable(f"{engine.__name__} has no Tensor type")
    return lambda value: isinstance(value, tensor_type)


def hardened_switch(engine) -> Optional[Callable[[bool], None]]:
    switch = getattr(engine, "_set_hardened", None)
    return switch if callable(switch) else None


def storage_key(tensor) -> Any:
    """Identity of the memory a tensor uses; equal keys mean shared storage."""
    storage = tensor.untyped_storage()
    key = getattr(storage, "_cdata", None)
    return key if key is not None else id(storage)


class ObservationError(Exception):
    """An engine output could not be read back (fails the case closed)."""


def tensor_facts(tensor, input_keys: dict) -> TensorFacts:
    """Facts of an engine tensor; `alias` is the input storage index it shares, if any."""
    try:
        name = dtype_name(tensor.dtype)
        shape = tuple(int(n) for n in tensor.shape)
        stride = tuple(int(s) for s in tensor.stride())
        offset = int(tensor.storage_offset())
        requires_grad = bool(getattr(tensor, "requires_grad", False))
        values = np.asarray((tensor.detach() if requires_grad else tensor).numpy())
        key = storage_key(tensor)
    except Exception as exc:
        raise ObservationError(f"cannot read an engine tensor back: {type(exc).__name__}: {exc}") from None
    info = DTYPES.get(name)
    if info is not None and values.dtype != info.numpy_storage and name != "bfloat16":
        raise ObservationError(f"engine tensor of dtype {name} converted to numpy {values.dtype}")
    return TensorFacts(name, shape, stride, offset, values, input_keys.get(key), requires_grad=requires_grad)
