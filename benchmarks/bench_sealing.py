"""Throughput of seal / verify / repair next to raw raptorq encoding, measured in the same run.

    python benchmarks/bench_sealing.py [--sizes-mb 10,200] [--overheads 5,10,25] [--repeats 3] [--dir DIR]

For each file size and overhead it measures, in MB of the sealed file (1 MB = 10^6 bytes):
- raw encode: `Encoder.with_defaults(segment, T).get_encoded_packets(R)` over the same
  segments (same T, K and R as sealing), timing only those calls, in fresh processes:
  "plain" with glibc's default malloc settings, "tuned" with the settings the seal
  workers use (parallel.keep_freed_memory); "/cpu" columns are MB per CPU-second
  (throughput per core used, robust on a shared machine), "raw tuned x2" is the
  wall-clock MB/s of two such processes at once (what two cores give raw raptorq here);
- seal: `seal_paths` on the file with two worker processes, including the whole-file
  sha256, symbol digests, the decode proof, the sidecar write (fsync) and the manifest:
  wall-clock MB/s, and MB per CPU-second of this process plus its workers; "vs"
  columns divide seal/cpu by raw/cpu (the goal: >= 0.8);
- verify (intact file), and verify / repair of a file with a zeroed range of 80% of
  the budget (repair includes the atomic write, read-back and fsync): wall-clock MB/s.
Each figure is the median of --repeats runs. Not a test: nothing is asserted.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import raptorq  # noqa: E402

from ftorch_cli.sealing import repair_paths, seal_paths, verify_paths  # noqa: E402
from ftorch_cli.sealing.format import sidecar_path  # noqa: E402
from ftorch_cli.sealing.layout import SPARE_REPAIR_SYMBOLS, plan_layout, repair_budget  # noqa: E402
from ftorch_cli.sealing.manifest import MANIFEST_NAME  # noqa: E402
from ftorch_cli.sealing.parallel import keep_freed_memory  # noqa: E402


def _raw_encode_worker(path: str, overhead: float, part: int, parts: int, tuned: bool, barrier, results) -> None:
    if tuned:
        keep_freed_memory()
    data = Path(path).read_bytes()
    layout = plan_layout(len(data))
    symbol_size = layout.symbol_size
    # the same segment sizes as sealing; contiguous slices (interleaving only changes which bytes)
    segments = []
    offset = 0
    for segment in range(layout.segment_count):
        length = layout.transfer_length(segment)
        chunk = data[offset : offset + length]
        segments.append(chunk + bytes(length - len(chunk)))
        offset += length
    mine = segments[part::parts]
    barrier.wait()
    started, started_cpu = time.perf_counter(), time.process_time()
    for chunk in mine:
        count = len(chunk) // symbol_size
        repair_count = repair_budget(count, overhead) + SPARE_REPAIR_SYMBOLS
        raptorq.Encoder.with_defaults(chunk, symbol_size).get_encoded_packets(repair_count)
    results.put((time.perf_counter() - started, time.process_time() - started_cpu))


def raw_encode(path: Path, overhead: float, *, tuned: bool, processes: int) -> tuple[float, float]:
    """Raw encode of the file's segments by `processes` fresh processes: (aggregate MB/s, MB per CPU-second)."""
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited malloc state
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [
        context.Process(target=_raw_encode_worker, args=(str(path), overhead, part, processes, tuned, barrier, results))
        for part in range(processes)
    ]
    for worker in workers:
        worker.start()
    timings = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    size = os.path.getsize(path) / 1e6
    return size / max(wall for wall, _ in timings), size / sum(cpu for _, cpu in timings)


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (the seal workers, once their pool has shut down)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def bench_one(path: Path, overhead: float) -> dict:
    size = os.path.getsize(path)
    original = path.read_bytes()
    for leftover in (sidecar_path(path), path.parent / MANIFEST_NAME):
        leftover.unlink(missing_ok=True)
    figures = {}
    _, figures["raw plain/cpu"] = raw_encode(path, overhead, tuned=False, processes=1)
    _, figures["raw tuned/cpu"] = raw_encode(path, overhead, tuned=True, processes=1)
    figures["raw tuned x2"], _ = raw_encode(path, overhead, tuned=True, processes=2)
    cpu_before = cpu_seconds()
    seconds = timed(lambda: _check(seal_paths([path], overhead, progress=False, workers=2).ok))
    figures["seal"] = size / seconds / 1e6
    figures["seal/cpu"] = size / (cpu_seconds() - cpu_before) / 1e6
    figures["verify intact"] = size / timed(lambda: _check(verify_paths([path], progress=False).ok)) / 1e6
    damaged = bytearray(original)
    burst = int(size * overhead * 0.8)
    damaged[size // 3 : size // 3 + burst] = bytes(burst)
    path.write_bytes(damaged)
    figures["verify damaged"] = size / timed(lambda: verify_paths([path], progress=False)) / 1e6
    figures["repair"] = size / timed(lambda: _check(repair_paths([path], progress=False).ok)) / 1e6
    _check(path.read_bytes() == original)
    return figures


def _check(condition: bool) -> None:
    if not condition:
        raise SystemExit("benchmark run failed a correctness check")


COLUMNS = ["raw plain/cpu", "raw tuned/cpu", "raw tuned x2", "seal", "seal/cpu", "vs tuned", "vs plain",
           "verify intact", "verify damaged", "repair"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", default="10,200")
    parser.add_argument("--overheads", default="5,10,25", help="percent")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where to write the test files (default: a temp folder)")
    options = parser.parse_args()
    workers = 2
    print(f"cpus: {os.cpu_count()}, seal workers: {workers}, repeats: {options.repeats} (median), MB = 10^6 bytes")
    print(f"{'file':>7} {'ovh':>4} " + " ".join(f"{column:>14}" for column in COLUMNS))
    with tempfile.TemporaryDirectory(dir=options.dir) as folder:
        for size_mb in (int(item) for item in options.sizes_mb.split(",")):
            path = Path(folder) / f"bench-{size_mb}mb.bin"
            path.write_bytes(os.urandom(size_mb * 1_000_000))
            layout = plan_layout(size_mb * 1_000_000)
            print(f"# {size_mb} MB: symbol size {layout.symbol_size}, {layout.segment_count} segments")
            for overhead_percent in (int(item) for item in options.overheads.split(",")):
                runs = [bench_one(path, overhead_percent / 100) for _ in range(options.repeats)]
                figures = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
                figures["vs tuned"] = figures["seal/cpu"] / figures["raw tuned/cpu"]
                figures["vs plain"] = figures["seal/cpu"] / figures["raw plain/cpu"]
                cells = [f"{figures[name]:>14.{2 if name.startswith('vs') else 0}f}" for name in COLUMNS]
                print(f"{size_mb:>5}MB {overhead_percent:>3}% " + " ".join(cells), flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
