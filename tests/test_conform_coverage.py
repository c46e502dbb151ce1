"""The coverage report: op_db families and per-family counts of registered, forward- and backward-green ops."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from ftorch_cli.cases.families import FAMILIES, family_of
from ftorch_cli.conform.coverage import coverage_report
from ftorch_cli.conform.gates import ModeStats


@pytest.mark.parametrize("name, opinfo_class, family", [
    ("__getitem__", "OpInfo", "indexing"),
    ("cat", "OpInfo", "shape_join"),
    ("sort", "OpInfo", "scan_sort"),
    ("linalg.solve", "OpInfo", "linalg"),
    ("einsum", "OpInfo", "linalg"),
    ("randn", "OpInfo", "random"),
    ("nn.functional.dropout", "OpInfo", "random"),
    ("nn.functional.conv2d", "OpInfo", "nn.conv_pool"),
    ("nn.functional.max_pool2d", "OpInfo", "nn.conv_pool"),
    ("nn.functional.unfold", "OpInfo", "nn.conv_pool"),
    ("nn.functional.layer_norm", "OpInfo", "nn.normalization"),
    ("nn.functional.cross_entropy", "OpInfo", "nn.loss"),
    ("nn.functional.mse_loss", "OpInfo", "nn.loss"),
    ("nn.functional.embedding", "OpInfo", "nn.other"),
    ("nn.functional.silu", "OpInfo", "activation"),
    ("exp", "UnaryUfuncInfo", "elementwise"),
    ("addcmul", "OpInfo", "elementwise"),
    ("sum", "ReductionOpInfo", "reduction"),
    ("special.erfcx", "UnaryUfuncInfo", "special"),
    ("fft.fft", "SpectralFuncInfo", "fft"),
    ("stft", "OpInfo", "fft"),
    ("zeros_like", "OpInfo", "factory"),
    ("permute", "OpInfo", "view"),
    ("_segment_reduce", "OpInfo", "other"),
])
def test_family_of(name, opinfo_class, family):
    assert family_of(name, opinfo_class) == family
    assert family in FAMILIES


def _result(packet_id, manifest, strict_rows=(), rows=()):
    stats = ModeStats("strict")
    for op, outcome in strict_rows:
        stats.add(op, outcome, "ok" if outcome == "pass" else "value_mismatch")
    return SimpleNamespace(packet=SimpleNamespace(id=packet_id), manifest=manifest, stats={"strict": stats},
                           rows=list(rows))


def test_family_counts_come_from_this_runs_results():
    families = {"exp": "elementwise", "log": "elementwise", "cat": "shape_join", "sort": "scan_sort"}
    manifest = {"op_db_ops": sorted(families), "op_db_families": families, "case_ops": ["exp", "log", "cat"]}
    forward = _result("FT-P2C-005", manifest, [("exp", "pass"), ("log", "pass"), ("log", "fail"), ("cat", "pass")])
    gradient_rows = [
        {"op": "exp", "source": "opinfo.gradients", "outcome": "pass", "mode": "strict"},
        {"op": "cat", "source": "opinfo.gradients", "outcome": "fail", "mode": "strict"},
    ]
    backward = _result("FT-P2C-004", {}, [("exp", "pass"), ("cat", "fail")], gradient_rows)
    report = coverage_report({"exp": 0, "log": 0, "cat": 0, "__radd__": 0}, [forward, backward])
    table = report["families"]
    assert table["elementwise"] == {"op_db": 2, "registered": 2, "forward_green": 1, "backward_green": 1,
                                    "not_registered": []}
    assert table["shape_join"] == {"op_db": 1, "registered": 1, "forward_green": 1, "backward_green": 0,
                                   "not_registered": []}
    assert table["scan_sort"]["registered"] == 0 and table["scan_sort"]["not_registered"] == ["sort"]
    assert report["op_db_forward_green"] == 2 and report["op_db_backward_green"] == 1
    assert list(table)[0] == "elementwise"  # most registered first


def test_family_counts_are_unknown_without_the_packets():
    families = {"exp": "elementwise"}
    only_views = _result("FT-P2C-001", {"op_db_ops": ["exp"], "op_db_families": families})
    report = coverage_report({"exp": 0}, [only_views])
    assert report["families"]["elementwise"]["forward_green"] is None
    assert report["op_db_forward_green"] is None
