"""Coverage: the engine's op registry against torch's op_db and against each packet's cases.

op_db's op names and families come from the FT-P2C-005 manifest (recorded at
extraction, ftorch_cli/cases/families.py), so this works without torch. Per
family it counts op_db ops, those the engine registers, those forward-green
(every strict FT-P2C-005 case passes) and backward-green (every FT-P2C-004
gradient case passes) in this run.
"""
from __future__ import annotations

from collections import defaultdict

from ftorch_cli.conform.autograd_report import GRADIENTS, _first_order_green, _ops_where
from ftorch_cli.conform.gates import judged_rows

FORWARD_PACKET, GRADIENT_PACKET = "FT-P2C-005", "FT-P2C-004"


def coverage_report(registry: dict, results) -> dict:
    registry_ops = set(registry)
    op_db_ops = next((set(result.manifest["op_db_ops"]) for result in results if result.manifest.get("op_db_ops")), None)
    report: dict = {"engine_registry_ops": len(registry_ops), "packets": {}}
    if op_db_ops is not None:
        report.update(
            op_db_ops=len(op_db_ops),
            registry_ops_in_op_db=len(registry_ops & op_db_ops),
            registry_ops_not_in_op_db=sorted(registry_ops - op_db_ops),
            op_db_ops_not_registered=len(op_db_ops - registry_ops),
            op_db_coverage=len(registry_ops & op_db_ops) / len(op_db_ops) if op_db_ops else None,
        )
    families = next((result.manifest["op_db_families"] for result in results if result.manifest.get("op_db_families")), None)
    if families is not None:
        report["families"] = family_coverage(registry_ops, families, results)
        for key in ("forward_green", "backward_green"):
            counts = [row[key] for row in report["families"].values()]
            report[f"op_db_{key}"] = None if None in counts else sum(counts)
    for result in results:
        stats = next(iter(result.stats.values()))
        # Autograd program families are no registry ops.
        case_ops = set(result.manifest.get("case_ops") or []) - set(result.manifest.get("program_ops") or [])
        report["packets"][result.packet.id] = {
            "ops_in_cases": len(case_ops),
            "ops_registered": len(case_ops & registry_ops),
            "ops_not_registered": sorted(case_ops - registry_ops),
            "case_coverage": stats.coverage,
        }
    return report


def family_coverage(registry_ops: set, families: dict, results) -> dict:
    """family -> counts of its op_db ops: in op_db, registered, forward-green and backward-green in this run
    (None where the packet did not run), plus the names of op_db ops the engine does not register."""
    by_family: dict = defaultdict(set)
    for name, family in families.items():
        by_family[family].add(name)
    forward = next((set(r.stats["strict"].passing_ops) for r in results
                    if r.packet.id == FORWARD_PACKET and "strict" in r.stats), None)
    backward = next((_ops_where(judged_rows(r.rows), GRADIENTS, _first_order_green)[1] for r in results
                     if r.packet.id == GRADIENT_PACKET and getattr(r, "rows", None)), None)
    table = {}
    for family in sorted(by_family, key=lambda f: (-len(by_family[f] & registry_ops), f)):
        ops = by_family[family]
        table[family] = {
            "op_db": len(ops),
            "registered": len(ops & registry_ops),
            "forward_green": None if forward is None else len(ops & forward),
            "backward_green": None if backward is None else len(ops & backward),
            "not_registered": sorted(ops - registry_ops),
        }
    return table
