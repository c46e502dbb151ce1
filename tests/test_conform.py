"""Conformance library: comparators, reason codes, judging, the runner over a fake engine,
hardened mode with its allowlist, and recorded mode without torch."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

import ftorch_fake_engine as fake
from ftorch_cli.conform.comparators import CLOSE, EXACT, comparator_for, tolerance_for, ulp_distance
from ftorch_cli.conform.judge import CaseContext, Observed, judge
from ftorch_cli.conform.reasons import REASONS, reason
from ftorch_cli.conform.results import read_results
from ftorch_cli.conform.runner import ConformOptions, run_conformance
from ftorch_cli.packets import load_packet
from ftorch_cli.serialize.backends import TensorFacts
from ftorch_packet_helpers import TEST_PACKET, make_recorded_packet

REPO = Path(__file__).resolve().parents[1]


# --- comparators -----------------------------------------------------------------

def test_close_comparator_nan_inf_and_tolerance():
    tolerance = tolerance_for("float32")
    expected = np.array([np.nan, np.inf, -np.inf, 1.0, 0.0], dtype=np.float32)
    assert CLOSE.compare(expected.copy(), expected, "float32", tolerance).ok
    off = np.array([np.nan, np.inf, -np.inf, 1.0 + 1e-7, -0.0], dtype=np.float32)
    assert CLOSE.compare(off, expected, "float32", tolerance).ok  # within rtol, -0.0 == 0.0
    wrong = np.array([1.0, -np.inf, -np.inf, 1.5, 0.0], dtype=np.float32)
    diff = CLOSE.compare(wrong, expected, "float32", tolerance)
    assert diff.mismatched == 3 and diff.total == 5 and diff.max_abs == np.inf
    assert "Mismatched elements: 3 / 5 (60.0%)" in diff.describe()


def test_ulp_distance():
    one = np.array([1.0], dtype=np.float32)
    next_up = np.nextafter(one, np.float32(2))
    assert ulp_distance(next_up, one).tolist() == [1.0]
    assert ulp_distance(np.array([-0.0], np.float32), np.array([0.0], np.float32)).tolist() == [0.0]
    tiny = np.array([np.float64(5e-324)])
    assert ulp_distance(-tiny, tiny).tolist() == [2.0]
    assert ulp_distance(np.array([np.nan]), np.array([np.nan])).tolist() == [0.0]
    assert ulp_distance(np.array([np.nan]), np.array([1.0])).tolist() == [np.inf]


def test_comparator_registry():
    assert comparator_for("add", "int64") is EXACT and comparator_for("add", "bool") is EXACT
    assert comparator_for("add", "float64") is CLOSE
    assert comparator_for("empty_like", "float32").name == "metadata_only"
    assert EXACT.compare(np.array([1, 2]), np.array([1, 3]), "int64", tolerance_for("int64")).mismatched == 1


def test_reason_registry_refuses_unknown_codes():
    assert reason("value_mismatch") == "value_mismatch"
    assert all(meaning for meaning in REASONS.values())
    with pytest.raises(KeyError):
        reason("no_such_code")


# --- judge -----------------------------------------------------------------------

def facts(values, stride=None, alias=None, offset=0):
    values = np.asarray(values)
    stride = stride or tuple(s // values.itemsize for s in values.strides)
    return TensorFacts(values.dtype.name if values.dtype != np.bool_ else "bool", values.shape, stride, offset, values, alias)


CONTEXT = CaseContext("add", "float32", None, "exact")


def test_judge_reports_the_first_difference():
    expected = Observed("value", output=facts(np.ones((2, 2), np.float32)))
    assert judge(Observed("value", output=facts(np.ones((2, 2), np.float32))), expected, CONTEXT).outcome == "pass"
    cases = {
        "dtype_mismatch": facts(np.ones((2, 2), np.float64)),
        "shape_mismatch": facts(np.ones((4,), np.float32)),
        "stride_mismatch": facts(np.ones((2, 2), np.float32), stride=(1, 2)),
        "alias_mismatch": facts(np.ones((2, 2), np.float32), alias=0),
        "value_mismatch": facts(np.full((2, 2), 2, np.float32)),
        "structure_mismatch": (facts(np.ones((2, 2), np.float32)),),
    }
    for code, output in cases.items():
        verdict = judge(Observed("value", output=output), expected, CONTEXT)
        assert (verdict.outcome, verdict.reason_code) == ("fail", code)


def test_judge_exceptions():
    raised = Observed("exception", exception={"type": "RuntimeError", "mro": ["RuntimeError"], "message": "bad", "stage": "call"})
    value = Observed("value", output=None)
    assert judge(raised, raised, CONTEXT).outcome == "pass"
    assert judge(value, raised, CONTEXT).reason_code == "missing_exception"
    index_error = Observed("exception", exception={"type": "IndexError", "mro": ["IndexError", "LookupError"], "message": "", "stage": "call"})
    assert judge(index_error, raised, CONTEXT).reason_code == "exception_type_mismatch"
    verdict = judge(raised, value, CONTEXT)
    assert (verdict.outcome, verdict.reason_code) == ("error", "engine_exception")


# --- the runner over the fake engine -------------------------------------------------

@pytest.fixture
def packets_dir(tmp_path):
    make_recorded_packet(torch, tmp_path / "packets")
    return tmp_path / "packets"


def run(packets_dir, **options):
    packet = load_packet(packets_dir, TEST_PACKET)
    return run_conformance([packet], ConformOptions(engine_module="ftorch_fake_engine", artifacts_root=packets_dir.parent / "artifacts", **options))


def test_fake_engine_passes_and_unregistered_ops_skip(packets_dir):
    result = run(packets_dir)
    stats = result.packets[0].stats["strict"]
    assert stats.counts["pass"] == 7 and stats.counts["skip"] == 1 and stats.reasons["not_implemented"] == 1
    assert stats.pass_ratio == 1.0 and result.passed
    table = read_results(result.results_path).to_pylist()
    assert {row["outcome"] for row in table} == {"pass", "skip"}
    assert all(row["engine_ns"] > 0 for row in table if row["outcome"] == "pass")
    assert result.summary["packets"][TEST_PACKET]["verdict"] == "pass"
    assert result.summary["oracle"]["torch_version"] == torch.__version__


def test_broken_kernel_fails_and_is_named(packets_dir, monkeypatch):
    monkeypatch.setattr(fake, "BROKEN", {"add"})
    result = run(packets_dir)
    stats = result.packets[0].stats["strict"]
    assert not result.passed
    assert set(stats.failing_ops) == {"add"} and stats.reasons["value_mismatch"] == 4
    failure = result.packets[0].failures[0]
    assert failure["op"] == "add" and "Mismatched elements" in failure["detail"]


def test_engine_exception_is_an_error_and_the_run_goes_on(packets_dir, monkeypatch):
    monkeypatch.setattr(fake, "RAISING", {"neg"})
    result = run(packets_dir)
    stats = result.packets[0].stats["strict"]
    assert stats.counts["error"] == 1 and stats.reasons["engine_exception"] == 1 and stats.counts["pass"] == 6


def test_hardened_mode_applies_only_active_allowlist_entries(tmp_path, monkeypatch):
    monkeypatch.setattr(fake, "BROKEN", {"neg"})
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    allowlist = f"""
        [[allowlist]]
        op = "neg"
        case = "*neg*"
        reason = "test: hardened neg deviates"
        expires = {tomorrow.isoformat()}

        [[allowlist]]
        op = "add"
        reason = "expired entries never apply"
        expires = 2020-01-01
    """
    make_recorded_packet(torch, tmp_path / "packets", extra=allowlist)
    monkeypatch.setattr(fake, "BROKEN", {"neg", "add"})
    result = run(tmp_path / "packets", modes=("strict", "hardened"))
    strict, hardened = result.packets[0].stats["strict"], result.packets[0].stats["hardened"]
    assert strict.counts["fail"] == 5 and strict.counts["allowlisted"] == 0
    assert hardened.counts["allowlisted"] == 1 and hardened.counts["fail"] == 4
    later = run(tmp_path / "packets", modes=("hardened",), today=tomorrow + dt.timedelta(days=1))
    assert later.packets[0].stats["hardened"].counts["allowlisted"] == 0


def test_recorded_conform_runs_without_torch(packets_dir):
    blocker = textwrap.dedent(
        """
        import sys
        class BlockTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked in this test")
        sys.meta_path.insert(0, BlockTorch())
        from ftorch_cli.app import main
        sys.argv = ["ftorch", "conform", "--packet", "FT-P2C-901", "--packets-dir", sys.argv[1], "--engine", "ftorch_fake_engine"]
        main()
        """
    )
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests")]))
    completed = subprocess.run([sys.executable, "-c", blocker, str(packets_dir)], capture_output=True, text=True, env=environment, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.slow
def test_live_oracle_agrees_with_the_recording(packets_dir):
    result = run(packets_dir, live=True)
    assert result.packets[0].drift == 0 and result.passed
    table = read_results(result.results_path).to_pylist()
    assert {row["live_outcome"] for row in table} <= {"pass", "skip"}
    assert result.summary["oracle"]["kind"] == "live"


def test_vector_ops_compare_up_to_the_sign_of_each_vector():
    from ftorch_cli.conform.comparators import comparator_for, tolerance_for

    tolerance = tolerance_for("float64")
    expected = np.array([[0.6, 0.8], [0.8, -0.6]])
    svd = comparator_for("linalg.svd", "float64")
    assert svd.compare(expected * np.array([[-1.0, 1.0]]), expected, "float64", tolerance).ok  # a column flipped
    assert svd.compare(expected * np.array([[1.0], [-1.0]]), expected, "float64", tolerance).ok  # a row flipped (Vh)
    assert not svd.compare(expected + 0.1, expected, "float64", tolerance).ok  # other differences still fail
    assert not svd.compare(-expected[::-1].copy(), expected, "float64", tolerance).ok
    assert not comparator_for("mm", "float64").compare(-expected, expected, "float64", tolerance).ok  # only vector ops
