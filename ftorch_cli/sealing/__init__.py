"""RaptorQ sidecars that rebuild damaged evidence (DESIGN.md "Sealing", docs/sealing.md).

Library entry points; the `seal-artifacts`, `verify-artifacts` and
`repair-artifacts` commands are thin wrappers around them.
"""
from ftorch_cli.sealing.repair import repair_paths
from ftorch_cli.sealing.seal import DEFAULT_OVERHEAD, SealedFile, SealReport, seal_paths
from ftorch_cli.sealing.verify import CheckReport, FileCheck, verify_paths

__all__ = [
    "DEFAULT_OVERHEAD",
    "CheckReport",
    "FileCheck",
    "SealReport",
    "SealedFile",
    "repair_paths",
    "seal_paths",
    "verify_paths",
]
