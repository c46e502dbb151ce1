"""Coverage: the engine's op registry against torch's op_db and against each packet's cases.

op_db's op names come from the FT-P2C-005 manifest (recorded at extraction), so
this works without torch.
"""
from __future__ import annotations


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
