"""Helpers for pipeline tests: small packets recorded from torch into a temporary folder."""
from __future__ import annotations

import textwrap
from pathlib import Path

from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec, Recorder
from ftorch_cli.serialize.table import write_case_table

TEST_PACKET = "FT-P2C-901"

PACKET_TOML = """\
id = "{packet_id}"
title = "pipeline test packet"

[[anchors]]
path = "aten/src/ATen/native/BinaryOps.cpp"
symbols = ["add"]

[cases]
generator = "opinfo"
ops = ["add", "neg", "transpose", "sub"]
dtypes = ["float32", "float64"]
seed = 7

[gates]
min_pass_ratio = {min_pass_ratio}
drift_budget = 0
min_cases = 3
{extra}
"""


def write_packet_toml(packets_dir: Path, packet_id: str = TEST_PACKET, min_pass_ratio: float = 1.0, extra: str = "") -> Path:
    folder = packets_dir / packet_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "packet.toml"
    path.write_text(PACKET_TOML.format(packet_id=packet_id, min_pass_ratio=min_pass_ratio, extra=textwrap.dedent(extra)))
    return path


def sample_specs(torch) -> list[CaseSpec]:
    """A handful of cases over the fake engine's ops (and one it lacks)."""
    torch.manual_seed(0)
    x = torch.randn(3, 4)
    specs = [
        CaseSpec("add", "float32", "opinfo.sample_inputs", "contiguous", Call("function", "add"), [x.clone(), torch.randn(3, 4)]),
        CaseSpec("add", "float32", "opinfo.sample_inputs", "transposed", Call("function", "add"), [torch.randn(4, 3).t(), x.clone()]),
        CaseSpec("add", "float64", "opinfo.sample_inputs", "scalar", Call("function", "add"), [x.double(), 2.5]),
        CaseSpec("add", "float32", "generated.special_values", "special", Call("function", "add"),
                 [torch.tensor([float("nan"), float("inf"), -0.0, 1e-45]), torch.tensor([1.0, float("-inf"), 0.0, 0.0])]),
        CaseSpec("neg", "float32", "opinfo.sample_inputs", "neg", Call("function", "neg"), [x.clone()]),
        CaseSpec("transpose", "float32", "generated.views", "view", Call("method", "transpose", observe_versions=True),
                 [x.clone(), 0, 1], stride_check="exact"),
        CaseSpec("transpose", "float32", "generated.views", "view+write",
                 Call("method", "transpose", write={"method": "add_"}, observe_inputs=True, observe_versions=True),
                 [x.clone(), 0, 1], write_args=(1,), stride_check="exact"),
        CaseSpec("sub", "float32", "opinfo.sample_inputs", "unregistered", Call("function", "sub"), [x.clone(), x.clone()]),
    ]
    return specs


def make_recorded_packet(torch, packets_dir: Path, packet_id: str = TEST_PACKET, **toml) -> Path:
    """A packet folder with packet.toml and a recorded cases.arrow + manifest.json."""
    write_packet_toml(packets_dir, packet_id, **toml)
    recorder = Recorder(torch, packet_id)
    for spec in sample_specs(torch):
        assert recorder.add(spec) is not None
    folder = packets_dir / packet_id
    write_case_table(folder, packet_id, recorder.rows, {"torch_version": torch.__version__, "case_ops": sorted({r["op"] for r in recorder.rows})})
    return folder
