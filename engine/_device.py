"""`torch.device` for the engine: the CPU device and `meta` (engine/_meta.py)."""
from __future__ import annotations


class device:
    __slots__ = ("type", "index")

    def __init__(self, type_or_device="cpu", index=None):
        if isinstance(type_or_device, device):
            self.type, self.index = type_or_device.type, type_or_device.index
            return
        if not isinstance(type_or_device, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type(type_or_device).__name__})")
        kind, _, idx = type_or_device.partition(":")
        if kind not in _KNOWN_TYPES:
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, "
                f"vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device string: {type_or_device}"
            )
        if idx:
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type_or_device}'")
            index = int(idx)
        self.type, self.index = kind, index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))


_KNOWN_TYPES = {"cpu", "cuda", "meta", "mps", "xpu", "hip", "xla", "lazy", "hpu", "mtia", "privateuseone", "ipu",
                "mkldnn", "opengl", "opencl", "ideep", "ve", "fpga", "maia", "vulkan"}

CPU = device("cpu")


def as_device(value) -> device:
    if value is None:
        return CPU
    d = value if isinstance(value, device) else device(value) if isinstance(value, str) else None
    if d is None:
        raise TypeError(f"expected a device, got {type(value).__name__}")
    if d.type == "meta":
        from engine._meta import MetaRequested

        raise MetaRequested("device='meta' is handled by the op registry (engine/_meta.py)")
    if d.type != "cpu":
        raise RuntimeError(f"the engine supports only the cpu device, got '{d}'")
    return d
