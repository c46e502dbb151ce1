"""FT-P2C-008's cases (cases/modules.py): torch.nn modules from module_db recorded from torch, rebuilt by
the engine from torch's state_dict and judged through conform; classes engine.nn lacks are skipped."""
from __future__ import annotations

import shutil

import pytest
import torch

import engine
from ftorch_autograd_helpers import conform, rows_by_op_and_label
from ftorch_cli.cases.modules import module_names, module_specs
from ftorch_cli.cases.record import Recorder
from ftorch_cli.packets import load_packet, packets_root
from ftorch_cli.serialize.table import write_case_table

PACKET = "FT-P2C-008"
OPS = {"nn.Linear", "nn.Conv2d", "nn.BatchNorm2d", "nn.LayerNorm", "nn.Embedding", "nn.MaxPool2d", "nn.LSTM",
       "nn.GRU", "nn.ReLU", "nn.MSELoss", "nn.GRUCell", "nn.ZeroPad2d"}
ABSENT = "nn.MultiMarginLoss"  # a class engine.nn does not have: its cases are skipped


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    packets = tmp_path_factory.mktemp("packets")
    folder = packets / PACKET
    folder.mkdir()
    shutil.copy(packets_root() / PACKET / "packet.toml", folder / "packet.toml")
    packet = load_packet(packets, PACKET)
    assert packet.cases.generator == "modules"
    assert set(packet.cases.ops) == set(module_names(torch))
    recorder = Recorder(torch, packet.id)
    for spec in module_specs(torch, OPS | {ABSENT}, packet.cases.seed):
        recorder.add(spec)
    ops = sorted({row["op"] for row in recorder.rows})
    write_case_table(folder, packet.id, recorder.rows, {"torch_version": torch.__version__, "case_ops": ops,
                                                        "program_ops": ops})
    return packets, recorder.rows


def test_torch_recording(recorded):
    _, rows = recorded
    assert {row["op"] for row in rows} == OPS | {ABSENT}
    labels = {row["label"] for row in rows}
    assert any(":train:" in label for label in labels) and any(":eval:" in label for label in labels)
    for row in rows:
        assert row["expected"]["kind"] == "value", row["label"]
        output = dict(row["expected"]["output"]["$dict"])
        assert set(output) == {"output", "param_grads", "input_grads", "state"}


def test_engine_cases(recorded, tmp_path):
    functional = engine.nn.functional
    if not all(hasattr(functional, name) for name in ("linear", "conv2d", "batch_norm", "embedding", "mse_loss")):
        pytest.skip("the nn.functional ops of this build are incomplete")
    packets, rows = recorded
    run = conform(packets, tmp_path, packet_id=PACKET)
    results = rows_by_op_and_label(run)
    assert len(results) == len(rows)
    skipped = {key for key, row in results.items() if row["outcome"] == "skip"}
    assert skipped and all(op == ABSENT for op, _ in skipped)
    failing = {key: row["message"] for key, row in results.items() if row["outcome"] not in ("pass", "skip")}
    assert not failing
