"""`ftorch conform`: run the engine on every recorded case and judge it against torch.

Recorded mode needs no torch: inputs are rebuilt in the engine from the stored
bytes and expectations are read as numpy (serialize.backends). `--live` adds
one persistent torch worker (oracle.live) that re-runs every case, so the run
also checks the recording against today's torch (drift) and the engine against
the live result.

Each case runs inside try/except in `cases.program.run_program`; an engine
exception is that case's `error` and the run goes on.
"""
from __future__ import annotations

import datetime as dt
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from ftorch_cli.cases.gradcheck import finite_difference_check
from ftorch_cli.cases.program import Call, UnresolvedCall, resolve, run_program, stored_call_arguments
from ftorch_cli.conform import engine_adapter, known_gaps
from ftorch_cli.conform.comparators import Tolerance
from ftorch_cli.conform.coverage import coverage_report
from ftorch_cli.conform.autograd_report import FORWARD_PACKET, autograd_report, forward_green_from_runs, has_gradient_cases
from ftorch_cli.conform.gates import GateVerdict, ModeStats, autograd_gates, evaluate_gates, packet_verdict
from ftorch_cli.conform.known_gaps import KnownGapsReview
from ftorch_cli.conform.judge import (
    CaseContext, Observed, Verdict, judge, judge_grad_fn, observe_engine_safely, observed_from_record,
)
from ftorch_cli.conform.reasons import reason
from ftorch_cli.conform.results import new_run_id, write_run
from ftorch_cli.environment import environment_fingerprint
from ftorch_cli.errors import NothingSelected, UsageError
from ftorch_cli.packets.discovery import project_root
from ftorch_cli.packets.model import MODES, Packet
from ftorch_cli.serialize.backends import EngineBackend
from ftorch_cli.serialize.table import CaseTable, read_case_table
from ftorch_cli.serialize.values import UnsupportedValue


@dataclass
class ConformOptions:
    modes: tuple[str, ...] = ("strict",)
    live: bool = False
    ops_filter: Optional[list[str]] = None
    engine_module: str = "engine"
    artifacts_root: Optional[Path] = None
    today: dt.date = field(default_factory=dt.date.today)


@dataclass
class PacketResult:
    packet: Packet
    manifest: dict
    stats: dict[str, ModeStats]
    gates: list[GateVerdict]
    drift: Optional[int]
    failures: list[dict]  # result rows that failed or errored, in case order
    seconds: float
    rows: list[dict] = field(default_factory=list)  # every result row of the packet
    known_gaps: KnownGapsReview = field(default_factory=KnownGapsReview)
    autograd: Optional[dict] = None  # conform.autograd_report, for packets with gradient cases

    @property
    def verdict(self) -> str:
        return packet_verdict(self.gates)


@dataclass
class ConformRun:
    run_id: str
    folder: Path
    results_path: Path
    summary_path: Path
    packets: list[PacketResult]
    summary: dict
    seconds: float

    @property
    def passed(self) -> bool:
        return all(result.verdict == "pass" for result in self.packets)


class _Engine:
    """The engine module and what the runner asks of it, looked up once."""

    def __init__(self, module_name: str):
        self.module = engine_adapter.load_engine(module_name)
        self.registry = engine_adapter.registry_of(self.module)
        self.is_tensor = engine_adapter.tensor_predicate(self.module)
        self.set_hardened = engine_adapter.hardened_switch(self.module)
        self._dtypes = {name: engine_adapter.registered_dtypes(entry) for name, entry in self.registry.items()}
        dispatch = getattr(self.module, "_dispatch", None)
        self._route_call = getattr(dispatch, "route_call", None)
        self.last_route: Optional[str] = None

    def _route(self, row: dict, call: Call, args, kwargs) -> Optional[str]:
        """The dispatch key the engine's model routes this call to (FT-P2C-002), or None."""
        if self._route_call is None or call.variant not in ("function", "method"):
            return None
        try:
            return self._route_call(row["op"], args, kwargs) or None
        except Exception:  # the model must never stop a run
            return None

    def skip_reason(self, op: str, dtype: str, call: Call) -> Optional[str]:
        if call.variant == "program":  # an autograd program is no registry op; it runs whatever it uses
            if call.target == "run_module" and op.startswith("nn.") and not hasattr(getattr(self.module, "nn", None), op[3:]):
                return "not_implemented"  # FT-P2C-008: a torch.nn module class the engine lacks
            return None
        if op not in self.registry:
            return "not_implemented"
        dtypes = self._dtypes[op]
        if dtypes is not None and dtype not in dtypes:
            return "dtype_not_registered"
        if call.grad is not None and not getattr(self.registry[op], "has_backward", True):
            return "backward_not_registered"
        return None

    def _inputs(self, row: dict, call: Call):
        """(args, kwargs, write args, gradient-step tensors, storage keys) rebuilt in the engine, or a failing Verdict."""
        backend = EngineBackend(self.module, row["storages"])
        try:
            args = backend.decode(row["inputs"]["args"])
            kwargs = backend.decode(row["inputs"]["kwargs"])
            write_args, grad_args = stored_call_arguments(call, backend.decode)
            return args, kwargs, write_args, grad_args, backend.storage_keys(engine_adapter.storage_key)
        except UnsupportedValue as exc:
            return Verdict("fail", reason("unsupported_input"), str(exc))
        except Exception as exc:  # the engine failed while building inputs: fail closed
            return Verdict("fail", reason("unsupported_input"), f"{type(exc).__name__}: {exc}")

    def run(self, row: dict, call: Call, hardened: bool) -> tuple[Observed | Verdict, Optional[int]]:
        """Rebuild the inputs, run the case once; an Observed, or a Verdict when it cannot run."""
        self.last_route = None
        inputs = self._inputs(row, call)
        if isinstance(inputs, Verdict):
            return inputs, None
        args, kwargs, write_args, grad_args, input_keys = inputs
        try:
            bound = resolve(self.module, call, args)
        except UnresolvedCall as exc:
            return Verdict("fail", reason("variant_missing"), str(exc)), None
        self.last_route = self._route(row, call, args, kwargs)
        if hardened and self.set_hardened is not None:
            self.set_hardened(True)
        try:
            observation = run_program(bound, call, args, kwargs, self.is_tensor, write_args, grad_args, self.module)
        finally:
            if hardened and self.set_hardened is not None:
                self.set_hardened(False)
        observed = observe_engine_safely(observation, args, input_keys, self.is_tensor, call.observe_inputs)
        return observed, observation.elapsed_ns

    def gradcheck(self, row: dict, call: Call) -> Optional[Verdict]:
        """The finite-difference witness on fresh inputs (cases.gradcheck), for cases that carry one."""
        witness = (row["checks"] or {}).get("gradcheck")
        if witness is None:
            return None
        if "seed" not in witness:
            return Verdict("skip", reason("gradcheck_not_applicable"), str(witness.get("skip", ""))[:300])
        inputs = self._inputs(row, call)
        if isinstance(inputs, Verdict):
            return inputs
        args, kwargs, _, grad_args, _ = inputs
        try:
            result = finite_difference_check(self.module, call, args, kwargs, grad_args, self.is_tensor, int(witness["seed"]))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            return Verdict("error", reason("engine_exception"), f"{type(exc).__name__}: {str(exc)[:300]}")
        outcome = {"pass": ("pass", "ok"), "fail": ("fail", "gradcheck_mismatch")}.get(result.status, ("skip", "gradcheck_not_applicable"))
        return Verdict(outcome[0], reason(outcome[1]), result.message, result.worst_error)


def _context(row: dict) -> CaseContext:
    checks = row["checks"] or {}
    override = None
    if row["atol"] is not None and row["rtol"] is not None:
        override = Tolerance(row["atol"], row["rtol"], row["tolerance_source"] or "case override")
    return CaseContext(
        op=row["op"],
        dtype=row["dtype"],
        override=override,
        strides=checks.get("strides", "none"),
        check_alias=checks.get("alias", True),
    )


def _result_row(row: dict, mode: str, verdict: Verdict, engine_ns: Optional[int]) -> dict:
    return {
        "packet_id": row["packet_id"],
        "case_id": row["case_id"],
        "op": row["op"],
        "dtype": row["dtype"],
        "mode": mode,
        "outcome": verdict.outcome,
        "reason_code": verdict.reason_code,
        "max_abs_err": verdict.max_abs_err,
        "max_ulp": verdict.max_ulp,
        "message": verdict.message,
        "engine_ns": engine_ns,
        "source": row["source"],
        "label": row["label"],
        "variant_name": row["variant_name"],
        "detail": verdict.detail,
        "live_outcome": None,
        "live_reason": None,
        "live_message": None,
        "grad_fn_outcome": None,
        "grad_fn_message": None,
        "gradcheck_outcome": None,
        "gradcheck_reason": None,
        "gradcheck_message": None,
        "known_gap": None,
    }


def _separate_checks(row: dict, call: Call, engine: _Engine, observed, expected: Optional[Observed]) -> dict:
    """The columns of the checks judged apart from the outcome: grad_fn names and the gradcheck witness."""
    columns: dict = {}
    if isinstance(observed, Observed) and expected is not None:
        names = judge_grad_fn(observed, expected)
        if names is not None:
            columns.update(grad_fn_outcome=names.outcome, grad_fn_message=names.message)
    witness = engine.gradcheck(row, call)
    if witness is not None:
        columns.update(gradcheck_outcome=witness.outcome, gradcheck_reason=witness.reason_code, gradcheck_message=witness.message)
    return columns


def _judge_guarded(observed: Observed, expected: Observed, context: CaseContext) -> Verdict:
    """judge(), with whatever odd object the engine returned unable to stop the run."""
    try:
        return judge(observed, expected, context)
    except Exception as exc:
        return Verdict("fail", reason("unreadable_output"), f"the engine's output could not be compared: {type(exc).__name__}: {exc}")


def _allowlisted(packet: Packet, row: dict, mode: str, verdict: Verdict, today: dt.date) -> Verdict:
    if verdict.outcome not in ("fail", "error"):
        return verdict
    entry = packet.allowlist_entry_for(row["op"], row["dtype"], row["case_id"], row["label"], mode, verdict.reason_code, today)
    if entry is None:
        return verdict
    message = f"[{verdict.reason_code}] {verdict.message} — allowlisted until {entry.expires}: {entry.reason}"
    return Verdict("allowlisted", reason("allowlisted"), message, verdict.max_abs_err, verdict.max_ulp, verdict.detail)


def _evaluate_case(packet: Packet, row: dict, engine: _Engine, options: ConformOptions, live) -> list[dict]:
    expected: Optional[Observed] = None
    strict_observed: Optional[Observed] = None
    results = []
    try:
        call = Call.from_json(row["call"])
        skip = engine.skip_reason(row["op"], row["dtype"], call)
        if skip is None:
            expected = observed_from_record(row["expected"], row["storages"])
    except (ValueError, KeyError, TypeError, UnsupportedValue) as exc:
        malformed = Verdict("fail", reason("malformed_case"), f"{type(exc).__name__}: {exc}")
        return [_result_row(row, mode, malformed, None) for mode in options.modes]
    context = _context(row)
    for mode in options.modes:
        if skip is not None:
            results.append(_result_row(row, mode, Verdict("skip", reason(skip)), None))
            continue
        hardened = mode == "hardened"
        if hardened and engine.set_hardened is None and strict_observed is not None:
            observed, engine_ns = strict_observed, results[0]["engine_ns"]  # no hardened switch: same run
        else:
            observed, engine_ns = engine.run(row, call, hardened)
        verdict = observed if isinstance(observed, Verdict) else _judge_guarded(observed, expected, context)
        if mode == "strict" and isinstance(observed, Observed):
            strict_observed = observed
        if hardened:
            verdict = _allowlisted(packet, row, mode, verdict, options.today)
        results.append(_result_row(row, mode, verdict, engine_ns))
        results[-1]["dispatch_key"] = engine.last_route if not isinstance(observed, Verdict) else None
        if mode == options.modes[0]:
            separate = _separate_checks(row, call, engine, observed, expected)
        results[-1].update(separate)
    if live is not None:
        _judge_live(row, live, context, expected, strict_observed, results)
    return results


def _judge_live(row: dict, live, context: CaseContext, recorded: Optional[Observed], engine_observed: Optional[Observed],
                results: list[dict]) -> None:
    """Today's torch against the recording (drift) and against the engine; fills the live_* columns."""
    status, live_expected, live_storages = live.run(row)
    if status != "ok":
        update = {"live_outcome": "oracle_error", "live_reason": reason("oracle_error"), "live_message": str(live_expected)[:500]}
    else:
        try:
            recorded = recorded or observed_from_record(row["expected"], row["storages"])
            live_observed = observed_from_record(live_expected, live_storages)
        except (ValueError, KeyError, UnsupportedValue) as exc:
            update = {"live_outcome": "oracle_error", "live_reason": reason("oracle_error"), "live_message": str(exc)}
        else:
            drift = _judge_guarded(live_observed, recorded, context)
            if drift.outcome != "pass":
                update = {"live_outcome": "drift", "live_reason": reason("oracle_drift"), "live_message": f"[{drift.reason_code}] {drift.message}"}
            elif engine_observed is None:
                update = {"live_outcome": "skip", "live_reason": results[0]["reason_code"], "live_message": ""}
            else:
                versus_live = _judge_guarded(engine_observed, live_observed, context)
                update = {"live_outcome": versus_live.outcome, "live_reason": versus_live.reason_code, "live_message": versus_live.message}
    for result in results:
        result.update(update)


def _read_tables(packets: list[Packet]) -> list[CaseTable]:
    return [read_case_table(packet.directory, packet.id) for packet in packets]


def _select_rows(tables: list[CaseTable], ops_filter: Optional[list[str]]) -> list[list[dict]]:
    if ops_filter is None:
        return [table.rows for table in tables]
    wanted = set(ops_filter)
    known = {row["op"] for table in tables for row in table.rows}
    unknown = sorted(wanted - known)
    if unknown:
        packet_ids = ", ".join(table.packet_id for table in tables)
        raise UsageError(f"unknown op {unknown[0]!r}: no recorded case of {packet_ids} uses it")
    return [[row for row in table.rows if row["op"] in wanted] for table in tables]


def _run_packets(packets, tables, selections, engine: _Engine, options: ConformOptions, live, progress) -> tuple[list[PacketResult], list[dict]]:
    all_rows: list[dict] = []
    results: list[PacketResult] = []
    for packet, table, rows in zip(packets, tables, selections):
        packet_started = time.perf_counter()
        progress(f"{packet.id}: {len(rows)} cases, modes {', '.join(options.modes)}{' + live torch' if live else ''}")
        stats = {mode: ModeStats(mode) for mode in options.modes}
        failures, drift, packet_rows, used_gaps = [], (0 if live else None), [], set()
        for row in rows:
            case_results = _evaluate_case(packet, row, engine, options, live)
            for result in case_results:
                excused = known_gaps.annotate(packet, result, used_gaps)
                stats[result["mode"]].add(result["op"], result["outcome"], result["reason_code"], excused)
                if result["outcome"] in ("fail", "error"):
                    failures.append(result)
            packet_rows.extend(case_results)
            if live and case_results[0]["live_reason"] in ("oracle_drift", "oracle_error"):
                drift += 1
        gates = evaluate_gates(packet, stats, drift, filtered=options.ops_filter is not None)
        result = PacketResult(packet, table.manifest, stats, gates, drift, failures, time.perf_counter() - packet_started)
        result.known_gaps = known_gaps.review(packet, packet_rows, used_gaps, filtered=options.ops_filter is not None)
        result.rows = packet_rows
        results.append(result)
        all_rows.extend(packet_rows)
    return results, all_rows


def _autograd_reports(results: list[PacketResult], options: ConformOptions, artifacts_root: Path) -> None:
    """The op-level autograd report and its gates, for packets with gradient cases (after every packet ran,
    so FT-P2C-005 of the same run gives the forward-green ops)."""
    forward = next((r for r in results if r.packet.id == FORWARD_PACKET and options.ops_filter is None), None)
    forward_green, forward_source = None, ""
    for result in results:
        if has_gradient_cases(result.rows):
            if not forward_source:
                if forward is not None and "strict" in forward.stats:
                    forward_green, forward_source = set(forward.stats["strict"].passing_ops), f"{FORWARD_PACKET} in this run"
                else:
                    forward_green, forward_source = forward_green_from_runs(artifacts_root / "conform")
            gaps = {entry.op: entry.reason for entry in reversed(result.packet.known_gaps)}
            selected = set(options.ops_filter) if options.ops_filter is not None else None
            result.autograd = autograd_report(result.rows, result.manifest, forward_green, forward_source, gaps.get, selected)
        result.gates += autograd_gates(result.packet, result.autograd, result.known_gaps.unlisted,
                                       filtered=options.ops_filter is not None)


def run_conformance(
    packets: list[Packet],
    options: ConformOptions,
    progress: Callable[[str], None] = lambda message: None,
) -> ConformRun:
    started = time.perf_counter()
    for mode in options.modes:
        if mode not in MODES:
            raise UsageError(f"unknown mode {mode!r} (strict, hardened or both)")
    tables = _read_tables(packets)  # every bad input is reported before any work
    selections = _select_rows(tables, options.ops_filter)
    if not any(selections):
        raise NothingSelected("no recorded case selected")
    engine = _Engine(options.engine_module)
    live = None
    if options.live:
        from ftorch_cli.oracle.live import LiveOracle

        live = LiveOracle()
    try:
        with warnings.catch_warnings():  # warnings raised by the ops under test are not diagnostics
            warnings.simplefilter("ignore")
            results, all_rows = _run_packets(packets, tables, selections, engine, options, live, progress)
    finally:
        if live is not None:
            live.close()
    run_id = new_run_id()
    root = options.artifacts_root or project_root(packets[0].directory.parent) / "artifacts"
    _autograd_reports(results, options, root)
    folder = root / "conform" / run_id
    summary = _summary(run_id, results, engine, options, live, time.perf_counter() - started)
    results_path, summary_path = write_run(folder, all_rows, summary, mark_latest=options.ops_filter is None)
    return ConformRun(run_id, folder, results_path, summary_path, results, summary, time.perf_counter() - started)


def _summary(run_id, results: list[PacketResult], engine: _Engine, options: ConformOptions, live, seconds: float) -> dict:
    manifests = {result.packet.id: result.manifest for result in results}
    torch_versions = sorted({manifest.get("torch_version", "unknown") for manifest in manifests.values()})
    return {
        "run_id": run_id,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "modes": list(options.modes),
        "oracle": {
            "kind": "live" if live else "recorded",
            "torch_version": torch_versions[0] if len(torch_versions) == 1 else torch_versions,
            "live_torch_version": live.torch_version if live else None,
        },
        "engine": {"module": options.engine_module, "version": getattr(engine.module, "__version__", None),
                   "registered_ops": len(engine.registry), "hardened_switch": engine.set_hardened is not None},
        "ops_filter": options.ops_filter,
        "environment": environment_fingerprint(),
        "verdict": "pass" if all(result.verdict == "pass" for result in results) else "fail",
        "seconds": round(seconds, 3),
        "packets": {
            result.packet.id: {
                "title": result.packet.title,
                "verdict": result.verdict,
                "table_sha256": result.manifest.get("sha256"),
                "recorded_torch_version": result.manifest.get("torch_version"),
                "modes": {mode: stats.to_json() for mode, stats in result.stats.items()},
                "gates": [gate.to_json() for gate in result.gates],
                "known_gaps": result.known_gaps.to_json(),
                **({"autograd": result.autograd} if result.autograd is not None else {}),
                "drift": result.drift,
                "seconds": round(result.seconds, 3),
            }
            for result in results
        },
        "coverage": coverage_report(engine.registry, results),
    }
