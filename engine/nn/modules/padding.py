"""Padding modules (torch/nn/modules/padding.py) over F.pad: constant/zero, reflection, replication
and circular, 1d/2d/3d."""
from __future__ import annotations

from engine.nn import functional as F
from engine.nn.modules.module import Module

__all__ = [
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]


def _ntuple(n):
    def parse(x):
        if isinstance(x, (list, tuple)):
            return tuple(x)
        return tuple([x] * n)

    return parse


class _PadNd(Module):
    __constants__ = ["padding"]
    _mode = ""
    _size = 2

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(self._size)(padding)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(Module):
    __constants__ = ["padding", "value"]
    _size = 2

    def __init__(self, padding, value: float):
        super().__init__()
        self.value = value
        self.padding = _ntuple(self._size)(padding)

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


def _make(name, base, mode, size):
    attrs = {"_size": size, "__module__": __name__, "__qualname__": name}
    if mode:
        attrs["_mode"] = mode
    return type(name, (base,), attrs)


CircularPad1d = _make("CircularPad1d", _PadNd, "circular", 2)
CircularPad2d = _make("CircularPad2d", _PadNd, "circular", 4)
CircularPad3d = _make("CircularPad3d", _PadNd, "circular", 6)
ReflectionPad1d = _make("ReflectionPad1d", _PadNd, "reflect", 2)
ReflectionPad2d = _make("ReflectionPad2d", _PadNd, "reflect", 4)
ReflectionPad3d = _make("ReflectionPad3d", _PadNd, "reflect", 6)
ReplicationPad1d = _make("ReplicationPad1d", _PadNd, "replicate", 2)
ReplicationPad2d = _make("ReplicationPad2d", _PadNd, "replicate", 4)
ReplicationPad3d = _make("ReplicationPad3d", _PadNd, "replicate", 6)
ConstantPad1d = _make("ConstantPad1d", _ConstantPadNd, "", 2)
ConstantPad2d = _make("ConstantPad2d", _ConstantPadNd, "", 4)
ConstantPad3d = _make("ConstantPad3d", _ConstantPadNd, "", 6)


class _ZeroPad:
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    pass


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    pass


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    pass
