"""The op registry: every op the engine implements, with its torch schema,
dtypes and whether backward exists. Unimplemented ops are absent, never stubs.

Ops register with the `op` decorator, which also installs the public
function on the `engine` namespace (dotted names like "nn.functional.relu"
go to the matching submodule) and the Tensor method / in-place method.
The schemas come from torch's own `torch._C._jit_get_all_schemas()`, snapshot
in engine/op_schemas.json by `python -m ftorch_cli.tools.snapshot_schemas`.
"""
from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field
from typing import Callable, Optional

from engine import _dtype as dt

ALL = frozenset(d.name for d in dt.ALL_DTYPES)
FLOATING = frozenset(d.name for d in dt.FLOATING_DTYPES)
INTEGRAL = frozenset(d.name for d in dt.INTEGRAL_DTYPES)
INTEGRAL_AND_BOOL = INTEGRAL | {"bool"}
NUMERIC = FLOATING | INTEGRAL  # all but bool


@dataclass
class OpEntry:
    """One engine op, keyed by torch's public name as OpInfo spells it ("add", "nn.functional.relu")."""

    name: str
    function: Optional[Callable]
    method: Optional[str]
    inplace: Optional[str]
    dtypes: frozenset
    has_backward: bool
    aten: tuple
    family: str
    schemas: list = field(default_factory=list)


REGISTRY: dict = {}

_SCHEMA_FILE = pathlib.Path(__file__).with_name("op_schemas.json")
_schemas_cache = None


def _schemas_for(aten_names):
    global _schemas_cache
    if _schemas_cache is None:
        try:
            _schemas_cache = json.loads(_SCHEMA_FILE.read_text())["schemas"]
        except (OSError, ValueError, KeyError):
            _schemas_cache = {}
    out = []
    for name in aten_names:
        out.extend(_schemas_cache.get(name, []))
    return out


def op(name, *, dtypes=ALL, method=None, inplace=None, backward=False, aten=None, family="misc", public=True,
       fast=None):
    """Register a function as the engine op `name`.

    method / inplace: Tensor method names to install (True = same as the last
    name component, inplace True = that name + "_"); the in-place method is
    built by the caller and passed as a callable via `inplace_impl` on the
    function object, or registered separately with `tensor_method`.

    fast: fast(slow) -> the function to install, which handles the common call
    shape itself and hands every other call to slow (the op with autograd
    recording); see engine/_ops/_fast.py.
    """

    def decorate(fn):
        raw = fn
        short = name.rsplit(".", 1)[-1]
        fn = _with_autograd(name, fn, inplace if inplace is not True else name.rsplit(".", 1)[-1] + "_")
        # torch.nn.functional's ops are Python functions whose signatures are not their aten schemas:
        # their argument errors are Python's own, so only the meta routing applies to them
        fn = _with_binding(short, tuple(aten) if aten else (short,), fn, bind=not name.startswith("nn.functional."))
        if fast is not None:
            fn = _with_fast_path(raw, fn, fast)
        method_name = short if method is True else method
        inplace_name = (short + "_") if inplace is True else inplace
        entry = OpEntry(
            name=name,
            function=fn,
            method=method_name,
            inplace=inplace_name,
            dtypes=frozenset(dtypes),
            has_backward=hasattr(fn, "__wrapped_op__") or name in _rules(),
            aten=tuple(aten) if aten else (short,),
            family=family,
        )
        if name in REGISTRY:
            raise RuntimeError(f"op {name!r} registered twice")
        REGISTRY[name] = entry
        if public:
            _install_public(name, fn)
        if method_name:
            tensor_method(method_name)(fn)
        return fn

    return decorate


# ---- autograd hook-up: ops with a derivative rule are wrapped once, here, so every
# caller (public name, Tensor method, operator dunder, other ops) records the graph.
_WRAPPED: dict = {}        # id(raw function) -> wrapper
_INPLACE_RULES: dict = {}  # in-place method name -> rule of its op


def _rules():
    from engine.autograd.derivatives import RULES

    return RULES


def _rebind_module_global(raw, wrapped) -> None:
    import sys

    module = sys.modules.get(getattr(raw, "__module__", None))
    if module is not None:
        for key, value in list(vars(module).items()):
            if value is raw:
                setattr(module, key, wrapped)


def _with_autograd(name, fn, inplace_name):
    wrapped = _WRAPPED.get(id(fn))
    rule = _rules().get(name)
    if rule is not None and rule.backward is None:
        return wrapped or fn  # composite: differentiable through the ops it calls
    if rule is not None and inplace_name:
        _INPLACE_RULES.setdefault(inplace_name, rule)
    if wrapped is not None:
        return wrapped
    if rule is None:
        return fn
    from engine.autograd.recording import differentiable

    wrapped = differentiable(fn, rule)
    _WRAPPED[id(fn)] = wrapped
    _WRAPPED[id(wrapped)] = wrapped
    _rebind_module_global(fn, wrapped)
    return wrapped


def _with_inplace_autograd(name, fn):
    from engine.autograd.derivatives import INPLACE_RULES

    rule = _INPLACE_RULES.get(name) or INPLACE_RULES.get(name)
    if rule is None or hasattr(fn, "__wrapped_op__"):
        return fn
    wrapped = _WRAPPED.get(id(fn))
    if wrapped is None:
        from engine.autograd.recording import differentiable_inplace

        wrapped = differentiable_inplace(fn, rule)
        _WRAPPED[id(fn)] = wrapped
        _WRAPPED[id(wrapped)] = wrapped
        _rebind_module_global(fn, wrapped)
    return wrapped


def _with_binding(name, aten_names, fn, bind=True):
    """fn, with argument errors told as torch's Python argument parser tells them (engine/_schema.py).

    Nothing is bound through the schema model on the way in: only when fn raises does the
    model decide whether the call fits none of the op's schemas, and then the error is
    torch's TypeError (missing argument, unexpected keyword, too many positionals, wrong type)."""
    import functools

    from engine._schema import binding_error

    if hasattr(fn, "__binding_of__") or getattr(fn, "__fast_path__", False):  # a fast path binds in its slow path
        return fn
    if id(fn) in _BOUND:  # aliases (special.expit and sigmoid) stay one function
        return _BOUND[id(fn)]

    def bound(*args, **kwargs):
        if _META_STATE[0] and _meta().involved(args, kwargs):
            return _meta().run(name, fn, args, kwargs)
        try:
            return fn(*args, **kwargs)
        except _MetaRequested:  # a factory asked for device='meta' (engine/_meta.py)
            return _meta().run(name, fn, args, kwargs)
        except (TypeError, AttributeError, ValueError) as exc:
            if not bind:
                raise
            try:
                message = binding_error(name, aten_names, args, kwargs)
            except Exception:  # a schema the model cannot bind never hides the op's own error
                message = None
            if message is None:
                raise
            raise TypeError(message) from exc
        except (RuntimeError, IndexError, NotImplementedError) as exc:
            if not bind:
                raise
            # The op's own checks ran first; a call torch's parser would refuse outright (too many
            # positionals, an unknown keyword, a non-dtype dtype=) is still its TypeError. Type
            # failures of other arguments are left alone: ops call each other with Python numbers.
            try:
                message = binding_error(name, aten_names, args, kwargs)
            except Exception:
                message = None
            if message is None or not any(text in message for text in _PARSER_REFUSALS):
                raise
            raise TypeError(message) from exc

    functools.update_wrapper(bound, fn)
    bound.__binding_of__ = fn
    _BOUND[id(fn)] = bound
    _BOUND[id(bound)] = bound
    return bound


_BOUND: dict = {}  # id(function) -> its binding wrapper
_PARSER_REFUSALS = ("positional argument", "unexpected keyword argument", "argument 'dtype'", "must be Tensor, not str",
                    "must be Tensor, not list")

# The meta device (engine/_meta.py): calls look for meta tensors only once one exists.
_META_STATE = [False]


def _meta():
    from engine import _meta as module

    return module


class _MetaRequested(RuntimeError):
    """Base of engine._meta.MetaRequested (defined here so the registry need not import _meta)."""


# Tensor methods that handle meta tensors themselves (MetaTensor overrides them, or they read no data).
_META_SELF_HANDLED = frozenset({"to", "type", "cpu", "item", "tolist", "numpy", "requires_grad_", "retain_grad",
                                "backward", "register_hook", "size", "stride", "dim", "numel", "element_size"})


def _with_meta_guard(name, fn):
    """A Tensor method that is no op of the registry, run on the meta device when a meta tensor is involved."""
    import functools

    if name in _META_SELF_HANDLED or hasattr(fn, "__binding_of__") or hasattr(fn, "__meta_guard__") \
            or getattr(fn, "__fast_path__", False):
        return fn

    def guarded(*args, **kwargs):
        if _META_STATE[0] and _meta().involved(args, kwargs):
            return _meta().run(name, fn, args, kwargs)
        return fn(*args, **kwargs)

    functools.update_wrapper(guarded, fn)
    guarded.__meta_guard__ = fn
    return guarded


def _with_fast_path(raw, slow, fast):
    """Put fast(slow) wherever raw or slow would have gone (aliases, methods, module globals)."""
    import functools

    if _WRAPPED.get(id(raw)) is not None and getattr(_WRAPPED[id(raw)], "__fast_path__", False):
        return _WRAPPED[id(raw)]
    public = functools.update_wrapper(fast(slow), raw)
    public.__fast_path__ = True
    public.__slow_path__ = slow
    if hasattr(slow, "__wrapped_op__"):
        public.__wrapped_op__ = slow.__wrapped_op__
    for f in (raw, slow, public):
        _WRAPPED[id(f)] = public
    _rebind_module_global(raw, public)
    if slow is not raw:
        _rebind_module_global(slow, public)
    return public


def tensor_method(name, *, fast=None):
    """Install fn as Tensor.<name> (for methods that are not ops of their own);
    fast as for `op`."""

    def decorate(fn):
        from engine._tensor import Tensor

        raw = fn
        fn = _WRAPPED.get(id(fn), fn)
        fn = _with_inplace_autograd(name, fn)
        fn = _with_meta_guard(name, fn)
        if fast is not None:
            fn = _with_fast_path(raw, fn, fast)

        setattr(Tensor, name, fn)
        return fn

    return decorate


_PENDING_PUBLIC: list = []


def _install_public(name, fn):
    _PENDING_PUBLIC.append((name, fn))


def install_public_names(root_module) -> None:
    """Put registered functions on `engine` and its submodules (called once by engine/__init__)."""
    import importlib

    for name, fn in _PENDING_PUBLIC:
        parts = name.split(".")
        module = root_module
        for part in parts[:-1]:
            module = importlib.import_module(f"{module.__name__}.{part}")
        setattr(module, parts[-1], fn)
    _PENDING_PUBLIC.clear()


def schema_of(entry: OpEntry) -> list:
    if not entry.schemas:
        entry.schemas = _schemas_for(entry.aten)
    return entry.schemas
