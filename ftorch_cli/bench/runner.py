"""`ftorch bench`: time the engine and torch on the same workloads, in one process, interleaved.

Per workload: build the program in both libraries from the same numpy data, run
each once and compare the results (a wrong answer gets no speed claim), then for
each thread count time both sides (bench.timing) and decide the row's status:

- ok: timed on both, op green in the latest conformance run, result matches torch;
- not-conformant: timed, but no speed claim (op not green, or the result differs);
- unsupported: the engine lacks an op, dtype or backward (torch is still timed);
- error: something raised that is not a missing feature.
"""
from __future__ import annotations

import datetime as dt
import gc
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ftorch_cli.bench import machine as machine_info
from ftorch_cli.bench.baseline import Comparison, compare_runs
from ftorch_cli.bench.conformance import ConformanceEvidence, load_evidence
from ftorch_cli.bench.program import UNSUPPORTED_ERRORS, Unsupported, bind, check_registry, make_arrays, result_difference, to_numpy
from ftorch_cli.bench.results import ARROW_FILE, STATUSES, BenchRow, StoredRun, read_run, write_run
from ftorch_cli.bench.stats import geometric_mean, ratio
from ftorch_cli.bench.timing import SETTLE_SECONDS, Budget, measure
from ftorch_cli.bench.workloads import Catalog, Workload, load_catalog
from ftorch_cli.conform import engine_adapter
from ftorch_cli.conform.results import new_run_id
from ftorch_cli.environment import available_cpus
from ftorch_cli.errors import NothingSelected, UsageError


@dataclass
class BenchOptions:
    suites: Optional[list[str]] = None
    workload_patterns: Optional[list[str]] = None
    threads: Optional[list[int]] = None  # default: 1 and all available cores
    budget: Budget = field(default_factory=Budget)
    artifacts_root: Optional[Path] = None  # default: artifacts/ beside packets/
    conform_run: Optional[Path] = None
    baseline: Optional[Path] = None
    workloads_file: Optional[Path] = None
    engine_module: str = "engine"


@dataclass
class BenchRun:
    run_id: str
    folder: Path
    arrow_path: Path
    summary_path: Path
    rows: list[BenchRow]
    summary: dict
    comparison: Optional[Comparison]


def default_threads() -> list[int]:
    return sorted({1, available_cpus()})


def artifacts_root(explicit: Optional[Path]) -> Path:
    if explicit is not None:
        return explicit
    from ftorch_cli.packets.discovery import packets_root, project_root

    return project_root(packets_root()) / "artifacts"


def plan(options: BenchOptions) -> tuple[Catalog, list[tuple[Workload, list[int]]]]:
    """The workloads to run and the thread counts for each; usage errors surface here, before any timing."""
    catalog = load_catalog(options.workloads_file)
    workloads = catalog.select(options.suites, options.workload_patterns)
    threads = sorted(set(options.threads or default_threads()))
    if any(count < 1 for count in threads):
        raise UsageError("--threads must be at least 1")
    planned = [(workload, _threads_for(workload, threads)) for workload in workloads]
    planned = [(workload, counts) for workload, counts in planned if counts]
    if not planned:
        raise NothingSelected(f"no selected workload runs at {', '.join(map(str, threads))} thread(s)")
    return catalog, planned


def _threads_for(workload: Workload, threads: list[int]) -> list[int]:
    if workload.threads is None:
        return threads
    allowed = {available_cpus() if value == "all" else int(value) for value in workload.threads}
    return [count for count in threads if count in allowed]


def run_bench(options: BenchOptions, progress: Callable[[BenchRow], None] = lambda row: None) -> BenchRun:
    _, planned = plan(options)
    baseline: Optional[StoredRun] = read_run(options.baseline) if options.baseline is not None else None
    root = artifacts_root(options.artifacts_root)
    evidence = load_evidence(root / "conform", options.conform_run)

    import torch

    engine = engine_adapter.load_engine(options.engine_module)
    registry = engine_adapter.registry_of(engine)
    machine = machine_info.machine_record(torch, engine)
    run_id = new_run_id()
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    notes = [machine_info.busy_note(machine, "at the start")]
    rows: list[BenchRow] = []
    with machine_info.threads_restored(torch, engine):
        for workload, thread_counts in planned:
            for row in _run_workload(workload, thread_counts, torch, engine, registry, evidence, options.budget):
                rows.append(row)
                progress(row)
    notes.append(machine_info.busy_note(machine, "at the end"))

    comparison = compare_runs(rows, baseline, machine) if baseline is not None else None
    notes.extend(comparison.notes if comparison else [])
    folder = root / "bench" / run_id
    summary = _summary(run_id, folder, rows, options, machine, evidence, comparison, started_at, time.perf_counter() - started)
    summary["notes"] = [note for note in notes if note]
    arrow_path, summary_path = write_run(folder, rows, summary, machine)
    return BenchRun(run_id, folder, arrow_path, summary_path, rows, summary, comparison)


def _run_workload(workload: Workload, thread_counts: list[int], torch, engine, registry, evidence, budget) -> list[BenchRow]:
    def row(threads: int, status: str, message: str) -> BenchRow:
        return BenchRow(workload.suite, workload.name, workload.op, workload.dtype, workload.shape, threads, workload.program, status, message)

    gc.collect()
    arrays = make_arrays(workload)
    try:
        torch_program = bind(workload, torch, arrays)
        torch_result = to_numpy(torch_program.once())
    except Exception as exc:  # the workload itself is wrong: torch must run every workload
        return [row(threads, "error", f"torch: {type(exc).__name__}: {exc}") for threads in thread_counts]

    engine_program, status, message = _prepare_engine(workload, engine, registry, arrays, torch_result, evidence)
    del arrays

    rows = []
    for threads in thread_counts:
        current = row(threads, status, message)
        current.torch_threads, current.engine_threads = machine_info.set_threads(torch, engine, threads)
        batches = {"torch": torch_program.batch}
        if engine_program is not None:
            batches = {"engine": engine_program.batch, **batches}
        try:
            timed = measure(batches, budget, settle=SETTLE_SECONDS if threads > 1 else 0.0)
        except Exception as exc:
            current.status, current.message = "error", f"while timing: {type(exc).__name__}: {exc}"
        else:
            current.engine, current.torch = timed.get("engine"), timed["torch"]
            current.measured_ratio = ratio(current.engine, current.torch)
            current.ratio = current.measured_ratio if current.status == "ok" else None
        rows.append(current)
    return rows


def _prepare_engine(workload: Workload, engine, registry, arrays, torch_result, evidence: ConformanceEvidence):
    """(the engine's program or None, the rows' status, why): runs it once and checks its result."""
    try:
        check_registry(workload, registry)
        program = bind(workload, engine, arrays)
        difference = result_difference(to_numpy(program.once()), torch_result)
    except Unsupported as exc:
        return None, "unsupported", str(exc)
    except UNSUPPORTED_ERRORS as exc:
        return None, "unsupported", f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        return None, "error", f"engine: {type(exc).__name__}: {exc}"
    if difference:
        return program, "not-conformant", f"on this workload's input: {difference}"
    not_green = evidence.not_green(workload.ops, workload.dtype)
    return program, ("not-conformant" if not_green else "ok"), not_green or ""


def _summary(run_id, folder, rows, options, machine, evidence: ConformanceEvidence, comparison, started_at, seconds) -> dict:
    counts = {status: sum(row.status == status for row in rows) for status in STATUSES}
    claimed = [row.ratio for row in rows if row.ratio is not None]
    return {
        "format": "ftorch-bench-summary/1",
        "run_id": run_id,
        "folder": str(folder),
        "bench_arrow": str(folder / ARROW_FILE),
        "started": started_at,
        "seconds": round(seconds, 3),
        "options": {
            "suites": options.suites,
            "workloads": options.workload_patterns,
            "threads": sorted({row.threads for row in rows}),
            "min_time": options.budget.min_time,
            "samples": options.budget.samples,
            "workloads_file": str(options.workloads_file) if options.workloads_file else None,
        },
        "machine": machine,
        "conformance": evidence.to_dict(),
        "counts": counts,
        "claims": {
            "rows": len(claimed),
            "engine_faster": sum(value < 1 for value in claimed),
            "engine_slower": sum(value >= 1 for value in claimed),
            "geomean_ratio": geometric_mean(claimed),
        },
        "baseline": comparison.to_dict() if comparison else None,
        "results": [row.summary() for row in rows],
    }
