"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode (thread-local, like torch)."""
from __future__ import annotations

import functools
import threading


class _GradState(threading.local):
    def __init__(self):
        self.enabled = True
        self.inference = False


STATE = _GradState()


def is_grad_enabled() -> bool:
    return STATE.enabled


def is_inference_mode_enabled() -> bool:
    return STATE.inference


class _DecoratorContextManager:
    """Usable as `with mode():` and as `@mode()` (and bare `@no_grad`)."""

    def __call__(self, func):
        if not callable(func):
            raise TypeError("expected a callable to decorate")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class _FixedGradMode(_DecoratorContextManager):
    """A context manager/decorator that sets grad mode to the class's `enabled` value."""

    enabled = True

    def __new__(cls, func=None):
        self = super().__new__(cls)
        if callable(func):  # used bare, as @no_grad
            return cls()(func)
        return self

    def __init__(self, func=None):
        self.prev = None

    def __enter__(self):
        self.prev = STATE.enabled
        STATE.enabled = self.enabled

    def __exit__(self, *exc):
        STATE.enabled = self.prev
        return False


class no_grad(_FixedGradMode):
    enabled = False


class enable_grad(_FixedGradMode):
    enabled = True


class set_grad_enabled(_DecoratorContextManager):
    """Sets the mode on construction (so it also works as a plain function call)."""

    def __init__(self, mode: bool):
        self.prev = STATE.enabled
        self.mode = bool(mode)
        STATE.enabled = self.mode

    def __call__(self, func):
        STATE.enabled = self.prev  # used as a decorator, it must not change the mode now (torch restores it here)
        return super().__call__(func)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        STATE.enabled = self.prev
        return False

    def clone(self):
        return set_grad_enabled.__new__(set_grad_enabled)._init_lazy(self.mode)

    def _init_lazy(self, mode):
        self.mode = mode
        self.prev = STATE.enabled
        STATE.enabled = mode
        return self


class inference_mode(_DecoratorContextManager):
    def __new__(cls, mode=True):
        self = super().__new__(cls)
        if callable(mode):
            return cls(True)(mode)
        return self

    def __init__(self, mode=True):
        self.mode = bool(mode) if not callable(mode) else True
        self.prev = None

    def __enter__(self):
        from engine import _tensor

        self.prev = (STATE.enabled, STATE.inference, _tensor.new_version_counter)
        if self.mode:
            STATE.enabled = False
            STATE.inference = True
            _tensor.new_version_counter = _tensor._InferenceVersionCounter
        else:
            STATE.inference = False
            _tensor.new_version_counter = _tensor._VersionCounter

    def __exit__(self, *exc):
        from engine import _tensor

        STATE.enabled, STATE.inference, _tensor.new_version_counter = self.prev
        return False

    def clone(self):
        return inference_mode(self.mode)
