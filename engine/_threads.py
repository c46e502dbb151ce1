"""Kernel threads and the optional BLAS: `engine.set_num_threads` / `engine.get_num_threads`
(torch.set_num_threads, torch.get_num_threads) over the C thread pool (csrc/parallel.c).

Large matrix products go to OpenBLAS when the scipy-openblas32 wheel is installed: its
library path is handed to the C side, which loads it at run time and keeps it on one
thread, because the engine's own pool splits products across threads (so the two pools
never compete for cores). Without the wheel, or with FTORCH_BLAS=0 in the environment,
the built-in GEMM runs. The engine never links against a BLAS at build time.
"""
from __future__ import annotations

import builtins
import os

from engine._kernel import check, ffi, lib

_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS",)


def set_num_threads(n):
    """`torch.set_num_threads`: https://pytorch.org/docs/stable/generated/torch.set_num_threads.html"""
    if isinstance(n, builtins.bool) or not isinstance(n, builtins.int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    check(lib.ft_set_num_threads(n))


def get_num_threads():
    """`torch.get_num_threads`: https://pytorch.org/docs/stable/generated/torch.get_num_threads.html"""
    return lib.ft_get_num_threads()


def blas_library_path():
    """The OpenBLAS shared library of the scipy-openblas32 wheel, or None when it is not installed.

    Found without importing the package: its __init__ loads the library (globally, with its own
    thread pool) before the engine could ask for one thread."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("scipy_openblas32")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    lib_dir = os.path.join(list(spec.submodule_search_locations)[0], "lib")
    try:
        names = sorted(name for name in os.listdir(lib_dir) if name.startswith("libscipy_openblas") and ".so" in name)
    except OSError:
        return None
    return os.path.join(lib_dir, names[0]) if names else None


def use_blas(enabled=True):
    """Send large floating matrix products to OpenBLAS (True, when installed) or to the
    built-in GEMM (False). Returns whether a BLAS is in use afterwards."""
    path = blas_library_path() if enabled else None
    if path is None:
        check(lib.ft_blas_load(ffi.NULL))
        return builtins.bool(lib.ft_blas_loaded())
    # OpenBLAS starts its own worker threads when it loads unless told it has one thread;
    # the engine never uses them (the BLAS runs on the engine's threads), so none are started.
    saved = {name: os.environ.get(name) for name in _BLAS_THREAD_VARIABLES}
    os.environ.update({name: "1" for name in _BLAS_THREAD_VARIABLES})
    try:
        check(lib.ft_blas_load(path.encode()))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return builtins.bool(lib.ft_blas_loaded())


def blas_in_use():
    return builtins.bool(lib.ft_blas_loaded())


if os.environ.get("FTORCH_BLAS", "1") != "0":
    try:
        use_blas(True)
    except RuntimeError:  # a broken BLAS install leaves the built-in GEMM in charge
        pass
