"""Deterministic mode (`torch.use_deterministic_algorithms` and friends).

The engine's kernels are deterministic already (no atomics; threaded reductions split
work in a fixed order), so the mode is state only: set, read, and the debug-mode
spelling torch offers (0 default, 1 warn, 2 error)."""
from __future__ import annotations

import builtins

_STATE = {"enabled": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, not {type(mode).__name__}")
    if not isinstance(warn_only, builtins.bool):
        raise TypeError(f"_set_deterministic_algorithms(): argument 'warn_only' must be bool, not {type(warn_only).__name__}")
    _STATE["enabled"], _STATE["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled() -> builtins.bool:
    return _STATE["enabled"]


def is_deterministic_algorithms_warn_only_enabled() -> builtins.bool:
    return _STATE["warn_only"]


def get_deterministic_debug_mode() -> builtins.int:
    if not _STATE["enabled"]:
        return 0
    return 1 if _STATE["warn_only"] else 2


_DEBUG_NAMES = {"default": 0, "warn": 1, "error": 2}


def set_deterministic_debug_mode(debug_mode) -> None:
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_NAMES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got {debug_mode}")
        debug_mode = _DEBUG_NAMES[debug_mode]
    if not isinstance(debug_mode, builtins.int) or isinstance(debug_mode, builtins.bool):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode).__name__}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)
