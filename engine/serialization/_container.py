"""The zip container torch.save writes, and a strict reader for it.

Writer: every record STORED (no compression) with its data 64-byte aligned
(a local "FB" padding extra field, as torch's PyTorchFileWriter does), crc32
and sizes in the local header, zip64 records when a size or offset needs them
(Python's zipfile does the zip64 bookkeeping).

Reader: parses the central directory (zipfile), then checks every entry
against the bytes actually there before anything is unpickled: local header
signature and name, data inside the file, no two entries sharing bytes,
no duplicate names, one archive folder, STORED or DEFLATED only, declared
sizes a deflate stream can really produce (zip bombs), crc32 on read (where
the writer recorded one; torch does not check it, the engine does). Every
problem is a ContainerError (a RuntimeError, like torch's
"PytorchStreamReader failed ..." errors).
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib

ALIGNMENT = 64
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIGNATURE = 0x04034B50
_PADDING_TAG = 0x4246  # b"FB", torch's padding extra field
_MAX_DEFLATE_RATIO = 1032  # deflate cannot expand more than ~1032:1
_MAX_ENTRIES = 1 << 20


class ContainerError(RuntimeError):
    """A checkpoint's zip container is malformed, truncated or hostile."""


def _fail(problem: str) -> ContainerError:
    return ContainerError(
        f"PytorchStreamReader failed reading zip archive: {problem}. The checkpoint file is corrupted or was not "
        "written by torch.save"
    )


# ---- writing --------------------------------------------------------------------------------

class ArchiveWriter:
    """Writes records `<archive>/<name>` to a seekable binary file object."""

    def __init__(self, fileobj, archive_name: str):
        self._zip = zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
        self._fileobj = fileobj
        self._archive = archive_name

    def write_record(self, name: str, data) -> None:
        """data: bytes or any contiguous buffer (written without a copy)."""
        view = memoryview(data).cast("B")
        info = zipfile.ZipInfo(f"{self._archive}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        info.create_system = 0
        size = view.nbytes
        header_start = self._fileobj.tell()
        # zipfile adds a 20-byte zip64 extra field to the local header when it expects a large record.
        zip64_extra = 20 if size * 1.05 > zipfile.ZIP64_LIMIT else 0
        fixed = 30 + len(info.filename.encode("utf-8")) + zip64_extra
        pad = (-(header_start + fixed + 4)) % ALIGNMENT
        info.extra = struct.pack("<HH", _PADDING_TAG, pad) + b"Z" * pad
        with self._zip.open(info, "w", force_zip64=bool(zip64_extra)) as dest:
            dest.write(view)

    def close(self) -> None:
        self._zip.close()


# ---- reading --------------------------------------------------------------------------------

class Archive:
    """A validated zip archive over an in-memory buffer (bytes or an mmap)."""

    def __init__(self, buffer):
        self._buffer = buffer
        self._view = memoryview(buffer).cast("B") if not isinstance(buffer, memoryview) else buffer
        size = self._view.nbytes
        if size == 0:
            raise _fail("the file is empty")
        try:
            # bytes: BytesIO shares them; an mmap is itself a seekable file object (no copy either way)
            with zipfile.ZipFile(io.BytesIO(buffer) if isinstance(buffer, bytes) else buffer) as zf:
                infos = zf.infolist()
        except zipfile.BadZipFile as exc:
            raise _fail(f"failed finding central directory ({exc})") from None
        except (OSError, ValueError, struct.error, OverflowError) as exc:
            raise _fail(f"malformed central directory ({exc})") from None
        if not infos:
            raise _fail("the archive holds no records")
        if len(infos) > _MAX_ENTRIES:
            raise _fail(f"too many records ({len(infos)})")
        first = infos[0].filename
        if "/" not in first:
            raise _fail(f"file in archive is not in a subdirectory: {first}")
        self.prefix = first.split("/", 1)[0] + "/"
        self._entries: dict[str, tuple] = {}
        spans = []
        for info in infos:
            name = info.filename
            if name in self._entries or name[len(self.prefix):] in self._entries:
                raise _fail(f"duplicate record name {name!r}")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _fail(f"record {name!r} uses unsupported compression method {info.compress_type}")
            if info.flag_bits & 0x1:
                raise _fail(f"record {name!r} is encrypted")
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise _fail(f"record {name!r} is stored but declares {info.compress_size} compressed and "
                            f"{info.file_size} uncompressed bytes")
            if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > info.compress_size * _MAX_DEFLATE_RATIO + 1024:
                raise _fail(f"record {name!r} declares {info.file_size} bytes from a {info.compress_size}-byte "
                            "deflate stream (a zip bomb)")
            start = info.header_offset
            if start < 0 or start + 30 > size:
                raise _fail(f"record {name!r}: local header past the end of the file (truncated)")
            sig, _v, _f, _c, _t, _d, _crc, _cs, _us, name_len, extra_len = _LOCAL_HEADER.unpack_from(self._view, start)
            if sig != _LOCAL_SIGNATURE:
                raise _fail(f"record {name!r}: bad local header signature")
            local_name = bytes(self._view[start + 30:start + 30 + name_len])
            try:
                decoded = local_name.decode("utf-8" if info.flag_bits & 0x800 else "cp437")
            except UnicodeDecodeError:
                decoded = None
            if decoded != name:
                raise _fail(f"record {name!r}: local header names {local_name!r}")
            data_start = start + 30 + name_len + extra_len
            data_end = data_start + info.compress_size
            if data_end > size:
                raise _fail(f"record {name!r} ends past the end of the file (truncated)")
            spans.append((start, data_end, name))
            self._entries[name] = (info, data_start)
        spans.sort()
        for (s0, e0, n0), (s1, e1, n1) in zip(spans, spans[1:]):
            if s1 < e0:
                raise _fail(f"records {n0!r} and {n1!r} overlap")

    def has_record(self, name: str) -> bool:
        return self.prefix + name in self._entries

    def record_names(self) -> list:
        return [name[len(self.prefix):] for name in self._entries if name.startswith(self.prefix)]

    def record_size(self, name: str) -> int:
        return self._entry(name)[0].file_size

    def _entry(self, name: str):
        entry = self._entries.get(self.prefix + name)
        if entry is None:
            raise ContainerError(
                f"PytorchStreamReader failed locating file {name}: file not found. The checkpoint file is corrupted "
                "or incomplete"
            )
        return entry

    def stored_view(self, name: str):
        """(memoryview of the record's bytes, their file offset) for a STORED record, without a copy or crc check; else None."""
        info, start = self._entry(name)
        if info.compress_type != zipfile.ZIP_STORED:
            return None
        return self._view[start:start + info.file_size], start

    def read(self, name: str):
        """The record's bytes (a memoryview for stored records), crc-checked."""
        info, start = self._entry(name)
        raw = self._view[start:start + info.compress_size]
        if info.compress_type == zipfile.ZIP_STORED:
            data = raw
        else:
            decompressor = zlib.decompressobj(-15)
            try:
                data = decompressor.decompress(raw, info.file_size + 1)
            except zlib.error as exc:
                raise _fail(f"record {name!r}: bad deflate stream ({exc})") from None
            if len(data) != info.file_size or decompressor.unconsumed_tail:
                raise _fail(f"record {name!r} inflates to a size other than the declared {info.file_size} bytes")
        # torch.save with serialization config save.compute_crc32=False records a crc32 of 0: nothing to check.
        if info.CRC != 0 and zlib.crc32(data) & 0xFFFFFFFF != info.CRC:
            raise _fail(f"record {name!r}: crc32 mismatch")
        return data
