"""SEAL_MANIFEST.json: the list of sealed files in a folder, with their sha256 and decode proof.

Entries name files relative to the manifest's folder; an entry that would point
outside it is rejected, never followed. The manifest is rewritten atomically.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ftorch_cli import __version__
from ftorch_cli.atomic import atomic_writer
from ftorch_cli.errors import BadInputFile

MANIFEST_NAME = "SEAL_MANIFEST.json"
MANIFEST_FORMAT = "ftorch-seal-manifest"
MANIFEST_VERSION = 1


class OutsideManifestFolder(ValueError):
    def __init__(self, path, folder):
        super().__init__(f"{path} is outside the manifest's folder {folder}")


@dataclass
class Manifest:
    path: Path
    entries: dict[str, dict] = field(default_factory=dict)
    changed: bool = False

    @property
    def folder(self) -> Path:
        return self.path.parent

    def relative(self, file: Path) -> str:
        """`file` as an entry key (POSIX, relative); OutsideManifestFolder if it is not inside the folder."""
        try:
            relative = _absolute(file).relative_to(_absolute(self.folder))
        except ValueError:
            raise OutsideManifestFolder(file, self.folder) from None
        return relative.as_posix()

    def resolve(self, key: str) -> Path:
        """The file an entry names; OutsideManifestFolder for absolute paths or `..` escapes."""
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise OutsideManifestFolder(key, self.folder)
        return self.folder.joinpath(*relative.parts)

    def entry_for(self, file: Path) -> dict | None:
        try:
            return self.entries.get(self.relative(file))
        except OutsideManifestFolder:
            return None

    def put(self, file: Path, entry: dict) -> None:
        key = self.relative(file)
        entry = {"path": key, **{name: value for name, value in entry.items() if name != "path"}}
        if self.entries.get(key) != entry:
            self.entries[key] = entry
            self.changed = True

    def save(self) -> None:
        payload = {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "tool": f"ftorch {__version__}",
            "files": [self.entries[key] for key in sorted(self.entries)],
        }
        with atomic_writer(self.path, "w") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True)
            handle.write("\n")
        self.changed = False


def load_manifest(path: Path) -> Manifest:
    """Read a manifest (an empty one if the file does not exist); BadInputFile if it is malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Manifest(path)
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInputFile(path, f"not valid JSON ({exc}); fix it or move it away") from exc
    if not isinstance(payload, dict) or payload.get("format") != MANIFEST_FORMAT:
        raise BadInputFile(path, f"not an ftorch seal manifest (no \"format\": \"{MANIFEST_FORMAT}\")")
    version = payload.get("version")
    if version != MANIFEST_VERSION:
        problem = f"manifest version {version!r} is not supported (this ftorch reads {MANIFEST_VERSION})"
        raise BadInputFile(path, problem)
    files = payload.get("files")
    if not isinstance(files, list) or not all(_is_entry(item) for item in files):
        raise BadInputFile(path, '"files" must be a list of objects with a "path"')
    return Manifest(path, {item["path"]: item for item in files})


def _is_entry(item) -> bool:
    return isinstance(item, dict) and isinstance(item.get("path"), str)


def _absolute(path: Path) -> Path:
    # absolute and normalised, without resolving symlinks (a sealed folder may sit behind one)
    return Path(os.path.normpath(os.path.abspath(path)))
