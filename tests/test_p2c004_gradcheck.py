"""The finite-difference witness (cases/gradcheck.py): it agrees with correct gradients in torch and
the engine, catches a deliberately wrong derivative rule, is a second witness even when the
recording agrees with the engine, and steps aside at points where torch itself fails it."""
from __future__ import annotations

import json

import torch

import engine
from ftorch_cli.cases.gradcheck import finite_difference_check
from ftorch_cli.cases.program import Call
from ftorch_cli.serialize.table import read_case_table, write_case_table
from ftorch_autograd_helpers import PACKET, conform, gradient_spec, leaf, record_packet, rows_by_op_and_label

SIN = Call("function", "sin", grad={"outputs": [0], "upstream": "ones", "order": 1})


def _wrong_sin_rule(monkeypatch):
    """Break the engine's derivative of sin (cos(x) becomes -cos(x)) where every sin call reads it."""
    rule = engine.sin(engine.ones(1).requires_grad_()).grad_fn.rule
    monkeypatch.setattr(rule, "backward", lambda ctx, grad: -grad * ctx.saved(0).cos())


def test_witness_agrees_with_correct_gradients_in_both_libraries():
    x = leaf(torch, 3, 4)
    assert finite_difference_check(torch, SIN, [x], {}, (), lambda v: isinstance(v, torch.Tensor), seed=3).status == "pass"
    e = engine.from_numpy(x.detach().numpy().copy()).requires_grad_()
    result = finite_difference_check(engine, SIN, [e], {}, (), lambda v: isinstance(v, engine.Tensor), seed=3)
    assert result.status == "pass" and result.worst_error < 1e-6


def test_witness_catches_a_wrong_derivative_rule(monkeypatch):
    _wrong_sin_rule(monkeypatch)
    e = engine.from_numpy(leaf(torch, 3, 4).detach().numpy().copy()).requires_grad_()
    result = finite_difference_check(engine, SIN, [e], {}, (), lambda v: isinstance(v, engine.Tensor), seed=3)
    assert result.status == "fail" and "input #0" in result.message


def test_wrong_rule_fails_the_case_and_the_witness_in_conform(tmp_path, monkeypatch):
    record_packet(torch, tmp_path / "packets", [gradient_spec(torch, "sin", [leaf(torch, 3, 4)])])
    _wrong_sin_rule(monkeypatch)
    row = rows_by_op_and_label(conform(tmp_path / "packets", tmp_path))["sin", "sample:0:random"]
    assert (row["outcome"], row["reason_code"]) == ("fail", "gradient_mismatch")
    assert (row["gradcheck_outcome"], row["gradcheck_reason"]) == ("fail", "gradcheck_mismatch")


def test_witness_does_not_trust_a_recording_that_agrees_with_a_wrong_engine(tmp_path, monkeypatch):
    """Tamper with the recorded gradient so it matches the broken engine: the comparison with the
    recording passes, the witness still fails, and the op is not backward-green."""
    folder = record_packet(torch, tmp_path / "packets", [gradient_spec(torch, "sin", [leaf(torch, 3, 4)], kind="sum")])
    table = read_case_table(folder, PACKET)
    (row,) = table.rows
    x = leaf(torch, 3, 4)
    wrong = (-x.detach().cos()).numpy().tobytes()
    gradient = row["expected"]["gradients"][0]["$tensor"]
    row["storages"][gradient["storage"]] = wrong
    manifest = {key: value for key, value in table.manifest.items() if key not in ("format", "packet_id", "table", "case_count", "sha256", "table_bytes")}
    write_case_table(folder, PACKET, table.rows, manifest)
    _wrong_sin_rule(monkeypatch)
    run = conform(tmp_path / "packets", tmp_path)
    result = rows_by_op_and_label(run)["sin", "sample:0:sum"]
    assert result["outcome"] == "pass" and result["gradcheck_outcome"] == "fail"
    report = run.packets[0].autograd
    assert report["backward_green"] == 0 and "gradcheck_mismatch" in report["backward_gaps"]["sin"]["why"]
    assert json.loads(run.summary_path.read_text())["packets"][PACKET]["autograd"]["gradcheck_witness"] == {"fail": 1}


def test_witness_is_not_applicable_where_torch_itself_fails_it(tmp_path):
    kink = torch.tensor([1e-7], dtype=torch.float64, requires_grad=True)  # abs within eps of its kink
    spec = gradient_spec(torch, "abs", [kink], kind="sum")
    assert "torch itself fails it" in spec.extra_checks["gradcheck"]["skip"]
    smooth = gradient_spec(torch, "abs", [torch.tensor([-2.0, 3.0], dtype=torch.float64, requires_grad=True)], kind="sum", seed=1)
    record_packet(torch, tmp_path / "packets", [spec, smooth])
    rows = rows_by_op_and_label(conform(tmp_path / "packets", tmp_path))
    kinked = rows["abs", "sample:0:sum"]
    assert kinked["outcome"] == "pass"  # the recorded gradient still holds
    assert (kinked["gradcheck_outcome"], kinked["gradcheck_reason"]) == ("skip", "gradcheck_not_applicable")
    assert rows["abs", "sample:1:sum"]["gradcheck_outcome"] == "pass"
