"""The few `torch._C` functions the engine mirrors on its own `engine._C` (the kernel module),
so one program text runs unchanged against `lib = torch` and `lib = engine`:
`parse_schema` (engine/_schema.py)."""
from __future__ import annotations

import sys

from engine._kernel import _c as C
from engine._schema import parse_schema

C.parse_schema = parse_schema

_engine = sys.modules["engine"]
if getattr(_engine, "_C", None) is not C:
    _engine._C = C
