"""FT-P2C-006's cases (cases/serialization.py): recorded from torch, judged on the engine through conform."""
from __future__ import annotations

import shutil

import pytest
import torch

from ftorch_autograd_helpers import conform, rows_by_op_and_label
from ftorch_cli.cases.record import Recorder
from ftorch_cli.cases.serialization import FAMILIES, serialization_specs
from ftorch_cli.packets import load_packet, packets_root
from ftorch_cli.serialize.table import write_case_table

PACKET = "FT-P2C-006"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    packets = tmp_path_factory.mktemp("packets")
    folder = packets / PACKET
    folder.mkdir()
    shutil.copy(packets_root() / PACKET / "packet.toml", folder / "packet.toml")
    packet = load_packet(packets, PACKET)
    assert packet.cases.generator == "serialization" and set(packet.cases.ops) == set(FAMILIES)
    recorder = Recorder(torch, packet.id)
    for spec in serialization_specs(torch, set(FAMILIES), packet.cases.seed):
        assert recorder.add(spec) is not None, recorder.skipped
    write_case_table(folder, packet.id, recorder.rows, {"torch_version": torch.__version__, "case_ops": sorted(FAMILIES),
                                                        "program_ops": sorted(FAMILIES)})
    return packets, recorder.rows


def test_torch_recording(recorded):
    _, rows = recorded
    by_op: dict = {}
    for row in rows:
        by_op.setdefault(row["op"], []).append(row)
    assert set(by_op) == set(FAMILIES)
    # every hostile file is refused by torch itself, with the exception types the engine must raise
    hostile = {row["label"]: row["expected"] for row in by_op["serialization.hostile"]}
    assert all(expected["kind"] == "exception" for expected in hostile.values())
    assert hostile["reduce_os_system"]["type"] == "UnpicklingError"
    assert hostile["global_not_allowlisted"]["type"] == "UnpicklingError"
    assert hostile["truncated_half"]["type"] == "RuntimeError"
    assert hostile["wrong_storage_size"]["type"] == "RuntimeError"
    # torch reads every file engine.save wrote, and agrees with its own file of the same objects
    for row in by_op["serialization.engine_file"]:
        assert row["expected"]["kind"] == "value", row["label"]
        assert row["expected"]["output"]["$tuple"][1] is True, row["label"]
    assert all(row["checks"]["strides"] == "exact" for row in by_op["serialization.load"])


def test_engine_passes_every_case(recorded, tmp_path):
    packets, rows = recorded
    run = conform(packets, tmp_path, packet_id=PACKET)
    results = rows_by_op_and_label(run)
    assert len(results) == len(rows)
    failing = {key: row["message"] for key, row in results.items() if row["outcome"] != "pass"}
    assert not failing
