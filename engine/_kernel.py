"""The boundary to the C kernels: `lib`, `ffi`, and turning status codes into torch-style exceptions."""
from __future__ import annotations

from engine._C import ffi, lib

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
