"""The C kernels under AddressSanitizer and UndefinedBehaviorSanitizer.

Builds a second copy of engine._C with -fsanitize=address,undefined (any
report aborts), then runs the engine test files against it in a subprocess
with libasan preloaded into the Python interpreter."""
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# -fno-wrapv undoes the -fwrapv Python's own flags add, so signed overflow is reported.
SANITIZER_FLAGS = ["-O1", "-g", "-fno-wrapv", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
ENGINE_TEST_FILES = sorted(str(p) for p in (ROOT / "tests").glob("test_engine_*.py"))


def _runtime(name):
    path = subprocess.run(["gcc", f"-print-file-name={name}"], capture_output=True, text=True).stdout.strip()
    return path if os.path.isabs(path) and os.path.exists(path) else None


@pytest.mark.slow
def test_engine_tests_pass_under_asan_and_ubsan(tmp_path):
    asan = _runtime("libasan.so")
    if asan is None or not ENGINE_TEST_FILES:
        pytest.skip("gcc's libasan is not available")
    build = subprocess.run(
        [sys.executable, "-c",
         "import sys; sys.path.insert(0, 'csrc'); import build_ffi; "
         f"b = build_ffi.make_ffibuilder(extra_cflags={SANITIZER_FLAGS!r}, module_name='ftorch_engine_sanitized', absolute_paths=True); "
         f"b.compile(tmpdir={str(tmp_path)!r})"],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "LDFLAGS": "-fsanitize=address,undefined"},
    )
    assert build.returncode == 0, build.stderr[-4000:]
    env = {
        **os.environ,
        # libstdc++ right after libasan: otherwise ASan's __cxa_throw interceptor finds no real
        # __cxa_throw and aborts the first time torch raises a C++ exception (error-case tests).
        "LD_PRELOAD": " ".join(filter(None, [asan, _runtime("libstdc++.so.6")])),
        # Python itself leaks by design at exit; we look for memory errors and UB, not leaks.
        "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:allocator_may_return_null=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
        "FTORCH_ENGINE_C_MODULE": "ftorch_engine_sanitized",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not slow", *ENGINE_TEST_FILES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    tail = (run.stdout[-3000:] + run.stderr[-3000:])
    assert run.returncode == 0, tail
    assert "runtime error" not in run.stderr and "AddressSanitizer" not in run.stderr, tail
