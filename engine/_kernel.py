"""The boundary to the C kernels: `lib`, `ffi`, and turning status codes into torch-style exceptions."""
from __future__ import annotations

import importlib
import os

# FTORCH_ENGINE_C_MODULE swaps in another build of the same kernels (the
# sanitizer test builds one with ASan/UBSan); normally it is engine._C.
_c = importlib.import_module(os.environ.get("FTORCH_ENGINE_C_MODULE", "engine._C"))
ffi, lib = _c.ffi, _c.lib

# ft_status code -> exception type, mirroring csrc/ft.h
_EXCEPTIONS = {
    1: RuntimeError,
    2: ValueError,
    3: IndexError,
    4: TypeError,
    5: RuntimeError,
    6: RuntimeError,
    7: NotImplementedError,
}


def raise_status(status: int):
    message = ffi.string(lib.ft_last_error()).decode("utf-8", "replace")
    raise _EXCEPTIONS.get(status, RuntimeError)(message)


def check(status: int) -> None:
    """Raise the torch-style exception a non-zero kernel status stands for."""
    if status:
        raise_status(status)
