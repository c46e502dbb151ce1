"""Helpers for the FT-P2C-004 tests: autograd cases recorded from torch by hand (no op_db), in a
temporary packet, and conformance of the real engine against them."""
from __future__ import annotations

import textwrap
from pathlib import Path

from ftorch_cli.cases.autograd import GRADGRAD, GRADIENTS, record_witness
from ftorch_cli.cases.opinfo import stable_seed
from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec, Recorder
from ftorch_cli.conform.runner import ConformOptions, run_conformance
from ftorch_cli.packets import load_packet
from ftorch_cli.serialize.table import write_case_table

PACKET = "FT-P2C-904"

PACKET_TOML = """\
id = "{packet_id}"
title = "autograd test packet"

[[anchors]]
path = "torch/csrc/autograd/engine.cpp"
symbols = ["Engine::execute"]

[cases]
generator = "autograd"
ops = ["sin"]
dtypes = ["float32", "float64"]
seed = 4

[gates]
min_pass_ratio = 1.0
drift_budget = 0
min_backward_green_ratio = 0.9
require_known_gaps = true
{extra}
"""


def leaf(torch, *shape, dtype="float64", low=-2.0, high=2.0, seed=0):
    generator = torch.Generator().manual_seed(seed)
    values = torch.rand(*shape, generator=generator, dtype=getattr(torch, dtype)) * (high - low) + low
    return values.requires_grad_(True)


def gradient_spec(torch, op: str, args: list, *, kind: str = "random", order: int = 1, variant: str = "function",
                  witness: bool = True, seed: int = 0) -> CaseSpec:
    """A gradient case like cases.autograd's: the sum (kind "sum") or a seeded random upstream gradient,
    order 2 with one seeded vector per input; float64 first-order cases carry the witness."""
    call = Call(variant, op)
    generator = torch.Generator().manual_seed(seed)
    output = getattr(torch, op)(*args) if variant == "function" else getattr(args[0], op)(*args[1:])
    dtype = output.dtype
    upstream = () if kind == "sum" else (torch.randn(output.shape, generator=generator, dtype=dtype),)
    inputs = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    vectors = tuple(torch.randn(t.shape, generator=generator, dtype=t.dtype) for t in inputs) if order == 2 else ()
    grad_call = Call(variant, op, grad={"outputs": [0], "upstream": "ones" if kind == "sum" else "given", "order": order})
    grad_args = upstream + vectors
    label = f"sample:{seed}:{kind}" if order == 1 else f"sample:{seed}"
    checks = {}
    dtype_name = str(dtype).split(".")[1]
    if witness and order == 1 and dtype_name == "float64":
        checks["gradcheck"] = record_witness(torch, grad_call, args, {}, grad_args, lambda v: isinstance(v, torch.Tensor),
                                       stable_seed(op, label))
    return CaseSpec(op=op, dtype=dtype_name, source=GRADIENTS if order == 1 else GRADGRAD, label=label, call=grad_call,
                    args=args, grad_args=grad_args, extra_checks=checks)


def record_packet(torch, packets_dir: Path, specs: list[CaseSpec], extra: str = "", packet_id: str = PACKET) -> Path:
    """packet.toml plus a recorded table of `specs`; returns the packet folder."""
    folder = packets_dir / packet_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "packet.toml").write_text(PACKET_TOML.format(packet_id=packet_id, extra=textwrap.dedent(extra)))
    recorder = Recorder(torch, packet_id)
    for spec in specs:
        assert recorder.add(spec) is not None, recorder.skipped
    ops = sorted({row["op"] for row in recorder.rows})
    write_case_table(folder, packet_id, recorder.rows, {
        "torch_version": torch.__version__, "case_ops": ops, "differentiable_ops": ops, "gradgrad_ops": ops,
    })
    return folder


def conform(packets_dir: Path, tmp_path: Path, packet_id: str = PACKET, **options):
    packet = load_packet(packets_dir, packet_id)
    return run_conformance([packet], ConformOptions(artifacts_root=tmp_path / "artifacts", **options))


def rows_by_op_and_label(run) -> dict:
    return {(row["op"], row["label"]): row for result in run.packets for row in result.rows}
