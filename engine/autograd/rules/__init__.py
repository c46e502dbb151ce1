"""Derivative rules of the op families added after the core, one module per
family (indexing, shape, nn, linalg, ...). They register into the same table,
engine.autograd.derivatives.RULES, with the same `rule` / `composite`
decorators; derivatives.py imports every module here once, at its end, so a
family's rules are known before its ops register."""
from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
