"""numpy interop (`Tensor.numpy`, `engine.from_numpy`): shared memory both ways.
numpy is used here for interop only, never to compute."""
from __future__ import annotations

from engine import _dtype as dt
from engine._storage import UntypedStorage
from engine._tensor import Tensor, make_tensor

_NUMPY_TO_ENGINE = {
    "bool": dt.bool, "uint8": dt.uint8, "int8": dt.int8, "int16": dt.int16, "int32": dt.int32,
    "int64": dt.int64, "float32": dt.float32, "float64": dt.float64,
}


class _ArrayView:
    """Exposes an engine tensor's memory to numpy; holding the storage keeps it alive."""

    __slots__ = ("__array_interface__", "_storage")

    def __init__(self, t: Tensor):
        import numpy as np

        self._storage = t._storage
        item = t._dtype.itemsize
        self.__array_interface__ = {
            "shape": t._shape,
            "typestr": np.dtype(t._dtype.name if t._dtype is not dt.bool else "bool").str,
            "data": (t._addr, False),
            "strides": tuple(s * item for s in t._stride),
            "version": 3,
        }


def to_numpy(t: Tensor):
    import numpy as np

    if t.requires_grad:
        raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    return np.asarray(_ArrayView(t))


def from_numpy(array) -> Tensor:
    """`torch.from_numpy`: the tensor shares the array's memory."""
    import numpy as np

    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtype = _NUMPY_TO_ENGINE.get(array.dtype.name)
    if dtype is None or not array.dtype.isnative:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{array.dtype.name}. The only supported types are: float64, "
            "float32, int64, int32, int16, int8, uint8, and bool."
        )
    item = array.itemsize
    if any(s % item for s in array.strides):
        raise ValueError("given numpy array strides not a multiple of the element byte size. Copy the numpy array to reallocate the memory.")
    if any(s < 0 for s in array.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative strides are not "
            "currently supported. (You can probably work around this by making a copy of your array  with array.copy().) "
        )
    strides = tuple(s // item for s in array.strides)
    addr = array.__array_interface__["data"][0]
    # The storage spans from the array's first element to its last one.
    extent = 0 if array.size == 0 else (sum((n - 1) * s for n, s in zip(array.shape, strides)) + 1) * item
    storage = UntypedStorage.borrow(addr, extent, array)
    return make_tensor(storage, tuple(array.shape), strides, 0, dtype)
