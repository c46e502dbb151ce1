"""ftorch_cli.bench without the CLI: statistics, noise margin, claims, workloads, outputs. No timing is asserted."""
from __future__ import annotations

import json
import os
import time
import types

import numpy as np
import pyarrow as pa
import pytest
import torch

from ftorch_cli.bench import baseline, conformance, machine, program, results, runner, stats, timing, workloads
from ftorch_cli.bench.results import BenchRow
from ftorch_cli.bench.stats import SideStats
from ftorch_cli.errors import BadInputFile, NothingSelected, UsageError

TINY = timing.Budget(min_time=0.001, samples=3)


# --- statistics --------------------------------------------------------------


def test_summarize_median_iqr_min():
    summary = stats.summarize([5.0, 1.0, 4.0, 2.0, 3.0], calls_per_sample=7)
    assert summary == SideStats(median_ns=3.0, iqr_ns=2.0, min_ns=1.0, samples=5, calls_per_sample=7)
    even = stats.summarize([1.0, 2.0, 3.0, 10.0], calls_per_sample=1)
    assert even.median_ns == 2.5 and even.iqr_ns == pytest.approx(4.75 - 1.75)  # linear interpolation, as numpy.percentile and even.min_ns == 1.0
    single = stats.summarize([8.0], calls_per_sample=1)
    assert (single.median_ns, single.iqr_ns, single.samples) == (8.0, 0.0, 1)
    with pytest.raises(ValueError):
        stats.summarize([], calls_per_sample=1)


def test_ratio_is_engine_over_torch():
    engine, torch_side = _stats(2.0), _stats(4.0)
    assert stats.ratio(engine, torch_side) == 0.5  # below 1: the engine is faster
    assert stats.ratio(torch_side, engine) == 2.0
    assert stats.ratio(None, torch_side) is None and stats.ratio(engine, None) is None
    assert stats.geometric_mean([0.5, 2.0]) == pytest.approx(1.0)
    assert stats.geometric_mean([]) is None


# --- noise margin and regressions --------------------------------------------


def _stats(median: float, iqr: float = 0.0) -> SideStats:
    return SideStats(median_ns=median, iqr_ns=iqr, min_ns=median - iqr, samples=10, calls_per_sample=1)


def _row(engine=None, torch_side=None, status="ok", workload="add-1e3", program_text="lib.add(x, y)") -> BenchRow:
    return BenchRow(
        "elementwise", workload, "add", "float32", "1000, 1000", 1, program_text, status, engine=engine, torch=torch_side
    )


def test_noise_margin_is_measured_from_both_runs():
    then = _row(_stats(100, iqr=10), _stats(50, iqr=2))
    now = _row(_stats(100, iqr=30), _stats(50, iqr=2))
    margin, drift = baseline.noise_margin(now, then)
    assert drift == 0.0
    assert margin == pytest.approx((15 + 5) / 100)  # half of each run's IQR, relative to the baseline median
    # torch moving between the runs widens the margin by exactly that move
    drifted = _row(_stats(100, iqr=30), _stats(55, iqr=2))
    margin_drifted, drift = baseline.noise_margin(drifted, then)
    assert drift == pytest.approx(0.10) and margin_drifted == pytest.approx(margin + 0.10)
    # identical samples: only the floor remains
    assert baseline.noise_margin(_row(_stats(100), _stats(50)), _row(_stats(100), _stats(50)))[0] == baseline.MIN_MARGIN


def test_regression_verdicts():
    then = _row(_stats(100, iqr=10), _stats(50, iqr=0))
    assert baseline.compare_row(_row(_stats(109, iqr=10), _stats(50)), then).verdict == "same"  # +9% inside ±10%
    regressed = baseline.compare_row(_row(_stats(125, iqr=10), _stats(50)), then)
    assert regressed.verdict == "regression" and regressed.change == pytest.approx(0.25) and regressed.margin == pytest.approx(0.10)
    assert baseline.compare_row(_row(_stats(125, iqr=10), _stats(65)), then).verdict == "same"  # torch slowed as much: drift
    assert baseline.compare_row(_row(_stats(80, iqr=10), _stats(50)), then).verdict == "faster"
    assert baseline.compare_row(_row(None, _stats(50), status="error"), then).verdict == "lost"
    assert baseline.compare_row(_row(_stats(80), _stats(50)), None).verdict == "new"
    assert baseline.compare_row(_row(_stats(80), _stats(50), program_text="lib.add(y, x)"), then).verdict == "changed"
    assert baseline.compare_row(_row(_stats(80), _stats(50)), _row(None, _stats(50), status="unsupported")).verdict == "not-timed"


def test_compare_runs_fails_only_on_regressions_and_lost():
    earlier = results.StoredRun("old", "old/bench.arrow", [_row(_stats(100, 10), _stats(50), workload="a"), _row(_stats(100, 10), _stats(50), workload="b")], {"cpu": "X"})
    comparison = baseline.compare_runs([_row(_stats(200, 10), _stats(50), workload="a"), _row(_stats(100, 10), _stats(50), workload="b")], earlier, {"cpu": "Y"})
    assert [row.verdict for row in comparison.rows] == ["regression", "same"]
    assert [row.workload for row in comparison.failures] == ["a"]
    assert comparison.to_dict()["verdict"] == "fail" and "cpu" in comparison.notes[0]


# --- conformance evidence ------------------------------------------------------


def write_conform_run(folder, rows, packet="FT-P2C-005", ops_filter=None):
    """A conformance run folder with the columns bench reads (ftorch conform writes more)."""
    folder.mkdir(parents=True)
    records = [dict(zip(("op", "dtype", "mode", "outcome"), row), packet_id=packet) for row in rows]
    table = pa.Table.from_pylist(records)
    with pa.ipc.new_file(str(folder / "results.arrow"), table.schema) as writer:
        writer.write_table(table)
    (folder / "summary.json").write_text(json.dumps({"ops_filter": ops_filter}))
    return folder


def test_green_needs_strict_cases_all_passing_in_the_dtype(tmp_path):
    write_conform_run(
        tmp_path / "conform" / "run-1",
        [
            ("add", "float32", "strict", "pass"),
            ("add", "float32", "strict", "allowlisted"),
            ("add", "float64", "strict", "fail"),  # another dtype does not matter
            ("mul", "float32", "strict", "pass"),
            ("mul", "float32", "strict", "fail"),
            ("where", "float32", "strict", "skip"),
            ("exp", "float32", "hardened", "pass"),  # hardened only: no strict evidence
        ],
    )
    evidence = conformance.load_evidence(tmp_path / "conform")
    assert evidence.runs == {"FT-P2C-005": "run-1"}
    assert evidence.not_green(("add",), "float32") is None
    assert "1 fail of 2 strict cases" in evidence.not_green(("mul",), "float32")
    assert "1 skip" in evidence.not_green(("where",), "float32")
    assert "no strict float32 cases" in evidence.not_green(("exp",), "float32")
    assert "add float64" in evidence.not_green(("add",), "float64")
    assert "mul" in evidence.not_green(("add", "mul"), "float32")  # every op of a workload must be green
    assert "conform run run-1" in evidence.not_green(("mul",), "float32")


def _aged(folder, seconds):
    os.utime(folder / "results.arrow", (time.time() - seconds, time.time() - seconds))
    return folder


def test_evidence_per_packet_from_the_newest_unfiltered_run(tmp_path):
    root = tmp_path / "conform"
    _aged(write_conform_run(root / "full-old", [("add", "float32", "strict", "fail")]), 300)
    _aged(write_conform_run(root / "full", [("add", "float32", "strict", "pass"), ("mul", "float32", "strict", "pass")]), 200)
    _aged(write_conform_run(root / "views", [("clone", "float32", "strict", "pass")], packet="FT-P2C-001"), 100)
    write_conform_run(root / "filtered", [("add", "float32", "strict", "fail")], ops_filter=["add"])  # newest, but --ops
    evidence = conformance.load_evidence(root)
    assert evidence.runs == {"FT-P2C-005": "full", "FT-P2C-001": "views"}
    assert evidence.not_green(("add", "mul", "clone"), "float32") is None
    (root / "latest").write_text("full-old\n")  # the pointer wins for the packets its run covers
    evidence = conformance.load_evidence(root)
    assert evidence.runs == {"FT-P2C-005": "full-old", "FT-P2C-001": "views"}
    assert "full-old (FT-P2C-005)" in evidence.not_green(("add",), "float32")
    only = conformance.load_evidence(root, explicit=root / "filtered")
    assert only.runs == {"FT-P2C-005": "filtered"} and only.not_green(("mul",), "float32")


def test_no_or_bad_conformance_evidence(tmp_path):
    missing = conformance.load_evidence(tmp_path / "nowhere")
    assert "ftorch conform" in missing.not_green(("add",), "float32")
    with pytest.raises(BadInputFile):
        conformance.load_evidence(tmp_path, explicit=tmp_path / "no-such-run")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "results.arrow").write_bytes(b"junk")
    with pytest.raises(BadInputFile):
        conformance.load_evidence(tmp_path, explicit=tmp_path / "junk")
    assert "unreadable: junk" in conformance.load_evidence(tmp_path).problem


# --- workloads ---------------------------------------------------------------


def test_packaged_catalog_expands_and_selects():
    catalog = workloads.load_catalog()
    names = {workload.name for workload in catalog.workloads}
    assert {"add-1e3", "mul-1e7", "matmul-2048", "softmax-64x50257", "mul-add-sum-backward-16"} <= names
    add = next(workload for workload in catalog.workloads if workload.name == "add-1e6")
    assert (add.suite, add.ops, add.dtype, add.program) == ("elementwise", ("add",), "float32", "lib.add(x, y)")
    assert [spec.shape for spec in add.inputs] == [(1_000_000,), (1_000_000,)]
    assert {workload.suite for workload in catalog.select(["latency"])} == {"latency"}
    assert [workload.name for workload in catalog.select(None, ["matmul-*"])] == ["matmul-512", "matmul-1024", "matmul-2048"]
    with pytest.raises(UsageError, match="unknown suite"):
        catalog.select(["nope"])
    with pytest.raises(UsageError, match="no workload named"):
        catalog.select(None, ["nope-*"])
    with pytest.raises(NothingSelected):
        catalog.select(["latency"], ["matmul-512"])


def test_a_suite_without_workloads_selects_nothing(tmp_path):
    catalog_file = tmp_path / "w.toml"
    catalog_file.write_text('[suites]\ns = "x"\nlater = "y"\n[[workloads]]\nsuite = "s"\nname = "a"\nops = ["add"]\n'
                            'inputs = [{ name = "x", shape = [2] }]\nprogram = "lib.add(x, x)"\n')
    catalog = workloads.load_catalog(catalog_file)
    with pytest.raises(NothingSelected, match="suite later has no workloads yet"):
        catalog.select(["later"])


def test_bad_workloads_file_is_a_usage_error(tmp_path):
    bad = tmp_path / "w.toml"
    bad.write_text('[suites]\ns = "x"\n[[workloads]]\nsuite = "s"\nname = "a"\nops = ["add"]\ninputs = []\nprogram = "lib.add(("\n')
    with pytest.raises(BadInputFile, match="entry 1"):
        workloads.load_catalog(bad)
    with pytest.raises(BadInputFile):
        workloads.load_catalog(tmp_path / "missing.toml")


# --- running a workload: unsupported, not-conformant, ok ---------------------------


def tiny_workload(name="add-4", ops=("add",), program_text="lib.add(x, y)", backward=False) -> workloads.Workload:
    spec = workloads.InputSpec("x", (4,), "float32")
    return workloads.Workload("latency", name, ops, "float32", (spec, workloads.InputSpec("y", (4,), "float32")), program_text, backward=backward)


def fake_engine(**functions) -> types.ModuleType:
    """An 'engine' made of torch functions (so it is right unless a test makes it wrong)."""
    module = types.ModuleType("fake_engine")
    module.from_numpy = torch.from_numpy
    for name, function in functions.items():
        setattr(module, name, function)
    return module


def registry(*names, backward=False):
    return {name: types.SimpleNamespace(dtypes=frozenset({"float32"}), has_backward=backward) for name in names}


GREEN = conformance.ConformanceEvidence({"FT-P2C-005": "run-1"}, {("add", "float32"): {"pass": 3}, ("mul", "float32"): {"pass": 3}})


def run_one(workload, engine, engine_registry, evidence=GREEN):
    return runner._run_workload(workload, [1], torch, engine, engine_registry, evidence, TINY)


def test_ok_row_claims_the_ratio():
    (row,) = run_one(tiny_workload(), fake_engine(add=torch.add), registry("add"))
    assert row.status == "ok", row.message
    assert row.engine.samples >= timing.MIN_SAMPLES and row.torch.samples >= timing.MIN_SAMPLES
    assert row.ratio == row.measured_ratio == pytest.approx(row.engine.median_ns / row.torch.median_ns)
    assert (row.torch_threads, row.engine_threads) == (1, 1)


def test_unsupported_when_the_engine_lacks_the_op():
    (row,) = run_one(tiny_workload(), fake_engine(add=torch.add), registry())
    assert row.status == "unsupported" and "not in the engine's op registry" in row.message
    assert row.engine is None and row.torch is not None and row.ratio is None
    (row,) = run_one(tiny_workload(), fake_engine(), registry("add"))  # registered but missing: AttributeError
    assert row.status == "unsupported" and "AttributeError" in row.message
    (row,) = run_one(tiny_workload(backward=True), fake_engine(add=torch.add), registry("add"))
    assert row.status == "unsupported" and "backward" in row.message


def test_not_conformant_rows_are_timed_without_a_claim():
    (row,) = run_one(tiny_workload(), fake_engine(add=torch.add), registry("add"), evidence=conformance.ConformanceEvidence(problem="run `ftorch conform` first"))
    assert row.status == "not-conformant" and "ftorch conform" in row.message
    assert row.engine is not None and row.ratio is None and row.measured_ratio is not None
    wrong = fake_engine(add=lambda x, y: torch.add(x, y) + 1)
    (row,) = run_one(tiny_workload(), wrong, registry("add"))
    assert row.status == "not-conformant" and "differs from torch" in row.message


def test_engine_errors_are_reported_not_raised():
    def broken(x, y):
        raise RuntimeError("kernel exploded")

    (row,) = run_one(tiny_workload(), fake_engine(add=broken), registry("add"))
    assert row.status == "error" and "kernel exploded" in row.message and row.torch is not None


def test_programs_are_identical_and_statements_work():
    workload = workloads.Workload(
        "autograd",
        "graph",
        ("mul",),
        "float32",
        tuple(workloads.InputSpec(name, (3,), "float32", requires_grad=True) for name in "ab"),
        "y = (a * b).sum()\ny.backward()",
        result="a.grad",
    )
    arrays = program.make_arrays(workload)
    assert all(np.array_equal(arrays[name], program.make_arrays(workload)[name]) for name in "ab")  # seeded
    bound = program.bind(workload, torch, arrays)
    assert np.allclose(program.to_numpy(bound.once()), arrays["b"])
    bound.batch(2)
    assert program.result_difference(program.to_numpy(bound.once()), arrays["b"] * 4) is None


def test_result_difference():
    values = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    assert program.result_difference(values, values.copy()) is None
    assert "differs" in program.result_difference(values + 1, values)
    assert "float64" in program.result_difference(values.astype(np.float64), values)
    assert "1 element" in program.result_difference(np.array([1, 2]), np.array([1, 3]))
    assert program.result_difference([values], [values]) is None


def test_slow_calls_get_one_call_per_batch_and_few_samples():
    plan = timing.calibrate(lambda calls: time.sleep(0.003 * calls), timing.Budget(min_time=0.001, samples=30))
    assert (plan.calls, plan.samples) == (1, timing.MIN_SAMPLES)


# --- outputs and the machine -----------------------------------------------------


def test_bench_arrow_round_trip_and_bad_files(tmp_path):
    rows = [_row(_stats(100, 10), _stats(50, 5)), _row(None, _stats(50, 5), status="unsupported", workload="sum-1")]
    arrow_path, summary_path = results.write_run(tmp_path / "run", rows, {"run_id": "r1"}, {"cpu": "X"})
    stored = results.read_run(tmp_path / "run")
    assert stored.run_id == "r1" and stored.machine == {"cpu": "X"} and stored.rows == rows
    assert results.read_run(arrow_path).rows == rows
    table = pa.ipc.open_file(str(arrow_path)).read_all()
    assert table.column("status").to_pylist() == ["ok", "unsupported"] and table.column("engine_median_ns").to_pylist() == [100.0, None]
    (tmp_path / "junk.arrow").write_bytes(b"not arrow")
    with pytest.raises(BadInputFile):
        results.read_run(tmp_path / "junk.arrow")
    with pytest.raises(BadInputFile):
        results.read_run(tmp_path / "missing")


def test_machine_record(tmp_path):
    details = machine.cpu_details("processor : 0\nflags : fpu avx2\ncore id : 0\n\nprocessor : 1\nflags : fpu avx2\ncore id : 0\n")
    assert details["cpu_flags"] == ["fpu", "avx2"] and details["physical_cores"] == 1
    script = tmp_path / "build_ffi.py"
    script.write_text('DEFAULT_CFLAGS = ["-O3", "-std=c11"]\n')
    assert machine.default_cflags(script) == ["-O3", "-std=c11"]
    build = machine.torch_build(torch)
    assert build["version"] == torch.__version__ and "blas" in build
