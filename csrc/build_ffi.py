"""Builds engine._C, the cffi (API mode) extension holding the C kernels.

setup.py runs this at install time; nothing compiles on import or in tests.
The cdef is ft.h itself, minus the preprocessor lines cffi cannot read, so
the header stays the single description of the C interface.
"""
import os
import pathlib
import re

from cffi import FFI

CSRC = pathlib.Path(__file__).resolve().parent
SOURCES = sorted(str(p.relative_to(CSRC.parent)) for p in CSRC.glob("*.c"))

# -O3 with the x86-64 baseline keeps the wheel portable; faster ISAs are chosen
# at run time inside the kernels. NaN/inf/-0.0 semantics must survive, so no -ffast-math.
DEFAULT_CFLAGS = ["-O3", "-std=c11", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wno-unused-function"]


def _cdef_from_header(text: str) -> str:
    keep = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") and not re.match(r"#define\s+FT_MAX_DIMS\s+\d+", stripped):
            continue
        keep.append(line)
    return "\n".join(keep)


def make_ffibuilder(extra_cflags=None, module_name="engine._C", absolute_paths=False):
    """absolute_paths: for builds outside setup.py (cffi compiles in its own tmpdir)."""
    builder = FFI()
    header = (CSRC / "ft.h").read_text()
    builder.cdef(_cdef_from_header(re.sub(r"/\*.*?\*/", "", header, flags=re.S)))
    cflags = list(DEFAULT_CFLAGS) + list(extra_cflags or []) + os.environ.get("FT_EXTRA_CFLAGS", "").split()
    builder.set_source(
        module_name,
        '#include "ft.h"',
        sources=[str(CSRC.parent / s) for s in SOURCES] if absolute_paths else SOURCES,
        include_dirs=[str(CSRC)],
        extra_compile_args=cflags,
        libraries=["m", "pthread", "dl"],
    )
    return builder


ffibuilder = make_ffibuilder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
