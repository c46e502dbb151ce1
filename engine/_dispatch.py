"""The dispatch key model: which keys a tensor carries, which the thread's modes include or
exclude, which kernels each op has, and so which kernel a call runs (FT-P2C-002).

The engine does not dispatch through tables at run time (an op's Python function calls its
kernel, with autograd recording wrapped around it by the registry), but it follows torch's
model, and this module says how, in torch's own terms, so the two can be compared:

- `dispatch_keys(t)`: a dense CPU tensor carries CPU, ADInplaceOrView, AutogradCPU and
  AutocastCPU; a meta tensor Meta, ADInplaceOrView, AutogradMeta; tensors made under
  inference_mode (and their views) lose ADInplaceOrView and the autograd key.
- `tls_local_include_set()` / `tls_local_exclude_set()`: BackendSelect is always included,
  ADInplaceOrView outside inference_mode; autocast keys are excluded (the engine has no
  autocast), and inference_mode excludes autograd.
- `has_computed_kernel(op, key)` / `is_fallthrough(op, key)`: from the engine's registry, torch's
  direct registrations at CompositeImplicitAutograd / BackendSelect / ADInplaceOrView for the
  op's overloads (snapshot in engine/op_schemas.json with the schemas; without it, from the
  op's schema, engine/_schema.py): every registered op has a backend kernel (CPU) and a
  meta kernel (engine/_meta.py computes output metadata for any op), an autograd kernel
  (derivative rule: records the graph; composite rule: differentiable through the ops it
  calls; no rule: outputs do not require grad), an ADInplaceOrView kernel when its schema
  writes or views an argument (alias annotations) and a BackendSelect kernel when it is a
  factory (no Tensor arguments); autocast keys fall through.
- `route(op, *tensors)`: the highest-priority key of the tensors' keys and the included keys,
  not excluded, with a kernel that is not a fallthrough: the kernel that runs.

`engine._C` mirrors torch's names (`_dispatch_keys`, `_dispatch_tls_local_include_set`,
`_dispatch_has_computed_kernel_for_dispatch_key`, ...), so one program runs on both.
"""
from __future__ import annotations

import enum
from functools import lru_cache

# The keys the engine's model uses, in torch's priority order (lowest first; DispatchKeySet prints in this order).
_ORDER = (
    "CPU", "Meta", "BackendSelect", "ADInplaceOrView", "AutogradOther", "AutogradCPU", "AutogradMeta",
    "AutogradNestedTensor", "AutocastCPU", "AutocastMTIA", "AutocastMAIA", "AutocastXPU", "AutocastIPU",
    "AutocastHPU", "AutocastXLA", "AutocastMPS", "AutocastCUDA", "AutocastPrivateUse1",
)
# Alias keys (a kernel registered for several runtime keys at once).
_ALIASES = ("Autograd", "CompositeImplicitAutograd", "CompositeExplicitAutograd")

DispatchKey = enum.IntEnum("DispatchKey", [(name, index) for index, name in enumerate(_ORDER + _ALIASES)])

AUTOCAST_KEYS = tuple(k for k in _ORDER if k.startswith("Autocast"))
AUTOGRAD_KEYS = ("AutogradOther", "AutogradCPU", "AutogradMeta", "AutogradNestedTensor")


def _key(value) -> DispatchKey:
    if isinstance(value, DispatchKey):
        return value
    if isinstance(value, str):
        try:
            return DispatchKey[value]
        except KeyError:
            raise ValueError(f"Unknown dispatch key: {value}") from None
    raise TypeError(f"expected a DispatchKey or its name, got {type(value).__name__}")


class DispatchKeySet:
    """An immutable set of runtime dispatch keys, printed as torch prints one."""

    __slots__ = ("_keys", "_hidden")

    def __init__(self, keys=(), _hidden=frozenset()):
        self._keys = frozenset(_key(k) for k in keys)
        self._hidden = frozenset(_hidden)  # functionality bits torch does not print (inference_mode's autograd)

    def has(self, key) -> bool:
        key = _key(key)
        return key in self._keys or key.name in self._hidden

    def add(self, key) -> "DispatchKeySet":
        return DispatchKeySet(self._keys | {_key(key)}, self._hidden)

    def remove(self, key) -> "DispatchKeySet":
        return DispatchKeySet(self._keys - {_key(key)}, self._hidden)

    def __or__(self, other: "DispatchKeySet") -> "DispatchKeySet":
        return DispatchKeySet(self._keys | other._keys, self._hidden | other._hidden)

    def __sub__(self, other: "DispatchKeySet") -> "DispatchKeySet":
        return DispatchKeySet({k for k in self._keys if not other.has(k)}, self._hidden - other._hidden)

    def __iter__(self):
        return iter(sorted(self._keys))

    def __eq__(self, other):
        return isinstance(other, DispatchKeySet) and self._keys == other._keys and self._hidden == other._hidden

    def __hash__(self):
        return hash((self._keys, self._hidden))

    def highestPriorityTypeId(self) -> DispatchKey:  # noqa: N802 - torch's name
        return max(self._keys) if self._keys else None

    def __repr__(self):
        return "DispatchKeySet(" + ", ".join(k.name for k in sorted(self._keys)) + ")"

    __str__ = __repr__


_DENSE_CPU = DispatchKeySet(("CPU", "ADInplaceOrView", "AutogradCPU", "AutocastCPU"))
_INFERENCE_CPU = DispatchKeySet(("CPU", "AutocastCPU"))
_META = DispatchKeySet(("Meta", "ADInplaceOrView", "AutogradMeta"))
_INFERENCE_META = DispatchKeySet(("Meta",))


def dispatch_keys(tensor) -> DispatchKeySet:
    """The keys torch's TensorImpl would carry for this engine tensor."""
    from engine._tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"_dispatch_keys(): argument 'tensor' (position 1) must be Tensor, not {type(tensor).__name__}")
    inference = tensor.is_inference()
    if getattr(tensor, "is_meta", False):
        return _INFERENCE_META if inference else _META
    return _INFERENCE_CPU if inference else _DENSE_CPU


def _inference() -> bool:
    from engine.autograd.grad_mode import STATE

    return STATE.inference


def tls_local_include_set() -> DispatchKeySet:
    return DispatchKeySet(("BackendSelect",) if _inference() else ("BackendSelect", "ADInplaceOrView"))


def tls_local_exclude_set() -> DispatchKeySet:
    if _inference():
        return DispatchKeySet(("AutogradOther", "AutogradNestedTensor") + AUTOCAST_KEYS, _hidden={"AutogradCPU", "AutogradMeta"})
    return DispatchKeySet(AUTOCAST_KEYS)


def tls_is_dispatch_key_excluded(key) -> bool:
    return tls_local_exclude_set().has(key)


def tls_is_dispatch_key_included(key) -> bool:
    return tls_local_include_set().has(key)


def keyset_full() -> DispatchKeySet:
    return DispatchKeySet(_ORDER)


# ---- kernels -----------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _ops_by_aten() -> dict:
    from engine._registry import REGISTRY

    table: dict = {}
    for entry in REGISTRY.values():
        for name in entry.aten:
            table.setdefault(name, entry)
    return table


class _OpKernels:
    __slots__ = ("schema", "entry", "kernels")

    def __init__(self, schema, entry, kernels):
        self.schema, self.entry, self.kernels = schema, entry, kernels


@lru_cache(maxsize=4096)
def _kernels_of(qualified: str) -> _OpKernels:
    """The engine's kernels for an operator `aten::name[.overload]` (RuntimeError when it has none)."""
    from engine._schema import schemas_for

    name = qualified[len("aten::"):] if qualified.startswith("aten::") else qualified
    base, _, overload = name.partition(".")
    inplace = base.endswith("_") and not base.endswith("__")
    entry = _ops_by_aten().get(base) or (_ops_by_aten().get(base[:-1]) if inplace else None)
    schema = None
    if entry is not None:
        for candidate in schemas_for((base,)):
            if candidate.overload_name == overload:
                schema = candidate
                break
    if entry is None or schema is None:
        raise RuntimeError(f"Could not find schema for {qualified}")
    kernels = {"CPU", "Meta"}
    kernels.update(("AutogradCPU", "AutogradMeta", "AutogradOther", "AutogradNestedTensor"))
    registered = _registrations().get(qualified)
    if registered is not None:  # torch's own registrations for this overload (snapshot)
        kernels.update(k for k in registered if k in ("CompositeImplicitAutograd", "BackendSelect", "ADInplaceOrView"))
        composite = "CompositeImplicitAutograd" in registered
    else:  # from the schema: views and writes get ADInplaceOrView, factories BackendSelect
        rule = _rule_of(entry.name)
        composite = rule is not None and rule.backward is None
        if composite:
            kernels.add("CompositeImplicitAutograd")
        if any(a.alias_info is not None for a in schema.arguments) and not composite:
            kernels.add("ADInplaceOrView")
        if not any("Tensor" in str(a.type) for a in schema.arguments):
            kernels.add("BackendSelect")
    if not composite:
        kernels.add("Autograd")
    return _OpKernels(schema, entry, frozenset(kernels))


@lru_cache(maxsize=None)
def _registrations() -> dict:
    """aten::name.overload -> keys torch registers kernels for directly (engine/op_schemas.json)."""
    import json

    from engine._schema import _SCHEMA_FILE

    try:
        return {name: frozenset(keys) for name, keys in json.loads(_SCHEMA_FILE.read_text())["registrations"].items()}
    except (OSError, ValueError, KeyError):
        return {}


def _rule_of(name: str):
    from engine.autograd.derivatives import RULES

    return RULES.get(name)


def has_kernel_for_dispatch_key(qualified: str, key) -> bool:
    """A kernel registered for exactly this key (runtime or alias)."""
    key = _key(key)
    try:
        kernels = _kernels_of(qualified).kernels
    except RuntimeError:
        return False
    registered = _registrations().get(qualified)
    if registered is not None and key.name != "Meta":
        return key.name in registered
    if key.name in ("AutogradCPU", "AutogradMeta", "AutogradOther", "AutogradNestedTensor"):
        return False  # registered through the Autograd / CompositeImplicitAutograd alias keys
    if key.name in ("CPU", "Meta") and "CompositeImplicitAutograd" in kernels:
        return False
    return key.name in kernels


def has_computed_kernel_for_dispatch_key(qualified: str, key) -> bool:
    """A kernel (or fallthrough) in the op's computed dispatch table at this runtime key."""
    key = _key(key)
    try:
        kernels = _kernels_of(qualified).kernels
    except RuntimeError:
        return False
    if key.name == "ADInplaceOrView" or key.name in AUTOCAST_KEYS:
        return True  # fallthrough unless the op has its own kernel
    if key.name == "BackendSelect":
        return "BackendSelect" in kernels
    return key.name in kernels


def kernel_for_dispatch_key_is_fallthrough(qualified: str, key) -> bool:
    key = _key(key)
    kernels = _kernels_of(qualified).kernels
    if key.name in AUTOCAST_KEYS:
        return True
    if key.name == "ADInplaceOrView":
        return "ADInplaceOrView" not in kernels
    if not has_computed_kernel_for_dispatch_key(qualified, key):
        raise RuntimeError(f"no kernel for {key.name} on {qualified}")
    return False


def dump_table(qualified: str) -> str:
    """The op's computed dispatch table, one `Key: [fallthrough ]registered ... [kind]` line per key, as torch's."""
    kernels = _kernels_of(qualified).kernels
    lines = []
    for name in _ORDER:
        if name in AUTOCAST_KEYS or (name in ("ADInplaceOrView", "BackendSelect") and name not in kernels):
            lines.append(f"{name}: fallthrough registered in the engine [backend fallback]")
        elif name.startswith("Autograd"):
            lines.append(f"{name}: registered in the engine [autograd kernel]")
        else:
            lines.append(f"{name}: registered in the engine [kernel]")
    return "\n".join(lines) + "\n"


def route(qualified: str, *tensors) -> str:
    """The key whose kernel runs for this operator on these tensors, under the current modes."""
    keys = tls_local_include_set()
    for tensor in tensors:
        keys = keys | dispatch_keys(tensor)
    excluded = tls_local_exclude_set()
    for key in sorted(keys, reverse=True):
        if excluded.has(key) or not has_computed_kernel_for_dispatch_key(qualified, key):
            continue
        if not kernel_for_dispatch_key_is_fallthrough(qualified, key):
            return key.name
    return ""


def route_call(op_name: str, args, kwargs) -> str:
    """The key that runs for a call of registry op `op_name` (its first schema; '' when unknown)."""
    from engine._registry import REGISTRY
    from engine._schema import schemas_for
    from engine._tensor import Tensor

    entry = REGISTRY.get(op_name)
    if entry is None:
        return ""
    schemas = [s for s in schemas_for(entry.aten) if not s.is_out]
    if not schemas:
        return ""
    qualified = schemas[0].name + (f".{schemas[0].overload_name}" if schemas[0].overload_name else "")
    tensors = [v for v in list(args) + list(kwargs.values()) if isinstance(v, Tensor)]
    tensors += [t for v in list(args) if isinstance(v, (list, tuple)) for t in v if isinstance(t, Tensor)]
    try:
        return route(qualified, *tensors)
    except RuntimeError:
        return ""
