"""Builds engine._C, the cffi (API mode) extension holding the C kernels.

setup.py runs this at install time; nothing compiles on import or in tests.
The cdef is ft.h plus the family headers in csrc/api/ (one per kernel family
added after the core: indexing, convolution, linear algebra, ...), minus the
preprocessor lines cffi cannot read, so the headers stay the single
description of the C interface.
"""
import os
import pathlib
import re

from cffi import FFI

CSRC = pathlib.Path(__file__).resolve().parent
SOURCES = sorted(str(p.relative_to(CSRC.parent)) for p in CSRC.glob("*.c"))
API_HEADERS = sorted(CSRC.glob("api/*.h"))

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
    for header in [CSRC / "ft.h", *API_HEADERS]:
        builder.cdef(_cdef_from_header(re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)))
    cflags = list(DEFAULT_CFLAGS) + list(extra_cflags or []) + os.environ.get("FT_EXTRA_CFLAGS", "").split()
    builder.set_source(
        module_name,
        "\n".join(['#include "ft.h"'] + [f'#include "api/{h.name}"' for h in API_HEADERS]),
        sources=[str(CSRC.parent / s) for s in SOURCES] if absolute_paths else SOURCES,
        include_dirs=[str(CSRC)],
        extra_compile_args=cflags,
        libraries=["m", "pthread", "dl"],
    )
    return builder


ffibuilder = make_ffibuilder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
