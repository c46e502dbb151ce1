"""The few `torch._C` functions the engine mirrors on its own `engine._C` (the kernel module),
so one program text runs unchanged against `lib = torch` and `lib = engine`:
`parse_schema` (engine/_schema.py) and the dispatch-key queries (engine/_dispatch.py)."""
from __future__ import annotations

import sys

from engine._kernel import _c as C
from engine import _dispatch
from engine._schema import parse_schema

C.parse_schema = parse_schema
C.DispatchKey = _dispatch.DispatchKey
C.DispatchKeySet = _dispatch.DispatchKeySet
C._dispatch_keys = _dispatch.dispatch_keys
C._dispatch_keyset_full = _dispatch.keyset_full
C._dispatch_tls_local_include_set = _dispatch.tls_local_include_set
C._dispatch_tls_local_exclude_set = _dispatch.tls_local_exclude_set
C._dispatch_tls_is_dispatch_key_excluded = _dispatch.tls_is_dispatch_key_excluded
C._dispatch_tls_is_dispatch_key_included = _dispatch.tls_is_dispatch_key_included
C._dispatch_has_kernel_for_dispatch_key = _dispatch.has_kernel_for_dispatch_key
C._dispatch_has_computed_kernel_for_dispatch_key = _dispatch.has_computed_kernel_for_dispatch_key
C._dispatch_kernel_for_dispatch_key_is_fallthrough = _dispatch.kernel_for_dispatch_key_is_fallthrough
C._dispatch_dump_table = _dispatch.dump_table

_engine = sys.modules["engine"]
if getattr(_engine, "_C", None) is not C:
    _engine._C = C
