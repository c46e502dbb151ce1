"""`ftorch extract` through typer's CliRunner, and an end-to-end extract -> conform on a small slice."""
from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from ftorch_cli.app import app
from ftorch_cli.packets import DEFAULT_PACKETS, packets_root

runner = CliRunner()


def says(result, text: str) -> bool:
    """Whether stderr holds `text`, ignoring whitespace (rich folds long lines anywhere)."""
    return "".join(text.split()) in "".join(result.stderr.split())


@pytest.fixture
def packets_dir(tmp_path):
    """The real packet.toml files, in a folder of their own so tests never touch the checkout's tables."""
    folder = tmp_path / "packets"
    for packet_id in DEFAULT_PACKETS:
        (folder / packet_id).mkdir(parents=True)
        shutil.copy(packets_root() / packet_id / "packet.toml", folder / packet_id / "packet.toml")
    return folder


def extract(packets_dir, *extra):
    return runner.invoke(app, ["extract", "--packets-dir", str(packets_dir), *extra])


def test_unknown_dtype_is_a_usage_error(packets_dir):
    result = extract(packets_dir, "--dtype", "float32,complex7")
    assert result.exit_code == 2 and says(result, "unknown dtype 'complex7'")
    assert not (packets_dir / "FT-P2C-001" / "cases.arrow").exists()


def test_bad_packet_toml_names_file_and_field(packets_dir):
    path = packets_dir / "FT-P2C-001" / "packet.toml"
    path.write_text(path.read_text().replace("seed = 1001", 'seed = "many"'))
    result = extract(packets_dir, "--packet", "FT-P2C-001")
    assert result.exit_code == 2 and says(result, f"{path}: cases.seed: must be an integer, got 'many'")
    assert "Traceback" not in result.output


def test_unknown_op_leaves_existing_tables_alone(packets_dir):
    first = extract(packets_dir, "--packet", "FT-P2C-001", "--ops", "narrow", "--dtype", "float32", "--json")
    assert first.exit_code == 0, first.output
    table = packets_dir / "FT-P2C-001" / "cases.arrow"
    before = table.read_bytes()
    result = extract(packets_dir, "--packet", "FT-P2C-001", "--ops", "narrow,no_such_op")
    assert result.exit_code == 2 and says(result, "unknown op 'no_such_op'")
    assert table.read_bytes() == before


def test_extract_then_conform_on_a_small_slice(packets_dir, tmp_path):
    # FT-P2C-004's gradient cases need autograd, which the fake engine lacks (tests/test_p2c004*.py cover them).
    forward_packets = ["--packet", "FT-P2C-001", "--packet", "FT-P2C-005"]
    result = extract(packets_dir, *forward_packets, "--ops", "add,neg,transpose", "--dtype", "float32,int64", "--jobs", "1", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    counts = {item["packet_id"]: item for item in report["packets"]}
    assert counts["FT-P2C-001"]["ops"] == 1 and counts["FT-P2C-005"]["ops"] == 3  # transpose is both a view op and in op_db
    assert set(counts["FT-P2C-005"]["sources"]) >= {"opinfo.sample_inputs", "generated.special_values"}
    manifest = json.loads((packets_dir / "FT-P2C-005" / "manifest.json").read_text())
    for key in ("torch_version", "numpy_version", "python_version", "cpu", "threads", "seed", "case_count", "sha256"):
        assert manifest[key] not in (None, "")
    assert manifest["ops_filter"] == ["add", "neg", "transpose"]

    result = runner.invoke(app, ["conform", *forward_packets, "--packets-dir", str(packets_dir), "--engine", "ftorch_fake_engine",
                                 "--out", str(tmp_path / "artifacts"), "--json", "--show-failures", "0"])
    assert result.exit_code in (0, 1), result.stderr  # the fake engine is not torch: gates may fail, nothing may crash
    summary = json.loads(result.stdout)
    for packet_id, packet in summary["packets"].items():
        strict = packet["modes"]["strict"]
        assert strict["cases"] == counts[packet_id]["case_count"]
        assert strict["counts"]["pass"] > 0
