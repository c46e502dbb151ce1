"""FT-P2C-004 building blocks: the gradient step and program calls, recording them from torch,
rebuilding them in the engine, judging gradients and grad_fn names, known gaps and their gates."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from ftorch_cli.cases.program import Call, UnresolvedCall, resolve, run_program
from ftorch_cli.cases.record import CaseSpec, Recorder
from ftorch_cli.conform.comparators import Tolerance, tolerance_for_magnitude
from ftorch_cli.conform.judge import CaseContext, Observed, judge, judge_grad_fn
from ftorch_cli.errors import BadInputFile
from ftorch_cli.packets.model import parse_packet
from ftorch_cli.serialize.backends import EngineBackend, NumpyBackend, TensorFacts, TorchBackend
from ftorch_autograd_helpers import PACKET, PACKET_TOML, conform, gradient_spec, leaf, record_packet, rows_by_op_and_label

is_torch_tensor = lambda value: isinstance(value, torch.Tensor)  # noqa: E731


def test_call_with_gradient_step_round_trips_and_rejects_malformed_steps():
    call = Call("method", "mul", grad={"outputs": [0], "upstream": "given", "order": 2, "args": []})
    assert Call.from_json(call.to_json()) == call
    assert call.without_stored_arguments().grad == {"outputs": [0], "upstream": "given", "order": 2}
    program = Call("program", "f", source="def f(lib):\n    return 1\n")
    assert Call.from_json(program.to_json()) == program
    for grad in ({"outputs": [0], "upstream": "zeros"}, {"outputs": [], "upstream": "ones"}, {"outputs": [0], "upstream": "ones", "order": 3}):
        with pytest.raises(ValueError):
            Call.from_json({"variant": "function", "target": "sin", "grad": grad})
    with pytest.raises(ValueError):
        Call.from_json({"variant": "program", "target": "f"})  # a program needs its source


def test_recorded_gradient_case_holds_inputs_gradients_and_names():
    x, w = leaf(torch, 3, 4), leaf(torch, 4, seed=1)
    recorder = Recorder(torch, PACKET)
    row = recorder.add(gradient_spec(torch, "mul", [x, w], kind="random"))
    assert row["case_id"] == f"{PACKET}/mul/float64/grad/0001"
    records = [node["$tensor"] for node in row["inputs"]["args"]]
    assert all(record["requires_grad"] for record in records)
    expected = row["expected"]
    assert expected["grad_fn"] == ["MulBackward0"] and len(expected["gradients"]) == 2
    assert row["checks"]["gradcheck"]["seed"] > 0  # torch passes its own finite-difference check
    assert len(row["call"]["grad"]["args"]) == 1  # the random upstream gradient is stored with the call
    second = recorder.add(gradient_spec(torch, "mul", [x, w], order=2))
    assert len(second["expected"]["second_order"]) == 2 and "gradcheck" not in second["checks"]
    facts = NumpyBackend(second["storages"]).decode(second["expected"]["second_order"])
    np.testing.assert_allclose(facts[0].values, second_vectors_product(second, torch), rtol=1e-12)


def second_vectors_product(row, torch):
    """d/dx of sum(v_x * grad_x + v_w * grad_w) for x * w, upstream u: v_w * u (summed over broadcast)."""
    backend = TorchBackend(torch, row["storages"])
    upstream, _, v_w = backend.decode(row["call"]["grad"]["args"])
    return (upstream * v_w).numpy()


def test_inputs_requiring_grad_are_rebuilt_as_leaves_in_both_libraries():
    x = leaf(torch, 2, 3).detach().t().requires_grad_(True)  # a transposed leaf
    row = Recorder(torch, PACKET).add(gradient_spec(torch, "sin", [x]))
    for library, backend in ((torch, TorchBackend(torch, row["storages"])), (engine, EngineBackend(engine, row["storages"]))):
        (rebuilt,) = backend.decode(row["inputs"]["args"])
        assert rebuilt.requires_grad and rebuilt.is_leaf and tuple(rebuilt.stride()) == (1, 3)
        assert rebuilt._base is None, library.__name__  # the root of its own views, as torch's tensor is


def test_lazy_zero_gradients_are_recorded_as_zeros():
    row = Recorder(torch, PACKET).add(gradient_spec(torch, "sgn", [leaf(torch, 5)]))
    (gradient,) = NumpyBackend(row["storages"]).decode(row["expected"]["gradients"])
    assert gradient.values.tolist() == [0.0] * 5


def test_program_calls_see_only_builtins_and_lib():
    call = Call("program", "uses_global", source="def uses_global(lib, x):\n    return numpy.ones(1)\n")
    row = Recorder(torch, PACKET).add(CaseSpec("autograd.graph", "float32", "generated.autograd_programs", "g", call, [torch.ones(1)]))
    assert row["expected"]["kind"] == "exception" and row["expected"]["type"] == "NameError"
    with pytest.raises(UnresolvedCall):
        resolve(torch, Call("program", "missing", source="def other(lib):\n    pass\n"), [])
    with pytest.raises(UnresolvedCall):
        resolve(torch, Call("program", "broken", source="def broken(lib:\n"), [])


@pytest.mark.parametrize("library", [torch, engine], ids=["torch", "engine"])
def test_a_case_that_leaks_a_grad_mode_change_does_not_reach_the_next(library):
    call = Call("program", "leak", source="def leak(lib):\n    lib.set_grad_enabled(False)\n    return lib.is_grad_enabled()\n")
    observation = run_program(resolve(library, call, []), call, [], {}, lambda v: False, lib=library)
    assert observation.output is False and library.is_grad_enabled()


def _facts(values, requires_grad=False, dtype="float64"):
    values = np.asarray(values, dtype=dtype)
    return TensorFacts(dtype, values.shape, tuple(s // values.itemsize for s in values.strides), 0, values, None, None, requires_grad)


def test_judge_separates_forward_gradients_second_order_and_names():
    context = CaseContext("sin", "float64", None, "significant")
    expected = Observed("value", output=_facts([1.0, 2.0], requires_grad=True), gradients=[_facts([0.5, 0.25]), None],
                        second_order=[_facts([0.0, 0.0])], grad_fn=["SinBackward0"])

    def actual(**changes):
        fields = dict(output=_facts([1.0, 2.0], requires_grad=True), gradients=[_facts([0.5, 0.25]), None],
                      second_order=[_facts([0.0, 0.0])], grad_fn=["SinBackward0"])
        fields.update(changes)
        return Observed("value", **fields)

    assert judge(actual(), expected, context).outcome == "pass"
    assert judge(actual(output=_facts([1.0, 2.0])), expected, context).reason_code == "requires_grad_mismatch"
    assert judge(actual(gradients=[_facts([0.5, 0.3]), None]), expected, context).reason_code == "gradient_mismatch"
    assert judge(actual(gradients=[_facts([0.5, 0.25]), _facts([0.0, 0.0])]), expected, context).reason_code == "gradient_mismatch"
    assert judge(actual(second_order=[_facts([0.0, 1.0])]), expected, context).reason_code == "second_order_mismatch"
    renamed = actual(grad_fn=["SinBackward1"])
    assert judge(renamed, expected, context).outcome == "pass"  # names are a separate check
    assert judge_grad_fn(renamed, expected).reason_code == "grad_fn_mismatch"
    assert judge_grad_fn(actual(), expected).outcome == "pass"


def test_gradient_tolerance_is_normwise():
    base = Tolerance(1e-5, 1.3e-6, "torch.testing default")
    assert tolerance_for_magnitude(base, np.array([0.5, -0.25], np.float32), "float32") is base
    normwise = tolerance_for_magnitude(base, np.array([6e8, 1.0, np.inf], np.float32), "float32")
    assert normwise.atol == pytest.approx(780) and normwise.rtol == base.rtol and "normwise" in normwise.source
    # rounding in a broadcast sum with cancellation: a small element off by 12 ULP of a large one passes ...
    context = CaseContext("pow", "float32", None, "none")
    expected = Observed("value", output=None, gradients=[_facts([6e8, 3.0], dtype="float32")])
    close = Observed("value", output=None, gradients=[_facts([6e8 + 64, 3.0 + 500], dtype="float32")])
    assert judge(close, expected, context).outcome == "pass"
    # ... a wrong formula does not, and forward outputs are compared elementwise as before
    wrong = Observed("value", output=None, gradients=[_facts([3e8, 3.0], dtype="float32")])
    assert judge(wrong, expected, context).reason_code == "gradient_mismatch"
    forward = Observed("value", output=_facts([6e8, 3.0 + 500], dtype="float32"))
    assert judge(forward, Observed("value", output=_facts([6e8, 3.0], dtype="float32")), context).reason_code == "value_mismatch"


def test_known_gaps_are_validated_and_scoped(tmp_path):
    path = tmp_path / PACKET / "packet.toml"
    path.parent.mkdir()
    entry = '[[known_gaps]]\nop = "std"\ncase = "*/std.unbiased/*"\nchecks = ["outcome"]\nreason = "rule reads unbiased as dim"\n'
    packet = parse_packet(path, PACKET_TOML.format(packet_id=PACKET, extra=entry))
    assert packet.gates.min_backward_green_ratio == 0.9 and packet.gates.require_known_gaps
    (gap,) = packet.known_gaps
    assert packet.known_gap_for("std", "float32", f"{PACKET}/std.unbiased/float32/grad/0001", "sample:0:sum", "outcome") is gap
    assert packet.known_gap_for("std", "float32", f"{PACKET}/std/float32/grad/0001", "sample:0:sum", "outcome") is None
    assert packet.known_gap_for("std", "float32", f"{PACKET}/std.unbiased/float32/grad/0001", "x", "gradcheck") is None
    for bad, field in ((entry.replace('["outcome"]', '["speed"]'), "known_gaps[0].checks"),
                       (entry.replace('reason = "rule reads unbiased as dim"', 'reason = " "'), "known_gaps[0].reason"),
                       (entry + "expires = 2026-01-01\n", "known_gaps[0].expires")):
        with pytest.raises(BadInputFile, match=field.replace("[", r"\[").replace("]", r"\]")):
            parse_packet(path, PACKET_TOML.format(packet_id=PACKET, extra=bad))


def test_gradient_cases_conform_with_witness_and_names(tmp_path):
    x, w = leaf(torch, 3, 4), leaf(torch, 4, seed=1)
    specs = [
        gradient_spec(torch, "sin", [leaf(torch, 3, 4)], kind="sum"),
        gradient_spec(torch, "mul", [x, w]),
        gradient_spec(torch, "mul", [x, w], order=2),
        gradient_spec(torch, "exp", [leaf(torch, 2, 2, dtype="float32")]),
    ]
    record_packet(torch, tmp_path / "packets", specs)
    run = conform(tmp_path / "packets", tmp_path)
    (result,) = run.packets
    assert [row["outcome"] for row in result.rows] == ["pass"] * 4, [row["message"] for row in result.rows]
    assert [row["grad_fn_outcome"] for row in result.rows] == ["pass"] * 4
    assert [row["gradcheck_outcome"] for row in result.rows] == ["pass", "pass", None, None]  # float64 first order only
    report = result.autograd
    assert report["backward_green"] == 3 and report["double_backward_green"] == 1
    assert report["forward_green"] is None and "unavailable" in report["forward_green_source"]
    assert report["backward_green_ratio"] == 1.0 and run.passed


def test_unlisted_failures_fail_the_known_gaps_gate_and_listed_ones_are_excused(tmp_path, monkeypatch):
    specs = [gradient_spec(torch, "sin", [leaf(torch, 4)]), gradient_spec(torch, "cos", [leaf(torch, 4)])]
    entry = '[[known_gaps]]\nop = "sin"\nreason = "deliberately broken in this test"\n'
    stale = '[[known_gaps]]\nop = "tan"\nreason = "nothing fails here"\n'
    folder = record_packet(torch, tmp_path / "packets", specs, extra=stale)
    rule = engine.sin(engine.ones(1).requires_grad_()).grad_fn.rule
    monkeypatch.setattr(rule, "backward", lambda ctx, grad: grad * 2)
    run = conform(tmp_path / "packets", tmp_path)
    gates = {gate.gate: gate for gate in run.packets[0].gates}
    assert gates["known_gaps"].verdict == "fail" and "sin (gradcheck/outcome)" in gates["known_gaps"].note
    assert gates["min_pass_ratio"].verdict == "fail" and gates["min_backward_green_ratio"].value == 0.5
    assert [entry.op for entry in run.packets[0].known_gaps.stale] == ["tan"]

    (folder / "packet.toml").write_text((folder / "packet.toml").read_text() + entry)
    run = conform(tmp_path / "packets", tmp_path)
    gates = {gate.gate: gate for gate in run.packets[0].gates}
    rows = rows_by_op_and_label(run)
    assert rows["sin", "sample:0:random"]["outcome"] == "fail"  # a known gap changes no outcome ...
    assert gates["known_gaps"].verdict == "pass" and gates["min_pass_ratio"].value == 1.0  # ... only the gates
    assert run.packets[0].stats["strict"].excused == 1
    assert run.summary["packets"][PACKET]["autograd"]["backward_gaps"]["sin"]["known_gap"] == "deliberately broken in this test"
