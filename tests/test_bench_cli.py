"""`ftorch bench` through the Typer app, on one tiny workload with a tiny time budget (no timing asserted)."""
from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pyarrow as pa
import pytest
import torch
from typer.testing import CliRunner

from ftorch_cli.app import app
from ftorch_cli.bench import results
from ftorch_cli.bench.stats import SideStats
from ftorch_cli.sealing.format import sidecar_path
from test_bench_units import write_conform_run

runner = CliRunner()
TINY = ["--min-time", "0.001", "--samples", "3", "--threads", "1"]
ADD = ["--suite", "latency", "--workload", "add-16"]


@pytest.fixture
def engine_name(monkeypatch):
    """A stand-in engine built from torch's add, so these tests do not depend on the real engine's progress."""
    module = types.ModuleType("bench_test_engine")
    module.from_numpy = torch.from_numpy
    module.add = torch.add
    module._registry = types.SimpleNamespace(REGISTRY={"add": types.SimpleNamespace(dtypes=frozenset({"float32"}), has_backward=False)})
    monkeypatch.setitem(sys.modules, module.__name__, module)
    return module.__name__


def run(*args: str):
    return runner.invoke(app, ["bench", *args])


def said(result) -> str:
    return " ".join(result.output.split())


def test_bench_writes_arrow_and_summary(tmp_path, engine_name):
    result = run(*ADD, *TINY, "--out", str(tmp_path), "--engine", engine_name, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    (row,) = summary["results"]
    assert (row["workload"], row["threads"], row["status"]) == ("add-16", 1, "not-conformant")
    assert "ftorch conform" in row["message"] and row["ratio"] is None and row["measured_ratio"] is not None
    assert summary["machine"]["torch"]["version"] == torch.__version__ and "cpu_flags" in summary["machine"]
    table = pa.ipc.open_file(summary["bench_arrow"]).read_all()
    assert table.num_rows == 1 and table.column("workload").to_pylist() == ["add-16"]
    assert json.loads(open(summary["summary_path"]).read())["run_id"] == summary["run_id"]
    assert "engine" in result.stderr and "torch" in result.stderr


@pytest.fixture
def steady_clock(monkeypatch):
    """Every call takes exactly 1 µs: the regression verdicts below must not depend on this machine's load."""
    from ftorch_cli.bench import timing

    def time_batch(batch, calls):
        batch(calls)
        return calls * 1000

    monkeypatch.setattr(timing, "time_batch", time_batch)


def test_green_op_gets_a_claim_and_baseline_regression_exits_1(tmp_path, engine_name, steady_clock):
    write_conform_run(tmp_path / "conform" / "run-1", [("add", "float32", "strict", "pass")])
    first = run(*ADD, *TINY, "--out", str(tmp_path), "--engine", engine_name, "--json")
    assert first.exit_code == 0, first.output
    (row,) = json.loads(first.stdout)["results"]
    assert row["status"] == "ok" and row["ratio"] == row["measured_ratio"]

    # A baseline the engine cannot have matched (1 ns per call, no spread): a regression beyond any margin.
    stored = results.read_run(json.loads(first.stdout)["folder"])
    fast = stored.rows[0]
    fast.engine = SideStats(1.0, 0.0, 1.0, 3, 1)
    results.write_run(tmp_path / "fast-baseline", [fast], {"run_id": "fast"}, stored.machine)
    regressed = run(*ADD, *TINY, "--out", str(tmp_path), "--engine", engine_name, "--json", "--baseline", str(tmp_path / "fast-baseline"))
    assert regressed.exit_code == 1, regressed.output
    comparison = json.loads(regressed.stdout)["baseline"]
    assert comparison["verdict"] == "fail" and comparison["rows"][0]["verdict"] == "regression"
    assert comparison["rows"][0]["margin"] > 0 and "regression:" in said(regressed)

    # A baseline far slower (and no torch timing, so no drift can widen the margin): faster, exit 0.
    fast.engine, fast.torch = SideStats(1e9, 0.0, 1e9, 3, 1), None
    results.write_run(tmp_path / "slow-baseline", [fast], {"run_id": "slow"}, stored.machine)
    improved = run(*ADD, *TINY, "--out", str(tmp_path), "--engine", engine_name, "--json", "--baseline", str(tmp_path / "slow-baseline" / "bench.arrow"))
    assert improved.exit_code == 0, improved.output
    assert json.loads(improved.stdout)["baseline"]["rows"][0]["verdict"] == "faster"


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--suite", "nope"], 2, "unknown suite 'nope'"),
        (["--workload", "nope-*"], 2, "no workload named 'nope-*'"),
        (["--suite", "latency", "--workload", "matmul-512"], 5, "nothing to benchmark"),
        ([*ADD, "--baseline", "no-such-run"], 2, "not a bench run folder"),
    ],
)
def test_usage_errors_are_one_line(tmp_path, args, code, words):
    result = run(*args, *TINY, "--out", str(tmp_path))
    assert result.exit_code == code, result.output
    assert words in said(result) and "Traceback" not in result.output


def test_unreadable_baseline_is_a_usage_error(tmp_path):
    (tmp_path / "bench.arrow").write_bytes(b"garbage")
    result = run(*ADD, *TINY, "--out", str(tmp_path), "--baseline", str(tmp_path))
    assert result.exit_code == 2 and "not a readable Arrow IPC file" in said(result)


def test_list_prints_the_selection():
    result = run("--suite", "matmul", "--threads", "1", "--list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [item["name"] for item in listed["workloads"]] == ["matmul-512", "matmul-1024", "matmul-2048", "bmm-32x256"]
    assert all(item["threads"] == [1] for item in listed["workloads"])


def test_seal_writes_sidecars(tmp_path, engine_name):
    result = run(*ADD, *TINY, "--out", str(tmp_path), "--engine", engine_name, "--seal", "--json")
    assert result.exit_code == 0, result.output
    folder = Path(json.loads(result.stdout)["folder"])
    assert all(sidecar_path(folder / name).is_file() for name in ("bench.arrow", "summary.json"))
