"""End to end with the real engine: extract a small slice from torch, conform the
engine against it, then break one engine op and see conform fail and name it."""
from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

import engine
from ftorch_cli.app import app
from ftorch_cli.packets import packets_root

runner = CliRunner()
PACKETS = ["FT-P2C-001", "FT-P2C-005"]


@pytest.fixture(scope="module")
def sliced_packets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real") / "packets"
    for packet_id in PACKETS:
        (folder / packet_id).mkdir(parents=True)
        toml = (packets_root() / packet_id / "packet.toml").read_text()
        # A slice cannot meet the whole packet's size gates; the pass-ratio gate stays.
        toml = re.sub(r"(?m)^(min_cases|min_passing_ops) = .*$", r"\1 = 1", toml)
        (folder / packet_id / "packet.toml").write_text(toml)
    result = runner.invoke(app, ["extract", "--packets-dir", str(folder), "--packet", "FT-P2C-001", "--packet",
                                 "FT-P2C-005", "--ops", "neg,add,sum,transpose", "--jobs", "1"])
    assert result.exit_code == 0, result.stderr
    return folder


def conform(folder, tmp_path):
    return runner.invoke(app, ["conform", "--packets-dir", str(folder), "--packet", "FT-P2C-001", "--packet",
                               "FT-P2C-005", "--out", str(tmp_path / "artifacts"), "--json"])


def test_engine_passes_the_slice(sliced_packets, tmp_path):
    result = conform(sliced_packets, tmp_path)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    strict = summary["packets"]["FT-P2C-005"]["modes"]["strict"]
    assert strict["counts"]["pass"] > 100
    assert strict["pass_ratio"] >= 0.99


def test_a_broken_op_fails_conform_and_is_named(sliced_packets, tmp_path, monkeypatch):
    real_neg = engine.neg

    def broken_neg(input, *, out=None):
        return real_neg(input, out=out) + 1 if input.dtype.is_floating_point else real_neg(input, out=out)

    monkeypatch.setattr(engine, "neg", broken_neg)
    monkeypatch.setattr(engine.Tensor, "neg", broken_neg)
    monkeypatch.setattr(engine.Tensor, "__neg__", broken_neg)
    result = conform(sliced_packets, tmp_path)
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    failing = summary["packets"]["FT-P2C-005"]["modes"]["strict"]["failing_ops"]
    assert set(failing) == {"neg"}
    assert "neg" in "".join(result.stderr.split())
