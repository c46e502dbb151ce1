"""Building blocks of sealing: layout, codec, sidecar format, manifest, atomic writes."""
from __future__ import annotations

import os
import platform
import stat
import subprocess
import sys

import pytest

from ftorch_cli.atomic import TEMP_SUFFIX, atomic_write_bytes, atomic_writer
from ftorch_cli.errors import BadInputFile
from ftorch_cli.sealing import codec
from ftorch_cli.sealing.format import (
    FRAME_SIZE,
    SidecarError,
    SidecarMetadata,
    SidecarVersionError,
    read_sidecar,
    write_sidecar,
)
from ftorch_cli.sealing.layout import Layout, auto_symbol_size, check_layout, plan_layout, repair_budget
from ftorch_cli.sealing.manifest import Manifest, OutsideManifestFolder, load_manifest

# --- layout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 7, 64, 1000, 1 << 20, (1 << 20) + 1, 30_000_000])
def test_layout_puts_every_symbol_in_exactly_one_segment(size):
    layout = plan_layout(size)
    check_layout(layout)
    seen = sorted(index for segment in range(layout.segment_count) for index in layout.symbol_indices(segment))
    assert seen == list(range(layout.symbol_count))
    counts = [layout.source_count(segment) for segment in range(layout.segment_count)]
    assert sum(counts) == layout.symbol_count and max(counts) - min(counts) <= 1
    assert max(counts) * layout.symbol_size <= 8 * 1024 * 1024  # raptorq keeps one plain source block


def test_layout_of_an_empty_file_has_no_segments():
    assert plan_layout(0) == Layout(0, auto_symbol_size(0), 0)


def test_auto_symbol_size_is_16k_for_large_files_and_finer_for_small_ones():
    assert auto_symbol_size(10_000_000) == 16384
    assert auto_symbol_size(100_000) == 1568
    assert auto_symbol_size(1) == 64


@pytest.mark.parametrize("symbol_size", [0, 7, 12, 65536, 1 << 20])
def test_bad_symbol_sizes_are_rejected(symbol_size):
    with pytest.raises(ValueError, match="multiple of 8"):
        plan_layout(1000, symbol_size)


def test_repair_budget_rounds_up_and_never_reaches_zero():
    assert repair_budget(30, 0.10) == 3
    assert repair_budget(31, 0.10) == 4
    assert repair_budget(1, 0.01) == 1


# --- codec -----------------------------------------------------------------------------------


def test_encode_then_decode_from_repair_symbols_only():
    segment = os.urandom(64 * 10)
    packets, repair = codec.encode_repair_symbols(segment, 64, 12)
    assert len(packets) == 22 and len(repair) == 12 * 64
    assert codec.decode_segment(len(segment), 64, packets[10:]) == segment


def test_codec_turns_raptorq_panics_into_codec_errors():
    # raptorq panics (a BaseException) on a bad source block number; it must not escape as one
    with pytest.raises(codec.CodecError):
        codec.decode_segment(640, 64, [b"\x01\x00\x00\x00" + bytes(64)])
    with pytest.raises(codec.CodecError):
        codec.encode_repair_symbols(b"", 64, 3)
    with pytest.raises(codec.CodecError):
        codec.decode_segment(0, 64, [])


def test_too_few_symbols_decode_to_none():
    segment = os.urandom(64 * 10)
    packets, _ = codec.encode_repair_symbols(segment, 64, 3)
    assert codec.decode_segment(len(segment), 64, packets[:9]) is None


def test_worker_memory_tuning_applies_on_glibc():
    # in a child process: the tuning is for seal workers, never for the caller's process
    code = "from ftorch_cli.sealing.parallel import keep_freed_memory; raise SystemExit(0 if keep_freed_memory() else 1)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    expected = 0 if platform.libc_ver()[0] == "glibc" else 1
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == expected


# --- sidecar format -------------------------------------------------------------------------


def _metadata(size=1000, symbol_size=64) -> tuple[SidecarMetadata, list[bytes]]:
    layout = plan_layout(size, symbol_size)
    counts = tuple(repair_budget(layout.source_count(segment), 0.1) + 2 for segment in range(layout.segment_count))
    repair = [os.urandom(count * symbol_size) for count in counts]
    metadata = SidecarMetadata(
        file_name="results.arrow",
        file_sha256=os.urandom(32),
        layout=layout,
        overhead=0.1,
        repair_counts=counts,
        source_digests=os.urandom(layout.symbol_count * codec.DIGEST_SIZE),
        repair_digests=b"".join(codec.symbol_digests(chunk, symbol_size) for chunk in repair),
    )
    return metadata, repair


def _write(path, metadata, repair):
    with open(path, "wb") as handle:
        write_sidecar(handle, metadata, repair)


def _patch(path, offset, data):
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def test_sidecar_round_trips(tmp_path):
    metadata, repair = _metadata()
    _write(tmp_path / "a.rq", metadata, repair)
    view = read_sidecar(tmp_path / "a.rq")
    assert view.metadata == metadata
    assert view.front_copy_ok and view.back_copy_ok and not view.structural_problems()
    assert view.damaged_repair_symbols() == 0


def test_damaged_front_metadata_falls_back_to_the_back_copy(tmp_path):
    metadata, repair = _metadata()
    _write(tmp_path / "a.rq", metadata, repair)
    _patch(tmp_path / "a.rq", FRAME_SIZE + 20, b"\xff\xff\xff")
    view = read_sidecar(tmp_path / "a.rq")
    assert view.metadata == metadata and not view.front_copy_ok and view.back_copy_ok
    assert view.structural_problems() == ["front metadata copy damaged"]


def test_damaged_frame_fields_fail_the_checksum_too(tmp_path):
    metadata, repair = _metadata()
    _write(tmp_path / "a.rq", metadata, repair)
    _patch(tmp_path / "a.rq", 8, (2).to_bytes(2, "little"))  # the front frame's version field
    view = read_sidecar(tmp_path / "a.rq")
    assert view.metadata == metadata and not view.front_copy_ok


def test_truncated_sidecar_keeps_its_front_copy_and_loses_repair_symbols(tmp_path):
    metadata, repair = _metadata()
    _write(tmp_path / "a.rq", metadata, repair)
    size = os.path.getsize(tmp_path / "a.rq")
    os.truncate(tmp_path / "a.rq", size - len(metadata.encode()) - FRAME_SIZE - 100)
    view = read_sidecar(tmp_path / "a.rq")
    assert view.front_copy_ok and not view.back_copy_ok
    assert view.damaged_repair_symbols() == 2  # 100 bytes into the last two 64-byte symbols


def test_both_copies_damaged_is_an_error(tmp_path):
    metadata, repair = _metadata()
    _write(tmp_path / "a.rq", metadata, repair)
    size = os.path.getsize(tmp_path / "a.rq")
    _patch(tmp_path / "a.rq", FRAME_SIZE + 40, b"\x00\x01")
    _patch(tmp_path / "a.rq", size - FRAME_SIZE - 30, b"\x00\x01")
    with pytest.raises(SidecarError, match="both metadata copies are damaged"):
        read_sidecar(tmp_path / "a.rq")


def test_a_file_that_is_not_a_sidecar_is_named_as_such(tmp_path):
    (tmp_path / "query.rq").write_text("SELECT ?s WHERE { ?s ?p ?o }" * 10)
    with pytest.raises(SidecarError, match="not an ftorch sidecar"):
        read_sidecar(tmp_path / "query.rq")


def test_a_newer_format_version_is_refused_by_name(tmp_path):
    import ftorch_cli.sealing.format as sidecar_format

    metadata, repair = _metadata()
    original = sidecar_format.FORMAT_VERSION
    sidecar_format.FORMAT_VERSION = 2
    try:
        _write(tmp_path / "a.rq", metadata, repair)
    finally:
        sidecar_format.FORMAT_VERSION = original
    with pytest.raises(SidecarVersionError, match="version 2 is not supported"):
        read_sidecar(tmp_path / "a.rq")


# --- manifest --------------------------------------------------------------------------------


def test_manifest_rejects_entries_outside_its_folder(tmp_path):
    manifest = Manifest(tmp_path / "run" / "SEAL_MANIFEST.json")
    assert manifest.relative(tmp_path / "run" / "sub" / "x.bin") == "sub/x.bin"
    for key in ["../x.bin", "/etc/passwd", "a/../../x"]:
        with pytest.raises(OutsideManifestFolder):
            manifest.resolve(key)
    with pytest.raises(OutsideManifestFolder):
        manifest.relative(tmp_path / "elsewhere.bin")


@pytest.mark.parametrize(
    "text, message",
    [("{not json", "not valid JSON"), ('{"format": "x"}', "not an ftorch seal manifest"),
     ('{"format": "ftorch-seal-manifest", "version": 9, "files": []}', "version 9")],
)  # fmt: skip
def test_malformed_manifests_are_reported(tmp_path, text, message):
    (tmp_path / "SEAL_MANIFEST.json").write_text(text)
    with pytest.raises(BadInputFile, match=message):
        load_manifest(tmp_path / "SEAL_MANIFEST.json")


# --- atomic writes -----------------------------------------------------------------------------


def test_atomic_write_replaces_and_keeps_permissions(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert not [name for name in os.listdir(tmp_path) if name.endswith(TEMP_SUFFIX)]


def test_atomic_writer_leaves_the_target_alone_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_writer(target, "w") as handle:
            handle.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_writer_needs_a_write_mode(tmp_path):
    with pytest.raises(ValueError):
        with atomic_writer(tmp_path / "x", "rb"):
            pass
