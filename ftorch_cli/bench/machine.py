"""The machine a benchmark ran on: CPU, cores, torch's build and BLAS, the engine's build flags.

Extends the shared environment fingerprint (ftorch_cli.environment) with what
timing depends on; written into summary.json and bench.arrow's metadata.
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import re
from pathlib import Path
from typing import Iterator, Optional

from ftorch_cli.environment import THREAD_VARIABLES, environment_fingerprint

# torch.__config__.show() "Build settings" keys worth keeping (the rest are compiler noise).
TORCH_BUILD_KEYS = ("BLAS_INFO", "LAPACK_INFO", "BUILD_TYPE", "USE_MKL", "USE_MKLDNN", "USE_OPENMP", "TORCH_VERSION", "COMMIT_SHA")


def machine_record(torch_module, engine_module) -> dict:
    record = environment_fingerprint()
    record.update(cpu_details())
    record["torch"] = torch_build(torch_module)
    record["engine"] = engine_build(engine_module)
    record["load_average"] = load_average()
    return record


def load_average() -> Optional[list[float]]:
    """1, 5 and 15 minute load averages: other work on the machine is the first suspect for noisy timings."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def busy_note(record: dict, moment: str) -> Optional[str]:
    """A warning when other processes were competing for the CPUs (1-minute load at least the CPU count)."""
    load, cpus = load_average(), record.get("cpu_count") or 1
    if load and load[0] >= cpus:
        return f"the machine was busy {moment} (load average {load[0]:.1f} on {cpus} CPUs): timings, multi-threaded ones most, are unreliable"
    return None


def cpu_details(cpuinfo: Optional[str] = None) -> dict:
    """CPU flags and physical core count from /proc/cpuinfo (empty where there is none)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            cpuinfo = ""
    flags: list[str] = []
    cores: set[tuple[str, str]] = set()
    for block in cpuinfo.split("\n\n"):
        fields = dict(
            (key.strip(), value.strip()) for key, _, value in (line.partition(":") for line in block.splitlines()) if key.strip()
        )
        if not flags and "flags" in fields:
            flags = fields["flags"].split()
        if "core id" in fields:
            cores.add((fields.get("physical id", "0"), fields["core id"]))
    return {"cpu_flags": flags, "physical_cores": len(cores) or None, "logical_cpus": os.cpu_count()}


def torch_build(torch_module) -> dict:
    shown = torch_module.__config__.show()
    settings = dict(re.findall(r"(\w+)=(.*?)(?:, (?=\w+=)|,?\s*$)", _line_after(shown, "Build settings:")))
    capability = re.search(r"CPU capability usage: (\S+)", shown)
    blas_lines = [line.strip(" -") for line in shown.splitlines() if re.search(r"Math Kernel Library|OpenBLAS|BLIS|MKL-DNN|OpenMP", line)]
    parallel = torch_module.__config__.parallel_info()
    backend = re.search(r"ATen parallel backend: (.+)", parallel)
    return {
        "version": torch_module.__version__,
        "build": {key: settings[key] for key in TORCH_BUILD_KEYS if key in settings},
        "blas": settings.get("BLAS_INFO"),
        "libraries": blas_lines,
        "cpu_capability": capability.group(1) if capability else None,
        "parallel_backend": backend.group(1).strip() if backend else None,
        "default_threads": torch_module.get_num_threads(),
    }


def _line_after(text: str, marker: str) -> str:
    for line in text.splitlines():
        if marker in line:
            return line.split(marker, 1)[1].strip()
    return ""


def engine_build(engine_module) -> dict:
    """The C compile flags (csrc/build_ffi.py DEFAULT_CFLAGS) and which compiled library is loaded."""
    source = getattr(engine_module, "__file__", None)
    package = Path(source).resolve().parent if source else None
    library = None
    if package is not None:
        library = next(iter(sorted(package.glob("_C*.so")) + sorted(package.glob("_C*.pyd"))), None)
    return {
        "module": engine_module.__name__,
        "cflags": default_cflags(package.parent / "csrc" / "build_ffi.py") if package else None,
        "extra_cflags_env": os.environ.get("FT_EXTRA_CFLAGS") or None,
        "library": str(library) if library else None,
        "library_sha256": hashlib.sha256(library.read_bytes()).hexdigest() if library else None,
        "threads": engine_threads(engine_module),
    }


def default_cflags(build_script: Path) -> Optional[list[str]]:
    """DEFAULT_CFLAGS read from the build script's source (importing it would need cffi's builder)."""
    try:
        tree = ast.parse(build_script.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "DEFAULT_CFLAGS" for target in node.targets):
            try:
                return list(ast.literal_eval(node.value))
            except ValueError:
                return None
    return None


def engine_threads(engine_module) -> int:
    """The engine's current kernel thread count: it is single-threaded until it says otherwise."""
    get = getattr(engine_module, "get_num_threads", None)
    return int(get()) if callable(get) else 1


@contextlib.contextmanager
def threads_restored(torch_module, engine_module) -> Iterator[None]:
    """Put both libraries' thread settings and the thread variables back as they were after `set_threads`."""
    torch_threads, engine_threads_before = torch_module.get_num_threads(), engine_threads(engine_module)
    variables = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    try:
        yield
    finally:
        torch_module.set_num_threads(torch_threads)
        setter = getattr(engine_module, "set_num_threads", None)
        if callable(setter):
            setter(engine_threads_before)
        for name, value in variables.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def set_threads(torch_module, engine_module, threads: int) -> tuple[int, int]:
    """Ask both libraries for `threads` kernel threads; the counts they actually use (torch, engine).

    torch.set_num_threads sets OpenMP's and MKL's pools; the variables are set too,
    for any runtime (the engine's, later) that reads them when it starts.
    """
    torch_module.set_num_threads(threads)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    setter = getattr(engine_module, "set_num_threads", None)
    if callable(setter):
        setter(threads)
    return torch_module.get_num_threads(), engine_threads(engine_module)
