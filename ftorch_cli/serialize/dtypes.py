"""The dtype names a case table may hold, and how each maps onto numpy.

Names are torch's (`str(torch.float32)` without the `torch.` prefix); the table is
the one place that knows a dtype's byte size, its numpy storage type and its kind.
bfloat16 has no numpy type: it is stored as its raw uint16 bits and widened to
float32 for comparison.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DtypeInfo:
    name: str
    kind: str  # "bool" | "int" | "uint" | "float" | "complex"
    itemsize: int
    numpy_storage: np.dtype  # how the raw bytes are viewed


DTYPES: dict[str, DtypeInfo] = {
    info.name: info
    for info in (
        DtypeInfo("bool", "bool", 1, np.dtype(np.bool_)),
        DtypeInfo("uint8", "uint", 1, np.dtype(np.uint8)),
        DtypeInfo("uint16", "uint", 2, np.dtype(np.uint16)),
        DtypeInfo("uint32", "uint", 4, np.dtype(np.uint32)),
        DtypeInfo("uint64", "uint", 8, np.dtype(np.uint64)),
        DtypeInfo("int8", "int", 1, np.dtype(np.int8)),
        DtypeInfo("int16", "int", 2, np.dtype(np.int16)),
        DtypeInfo("int32", "int", 4, np.dtype(np.int32)),
        DtypeInfo("int64", "int", 8, np.dtype(np.int64)),
        DtypeInfo("float16", "float", 2, np.dtype(np.float16)),
        DtypeInfo("bfloat16", "float", 2, np.dtype(np.uint16)),
        DtypeInfo("float32", "float", 4, np.dtype(np.float32)),
        DtypeInfo("float64", "float", 8, np.dtype(np.float64)),
        DtypeInfo("complex64", "complex", 8, np.dtype(np.complex64)),
        DtypeInfo("complex128", "complex", 16, np.dtype(np.complex128)),
    )
}

# The dtypes the engine's C kernels know (csrc/ft.h: ft_dtype); extraction defaults to these.
ENGINE_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float32", "float64")


def dtype_name(dtype) -> str:
    """Name of a torch, engine or numpy dtype object, or of a name already ("torch.float32" -> "float32")."""
    text = str(dtype)
    return text.rsplit(".", 1)[-1]


def dtype_info(name: str) -> DtypeInfo:
    try:
        return DTYPES[name]
    except KeyError:
        raise ValueError(f"unknown dtype name {name!r} (known: {', '.join(DTYPES)})") from None


def comparable_array(array: np.ndarray, name: str) -> np.ndarray:
    """The array as numpy can compare it: bfloat16 bits widened to float32, everything else as is."""
    if name == "bfloat16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array
