"""`ftorch conform` through typer's CliRunner: outputs, exit codes and bad input."""
from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

import ftorch_fake_engine as fake
from ftorch_cli.app import app
from ftorch_packet_helpers import TEST_PACKET, make_recorded_packet, write_packet_toml

runner = CliRunner()


def conform(packets_dir, *extra):
    arguments = ["conform", "--packet", TEST_PACKET, "--packets-dir", str(packets_dir), "--engine", "ftorch_fake_engine",
                 "--out", str(packets_dir.parent / "artifacts"), *extra]
    return runner.invoke(app, arguments)


def said(result) -> str:
    """stderr with rich's line wrapping undone."""
    return " ".join(result.stderr.split())


def says(result, text: str) -> bool:
    """Whether stderr holds `text`, ignoring whitespace (rich folds long paths anywhere)."""
    return "".join(text.split()) in "".join(result.stderr.split())


@pytest.fixture
def packets_dir(tmp_path):
    make_recorded_packet(torch, tmp_path / "packets")
    return tmp_path / "packets"


def test_conform_passes_with_a_table_and_json(packets_dir):
    result = conform(packets_dir, "--json", "--mode", "both")
    assert result.exit_code == 0, result.output
    text = said(result)
    for column in ("cases", "pass", "fail", "error", "skip", "allowlisted", "ratio", "gate", "verdict"):
        assert column in text
    assert "verdict: pass" in text
    payload = json.loads(result.stdout)
    packet = payload["packets"][TEST_PACKET]
    assert packet["verdict"] == "pass" and set(packet["modes"]) == {"strict", "hardened"}
    assert packet["modes"]["strict"]["counts"] == {"pass": 7, "fail": 0, "error": 0, "skip": 1, "allowlisted": 0}
    assert payload["coverage"]["packets"][TEST_PACKET]["ops_not_registered"] == ["sub"]
    assert (packets_dir.parent / "artifacts" / "conform" / payload["run_id"] / "results.arrow").exists()


def test_broken_kernel_exits_1_and_names_the_op(packets_dir, monkeypatch):
    monkeypatch.setattr(fake, "BROKEN", {"neg"})
    result = conform(packets_dir)
    assert result.exit_code == 1
    text = said(result)
    assert "gate failed" in text and "failing ops: neg" in text
    assert "Mismatched elements: 12 / 12 (100.0%)" in text


def test_ops_filter_and_unknown_op(packets_dir):
    result = conform(packets_dir, "--ops", "neg,transpose", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["packets"][TEST_PACKET]["modes"]["strict"]["cases"] == 3
    result = conform(packets_dir, "--ops", "no_such_op")
    assert result.exit_code == 2 and "unknown op 'no_such_op'" in said(result)


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda folder: (folder / "cases.arrow").write_bytes((folder / "cases.arrow").read_bytes()[:200]), "truncated or corrupted"),
        (lambda folder: (folder / "cases.arrow").write_bytes(b"\x00" * 64), "truncated or corrupted"),
        (lambda folder: (folder / "cases.arrow").unlink(), "missing"),
        (lambda folder: (folder / "manifest.json").unlink(), "no recorded cases"),
        (lambda folder: (folder / "packet.toml").write_text((folder / "packet.toml").read_text().replace("min_pass_ratio = 1.0", "min_pass_ratio = 7")),
         "gates.min_pass_ratio: must be a number in [0, 1], got 7.0"),
        (lambda folder: (folder / "packet.toml").write_text("id = [unclosed"), "not valid TOML"),
    ],
)
def test_bad_input_is_one_clear_message(packets_dir, damage, expected):
    folder = packets_dir / TEST_PACKET
    damage(folder)
    result = conform(packets_dir)
    assert result.exit_code == 2, result.output
    assert says(result, expected) and says(result, str(folder))
    assert "Traceback" not in result.output
    assert not (packets_dir.parent / "artifacts").exists()  # nothing written


def test_missing_packet_and_bad_id(packets_dir):
    result = runner.invoke(app, ["conform", "--packet", "FT-P2C-999", "--packets-dir", str(packets_dir)])
    assert result.exit_code == 2 and "no such packet" in said(result) and TEST_PACKET in said(result)
    result = runner.invoke(app, ["conform", "--packet", "P2C-1", "--packets-dir", str(packets_dir)])
    assert result.exit_code == 2 and "is not a packet id" in said(result)


def test_unknown_key_and_bad_dtype_in_packet_toml(tmp_path):
    packets_dir = tmp_path / "packets"
    path = write_packet_toml(packets_dir, extra="surprise = 1")
    result = conform(packets_dir)
    assert result.exit_code == 2 and says(result, f"{path}: gates.surprise: unknown key")
    path.write_text(path.read_text().replace("surprise = 1", "").replace('"float64"', '"float128"'))
    result = conform(packets_dir)
    assert result.exit_code == 2 and says(result, f"{path}: cases.dtypes: 'float128' is not a dtype name")


def test_engine_that_cannot_be_imported(packets_dir):
    result = runner.invoke(app, ["conform", "--packet", TEST_PACKET, "--packets-dir", str(packets_dir), "--engine", "no_such_engine_module"])
    assert result.exit_code == 3 and "cannot be imported" in said(result)
    assert "Traceback" not in result.output


def test_seal_writes_sidecars_for_the_run(packets_dir):
    result = conform(packets_dir, "--seal", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    run_folder = packets_dir.parent / "artifacts" / "conform" / payload["run_id"]
    assert payload["seal"]["sealed"] == [str(run_folder / "results.arrow"), str(run_folder / "summary.json")]
    assert (run_folder / "results.arrow.rq").exists() and (run_folder / "summary.json.rq").exists()
    assert (packets_dir.parent / "artifacts" / "conform" / "latest").read_text().strip() == payload["run_id"]
