"""Turns command-line PATHs into the files to seal, or the sealed files to check."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ftorch_cli.atomic import TEMP_SUFFIX
from ftorch_cli.errors import BadInputFile, NothingSelected, UsageError
from ftorch_cli.sealing.format import SIDECAR_SUFFIX, sidecar_path
from ftorch_cli.sealing.manifest import MANIFEST_NAME, Manifest, OutsideManifestFolder, load_manifest


def size_or_none(path: str | os.PathLike) -> int | None:
    """A file's size, or None if it does not exist."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return None


def _is_bookkeeping(name: str) -> bool:
    """Files sealing itself writes: never sealed, never mistaken for artifacts."""
    return name.endswith(SIDECAR_SUFFIX) or name == MANIFEST_NAME or name.endswith(TEMP_SUFFIX)


def _walk(folder: Path) -> Iterable[Path]:
    """Regular files below `folder`, sorted, without following symlinks."""
    for root, directories, names in os.walk(folder):
        directories.sort()
        for name in sorted(names):
            path = Path(root, name)
            if not path.is_symlink() and path.is_file():
                yield path


def files_to_seal(
    paths: Iterable[str | os.PathLike], manifest: str | os.PathLike | None = None
) -> list[tuple[Path, Path]]:
    """(file, its manifest path) for every file the PATHs name; folders are walked.

    Without an explicit manifest a folder gets its own SEAL_MANIFEST.json; a file
    argument uses the nearest manifest above it that already lists it (it was sealed
    with its folder), else the one in its parent folder.
    """
    selected: dict[Path, tuple[Path, Path]] = {}
    explicit = Path(manifest) if manifest is not None else None
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise UsageError(f"{raw}: no such file or directory")
        if path.is_symlink():
            raise UsageError(f"{raw}: is a symlink; seal its target")
        if path.is_dir():
            files = [file for file in _walk(path) if not _is_bookkeeping(file.name)]
            manifest_path = explicit or path / MANIFEST_NAME
        elif path.is_file():
            if _is_bookkeeping(path.name):
                raise UsageError(f"{raw}: is a sidecar, manifest or temporary file; seal the artifact itself")
            files = [path]
            manifest_path = explicit or _manifest_listing(path) or path.parent / MANIFEST_NAME
        else:
            raise UsageError(f"{raw}: not a regular file or folder")
        holder = Manifest(manifest_path)
        for file in files:
            try:
                holder.relative(file)
            except OutsideManifestFolder as exc:
                raise UsageError(str(exc)) from None
            selected.setdefault(Path(os.path.abspath(file)), (file, manifest_path))
    if not selected:
        raise NothingSelected("nothing to seal: the folders given hold no files")
    return list(selected.values())


def _manifest_listing(file: Path) -> Path | None:
    """The nearest SEAL_MANIFEST.json above `file` that has an entry for it (malformed ones are skipped)."""
    for folder in Path(os.path.abspath(file)).parents:
        candidate = folder / MANIFEST_NAME
        if candidate.is_file():
            try:
                if load_manifest(candidate).entry_for(file) is not None:
                    return candidate
            except BadInputFile:
                continue
    return None


@dataclass
class SealedTarget:
    path: Path
    manifest: Manifest | None = None
    entry: dict | None = None


@dataclass
class Selection:
    targets: list[SealedTarget]
    problems: list[str]  # manifest trouble found on the way; reported, and the check fails


class _ManifestFinder:
    """Finds the nearest SEAL_MANIFEST.json that lists a file (manifests are loaded once)."""

    def __init__(self, problems: list[str]):
        self.loaded: dict[Path, Manifest | None] = {}
        self.problems = problems

    def load(self, path: Path) -> Manifest | None:
        key = Path(os.path.abspath(path))
        if key not in self.loaded:
            manifest = None
            if key.is_file():
                try:
                    manifest = load_manifest(path)
                except BadInputFile as exc:
                    self.problems.append(str(exc))
            self.loaded[key] = manifest
        return self.loaded[key]

    def find(self, file: Path) -> tuple[Manifest | None, dict | None]:
        for folder in Path(os.path.abspath(file)).parents:
            manifest = self.load(folder / MANIFEST_NAME)
            if manifest is not None and (entry := manifest.entry_for(file)) is not None:
                return manifest, entry
        return None, None


def sealed_files(paths: Iterable[str | os.PathLike]) -> Selection:
    """Every sealed file the PATHs name: a file, its sidecar, or a folder (its sidecars and manifests).

    A sealed file may be missing (its sidecar or manifest entry remains); a manifest
    entry pointing outside its folder is a problem, never a target.
    """
    problems: list[str] = []
    finder = _ManifestFinder(problems)
    candidates: dict[Path, Path] = {}

    def add(file: Path) -> None:
        candidates.setdefault(Path(os.path.abspath(file)), file)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in _walk(path):
                if file.name.endswith(SIDECAR_SUFFIX):
                    add(file.with_name(file.name[: -len(SIDECAR_SUFFIX)]))
                elif file.name == MANIFEST_NAME and (manifest := finder.load(file)) is not None:
                    for key in manifest.entries:
                        try:
                            add(manifest.resolve(key))
                        except OutsideManifestFolder as exc:
                            problems.append(f"{manifest.path}: entry {exc}")
        elif path.name.endswith(SIDECAR_SUFFIX) and path.is_file():
            add(path.with_name(path.name[: -len(SIDECAR_SUFFIX)]))
        elif path.is_file() or sidecar_path(path).exists():
            if _is_bookkeeping(path.name):
                raise UsageError(f"{raw}: is a manifest or temporary file, not a sealed artifact")
            add(path)
        elif not path.exists():
            raise UsageError(f"{raw}: no such file or directory (and no {sidecar_path(path).name} sidecar)")
        else:
            raise UsageError(f"{raw}: not a regular file or folder")
    targets = []
    for file in candidates.values():
        manifest, entry = finder.find(file)
        if entry is None and not sidecar_path(file).exists():
            raise UsageError(f"{file}: not sealed (no {sidecar_path(file).name} and no manifest entry)")
        targets.append(SealedTarget(file, manifest, entry))
    if not targets and not problems:
        raise NothingSelected("nothing sealed found under the given paths")
    return Selection(targets, problems)
