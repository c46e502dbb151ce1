"""packet.toml: the committed contract of one packet, parsed and validated.

Every field is checked on load; a problem becomes one BadInputFile naming the
file and the field (`gates.min_pass_ratio: must be a number in [0, 1], got 'x'`).
Unknown keys are errors too, so a typo never silently drops a gate.
docs/packets.md documents the format.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ftorch_cli.errors import BadInputFile
from ftorch_cli.serialize.dtypes import DTYPES

PACKET_ID = re.compile(r"^FT-P2C-\d{3}$")
GENERATORS = ("views", "opinfo", "autograd", "serialization", "schemas", "dispatch", "devices", "optim", "modules")
MODES = ("strict", "hardened")
OP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class Anchor:
    path: str
    symbols: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Gates:
    min_pass_ratio: float = 1.0  # (pass + allowlisted) / evaluated cases, per mode
    drift_budget: int = 0  # cases whose live torch result differs from the recording (--live)
    min_cases: int = 0  # the recorded table must hold at least this many cases
    min_passing_ops: int = 0  # distinct ops with evaluated cases and no fail/error in strict mode
    min_coverage: float = 0.0  # evaluated / all cases (skips count against it)
    # autograd packets: backward-green ops / ops forward-green (FT-P2C-005) and differentiable in torch
    min_backward_green_ratio: Optional[float] = None
    require_known_gaps: bool = False  # every op off parity has a [[known_gaps]] entry


@dataclass(frozen=True, kw_only=True)
class CaseScope:
    """Which cases an entry concerns, like OpInfo's DecorateInfo: an op, optionally some dtypes and a case pattern."""

    op: str
    reason: str
    dtypes: Optional[frozenset] = None  # None: every dtype
    case: str = "*"  # fnmatch pattern on case_id or label

    def covers(self, op: str, dtype: str, case_id: str, label: str) -> bool:
        return (
            self.op == op
            and (self.dtypes is None or dtype in self.dtypes)
            and (fnmatch.fnmatchcase(case_id, self.case) or fnmatch.fnmatchcase(label, self.case))
        )


@dataclass(frozen=True, kw_only=True)
class AllowlistEntry(CaseScope):
    """A hardened-mode deviation torch does not have."""

    expires: dt.date
    modes: tuple[str, ...] = ("hardened",)
    reason_codes: Optional[frozenset] = None  # None: any deviation

    def is_active(self, today: dt.date) -> bool:
        return today <= self.expires

    def matches(self, op: str, dtype: str, case_id: str, label: str, mode: str, reason_code: str) -> bool:
        return (
            self.covers(op, dtype, case_id, label)
            and mode in self.modes
            and (self.reason_codes is None or reason_code in self.reason_codes)
        )


# The checks of a case a known gap can excuse: its outcome, and FT-P2C-004's separate checks.
CHECKS = ("outcome", "grad_fn", "gradcheck")


@dataclass(frozen=True, kw_only=True)
class KnownGap(CaseScope):
    """Behaviour not at parity yet, and why (DESIGN.md: the machine-readable list of what is not at parity).

    Unlike an allowlist entry it changes no outcome: the cases still `fail` in
    results.arrow, in every mode. It only takes them out of `min_pass_ratio` and
    satisfies `require_known_gaps`; an entry that excuses nothing is reported stale.
    """

    checks: tuple[str, ...] = CHECKS

    def matches(self, op: str, dtype: str, case_id: str, label: str, check: str) -> bool:
        return check in self.checks and self.covers(op, dtype, case_id, label)


@dataclass(frozen=True)
class Caps:
    """How many OpInfo cases one op and dtype may contribute, per source.

    Primary dtypes (float32, float64 by default) get the full caps; the other
    (integer, bool) dtypes get the `secondary_` ones, which keeps extraction
    inside its time budget while every supported dtype is still exercised.
    Special-value cases are generated for `special_dtypes`. The autograd
    generator draws `samples` gradient samples per op and dtype, and
    second-order cases for the first `second_order` of them.
    """

    samples: int = 8
    references: int = 4
    errors: int = 6
    secondary_samples: int = 3
    secondary_references: int = 0
    second_order: int = 2
    primary_dtypes: tuple = ("float32", "float64")
    special_dtypes: tuple = ("float32", "float64", "int64", "bool")

    def for_dtype(self, dtype_name: str) -> tuple[int, int]:
        if dtype_name in self.primary_dtypes:
            return self.samples, self.references
        return self.secondary_samples, self.secondary_references


@dataclass(frozen=True)
class CaseSources:
    generator: str
    ops: tuple[str, ...]
    dtypes: tuple[str, ...]
    seed: int
    include_engine_registry: bool = False
    special_values: bool = False
    caps: Caps = field(default_factory=Caps)


@dataclass(frozen=True)
class Packet:
    id: str
    title: str
    directory: Path
    anchors: tuple[Anchor, ...]
    cases: CaseSources
    gates: Gates
    allowlist: tuple[AllowlistEntry, ...]
    known_gaps: tuple[KnownGap, ...] = ()

    @property
    def toml_path(self) -> Path:
        return self.directory / "packet.toml"

    def allowlist_entry_for(self, op, dtype, case_id, label, mode, reason_code, today: dt.date) -> Optional[AllowlistEntry]:
        for entry in self.allowlist:
            if entry.is_active(today) and entry.matches(op, dtype, case_id, label, mode, reason_code):
                return entry
        return None

    def known_gap_for(self, op, dtype, case_id, label, check: str = "outcome") -> Optional[KnownGap]:
        for entry in self.known_gaps:
            if entry.matches(op, dtype, case_id, label, check):
                return entry
        return None


class _Fields:
    """Reads one TOML table, naming the dotted path of any bad field."""

    def __init__(self, path: Path, table: Any, where: str):
        if not isinstance(table, dict):
            raise BadInputFile(path, f"{where or 'top level'}: must be a table")
        self.path, self.table, self.where, self.used = path, table, where, set()

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str):
        raise BadInputFile(self.path, f"{self._name(key)}: {problem}")

    def get(self, key: str, kind, default: Any = ..., check=None, describe: str = ""):
        self.used.add(key)
        if key not in self.table:
            if default is ...:
                self.fail(key, "is required")
            return default
        value = self.table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(key, f"must be {describe or _kind_name(kind)}, got {value!r}")
        if check is not None and not check(value):
            self.fail(key, f"must be {describe}, got {value!r}")
        return value

    def strings(self, key: str, default: Any = ..., check=None, describe: str = "a string") -> Optional[tuple]:
        values = self.get(key, list, default, describe=f"a list of {describe}s")
        if values is None:
            return None
        for value in values:
            if not isinstance(value, str) or (check is not None and not check(value)):
                self.fail(key, f"{value!r} is not {describe}")
        if len(set(values)) != len(values):
            self.fail(key, "lists a name twice")
        return tuple(values)

    def sub(self, key: str, required: bool = False) -> "_Fields":
        self.used.add(key)
        if required and key not in self.table:
            self.fail(key, "is required")
        return _Fields(self.path, self.table.get(key, {}), self._name(key))

    def finish(self):
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            self.fail(unknown[0], "unknown key (check the spelling; docs/packets.md lists the fields)")


def _kind_name(kind) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list", dict: "a table"}.get(kind, kind.__name__)


def _is_dtype(name: str) -> bool:
    return name in DTYPES


def _is_op(name: str) -> bool:
    return bool(OP_NAME.match(name))


def _date(fields: _Fields, key: str) -> dt.date:
    fields.used.add(key)
    value = fields.table.get(key)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    fields.fail(key, f"must be a date like 2026-06-30, got {value!r}")


def _anchors(path: Path, raw: Any) -> tuple[Anchor, ...]:
    if not isinstance(raw, list) or not raw:
        raise BadInputFile(path, "anchors: must be a non-empty array of tables ([[anchors]])")
    anchors = []
    for index, table in enumerate(raw):
        fields = _Fields(path, table, f"anchors[{index}]")
        anchor = Anchor(
            path=fields.get("path", str, check=bool, describe="a non-empty PyTorch source path"),
            symbols=fields.strings("symbols", describe="a symbol name"),
            note=fields.get("note", str, ""),
        )
        fields.finish()
        anchors.append(anchor)
    return tuple(anchors)


def _caps(fields: _Fields) -> Caps:
    count = dict(check=lambda n: n >= 0, describe="a count >= 0")
    caps = Caps(
        samples=fields.get("samples", int, Caps.samples, **count),
        references=fields.get("references", int, Caps.references, **count),
        errors=fields.get("errors", int, Caps.errors, **count),
        secondary_samples=fields.get("secondary_samples", int, Caps.secondary_samples, **count),
        secondary_references=fields.get("secondary_references", int, Caps.secondary_references, **count),
        second_order=fields.get("second_order", int, Caps.second_order, **count),
        primary_dtypes=fields.strings("primary_dtypes", Caps.primary_dtypes, _is_dtype, "a dtype name"),
        special_dtypes=fields.strings("special_dtypes", Caps.special_dtypes, _is_dtype, "a dtype name"),
    )
    fields.finish()
    return caps


def _case_sources(fields: _Fields) -> CaseSources:
    sources = CaseSources(
        generator=fields.get("generator", str, check=lambda g: g in GENERATORS, describe=" or ".join(GENERATORS)),
        ops=fields.strings("ops", describe="an op name"),
        dtypes=fields.strings("dtypes", check=_is_dtype, describe="a dtype name"),
        seed=fields.get("seed", int),
        include_engine_registry=fields.get("include_engine_registry", bool, False),
        special_values=fields.get("special_values", bool, False),
        caps=_caps(fields.sub("caps")),
    )
    for name in sources.ops:
        if not _is_op(name) and not name.startswith("__"):
            fields.fail("ops", f"{name!r} is not an op name")
    if not sources.dtypes:
        fields.fail("dtypes", "must name at least one dtype")
    fields.finish()
    return sources


def _gates(fields: _Fields) -> Gates:
    ratio = dict(check=lambda x: 0.0 <= x <= 1.0, describe="a number in [0, 1]")
    count = dict(check=lambda n: n >= 0, describe="an integer >= 0")
    gates = Gates(
        min_pass_ratio=fields.get("min_pass_ratio", float, **ratio),
        drift_budget=fields.get("drift_budget", int, **count),
        min_cases=fields.get("min_cases", int, 0, **count),
        min_passing_ops=fields.get("min_passing_ops", int, 0, **count),
        min_coverage=fields.get("min_coverage", float, 0.0, **ratio),
        min_backward_green_ratio=fields.get("min_backward_green_ratio", float, None, **ratio),
        require_known_gaps=fields.get("require_known_gaps", bool, False),
    )
    fields.finish()
    return gates


def _entries(path: Path, raw: Any, key: str) -> list["_Fields"]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadInputFile(path, f"{key}: must be an array of tables ([[{key}]])")
    return [_Fields(path, table, f"{key}[{index}]") for index, table in enumerate(raw)]


def _scope(fields: _Fields) -> dict:
    """The CaseScope fields every entry has: op, reason, dtypes, case."""
    dtypes = fields.strings("dtypes", None, _is_dtype, "a dtype name")
    return dict(
        op=fields.get("op", str, check=lambda n: _is_op(n) or n.startswith("__"), describe="an op name"),
        reason=fields.get("reason", str, check=lambda r: bool(r.strip()), describe="a non-empty reason"),
        dtypes=frozenset(dtypes) if dtypes is not None else None,
        case=fields.get("case", str, "*"),
    )


def _known_gaps(path: Path, raw: Any) -> tuple[KnownGap, ...]:
    entries = []
    for fields in _entries(path, raw, "known_gaps"):
        entry = KnownGap(**_scope(fields), checks=fields.strings("checks", CHECKS, lambda c: c in CHECKS, " or ".join(CHECKS)))
        fields.finish()
        entries.append(entry)
    return tuple(entries)


def _allowlist(path: Path, raw: Any) -> tuple[AllowlistEntry, ...]:
    entries = []
    for fields in _entries(path, raw, "allowlist"):
        codes = fields.strings("reason_codes", None)
        entry = AllowlistEntry(
            **_scope(fields),
            expires=_date(fields, "expires"),
            modes=fields.strings("modes", ("hardened",), lambda m: m in MODES, "strict or hardened"),
            reason_codes=frozenset(codes) if codes is not None else None,
        )
        if codes is not None:
            from ftorch_cli.conform.reasons import REASONS

            for code in codes:
                if code not in REASONS:
                    fields.fail("reason_codes", f"{code!r} is not a reason code (known: {', '.join(sorted(REASONS))})")
        fields.finish()
        entries.append(entry)
    return tuple(entries)


def parse_packet(path: Path, text: str) -> Packet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInputFile(path, f"not valid TOML ({exc})") from None
    fields = _Fields(path, data, "")
    packet_id = fields.get("id", str, check=lambda i: bool(PACKET_ID.match(i)), describe="an id like FT-P2C-001")
    if packet_id != path.parent.name:
        fields.fail("id", f"{packet_id!r} does not match its folder {path.parent.name!r}")
    fields.used.update({"anchors", "allowlist", "known_gaps"})
    packet = Packet(
        id=packet_id,
        title=fields.get("title", str, check=lambda t: bool(t.strip()), describe="a non-empty title"),
        directory=path.parent,
        anchors=_anchors(path, data.get("anchors")),
        cases=_case_sources(fields.sub("cases", required=True)),
        gates=_gates(fields.sub("gates", required=True)),
        allowlist=_allowlist(path, data.get("allowlist")),
        known_gaps=_known_gaps(path, data.get("known_gaps")),
    )
    fields.finish()
    return packet


def load_packet_file(path: Path) -> Packet:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputFile(path, "missing (every packet folder holds a packet.toml)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputFile(path, f"cannot be read ({exc})") from None
    return parse_packet(path, text)
