"""FT-P2C-002, -003 and -007 end to end: extract a slice from torch, conform the real engine."""
from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from ftorch_cli.app import app
from ftorch_cli.packets import DEFAULT_PACKETS, load_packets, packets_root
from ftorch_cli.serialize.table import read_case_table

runner = CliRunner()
PACKETS = ["FT-P2C-002", "FT-P2C-003", "FT-P2C-007"]


@pytest.fixture(scope="module")
def sliced(tmp_path_factory):
    folder = tmp_path_factory.mktemp("new") / "packets"
    for packet_id in PACKETS:
        (folder / packet_id).mkdir(parents=True)
        toml = (packets_root() / packet_id / "packet.toml").read_text()
        toml = re.sub(r"(?m)^(min_cases) = .*$", r"\1 = 1", toml)
        (folder / packet_id / "packet.toml").write_text(toml)
    args = ["extract", "--packets-dir", str(folder), "--ops", "add,sum,view,mm,ones,devices", "--jobs", "1"]
    for packet_id in PACKETS:
        args += ["--packet", packet_id]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    return folder


def test_packets_load_and_new_ones_are_defaults():
    packets = {p.id: p for p in load_packets(packets_root(), PACKETS)}
    assert [packets[i].cases.generator for i in PACKETS] == ["dispatch", "schemas", "devices"]
    assert "FT-P2C-002" in DEFAULT_PACKETS and "FT-P2C-003" in DEFAULT_PACKETS


@pytest.mark.slow
def test_cases_have_the_new_sources(sliced):
    sources = {packet_id: {row["source"] for row in read_case_table(sliced / packet_id, packet_id).rows} for packet_id in PACKETS}
    assert sources["FT-P2C-002"] == {"generated.dispatch"}
    assert sources["FT-P2C-003"] == {"generated.schemas", "generated.bindings"}
    assert sources["FT-P2C-007"] == {"generated.devices", "generated.meta"}


@pytest.mark.slow
def test_engine_conforms_and_results_name_the_dispatch_key(sliced, tmp_path):
    args = ["conform", "--packets-dir", str(sliced), "--out", str(tmp_path / "artifacts"), "--json"]
    for packet_id in PACKETS:
        args += ["--packet", packet_id]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["verdict"] == "pass"
    import pyarrow.ipc as ipc

    results = next((tmp_path / "artifacts").rglob("results.arrow"))
    rows = ipc.open_file(str(results)).read_all().to_pylist()
    assert {row["packet_id"] for row in rows} == set(PACKETS)
    keys = {row["dispatch_key"] for row in rows if row["source"] == "generated.bindings"}
    assert "AutogradCPU" in keys or "BackendSelect" in keys
