"""seal-artifacts / verify-artifacts / repair-artifacts through the Typer app."""
from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from ftorch_cli.app import app
from ftorch_cli.sealing.format import sidecar_path

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def said(result) -> str:
    """Everything printed, with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture
def run_folder(tmp_path):
    """A conform-like run folder."""
    folder = tmp_path / "run-1"
    folder.mkdir()
    (folder / "results.arrow").write_bytes(os.urandom(300_000))
    (folder / "summary.json").write_text(json.dumps({"pass": 10, "fail": 0}))
    (folder / "nested").mkdir()
    (folder / "nested" / "log.txt").write_text("line\n" * 1000)
    return folder


def test_seal_verify_repair_round_trip(run_folder):
    result = run("seal-artifacts", str(run_folder), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    names = sorted(os.path.basename(item["path"]) for item in report["files"])
    assert names == ["log.txt", "results.arrow", "summary.json"]
    assert {item["status"] for item in report["files"]} == {"sealed"}
    manifest = json.loads((run_folder / "SEAL_MANIFEST.json").read_text())
    assert [entry["path"] for entry in manifest["files"]] == ["nested/log.txt", "results.arrow", "summary.json"]

    result = run("verify-artifacts", str(run_folder), "--json")
    assert result.exit_code == 0, result.output
    assert {item["status"] for item in json.loads(result.stdout)["files"]} == {"intact"}

    original = (run_folder / "results.arrow").read_bytes()
    with open(run_folder / "results.arrow", "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 2000)
    result = run("verify-artifacts", str(run_folder), "--json")
    assert result.exit_code == 1
    statuses = {os.path.basename(item["path"]): item["status"] for item in json.loads(result.stdout)["files"]}
    assert statuses["results.arrow"] == "repairable"

    result = run("repair-artifacts", str(run_folder / "results.arrow"))
    assert result.exit_code == 0, result.output
    assert (run_folder / "results.arrow").read_bytes() == original
    assert run("verify-artifacts", str(run_folder)).exit_code == 0


def test_overhead_and_symbol_size_options(run_folder):
    target = run_folder / "results.arrow"
    result = run("seal-artifacts", str(target), "--overhead", "25%", "--symbol-size", "4096", "--json")
    assert result.exit_code == 0, result.output
    entry = json.loads((run_folder / "SEAL_MANIFEST.json").read_text())["files"][0]
    assert entry["overhead"] == 0.25 and entry["symbol_size"] == 4096


@pytest.mark.parametrize(
    "args, message",
    [
        (["--overhead", "lots"], "expected a fraction"),
        (["--overhead", "10"], "at most 4"),
        (["--overhead", "0"], "above 0"),
        (["--symbol-size", "1001"], "multiple of 8"),
    ],
)
def test_bad_options_are_usage_errors(run_folder, args, message):
    result = run("seal-artifacts", str(run_folder), *args)
    assert result.exit_code == 2
    assert message in said(result)


def test_missing_path_is_a_usage_error(tmp_path):
    for command in ("seal-artifacts", "verify-artifacts", "repair-artifacts"):
        result = run(command, str(tmp_path / "nope"))
        assert result.exit_code == 2 and "no such file or directory" in said(result)


def test_empty_folder_selects_nothing(tmp_path):
    assert run("seal-artifacts", str(tmp_path)).exit_code == 5
    assert run("verify-artifacts", str(tmp_path)).exit_code == 5


def test_sealing_a_sidecar_or_an_unsealed_file_is_refused(run_folder):
    assert run("seal-artifacts", str(run_folder / "summary.json")).exit_code == 0
    result = run("seal-artifacts", str(sidecar_path(run_folder / "summary.json")))
    assert result.exit_code == 2 and "seal the artifact itself" in said(result)
    result = run("verify-artifacts", str(run_folder / "results.arrow"))
    assert result.exit_code == 2 and "not sealed" in said(result)


def test_paths_outside_an_explicit_manifest_folder_are_refused(tmp_path, run_folder):
    other = tmp_path / "elsewhere.bin"
    other.write_bytes(b"data")
    result = run("seal-artifacts", str(other), "--manifest", str(run_folder / "SEAL_MANIFEST.json"))
    assert result.exit_code == 2 and "outside the manifest's folder" in said(result)
    assert not sidecar_path(other).exists()


def test_a_manifest_entry_escaping_its_folder_is_reported_not_followed(run_folder):
    assert run("seal-artifacts", str(run_folder)).exit_code == 0
    manifest_path = run_folder / "SEAL_MANIFEST.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"].append(dict(manifest["files"][0], path="../../etc/passwd"))
    manifest_path.write_text(json.dumps(manifest))
    result = run("verify-artifacts", str(run_folder), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert any("outside the manifest's folder" in problem for problem in report["problems"])
    assert all("passwd" not in item["path"] for item in report["files"])
    assert run("repair-artifacts", str(run_folder)).exit_code == 1


def test_a_corrupt_manifest_is_never_overwritten(run_folder):
    (run_folder / "SEAL_MANIFEST.json").write_text("{broken")
    result = run("seal-artifacts", str(run_folder))
    assert result.exit_code == 2 and "not valid JSON" in said(result)
    assert (run_folder / "SEAL_MANIFEST.json").read_text() == "{broken"
    assert not sidecar_path(run_folder / "results.arrow").exists()


def test_reseal_refuses_what_looks_like_damage_unless_forced(run_folder):
    target = run_folder / "results.arrow"
    assert run("seal-artifacts", str(target)).exit_code == 0
    result = run("seal-artifacts", str(target), "--json")
    assert json.loads(result.stdout)["files"][0]["status"] == "unchanged"
    with open(target, "r+b") as handle:
        handle.seek(5000)
        handle.write(b"rot")
    result = run("seal-artifacts", str(target))
    assert result.exit_code == 1 and "looks like damage" in said(result)
    assert run("seal-artifacts", str(target), "--force").exit_code == 0


def test_lost_file_exits_1_and_is_left_alone(run_folder):
    target = run_folder / "results.arrow"
    assert run("seal-artifacts", str(target)).exit_code == 0
    os.truncate(target, 1000)
    result = run("repair-artifacts", str(target), "--json")
    assert result.exit_code == 1
    item = json.loads(result.stdout)["files"][0]
    assert item["status"] == "lost" and item["action"] == "not-recovered"
    assert os.path.getsize(target) == 1000


def test_missing_sealed_file_is_found_through_its_sidecar(run_folder):
    target = run_folder / "summary.json"
    original = target.read_bytes()
    assert run("seal-artifacts", str(target), "--overhead", "150%").exit_code == 0
    target.unlink()
    result = run("repair-artifacts", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == original


def test_commands_are_listed_in_help():
    result = run("--help")
    for command in ("seal-artifacts", "verify-artifacts", "repair-artifacts"):
        assert command in said(result)


def test_a_file_sealed_with_its_folder_updates_the_folder_manifest(run_folder):
    assert run("seal-artifacts", str(run_folder)).exit_code == 0
    log = run_folder / "nested" / "log.txt"
    log.write_text("rewritten\n" * 2000)
    assert run("seal-artifacts", str(log)).exit_code == 0
    assert not (run_folder / "nested" / "SEAL_MANIFEST.json").exists()
    entries = {entry["path"]: entry for entry in json.loads((run_folder / "SEAL_MANIFEST.json").read_text())["files"]}
    assert entries["nested/log.txt"]["size"] == log.stat().st_size
