"""Corruption drills: damage real outputs, then verify and repair them from their sidecars.

Within the repair budget every file must come back bit-exactly; beyond it the
report says `lost` and the damaged file is left exactly as it was.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from unittest import mock

import pyarrow as pa
import pyarrow.ipc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftorch_cli.sealing import repair_paths, seal_paths, verify_paths
from ftorch_cli.sealing import layout as layout_module
from ftorch_cli.sealing.format import FRAME_SIZE, read_sidecar, sidecar_path
from ftorch_cli.sealing.layout import plan_layout, repair_budget

MiB = 1024 * 1024


def write_results_arrow(path: Path, rows: int, seed: int = 0) -> bytes:
    """An Arrow IPC file shaped like a conform results.arrow."""
    rng = random.Random(seed)
    outcomes = ["pass", "fail", "error", "skip", "allowlisted"]
    table = pa.table(
        {
            "packet_id": [f"FT-P2C-{rng.randint(1, 9):03d}" for _ in range(rows)],
            "case_id": [f"case-{number:06d}" for number in range(rows)],
            "op": [rng.choice(["add", "mul", "matmul", "sum", "relu"]) for _ in range(rows)],
            "dtype": [rng.choice(["float32", "float64", "int64", "bool"]) for _ in range(rows)],
            "mode": [rng.choice(["strict", "hardened"]) for _ in range(rows)],
            "outcome": [rng.choice(outcomes) for _ in range(rows)],
            "reason_code": [rng.choice(["", "VALUE_MISMATCH", "DTYPE_MISMATCH"]) for _ in range(rows)],
            "max_abs_err": [rng.random() * 1e-6 for _ in range(rows)],
            "max_ulp": [rng.randint(0, 4) for _ in range(rows)],
            "message": [rng.choice(["", "values differ at index 3", "wrong dtype"]) for _ in range(rows)],
            "engine_ns": [rng.randint(200, 5000) for _ in range(rows)],
        }
    )
    with pa.ipc.new_file(str(path), table.schema) as writer:
        writer.write_table(table)
    return path.read_bytes()


def seal_one(path: Path, overhead: float = 0.10, **options) -> dict:
    report = seal_paths([path], overhead, progress=False, proof_seed=7, **options)
    assert report.ok, report.files
    manifest = json.loads((path.parent / "SEAL_MANIFEST.json").read_text())
    return next(entry for entry in manifest["files"] if entry["path"] == path.name)


def check_one(path: Path, *, repair: bool = False):
    report = (repair_paths if repair else verify_paths)([path], progress=False)
    assert len(report.files) == 1
    return report, report.files[0]


def flip_bytes(path: Path, positions) -> None:
    data = bytearray(path.read_bytes())
    for position in positions:
        data[position] ^= 0xA5
    path.write_bytes(data)


def assert_repairs_exactly(path: Path, original: bytes) -> None:
    _, found = check_one(path)
    assert found.status == "repairable", found.message
    report, repaired = check_one(path, repair=True)
    assert repaired.action.startswith("repaired") and report.ok, repaired.message
    assert path.read_bytes() == original
    _, after = check_one(path)
    assert after.status == "intact", after.message


def _snapshot(*paths: Path) -> list:
    return [(path.read_bytes(), os.stat(path).st_mtime_ns) if path.exists() else None for path in paths]


def assert_lost_and_untouched(path: Path) -> None:
    """Verify says lost; repair fails and writes nothing: not the file, its sidecar or the manifest."""
    watched = [path, sidecar_path(path), path.parent / "SEAL_MANIFEST.json"]
    before = _snapshot(*watched)
    _, found = check_one(path)
    assert found.status == "lost", found.message
    report, repaired = check_one(path, repair=True)
    assert repaired.action == "not-recovered" and not report.ok
    assert _snapshot(*watched) == before


@pytest.fixture
def results_arrow(tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "run" / "results.arrow"
    path.parent.mkdir()
    return path, write_results_arrow(path, rows=20_000)


# --- damage to the file -------------------------------------------------------------------------


def test_random_byte_flips_within_budget_come_back_bit_exactly(results_arrow):
    path, original = results_arrow
    entry = seal_one(path)
    symbol_size = entry["symbol_size"]
    rng = random.Random(1)
    # one flip in each of a budget's worth of distinct symbols of one segment
    layout = plan_layout(len(original), symbol_size)
    symbols = rng.sample(list(layout.symbol_indices(0)), repair_budget(layout.source_count(0), 0.10))
    flip_bytes(path, [index * symbol_size + rng.randrange(layout.symbol_length(index)) for index in symbols])
    assert_repairs_exactly(path, original)
    assert pa.ipc.open_file(str(path)).read_all().num_rows == 20_000


def test_zeroed_range_comes_back(results_arrow):
    path, original = results_arrow
    seal_one(path)
    data = bytearray(original)
    start = len(data) // 3
    data[start : start + len(data) // 12] = bytes(len(data) // 12)  # 8% of the file, in one burst
    path.write_bytes(data)
    assert_repairs_exactly(path, original)


def test_truncated_file_comes_back(results_arrow):
    path, original = results_arrow
    seal_one(path)
    os.truncate(path, len(original) - len(original) // 14)
    _, found = check_one(path)
    assert "shorter than sealed" in found.message
    assert_repairs_exactly(path, original)


def test_appended_bytes_are_dropped(results_arrow):
    path, original = results_arrow
    seal_one(path)
    with open(path, "ab") as handle:
        handle.write(b"trailing garbage" * 100)
    _, found = check_one(path)
    assert found.damaged_source_symbols == 0 and "longer than sealed" in found.message
    assert_repairs_exactly(path, original)


def test_a_segments_worth_cut_out_of_the_middle_comes_back(tmp_path):
    path = tmp_path / "blob.bin"
    original = os.urandom(6 * MiB)  # three 2-MiB segments
    path.write_bytes(original)
    entry = seal_one(path, overhead=0.40)
    assert entry["segments"] == 3
    cut = 2 * MiB + 12345
    path.write_bytes(original[:cut] + original[cut + 2 * MiB :])  # later data moves back by 2 MiB
    _, found = check_one(path)
    assert found.shifted_symbols > 0
    assert_repairs_exactly(path, original)


def test_a_deleted_file_is_rebuilt_from_its_sidecar_alone(tmp_path):
    path = tmp_path / "small.bin"
    original = os.urandom(300_000)
    path.write_bytes(original)
    seal_one(path, overhead=1.0)  # as many repair symbols as source symbols (+2 spares)
    path.unlink()
    _, found = check_one(path)
    assert found.status == "repairable" and "file missing" in found.message
    report, _ = check_one(path, repair=True)
    assert report.ok and path.read_bytes() == original


def test_damage_beyond_the_budget_is_lost_and_nothing_is_written(results_arrow):
    path, original = results_arrow
    seal_one(path)
    data = bytearray(original)
    data[100 : 100 + len(data) // 2] = bytes(len(data) // 2)
    path.write_bytes(data)
    assert_lost_and_untouched(path)


def test_a_replaced_file_is_lost_not_overwritten(results_arrow):
    path, _ = results_arrow
    seal_one(path)
    write_results_arrow(path, rows=20_000, seed=99)  # same shape, different content
    assert_lost_and_untouched(path)


# --- damage to the sidecar -----------------------------------------------------------------------


def test_damaged_repair_symbols_are_found_and_the_sidecar_rebuilt(results_arrow):
    path, original = results_arrow
    seal_one(path)
    sidecar = sidecar_path(path)
    pristine = sidecar.read_bytes()
    view = read_sidecar(sidecar)
    flip_bytes(sidecar, [view.repair_offset + 10, view.repair_offset + 5 * view.metadata.symbol_size + 3])
    _, found = check_one(path)
    assert found.status == "sidecar-damaged" and found.damaged_repair_symbols == 2
    report, repaired = check_one(path, repair=True)
    assert repaired.action == "sidecar-rebuilt" and report.ok
    assert sidecar.read_bytes() == pristine  # raptorq is deterministic: the same sidecar comes back
    assert path.read_bytes() == original


def test_file_and_sidecar_damaged_together(results_arrow):
    path, original = results_arrow
    seal_one(path, overhead=0.25)
    sidecar = sidecar_path(path)
    view = read_sidecar(sidecar)
    flip_bytes(sidecar, [FRAME_SIZE + 100, view.repair_offset + 1])  # front metadata copy and one repair symbol
    flip_bytes(path, [1000, 50_000, 200_000])
    _, found = check_one(path)
    assert found.status == "repairable" and found.damaged_repair_symbols == 1
    assert "front metadata copy damaged" in found.message
    report, repaired = check_one(path, repair=True)
    assert repaired.action == "repaired+sidecar-rebuilt" and report.ok
    assert path.read_bytes() == original
    assert check_one(path)[1].status == "intact"


def test_unreadable_sidecar_is_rebuilt_when_the_manifest_vouches_for_the_file(results_arrow):
    path, original = results_arrow
    seal_one(path)
    sidecar = sidecar_path(path)
    size = sidecar.stat().st_size
    flip_bytes(sidecar, [FRAME_SIZE + 50, size - FRAME_SIZE - 50])  # both metadata copies
    _, found = check_one(path)
    assert found.status == "sidecar-damaged" and "matches its manifest sha256" in found.message
    report, repaired = check_one(path, repair=True)
    assert repaired.action == "sidecar-rebuilt" and report.ok
    assert check_one(path)[1].status == "intact"


def test_unreadable_sidecar_and_a_damaged_file_is_lost(results_arrow):
    path, _ = results_arrow
    seal_one(path)
    sidecar = sidecar_path(path)
    size = sidecar.stat().st_size
    flip_bytes(sidecar, [FRAME_SIZE + 50, size - FRAME_SIZE - 50])
    flip_bytes(path, [10])
    assert_lost_and_untouched(path)


def test_a_sidecar_from_another_file_never_rewrites_the_file(tmp_path):
    first, second = tmp_path / "first.bin", tmp_path / "second.bin"
    first.write_bytes(os.urandom(100_000))
    second.write_bytes(os.urandom(100_000))
    seal_paths([tmp_path], progress=False)
    shutil.copyfile(sidecar_path(first), sidecar_path(second))
    before = second.read_bytes()
    _, found = check_one(second)
    assert found.status == "sidecar-damaged" and "written for 'first.bin'" in found.message
    report, repaired = check_one(second, repair=True)
    assert repaired.action == "not-recovered" and not report.ok
    assert second.read_bytes() == before


def test_a_newer_sidecar_version_is_reported_and_left_alone(results_arrow):
    path, _ = results_arrow
    seal_one(path)
    sidecar = sidecar_path(path)
    data = bytearray(sidecar.read_bytes())
    data[8:10] = (9).to_bytes(2, "little")  # version field (the checksum then fails: treated as damage)
    sidecar.write_bytes(data)
    _, found = check_one(path)
    assert found.status == "sidecar-damaged"  # front copy damaged, back copy fine


# --- sealing behaviour ------------------------------------------------------------------------


def test_resealing_an_unchanged_file_is_a_no_op(results_arrow):
    path, _ = results_arrow
    seal_one(path)
    manifest = path.parent / "SEAL_MANIFEST.json"
    stamps = (os.stat(sidecar_path(path)).st_mtime_ns, os.stat(manifest).st_mtime_ns)
    report = seal_paths([path.parent], progress=False)
    assert [item.status for item in report.files] == ["unchanged"]
    assert report.summary().startswith("sealing: 1 unchanged (0.0 MB")
    assert (os.stat(sidecar_path(path)).st_mtime_ns, os.stat(manifest).st_mtime_ns) == stamps


def test_sealing_a_slightly_changed_file_is_refused_without_force(results_arrow):
    path, original = results_arrow
    seal_one(path)
    flip_bytes(path, [5000])
    report = seal_paths([path], progress=False, force=False)
    assert report.files[0].status == "refused" and "looks like damage" in report.files[0].message
    assert not report.ok
    report = seal_paths([path], progress=False, force=True)
    assert report.files[0].status == "resealed"
    assert check_one(path)[1].status == "intact"


def test_a_rewritten_file_is_resealed_even_without_force(results_arrow):
    path, _ = results_arrow
    seal_one(path)
    write_results_arrow(path, rows=25_000, seed=5)
    report = seal_paths([path], progress=False, force=False)
    assert report.files[0].status == "resealed"


def test_empty_files_are_sealed_and_checked(tmp_path):
    path = tmp_path / "empty.log"
    path.write_bytes(b"")
    entry = seal_one(path)
    assert entry["size"] == 0 and entry["decode_proof"] == {"skipped": "empty file: nothing to encode"}
    assert check_one(path)[1].status == "intact"
    path.write_bytes(b"grew")
    assert_repairs_exactly(path, b"")


def test_manifest_records_a_real_decode_proof(results_arrow):
    path, original = results_arrow
    entry = seal_one(path)
    proof = entry["decode_proof"]
    assert proof["recovered"] is True and proof["seed"] == 7
    assert proof["dropped_source_symbols"] == repair_budget(proof["source_symbols"], 0.10) > 0
    assert entry["sha256"] == __import__("hashlib").sha256(original).hexdigest()
    assert entry["sidecar"] == "results.arrow.rq" and entry["overhead"] == 0.10


def test_parallel_and_in_process_sealing_write_identical_sidecars(tmp_path):
    original = os.urandom(9 * MiB)
    sidecars = []
    for workers in (1, 2):
        folder = tmp_path / f"w{workers}"
        folder.mkdir()
        (folder / "blob.bin").write_bytes(original)
        seal_paths([folder], progress=False, workers=workers, proof_seed=3)
        sidecars.append((folder / "blob.bin.rq").read_bytes())
    assert sidecars[0] == sidecars[1]


# --- property test --------------------------------------------------------------------------------

DAMAGE = st.sampled_from(["flips", "zero-range", "truncate", "append", "cut-out", "none"])


def _touched_symbols(kind: str, size: int, symbol_size: int, rng: random.Random, data: bytearray):
    """Apply one damage pattern to `data`; return it and the original symbols it can have destroyed."""
    symbols = max(1, -(-size // symbol_size))
    if kind == "flips":
        positions = [rng.randrange(size) for _ in range(rng.randint(1, 4))]
        for position in positions:
            data[position] ^= rng.randint(1, 255)
        return data, {position // symbol_size for position in positions}
    if kind == "zero-range":
        start = rng.randrange(size)
        length = rng.randint(1, max(1, size // 6))
        data[start : start + length] = bytes(len(data[start : start + length]))
        return data, set(range(start // symbol_size, min(symbols, (start + length - 1) // symbol_size + 1)))
    if kind == "truncate":
        keep = rng.randrange(size)
        return data[:keep], set(range(keep // symbol_size, symbols))
    if kind == "append":
        return data + os.urandom(rng.randint(1, 5000)), set()
    if kind == "cut-out":
        start = rng.randrange(size)
        length = rng.randint(1, max(1, size // 8))
        end = min(size, start + length)
        return data[:start] + data[end:], set(range(start // symbol_size, (end - 1) // symbol_size + 1))
    return data, set()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.one_of(st.integers(1, 100), st.integers(101, 40_000)),
    symbol_size=st.sampled_from([None, 8, 64, 256, 1024]),
    overhead=st.sampled_from([0.05, 0.10, 0.25, 0.5]),
    damage=DAMAGE,
    seed=st.integers(0, 2**32 - 1),
)
def test_repair_restores_whatever_is_within_budget(tmp_path_factory, size, symbol_size, overhead, damage, seed):
    _property_case(tmp_path_factory.mktemp("p"), size, symbol_size, overhead, damage, seed)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(1, 300_000),
    symbol_size=st.sampled_from([None, 8, 64, 512, 4096]),
    overhead=st.sampled_from([0.05, 0.10, 0.25, 0.5, 1.0]),
    damage=DAMAGE,
    seed=st.integers(0, 2**32 - 1),
)
def test_repair_restores_whatever_is_within_budget_more_examples(
    tmp_path_factory, size, symbol_size, overhead, damage, seed
):
    _property_case(tmp_path_factory.mktemp("p"), size, symbol_size, overhead, damage, seed)


def _property_case(folder: Path, size, symbol_size, overhead, damage, seed) -> None:
    # small segments (512 symbols at most... of whatever size) so small files span several of them
    with mock.patch.object(layout_module, "SEGMENT_TARGET_BYTES", 4096):
        rng = random.Random(seed)
        original = bytes(rng.getrandbits(8) for _ in range(size))
        path = folder / "artifact.bin"
        path.write_bytes(original)
        report = seal_paths([path], overhead, symbol_size, progress=False, proof_seed=seed)
        assert report.ok, report.files
        sidecar = sidecar_path(path).read_bytes()
        layout = plan_layout(size, symbol_size)
        damaged, touched = _touched_symbols(damage, size, layout.symbol_size, rng, bytearray(original))
        path.write_bytes(damaged)
        within_budget = all(
            sum(1 for index in touched if index % layout.segment_count == segment)
            <= repair_budget(layout.source_count(segment), overhead)
            for segment in range(layout.segment_count)
        )
        verified = verify_paths([path], progress=False).files[0]
        repaired = repair_paths([path], progress=False).files[0]
        if bytes(damaged) == original:
            assert verified.status == "intact" and repaired.action == "none"
        elif repaired.action == "repaired":
            assert verified.status == "repairable"
            assert path.read_bytes() == original
        else:
            assert not within_budget, (damage, verified.message)
            assert verified.status == repaired.status == "lost"
            assert path.read_bytes() == bytes(damaged)
            assert sidecar_path(path).read_bytes() == sidecar


# --- the 30 MB drill ----------------------------------------------------------------------------


@pytest.mark.slow
def test_thirty_megabyte_drill(tmp_path):
    """Every damage kind on a 30 MB binary at 10% overhead, each at the full budget, repaired bit-exactly."""
    path = tmp_path / "blob.bin"
    original = os.urandom(30_000_000)
    path.write_bytes(original)
    entry = seal_one(path)
    layout = plan_layout(len(original))
    segments, symbol_size = layout.segment_count, layout.symbol_size
    budget = min(repair_budget(layout.source_count(segment), 0.10) for segment in range(segments))
    assert entry["segments"] == segments > 1
    # a run of budget*segments consecutive symbols hits every segment exactly `budget` times (interleaving),
    # so any byte range one symbol shorter than that is within budget wherever it starts: ~10.6% of the file
    burst = (budget * segments - 1) * symbol_size

    def flips(data: bytearray) -> bytearray:  # one byte in `budget` symbols of every segment: the most it can take
        rng = random.Random(2)
        for segment in range(segments):
            for index in rng.sample(list(layout.symbol_indices(segment)), budget):
                data[index * symbol_size + rng.randrange(layout.symbol_length(index))] ^= 0xFF
        return data

    drills = {
        "flips": flips,
        "zero-range": lambda data: data[:5_000_001] + bytes(burst) + data[5_000_001 + burst :],
        "truncate": lambda data: data[: len(data) - burst],
        "append": lambda data: data + os.urandom(123_456),
        "cut-out": lambda data: data[:10_000_003] + data[10_000_003 + burst :],
    }
    for damage in drills.values():
        path.write_bytes(bytes(damage(bytearray(original))))
        assert_repairs_exactly(path, original)
    # beyond the budget and its spare symbols (budget + 2 per segment can still decode, by luck of RaptorQ)
    path.write_bytes(original[: len(original) - burst - 3 * segments * symbol_size])
    assert_lost_and_untouched(path)
    path.write_bytes(original)
    sidecar = sidecar_path(path)
    view = read_sidecar(sidecar)
    flip_bytes(sidecar, [FRAME_SIZE + 7] + [view.repair_offset + symbol_size * n + 5 for n in range(0, 200, 7)])
    report, repaired = check_one(path, repair=True)
    assert repaired.action == "sidecar-rebuilt" and report.ok, repaired.message


def test_a_missing_sidecar_is_rebuilt_when_the_manifest_vouches_for_the_file(results_arrow):
    path, _ = results_arrow
    seal_one(path)
    pristine = sidecar_path(path).read_bytes()
    sidecar_path(path).unlink()
    _, found = check_one(path)
    assert found.status == "sidecar-damaged" and "sidecar missing" in found.message
    report, repaired = check_one(path, repair=True)
    assert repaired.action == "sidecar-rebuilt" and report.ok
    assert sidecar_path(path).read_bytes() == pristine


def test_a_file_renamed_with_its_sidecar_still_verifies(results_arrow):
    path, original = results_arrow
    seal_one(path)
    renamed = path.with_name("renamed.arrow")
    path.rename(renamed)
    sidecar_path(path).rename(sidecar_path(renamed))
    _, found = check_one(renamed)
    assert found.status == "intact" and "written for 'results.arrow'" in found.message
