"""`ftorch extract`: run torch on every packet's generators and record the case tables.

Each packet is generated in worker processes (oracle/extract_worker.py; OpInfo
packets split over several shards of ops), so op_db is only ever imported there
and the packets are generated side by side. Everything is checked (packet
fields, op and dtype names, worker results) before the first file is written;
each table and manifest is then replaced atomically.
"""
from __future__ import annotations

import datetime as dt
import json
import pickle
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ftorch_cli.errors import BadInputFile, FtorchError, NothingSelected, UsageError
from ftorch_cli.oracle.processes import worker_command, worker_environment
from ftorch_cli.environment import available_cpus, environment_fingerprint
from ftorch_cli.packets.model import Packet
from ftorch_cli.serialize.dtypes import DTYPES
from ftorch_cli.serialize.table import TABLE_NAME, write_case_table

WORKER_MODULE = "ftorch_cli.oracle.extract_worker"


@dataclass
class PacketExtraction:
    packet_id: str
    case_count: int
    table: str
    manifest: str
    sha256: str
    seconds: float
    sources: dict
    ops: int
    skipped: dict
    unresolved_ops: list = field(default_factory=list)

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class ExtractReport:
    packets: list[PacketExtraction]
    seconds: float
    notes: list[str]

    def to_json(self) -> dict:
        return {"packets": [p.to_json() for p in self.packets], "seconds": round(self.seconds, 3), "notes": self.notes}


@dataclass
class _Job:
    packet: Packet
    ops: list[str]
    shards: list[dict] = field(default_factory=list)  # worker requests


def engine_registry_names(module_name: str) -> tuple[list[str], Optional[str]]:
    """Op names the engine registers now, or ([], why not)."""
    from ftorch_cli.conform.engine_adapter import EngineUnavailable, load_engine, registry_of

    try:
        return sorted(registry_of(load_engine(module_name))), None
    except EngineUnavailable as exc:
        return [], str(exc)


def _selected_ops(packet: Packet, ops_filter: Optional[list[str]], registry: list[str]) -> list[str]:
    if ops_filter is not None:
        return list(ops_filter)
    names = list(packet.cases.ops)
    if packet.cases.include_engine_registry:
        names += [name for name in registry if name not in names]
    return names


def _shard(names: list[str], count: int) -> list[list[str]]:
    count = max(1, min(count, len(names)))
    return [names[index::count] for index in range(count)]


def _request(packet: Packet, ops: list[str], must_know: list[str], dtypes: list[str]) -> dict:
    caps = packet.cases.caps
    return {
        "packet_id": packet.id,
        "generator": packet.cases.generator,
        "ops": ops,
        "must_know": must_know,
        "dtypes": dtypes,
        "seed": packet.cases.seed,
        "special": packet.cases.special_values,
        # OpInfo samples of a float32 op may hold complex or bfloat16 tensors: outside the packet, not recorded
        "scope_dtypes": list(packet.cases.dtypes) if packet.cases.generator == "opinfo" else None,
        "caps": {key: list(value) if isinstance(value, tuple) else value for key, value in caps.__dict__.items()},
    }


def _run_workers(requests: list[dict], folder: Path) -> list[dict]:
    """Start every worker at once, wait for all, return their results in request order."""
    processes = []
    for index, request in enumerate(requests):
        request_path, result_path = folder / f"request-{index}.json", folder / f"result-{index}.pickle"
        request_path.write_text(json.dumps(request), encoding="utf-8")
        log = open(folder / f"worker-{index}.log", "w+b")
        process = subprocess.Popen(
            worker_command(WORKER_MODULE, str(request_path), str(result_path)),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=worker_environment(),
        )
        processes.append((process, result_path, log, request))
    results = []
    for process, result_path, log, request in processes:
        status = process.wait()
        log.seek(0)
        output = log.read().decode("utf-8", "replace")
        log.close()
        if status != 0 or not result_path.exists():
            tail = " | ".join(line for line in output.strip().splitlines()[-3:])
            raise FtorchError(f"extraction worker for {request['packet_id']} failed (exit {status}): {tail}")
        with open(result_path, "rb") as handle:
            results.append(pickle.load(handle))
    return results


def extract_packets(
    packets: list[Packet],
    *,
    ops_filter: Optional[list[str]] = None,
    dtypes_filter: Optional[list[str]] = None,
    engine_module: str = "engine",
    jobs: Optional[int] = None,
    progress: Callable[[str], None] = lambda message: None,
) -> ExtractReport:
    started = time.perf_counter()
    notes: list[str] = []
    for name in dtypes_filter or ():
        if name not in DTYPES:
            raise UsageError(f"unknown dtype {name!r} (known: {', '.join(DTYPES)})")
    registry: list[str] = []
    if any(packet.cases.include_engine_registry for packet in packets) and ops_filter is None:
        registry, problem = engine_registry_names(engine_module)
        if problem:
            notes.append(f"engine registry not read ({problem}); harvesting the packet's own op list")
    shards = jobs or available_cpus()
    planned: list[_Job] = []
    for packet in packets:
        ops = _selected_ops(packet, ops_filter, registry)
        if not ops:
            continue
        dtypes = list(dtypes_filter or packet.cases.dtypes)
        must_know = [name for name in packet.cases.ops if name in ops]
        job = _Job(packet, ops)
        # OpInfo cases are split over several workers by op; the autograd cases take a few seconds
        # beyond op_db's import, so one worker costs least when every packet is extracted at once.
        parts = _shard(ops, shards) if packet.cases.generator in ("opinfo", "devices") else [ops]
        job.shards = [_request(packet, part, [n for n in must_know if n in part], dtypes) for part in parts]
        planned.append(job)
    if not planned:
        raise NothingSelected("no packet has an op to extract")
    for job in planned:
        progress(f"{job.packet.id}: {job.packet.cases.generator} cases for {len(job.ops)} ops in {len(job.shards)} worker(s)")
    requests = [request for job in planned for request in job.shards]
    with tempfile.TemporaryDirectory(prefix="ftorch-extract-") as folder:
        results = _run_workers(requests, Path(folder))
    # Everything is checked before anything is written.
    by_job, cursor = [], 0
    for job in planned:
        by_job.append(results[cursor: cursor + len(job.shards)])
        cursor += len(job.shards)
    _check_names(planned, by_job, ops_filter)
    outputs = []
    for job, job_results in zip(planned, by_job):
        rows = sorted((row for result in job_results for row in result["rows"]), key=lambda row: row["case_id"])
        if not rows:
            notes.append(f"{job.packet.id}: the selected ops produced no cases; its table was left as it was")
            continue
        outputs.append(_write(job, job_results, rows, ops_filter, registry, started))
        progress(f"{job.packet.id}: {outputs[-1].case_count} cases -> {outputs[-1].table}")
    if not outputs:
        raise NothingSelected("the selected ops produced no cases")
    return ExtractReport(outputs, time.perf_counter() - started, notes)


def _check_names(planned: list[_Job], by_job: list[list[dict]], ops_filter: Optional[list[str]]) -> None:
    for job, job_results in zip(planned, by_job):
        unknown_required = sorted({name for result in job_results for name in result["report"].get("unknown_required", [])})
        if unknown_required:
            raise BadInputFile(job.packet.toml_path, f"cases.ops: unknown op {unknown_required[0]!r} (torch's op_db has no such op)")
    if ops_filter is not None:
        unknown_everywhere = set(ops_filter)
        for job_results in by_job:
            for result in job_results:
                known_here = set(result["report"].get("ops_requested", [])) - set(result["report"].get("unknown_ops", []))
                unknown_everywhere -= known_here
        if unknown_everywhere:
            packet_ids = ", ".join(job.packet.id for job in planned)
            raise UsageError(f"unknown op {sorted(unknown_everywhere)[0]!r}: no selected packet ({packet_ids}) knows it")


def _write(job: _Job, job_results: list[dict], rows: list[dict], ops_filter, registry, started) -> PacketExtraction:
    packet = job.packet
    reports = [result["report"] for result in job_results]
    environment = environment_fingerprint()
    environment.update(reports[0]["environment"])
    sources: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for row in rows:
        sources[row["source"]] = sources.get(row["source"], 0) + 1
    for report in reports:
        for reason, count in report["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + count
    op_db_ops = next((report["op_db_ops"] for report in reports if report.get("op_db_ops")), None)
    op_db_families = next((report["op_db_families"] for report in reports if report.get("op_db_families")), None)
    # Per op_db name, what OpInfo says of autograd (autograd packets); conform needs it without torch.
    autograd_support = {key: next((report[key] for report in reports if report.get(key)), None)
                        for key in ("differentiable_ops", "gradgrad_ops")}
    program_ops = sorted({name for report in reports for name in report.get("program_ops", [])})
    unresolved = sorted({name for report in reports for name in report.get("unresolved_ops", [])})
    seconds = time.perf_counter() - started
    provenance = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "generator": packet.cases.generator,
        "seed": packet.cases.seed,
        "torch_version": environment["torch_version"],
        "numpy_version": environment["numpy_version"],
        "python_version": environment["python_version"],
        "cpu": environment["cpu"],
        "threads": environment["threads"],
        "environment": environment,
        "ops_requested": job.ops,
        "ops_filter": ops_filter,
        "dtypes": job.shards[0]["dtypes"],
        "caps": job.shards[0]["caps"],
        "case_sources": sources,
        "case_ops": sorted({row["op"] for row in rows}),
        "skipped_specs": skipped,
        "unresolved_ops": unresolved,
        "engine_registry_ops": registry,
        "op_db_ops": op_db_ops,
        "op_db_families": op_db_families,
        "extract_seconds": round(seconds, 3),
    }
    if packet.cases.generator == "autograd":
        provenance.update(autograd_support, program_ops=program_ops)
    if packet.cases.generator in ("serialization", "optim", "modules"):  # program families, no registry ops
        provenance.update(program_ops=program_ops)
    manifest = write_case_table(packet.directory, packet.id, rows, provenance)
    return PacketExtraction(
        packet_id=packet.id,
        case_count=len(rows),
        table=str(packet.directory / TABLE_NAME),
        manifest=str(packet.directory / "manifest.json"),
        sha256=manifest["sha256"],
        seconds=round(seconds, 3),
        sources=sources,
        ops=len(provenance["case_ops"]),
        skipped=skipped,
        unresolved_ops=unresolved,
    )
