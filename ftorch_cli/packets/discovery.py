"""Finding packets: `packets/FT-P2C-NNN/packet.toml` under the project's packets folder.

The folder is, in order: the one passed explicitly (`--packets-dir`), the
FTORCH_PACKETS_DIR environment variable, the nearest `packets/` folder at or
above the working directory that holds a packet, or the one beside this
package in a source checkout.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Optional

from ftorch_cli.errors import BadInputFile, UsageError
from ftorch_cli.packets.model import PACKET_ID, Packet, load_packet_file

DEFAULT_PACKETS = ("FT-P2C-001", "FT-P2C-002", "FT-P2C-003", "FT-P2C-004", "FT-P2C-005", "FT-P2C-006", "FT-P2C-007",
                   "FT-P2C-008", "FT-P2C-009")
ENVIRONMENT_VARIABLE = "FTORCH_PACKETS_DIR"


def _holds_packets(folder: Path) -> bool:
    return folder.is_dir() and any((child / "packet.toml").is_file() for child in folder.glob("FT-P2C-*"))


def packets_root(explicit: Optional[Path] = None) -> Path:
    if explicit is not None:
        if not explicit.is_dir():
            raise BadInputFile(explicit, "packets folder does not exist")
        return explicit
    from_environment = os.environ.get(ENVIRONMENT_VARIABLE)
    if from_environment:
        return Path(from_environment)
    for folder in (Path.cwd(), *Path.cwd().parents):
        if _holds_packets(folder / "packets"):
            return folder / "packets"
    return Path(__file__).resolve().parents[2] / "packets"


def project_root(packets_folder: Path) -> Path:
    """The folder that holds `packets/` (and so `artifacts/`)."""
    return packets_folder.resolve().parent


def discover_packets(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(child.name for child in root.iterdir() if PACKET_ID.match(child.name) and (child / "packet.toml").is_file())


def load_packet(root: Path, packet_id: str) -> Packet:
    if not PACKET_ID.match(packet_id):
        raise UsageError(f"{packet_id!r} is not a packet id (like FT-P2C-001)")
    folder = root / packet_id
    if not folder.is_dir():
        known = ", ".join(discover_packets(root)) or "none"
        raise BadInputFile(folder, f"no such packet (packets in {root}: {known})")
    return load_packet_file(folder / "packet.toml")


def load_packets(root: Path, packet_ids: Optional[Iterable[str]]) -> list[Packet]:
    """The packets named, in order and without repeats; the default packets when none is named."""
    ids = list(dict.fromkeys(packet_ids or DEFAULT_PACKETS))
    return [load_packet(root, packet_id) for packet_id in ids]


def select_packets(packets_dir: Optional[Path], packet_ids: Optional[Iterable[str]]) -> list[Packet]:
    """What the commands' --packets-dir and --packet options select."""
    return load_packets(packets_root(packets_dir), packet_ids)
