"""FT-P2C-004 through the CLI: `ftorch extract -p FT-P2C-004` on a slice (one worker, op_db), then
`ftorch conform` of that slice against the engine, its gates, results.arrow columns, summary.json
and the rich report. The whole packet (the issue's done-when) is a slow test."""
from __future__ import annotations

import collections
import json
import shutil

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from ftorch_cli.app import app
from ftorch_cli.packets import packets_root
from ftorch_cli.serialize.table import read_case_table

runner = CliRunner()
SLICE = "sin,mul,where,std,autograd.hooks,autograd.retain_graph"


def says(result, text: str) -> bool:
    return "".join(text.split()) in "".join(result.stderr.split())


def _copy_packets(folder, *packet_ids):
    for packet_id in packet_ids:
        (folder / packet_id).mkdir(parents=True)
        shutil.copy(packets_root() / packet_id / "packet.toml", folder / packet_id / "packet.toml")
    return folder


@pytest.fixture(scope="module")
def sliced(tmp_path_factory):
    packets = _copy_packets(tmp_path_factory.mktemp("p2c004") / "packets", "FT-P2C-004")
    result = runner.invoke(app, ["extract", "--packets-dir", str(packets), "-p", "FT-P2C-004", "--ops", SLICE, "--json"])
    assert result.exit_code == 0, result.output
    return packets, json.loads(result.stdout)


def test_extracted_slice_holds_every_kind_of_case(sliced):
    packets, report = sliced
    (item,) = report["packets"]
    assert set(item["sources"]) == {"opinfo.gradients", "opinfo.gradgrad", "generated.autograd_programs"}
    table = read_case_table(packets / "FT-P2C-004", "FT-P2C-004")
    manifest = table.manifest
    assert {"sin", "mul", "where", "std"} <= set(manifest["differentiable_ops"]) and "eq" not in manifest["differentiable_ops"]
    assert manifest["program_ops"] == ["autograd.hooks", "autograd.retain_graph"] and manifest["ops_filter"] == SLICE.split(",")
    by_kind = collections.Counter((row["op"], row["dtype"], row["source"]) for row in table.rows)
    assert by_kind["mul", "float64", "opinfo.gradients"] == 6 and by_kind["mul", "float32", "opinfo.gradgrad"] == 2  # caps 3 and 2
    for row in table.rows:
        first_order_float64 = row["source"] == "opinfo.gradients" and row["dtype"] == "float64"
        assert ("gradcheck" in row["checks"]) == first_order_float64, row["case_id"]
        if row["source"] != "generated.autograd_programs":
            assert row["call"]["grad"]["order"] == (2 if row["source"] == "opinfo.gradgrad" else 1)


def test_conform_of_the_slice_reports_ops_gates_and_columns(sliced, tmp_path):
    packets, _ = sliced
    result = runner.invoke(app, ["conform", "--packets-dir", str(packets), "-p", "FT-P2C-004", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 1, result.output  # a slice holds fewer cases than min_cases
    summary = json.loads(result.stdout)
    packet = summary["packets"]["FT-P2C-004"]
    gates = {gate["gate"]: gate for gate in packet["gates"]}
    assert gates["min_cases"]["verdict"] == "fail" and gates["min_pass_ratio"]["verdict"] == "pass"
    assert gates["known_gaps"]["verdict"] == "pass"  # std's positional-unbiased failures are listed
    report = packet["autograd"]
    assert report["ops_with_gradient_cases"] == 4 and report["double_backward_green"] >= 3
    assert report["forward_green"] is None  # no FT-P2C-005 run under this artifacts folder
    assert gates["min_backward_green_ratio"]["value"] == report["backward_green_ratio"]
    assert report["gradcheck_witness"].get("pass", 0) > 0 and report["grad_fn_green"] == report["ops_with_grad_fn_checks"]
    table = pa.ipc.open_file(summary["results"]).read_all()
    for column in ("grad_fn_outcome", "gradcheck_outcome", "gradcheck_reason", "known_gap"):
        assert column in table.column_names
    rows = table.to_pylist()
    sin = [row for row in rows if row["op"] == "sin" and row["dtype"] == "float64" and row["label"].endswith(":random")]
    assert sin and all(row["outcome"] == "pass" and row["gradcheck_outcome"] == "pass" for row in sin)
    assert says(result, "autograd ops: forward-green") and says(result, "double-backward-green")


def test_conform_with_an_ops_filter_and_a_bad_known_gap(sliced, tmp_path):
    packets, _ = sliced
    result = runner.invoke(app, ["conform", "--packets-dir", str(packets), "-p", "FT-P2C-004", "--ops", "sin,autograd.hooks",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert says(result, "min_backward_green_ratio") and says(result, "not_applicable")
    toml = packets / "FT-P2C-004" / "packet.toml"
    original = toml.read_text()
    try:
        toml.write_text(original + '\n[[known_gaps]]\nop = "sin"\nreason = "x"\nchecks = ["speed"]\n')
        result = runner.invoke(app, ["conform", "--packets-dir", str(packets), "-p", "FT-P2C-004", "--out", str(tmp_path)])
        index = original.count("[[known_gaps]]")  # the entry appended above
        assert result.exit_code == 2 and says(result, f"known_gaps[{index}].checks")
    finally:
        toml.write_text(original)


@pytest.mark.slow
def test_whole_packet_meets_the_issue_done_when(tmp_path):
    """`ftorch extract -p FT-P2C-004 -p FT-P2C-005 && ftorch conform` exits 0 with >= 90% of forward-green,
    differentiable ops backward-green, every other one a listed known gap, and FT-P2C-004 extracted quickly."""
    packets = _copy_packets(tmp_path / "packets", "FT-P2C-004", "FT-P2C-005")
    result = runner.invoke(app, ["extract", "--packets-dir", str(packets), "-p", "FT-P2C-004", "--json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["extract", "--packets-dir", str(packets), "-p", "FT-P2C-005"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["conform", "--packets-dir", str(packets), "-p", "FT-P2C-005", "-p", "FT-P2C-004",
                                 "--out", str(tmp_path / "artifacts"), "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)["packets"]["FT-P2C-004"]["autograd"]
    assert report["forward_green_source"] == "FT-P2C-005 in this run"
    assert report["backward_green_ratio"] >= 0.9
    assert all(gap["known_gap"] for gap in report["backward_gaps"].values())
