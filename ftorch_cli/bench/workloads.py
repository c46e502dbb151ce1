"""Benchmark workloads as data: ftorch_cli/data/bench_workloads.toml (format in its header).

A workload is one small program that runs unchanged on torch and on the engine;
this module only reads, expands and selects them (bench.program builds them).
"""
from __future__ import annotations

import ast
import fnmatch
import itertools
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ftorch_cli.errors import BadInputFile, NothingSelected, UsageError

WORKLOADS_FILE = Path(__file__).resolve().parents[1] / "data" / "bench_workloads.toml"
INPUT_KINDS = ("normal", "positive", "bool")
DTYPES = ("float32", "float64", "int32", "int64", "bool")


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[int, ...]
    dtype: str
    kind: str = "normal"  # normal: standard normal; positive: uniform in [0.1, 10); bool: fair coin
    requires_grad: bool = False


@dataclass(frozen=True)
class Workload:
    suite: str
    name: str
    ops: tuple[str, ...]
    dtype: str
    inputs: tuple[InputSpec, ...]
    program: str
    result: Optional[str] = None
    setup: str = ""
    backward: bool = False
    threads: Optional[tuple[int | str, ...]] = None

    @property
    def op(self) -> str:
        return ",".join(self.ops)

    @property
    def shape(self) -> str:
        """The input shapes, e.g. "1000x1000, 1000x1000"; "()" for a 0-d input."""
        return ", ".join("x".join(map(str, spec.shape)) or "()" for spec in self.inputs)

    @property
    def seed(self) -> int:
        return zlib.crc32(self.name.encode())


@dataclass
class Catalog:
    suites: dict[str, str]  # name -> description
    workloads: list[Workload]
    source: Path

    def select(self, suites: Optional[list[str]] = None, patterns: Optional[list[str]] = None) -> list[Workload]:
        """Workloads in `suites` (default all) whose name matches a pattern (a glob or an exact name).

        An unknown suite or a pattern matching no workload at all is a usage error;
        a valid selection that is empty (a suite without workloads yet) is NothingSelected.
        """
        unknown = [suite for suite in suites or [] if suite not in self.suites]
        if unknown:
            raise UsageError(f"unknown suite {', '.join(map(repr, unknown))} (suites: {', '.join(self.suites)})")
        for pattern in patterns or []:
            if not any(fnmatch.fnmatchcase(workload.name, pattern) for workload in self.workloads):
                raise UsageError(f"no workload named {pattern!r} (see `ftorch bench --list`)")
        chosen = [
            workload
            for workload in self.workloads
            if (not suites or workload.suite in suites)
            and (not patterns or any(fnmatch.fnmatchcase(workload.name, pattern) for pattern in patterns))
        ]
        if not chosen:
            empty = [suite for suite in suites or [] if not any(w.suite == suite for w in self.workloads)]
            why = f"suite {', '.join(empty)} has no workloads yet" if empty else "no workload is in both the suites and the names given"
            raise NothingSelected(f"nothing to benchmark: {why}")
        return chosen


def load_catalog(path: Optional[Path] = None) -> Catalog:
    source = Path(path) if path is not None else WORKLOADS_FILE
    try:
        document = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInputFile(source, "no such workloads file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadInputFile(source, f"not a readable TOML workloads file ({exc})") from None
    suites = document.get("suites")
    if not isinstance(suites, dict) or not suites:
        raise BadInputFile(source, "needs a [suites] table naming each suite")
    workloads: list[Workload] = []
    for index, entry in enumerate(document.get("workloads", [])):
        try:
            workloads.extend(_expand(entry, suites))
        except (KeyError, TypeError, ValueError, SyntaxError) as exc:
            raise BadInputFile(source, f"workload entry {index + 1}: {exc}") from None
    seen: set[str] = set()
    for workload in workloads:
        if workload.name in seen:
            raise BadInputFile(source, f"workload name {workload.name!r} is used twice")
        seen.add(workload.name)
    return Catalog(dict(suites), workloads, source)


def _expand(entry: dict, suites: dict) -> list[Workload]:
    if entry.get("suite") not in suites:
        raise ValueError(f"suite {entry.get('suite')!r} is not listed in [suites]")
    matrix: dict = entry.get("matrix", {})
    combinations = [dict(zip(matrix, values)) for values in itertools.product(*matrix.values())] if matrix else [{}]
    return [_workload(entry, parameters) for parameters in combinations]


def _workload(entry: dict, parameters: dict) -> Workload:
    labels = {key: _label(value) for key, value in parameters.items()}
    dtype = entry.get("dtype", "float32")
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    inputs = tuple(_input(spec, dtype, parameters) for spec in entry["inputs"])
    program = entry["program"].format(**labels).strip()
    result = entry["result"].format(**labels) if "result" in entry else None
    setup = entry.get("setup", "").strip()
    for code, mode in ((program, "exec"), (setup, "exec"), (result, "eval")):
        if code:
            ast.parse(code, mode=mode)  # a syntax error fails at load time, not mid-run
    threads = entry.get("threads")
    return Workload(
        suite=entry["suite"],
        name=entry["name"].format(**labels),
        ops=tuple(op.format(**labels) for op in entry["ops"]),
        dtype=dtype,
        inputs=inputs,
        program=program,
        result=result,
        setup=setup,
        backward=bool(entry.get("backward", False)),
        threads=tuple(threads) if threads is not None else None,
    )


def _input(spec: dict, dtype: str, parameters: dict) -> InputSpec:
    shape = spec["shape"]
    shape = parameters[shape] if isinstance(shape, str) else [parameters[dim] if isinstance(dim, str) else dim for dim in shape]
    kind = spec.get("kind", "normal")
    if kind not in INPUT_KINDS:
        raise ValueError(f"input kind {kind!r} is not one of {', '.join(INPUT_KINDS)}")
    return InputSpec(
        name=spec["name"],
        shape=tuple(int(dim) for dim in shape),
        dtype="bool" if kind == "bool" else spec.get("dtype", dtype),
        kind=kind,
        requires_grad=bool(spec.get("requires_grad", False)),
    )


def _label(value) -> str:
    """1000 -> "1e3", [64, 50257] -> "64x50257", others as str."""
    if isinstance(value, list):
        return "x".join(map(str, value))
    if isinstance(value, int) and value >= 1000 and str(value).rstrip("0") == "1":
        return f"1e{len(str(value)) - 1}"
    return str(value)
