"""Case generation and recording: view cases (FT-P2C-001), special values, op selection."""
from __future__ import annotations

import collections

import pytest
import torch

from ftorch_cli.cases.extract import _selected_ops, _shard, extract_packets
from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import Recorder
from ftorch_cli.cases.special_values import special_specs, special_values
from ftorch_cli.cases.views import VIEW_OPS, view_specs
from ftorch_cli.packets import DEFAULT_PACKETS, load_packets, packets_root
from ftorch_cli.serialize.table import read_case_table


@pytest.fixture(scope="module")
def view_rows():
    recorder = Recorder(torch, "FT-P2C-001")
    for spec in view_specs(torch, ["float32", "int64", "bool"]):
        recorder.add(spec)
    assert not recorder.skipped
    return {row["case_id"]: row for row in recorder.rows}


def test_view_cases_cover_every_op_and_layout(view_rows):
    assert len(view_rows) >= 500
    ops = collections.Counter(row["op"] for row in view_rows.values())
    assert set(ops) == set(VIEW_OPS)
    layouts = {row["label"].split(":")[1] for row in view_rows.values()}
    assert {"contiguous", "transposed", "sliced", "expanded", "zero_size", "scalar"} <= layouts
    assert len(set(view_rows)) == len(view_rows)  # ids are unique


def _row(rows, op, label):
    return next(row for row in rows.values() if row["op"] == op and row["label"] == label and row["dtype"] == "float32")


def test_view_expectations_come_from_torch(view_rows):
    flat = _row(view_rows, "view", "method:contiguous:flat")["expected"]
    assert flat["output"]["$tensor"]["alias"] == 0 and flat["versions"] == {"inputs_call": [0]}
    refused = _row(view_rows, "view", "method:transposed:flat")["expected"]
    assert (refused["kind"], refused["type"]) == ("exception", "RuntimeError") and "view size is not compatible" in refused["message"]
    copy = _row(view_rows, "reshape", "method:transposed:flat")["expected"]["output"]["$tensor"]
    assert copy["alias"] is None and copy["stride"] == [1]  # reshape copies when a view is impossible
    write = _row(view_rows, "transpose", "method:contiguous:0,2+write")["expected"]
    assert write["versions"]["inputs_write"] == [1] and write["inputs_after"][0]["$tensor"]["alias"] == 0
    overlap = _row(view_rows, "expand", "method:contiguous:new_dim+write")["expected"]
    assert overlap["kind"] == "exception" and overlap["stage"] == "write"


def test_view_generation_is_deterministic():
    first = Recorder(torch, "FT-P2C-001")
    second = Recorder(torch, "FT-P2C-001")
    for recorder in (first, second):
        for spec in view_specs(torch, ["float32"], {"narrow", "__setitem__"}):
            recorder.add(spec)
    assert [r["case_id"] for r in first.rows] == [r["case_id"] for r in second.rows]
    assert [r["storages"] for r in first.rows] == [r["storages"] for r in second.rows]


def test_special_values_hold_the_edge_cases():
    values = special_values(torch, "float32")
    bits = set(values.view(torch.int32).tolist())
    assert {0x7FC00123, -0x400000, 0, -0x80000000} <= bits  # NaN payload, negative NaN, 0.0, -0.0
    assert torch.isinf(values).sum() == 2 and (values.abs() < torch.finfo(torch.float32).tiny).any()
    labels = [spec.label for spec in special_specs(torch, "add", "", "binary", Call("function", "add"), "float32")]
    assert {"grid", "long", "empty", "zero_dim_rhs", "promote_int64", "scalar_rhs=nan"} <= set(labels)


def test_op_selection_and_sharding():
    packet = load_packets(packets_root(), ["FT-P2C-005"])[0]
    selected = _selected_ops(packet, None, ["add", "engine_only_op"])
    assert selected[: len(packet.cases.ops)] == list(packet.cases.ops) and selected[-1] == "engine_only_op"
    assert _selected_ops(packet, ["neg"], ["add"]) == ["neg"]
    assert _shard(["a", "b", "c"], 2) == [["a", "c"], ["b"]] and _shard(["a"], 4) == [["a"]]


@pytest.mark.slow
def test_full_extraction_meets_counts_and_is_reproducible(tmp_path):
    import shutil

    for packet_id in DEFAULT_PACKETS:
        (tmp_path / packet_id).mkdir()
        shutil.copy(packets_root() / packet_id / "packet.toml", tmp_path / packet_id / "packet.toml")
    packets = load_packets(tmp_path, None)
    report = extract_packets(packets)
    counts = {item.packet_id: item.case_count for item in report.packets}
    assert counts["FT-P2C-001"] >= 500 and counts["FT-P2C-005"] >= 3000 and counts["FT-P2C-004"] >= 1000
    table = read_case_table(tmp_path / "FT-P2C-005", "FT-P2C-005")
    sources = collections.Counter(row["source"] for row in table.rows)
    assert set(sources) == {"opinfo.sample_inputs", "opinfo.reference_inputs", "opinfo.error_inputs", "generated.special_values"}
    assert table.manifest["op_db_ops"] and table.manifest["threads"] == 1
    assert any(row["atol"] is not None for row in table.rows)  # OpInfo tolerance overrides are recorded
    again = extract_packets(packets)  # reproducible: same bytes, same sha256
    assert {item.packet_id: item.sha256 for item in again.packets} == {item.packet_id: item.sha256 for item in report.packets}
