"""Example programs (examples/*.py): plain PyTorch scripts run twice, once with torch and once with
the engine substituted for torch (every `engine[.x]` module aliased as `torch[.x]` in sys.modules of a
fresh subprocess, before the script runs), from the same seeds. The printed lines must agree: the
same words, and every number within tolerance (losses and parameter sums of a few training steps).

`ftorch conform --programs` (or `python -m ftorch_cli.programs`) runs them all and reports each.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

RTOL = 1e-4
ATOL = 1e-5
TIMEOUT = 300

_SHIM = """
import runpy, sys
import engine, engine.nn, engine.nn.functional, engine.nn.init, engine.autograd
for _name, _module in list(sys.modules.items()):
    if _name == "engine" or _name.startswith("engine."):
        sys.modules["torch" + _name[len("engine"):]] = _module
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(nan|inf)$")


@dataclass
class ProgramResult:
    name: str
    verdict: str  # "pass" | "fail" | "error"
    detail: str = ""
    torch_lines: list = field(default_factory=list)
    engine_lines: list = field(default_factory=list)


def examples_dir(root: Optional[Path] = None) -> Path:
    return (root or Path(__file__).resolve().parent.parent) / "examples"


def _run(path: Path, use_engine: bool, engine_path: Optional[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if engine_path:
        env["PYTHONPATH"] = engine_path + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    command = [sys.executable, "-c", _SHIM, str(path)] if use_engine else [sys.executable, str(path)]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env, cwd=str(path.parent))


def compare_lines(expected: list[str], actual: list[str], rtol: float = RTOL, atol: float = ATOL) -> Optional[str]:
    """None when the outputs agree; otherwise the first difference."""
    if len(expected) != len(actual):
        return f"{len(actual)} lines printed, torch printed {len(expected)}"
    for number, (want, got) in enumerate(zip(expected, actual), 1):
        want_words, got_words = want.split(), got.split()
        if len(want_words) != len(got_words):
            return f"line {number}: {got!r} vs torch {want!r}"
        for a, b in zip(want_words, got_words):
            if _NUMBER.match(a) and _NUMBER.match(b):
                x, y = float(a), float(b)
                if math.isnan(x) and math.isnan(y):
                    continue
                if not abs(x - y) <= atol + rtol * abs(x):
                    return f"line {number}: {b} vs torch {a} ({got!r})"
            elif a != b:
                return f"line {number}: {got!r} vs torch {want!r}"
    return None


def run_program(path: Path, engine_path: Optional[str] = None) -> ProgramResult:
    name = path.stem
    reference = _run(path, False, None)
    if reference.returncode != 0:
        return ProgramResult(name, "error", "torch run failed: " + reference.stderr.strip()[-500:])
    candidate = _run(path, True, engine_path)
    torch_lines = reference.stdout.splitlines()
    engine_lines = candidate.stdout.splitlines()
    if candidate.returncode != 0:
        last = candidate.stderr.strip().splitlines()[-1:] or [""]
        return ProgramResult(name, "fail", "engine run failed: " + last[0][:500], torch_lines, engine_lines)
    difference = compare_lines(torch_lines, engine_lines)
    return ProgramResult(name, "fail" if difference else "pass", difference or "", torch_lines, engine_lines)


def run_programs(names=None, root: Optional[Path] = None, engine_path: Optional[str] = None) -> list[ProgramResult]:
    paths = sorted(examples_dir(root).glob("*.py"))
    if names:
        paths = [p for p in paths if p.stem in set(names)]
    return [run_program(path, engine_path) for path in paths]


def main(argv=None) -> int:
    results = run_programs(argv or None)
    for result in results:
        print(f"{result.verdict:5} {result.name}" + (f"  {result.detail}" if result.detail else ""))
    passed = sum(r.verdict == "pass" for r in results)
    print(f"{passed}/{len(results)} programs agree with torch")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
