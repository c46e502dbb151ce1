"""The recorded case table: `cases.arrow` (Arrow IPC file) and its `manifest.json`.

One row per case (columns in CASE_SCHEMA; docs/packets.md explains each). The
manifest carries provenance (torch/numpy/python versions, CPU, threads, seed),
the case count and the table's sha256. Reading checks the manifest, the sha256,
the Arrow framing, the schema and the count, and turns any problem into one
BadInputFile naming the file.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa

from ftorch_cli.atomic import atomic_write_bytes
from ftorch_cli.errors import BadInputFile

TABLE_NAME = "cases.arrow"
MANIFEST_NAME = "manifest.json"
FORMAT = "ftorch-cases/1"

CASE_SCHEMA = pa.schema(
    [
        pa.field("packet_id", pa.string(), nullable=False),
        pa.field("case_id", pa.string(), nullable=False),
        pa.field("op", pa.string(), nullable=False),
        pa.field("variant_name", pa.string(), nullable=False),
        pa.field("dtype", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("label", pa.string(), nullable=False),
        pa.field("call", pa.string(), nullable=False),
        pa.field("inputs", pa.string(), nullable=False),
        pa.field("expected", pa.string(), nullable=False),
        pa.field("storages", pa.list_(pa.large_binary()), nullable=False),
        pa.field("atol", pa.float64()),
        pa.field("rtol", pa.float64()),
        pa.field("tolerance_source", pa.string(), nullable=False),
        pa.field("checks", pa.string(), nullable=False),
    ],
    metadata={"format": FORMAT},
)

JSON_COLUMNS = ("call", "inputs", "expected", "checks")


@dataclass
class CaseTable:
    packet_id: str
    path: Path
    manifest: dict
    rows: list[dict]  # JSON columns already parsed


def table_paths(packet_dir: Path) -> tuple[Path, Path]:
    return packet_dir / TABLE_NAME, packet_dir / MANIFEST_NAME


def encode_table(rows: Iterable[dict]) -> bytes:
    """Rows (JSON columns as Python objects) -> Arrow IPC file bytes."""
    columns: dict[str, list] = {field.name: [] for field in CASE_SCHEMA}
    for row in rows:
        for name, values in columns.items():
            value = row.get(name)
            if name in JSON_COLUMNS:
                value = json.dumps(value, separators=(",", ":"), allow_nan=False)
            elif value is None and name not in ("atol", "rtol"):
                value = ""
            values.append(value)
    table = pa.Table.from_pydict(columns, schema=CASE_SCHEMA)
    sink = pa.BufferOutputStream()
    compression = "zstd" if pa.Codec.is_available("zstd") else None
    with pa.ipc.new_file(sink, CASE_SCHEMA, options=pa.ipc.IpcWriteOptions(compression=compression)) as writer:
        writer.write_table(table, max_chunksize=512)
    return sink.getvalue().to_pybytes()


def write_case_table(packet_dir: Path, packet_id: str, rows: list[dict], provenance: dict[str, Any]) -> dict:
    """Write cases.arrow then manifest.json, each atomically; return the manifest."""
    data = encode_table(rows)
    manifest = {
        "format": FORMAT,
        "packet_id": packet_id,
        "table": TABLE_NAME,
        "case_count": len(rows),
        "sha256": hashlib.sha256(data).hexdigest(),
        "table_bytes": len(data),
        **provenance,
    }
    table_path, manifest_path = table_paths(packet_dir)
    atomic_write_bytes(table_path, data)
    atomic_write_bytes(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest


def read_manifest(packet_dir: Path, packet_id: str) -> dict:
    table_path, manifest_path = table_paths(packet_dir)
    if not manifest_path.exists():
        hint = f"run `ftorch extract --packet {packet_id}` first"
        raise BadInputFile(manifest_path, f"no recorded cases for {packet_id} ({hint})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputFile(manifest_path, f"not a readable JSON manifest ({exc})") from None
    required = {"format": str, "packet_id": str, "case_count": int, "sha256": str}
    for key, kind in required.items():
        if not isinstance(manifest, dict) or not isinstance(manifest.get(key), kind):
            raise BadInputFile(manifest_path, f"manifest field {key!r} is missing or not a {kind.__name__}")
    if manifest["format"] != FORMAT:
        raise BadInputFile(manifest_path, f"format {manifest['format']!r} is not {FORMAT!r}; re-run ftorch extract")
    if manifest["packet_id"] != packet_id:
        raise BadInputFile(manifest_path, f"manifest is for {manifest['packet_id']}, expected {packet_id}")
    return manifest


def read_case_table(packet_dir: Path, packet_id: str) -> CaseTable:
    manifest = read_manifest(packet_dir, packet_id)
    table_path, _ = table_paths(packet_dir)
    try:
        data = table_path.read_bytes()
    except FileNotFoundError:
        raise BadInputFile(table_path, f"missing (the manifest lists it); re-run `ftorch extract --packet {packet_id}`") from None
    except OSError as exc:
        raise BadInputFile(table_path, f"cannot be read ({exc.strerror})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest["sha256"]:
        raise BadInputFile(
            table_path,
            f"sha256 {digest[:12]}… does not match the manifest's {manifest['sha256'][:12]}… "
            f"({len(data)} bytes; truncated or corrupted) — re-run `ftorch extract --packet {packet_id}`",
        )
    try:
        table = pa.ipc.open_file(pa.BufferReader(data)).read_all()
    except (pa.ArrowException, OSError) as exc:
        raise BadInputFile(table_path, f"not a readable Arrow IPC file ({exc})") from None
    if not table.schema.remove_metadata().equals(CASE_SCHEMA.remove_metadata()):
        raise BadInputFile(table_path, f"columns do not match the case schema ({FORMAT}); re-run ftorch extract")
    if table.num_rows != manifest["case_count"]:
        raise BadInputFile(table_path, f"holds {table.num_rows} cases, the manifest says {manifest['case_count']}")
    rows = table.to_pylist()
    for row in rows:
        if row["packet_id"] != packet_id:
            raise BadInputFile(table_path, f"case {row['case_id']} belongs to {row['packet_id']}, not {packet_id}")
        try:
            for name in JSON_COLUMNS:
                row[name] = json.loads(row[name])
        except json.JSONDecodeError as exc:
            raise BadInputFile(table_path, f"case {row['case_id']}: column {name!r} is not JSON ({exc})") from None
    return CaseTable(packet_id, table_path, manifest, rows)
