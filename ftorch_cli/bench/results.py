"""The outputs of a bench run: `bench.arrow` (one row per workload and thread count) and `summary.json`.

Times are per call in nanoseconds. `ratio` is the claimed engine/torch ratio of
medians and is set only for status `ok`; `measured_ratio` is what was measured
whatever the status, for engineers, never for claims.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Optional

import pyarrow as pa

from ftorch_cli.atomic import atomic_write_bytes
from ftorch_cli.bench.stats import SideStats
from ftorch_cli.errors import BadInputFile

FORMAT = "ftorch-bench/1"
ARROW_FILE = "bench.arrow"
SUMMARY_FILE = "summary.json"
STATUSES = ("ok", "not-conformant", "unsupported", "error")
SIDES = ("engine", "torch")


def _side_fields(side: str) -> list[pa.Field]:
    return [
        pa.field(f"{side}_median_ns", pa.float64()),
        pa.field(f"{side}_iqr_ns", pa.float64()),
        pa.field(f"{side}_min_ns", pa.float64()),
        pa.field(f"{side}_samples", pa.int32()),
        pa.field(f"{side}_calls_per_sample", pa.int64()),
    ]


BENCH_SCHEMA = pa.schema(
    [
        pa.field("suite", pa.string(), nullable=False),
        pa.field("workload", pa.string(), nullable=False),
        pa.field("op", pa.string(), nullable=False),
        pa.field("dtype", pa.string(), nullable=False),
        pa.field("shape", pa.string(), nullable=False),
        pa.field("threads", pa.int32(), nullable=False),
        pa.field("torch_threads", pa.int32()),
        pa.field("engine_threads", pa.int32()),
        *_side_fields("engine"),
        *_side_fields("torch"),
        pa.field("ratio", pa.float64()),
        pa.field("measured_ratio", pa.float64()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("message", pa.string(), nullable=False),
        pa.field("program", pa.string(), nullable=False),
    ]
)


@dataclass
class BenchRow:
    suite: str
    workload: str
    op: str
    dtype: str
    shape: str
    threads: int
    program: str
    status: str = "ok"
    message: str = ""
    torch_threads: Optional[int] = None
    engine_threads: Optional[int] = None
    engine: Optional[SideStats] = None
    torch: Optional[SideStats] = None
    ratio: Optional[float] = None
    measured_ratio: Optional[float] = None

    def to_record(self) -> dict:
        record = {field.name: getattr(self, field.name) for field in fields(self) if field.name not in SIDES}
        for side in SIDES:
            stats: Optional[SideStats] = getattr(self, side)
            for key in ("median_ns", "iqr_ns", "min_ns", "samples", "calls_per_sample"):
                record[f"{side}_{key}"] = getattr(stats, key) if stats else None
        return record

    @classmethod
    def from_record(cls, record: dict) -> "BenchRow":
        sides = {}
        for side in SIDES:
            values = {key: record.get(f"{side}_{key}") for key in ("median_ns", "iqr_ns", "min_ns", "samples", "calls_per_sample")}
            sides[side] = SideStats(**values) if values["median_ns"] is not None else None
        plain = {field.name: record.get(field.name) for field in fields(cls) if field.name not in SIDES}
        return cls(**plain, **sides)

    def summary(self) -> dict:
        """The row as summary.json lists it."""
        record = self.to_record()
        del record["program"]
        return record


def write_run(folder: Path, rows: list[BenchRow], summary: dict, machine: dict) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    arrow_path, summary_path = folder / ARROW_FILE, folder / SUMMARY_FILE
    metadata = {"format": FORMAT, "run_id": summary["run_id"], "machine": json.dumps(machine, sort_keys=True, default=str)}
    schema = BENCH_SCHEMA.with_metadata(metadata)
    records = [row.to_record() for row in rows]
    table = pa.Table.from_pylist(records, schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, schema) as writer:
        writer.write_table(table)
    atomic_write_bytes(arrow_path, sink.getvalue().to_pybytes())
    atomic_write_bytes(summary_path, (json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n").encode())
    return arrow_path, summary_path


@dataclass
class StoredRun:
    run_id: str
    path: Path
    rows: list[BenchRow]
    machine: dict


def read_run(path: Path) -> StoredRun:
    """An earlier run, from its folder or its bench.arrow; anything unreadable is a usage error."""
    path = Path(path)
    arrow_path = path / ARROW_FILE if path.is_dir() else path
    if not arrow_path.is_file():
        raise BadInputFile(path, f"not a bench run folder or its {ARROW_FILE}")
    try:
        table = pa.ipc.open_file(pa.memory_map(str(arrow_path))).read_all()
    except (OSError, pa.ArrowException) as exc:
        raise BadInputFile(arrow_path, f"not a readable Arrow IPC file ({exc})") from None
    metadata = {key.decode(): value.decode() for key, value in (table.schema.metadata or {}).items()}
    if metadata.get("format") != FORMAT:
        raise BadInputFile(arrow_path, f"not an ftorch bench table (format {metadata.get('format')!r}, expected {FORMAT!r})")
    missing = [name for name in BENCH_SCHEMA.names if name not in table.column_names]
    if missing:
        raise BadInputFile(arrow_path, f"bench table lacks column(s) {', '.join(missing)}")
    try:
        machine = json.loads(metadata.get("machine", "{}"))
    except ValueError:
        machine = {}
    rows = [BenchRow.from_record(record) for record in table.to_pylist()]
    return StoredRun(metadata.get("run_id", arrow_path.parent.name), arrow_path, rows, machine)
