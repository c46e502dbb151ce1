"""Packets: packet.toml model and validation (model), and finding them on disk (discovery)."""
from ftorch_cli.packets.discovery import (
    DEFAULT_PACKETS,
    discover_packets,
    load_packet,
    load_packets,
    packets_root,
    project_root,
    select_packets,
)
from ftorch_cli.packets.model import AllowlistEntry, Caps, Gates, KnownGap, Packet, parse_packet

__all__ = [
    "DEFAULT_PACKETS",
    "AllowlistEntry",
    "Caps",
    "Gates",
    "KnownGap",
    "Packet",
    "discover_packets",
    "load_packet",
    "load_packets",
    "packets_root",
    "parse_packet",
    "project_root",
    "select_packets",
]
