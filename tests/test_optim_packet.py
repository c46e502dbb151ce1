"""FT-P2C-009's cases (cases/optim.py): recorded from torch, judged on the engine through conform."""
from __future__ import annotations

import shutil

import pytest
import torch

from ftorch_autograd_helpers import conform, rows_by_op_and_label
from ftorch_cli.cases.optim import FAMILIES, optim_specs
from ftorch_cli.cases.record import Recorder
from ftorch_cli.packets import load_packet, packets_root
from ftorch_cli.serialize.table import write_case_table

PACKET = "FT-P2C-009"
FAST = {"optim.Adam", "optim.NAdam", "optim.RAdam", "lr_scheduler.OneCycleLR", "lr_scheduler.ReduceLROnPlateau",
        "lr_scheduler.CosineAnnealingLR"}


def _record(tmp_path_factory, families):
    packets = tmp_path_factory.mktemp("packets")
    folder = packets / PACKET
    folder.mkdir()
    shutil.copy(packets_root() / PACKET / "packet.toml", folder / "packet.toml")
    packet = load_packet(packets, PACKET)
    assert packet.cases.generator == "optim" and set(packet.cases.ops) == set(FAMILIES)
    recorder = Recorder(torch, packet.id)
    for spec in optim_specs(torch, set(families), packet.cases.seed, recorder.skipped):
        assert recorder.add(spec) is not None, recorder.skipped
    write_case_table(folder, packet.id, recorder.rows, {"torch_version": torch.__version__,
                                                        "case_ops": sorted(families), "program_ops": sorted(families)})
    return packets, recorder.rows


def _check(packets, rows, tmp_path):
    for row in rows:
        assert row["expected"]["kind"] == "value", (row["op"], row["label"])
    run = conform(packets, tmp_path, packet_id=PACKET)
    results = rows_by_op_and_label(run)
    assert len(results) == len(rows)
    failing = {key: row["message"] for key, row in results.items() if row["outcome"] != "pass"}
    assert not failing


def test_engine_passes_a_subset(tmp_path_factory, tmp_path):
    packets, rows = _record(tmp_path_factory, FAST)
    assert {row["op"] for row in rows} == FAST
    _check(packets, rows, tmp_path)


@pytest.mark.slow
def test_engine_passes_every_case(tmp_path_factory, tmp_path):
    packets, rows = _record(tmp_path_factory, FAMILIES)
    assert {row["op"] for row in rows} == set(FAMILIES)
    _check(packets, rows, tmp_path)
