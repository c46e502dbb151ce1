"""The outputs of a conformance run: `results.arrow` and `summary.json`.

results.arrow has one row per case and mode; the first eleven columns are the
ones DESIGN.md fixes, the rest help reading failures and live runs.
"""
from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path

import pyarrow as pa

from ftorch_cli.atomic import atomic_write_bytes

RESULT_SCHEMA = pa.schema(
    [
        pa.field("packet_id", pa.string(), nullable=False),
        pa.field("case_id", pa.string(), nullable=False),
        pa.field("op", pa.string(), nullable=False),
        pa.field("dtype", pa.string(), nullable=False),
        pa.field("mode", pa.string(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("reason_code", pa.string(), nullable=False),
        pa.field("max_abs_err", pa.float64()),
        pa.field("max_ulp", pa.float64()),
        pa.field("message", pa.string(), nullable=False),
        pa.field("engine_ns", pa.int64()),
        # beyond DESIGN.md's minimum
        pa.field("source", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("variant_name", pa.string(), nullable=False),
        pa.field("detail", pa.string(), nullable=False),
        pa.field("live_outcome", pa.string()),
        pa.field("live_reason", pa.string()),
        pa.field("live_message", pa.string()),
        # checks judged apart from the outcome (autograd cases) and the known gap that excuses a failure
        pa.field("grad_fn_outcome", pa.string()),
        pa.field("grad_fn_message", pa.string()),
        pa.field("gradcheck_outcome", pa.string()),
        pa.field("gradcheck_reason", pa.string()),
        pa.field("gradcheck_message", pa.string()),
        pa.field("known_gap", pa.string()),
        # FT-P2C-002: the dispatch key whose kernel the engine's model says ran (function and method cases)
        pa.field("dispatch_key", pa.string()),
    ],
    metadata={"format": "ftorch-results/1"},
)


def new_run_id() -> str:
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


def results_table_bytes(rows: list[dict]) -> bytes:
    columns = {field.name: [row.get(field.name) for row in rows] for field in RESULT_SCHEMA}
    table = pa.Table.from_pydict(columns, schema=RESULT_SCHEMA)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, RESULT_SCHEMA) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def write_run(folder: Path, rows: list[dict], summary: dict, mark_latest: bool = True) -> tuple[Path, Path]:
    """Write the run's files; `mark_latest` also points artifacts/conform/latest at it (full runs only,
    so evidence readers such as `ftorch bench` never take a filtered run for the whole picture)."""
    folder.mkdir(parents=True, exist_ok=True)
    results_path, summary_path = folder / "results.arrow", folder / "summary.json"
    atomic_write_bytes(results_path, results_table_bytes(rows))
    atomic_write_bytes(summary_path, (json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n").encode())
    if mark_latest:
        atomic_write_bytes(folder.parent / "latest", (folder.name + "\n").encode())
    return results_path, summary_path


def read_results(path: Path) -> pa.Table:
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all()
