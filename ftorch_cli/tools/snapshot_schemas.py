"""Snapshot torch's operator schemas for the ops the engine registers.

The engine must not import torch, so the schema strings of its ops (from
`torch._C._jit_get_all_schemas()`) are stored in engine/op_schemas.json, with
the torch version they came from. Run after registering new ops:

    python -m ftorch_cli.tools.snapshot_schemas
"""
from __future__ import annotations

import json
import pathlib

from ftorch_cli.atomic import atomic_write_bytes

TARGET = pathlib.Path(__file__).resolve().parents[2] / "engine" / "op_schemas.json"


def collect(aten_names) -> dict:
    import torch

    wanted = set(aten_names)
    schemas: dict = {}
    for schema in torch._C._jit_get_all_schemas():
        name = schema.name
        if not name.startswith("aten::"):
            continue
        short = name[len("aten::"):]
        if short in wanted:
            schemas.setdefault(short, []).append(str(schema))
    return {"torch_version": torch.__version__, "schemas": {k: sorted(v) for k, v in sorted(schemas.items())},
            "registrations": registrations(torch, schemas)}


# Keys whose direct registrations decide routing beyond what a schema says (engine/_dispatch.py):
# CompositeImplicitAutograd ops have no kernel of their own at ADInplaceOrView or the backend keys,
# BackendSelect kernels pick the backend of factories, ADInplaceOrView kernels handle views and writes.
REGISTRATION_KEYS = ("CompositeImplicitAutograd", "BackendSelect", "ADInplaceOrView", "CPU", "CompositeExplicitAutograd",
                     "Autograd")


def registrations(torch, schemas: dict) -> dict:
    """aten::name.overload -> the REGISTRATION_KEYS torch registers a kernel for directly."""
    table: dict = {}
    for texts in schemas.values():
        for text in texts:
            qualified = text.split("(", 1)[0]
            keys = [key for key in REGISTRATION_KEYS if _has_kernel(torch, qualified, key)]
            table[qualified] = keys
    return dict(sorted(table.items()))


def _has_kernel(torch, qualified: str, key: str) -> bool:
    try:
        return bool(torch._C._dispatch_has_kernel_for_dispatch_key(qualified, key))
    except RuntimeError:
        return False


def main() -> None:
    from engine._registry import REGISTRY

    names = {a for entry in REGISTRY.values() for a in entry.aten}
    payload = collect(names)
    atomic_write_bytes(TARGET, (json.dumps(payload, indent=1, sort_keys=True) + "\n").encode())
    missing = sorted(names - set(payload["schemas"]))
    print(f"wrote {len(payload['schemas'])} ops' schemas to {TARGET}")
    if missing:
        print("no aten schema for:", ", ".join(missing))


if __name__ == "__main__":
    main()
