"""pickle / copy support for engine tensors (Tensor.__reduce_ex__).

A tensor pickles as its own bytes plus metadata and unpickles into a fresh
tensor with the same shape, strides, offset, dtype and requires_grad (its own
storage: pickling a tensor alone never shares memory, as in torch). For
checkpoints use engine.save / engine.load (torch's zip format)."""
from __future__ import annotations


def _storage_bytes(t) -> bytes:
    return t._storage.tobytes()


def reduce_tensor(t):
    return (_rebuild_pickled, (t._dtype.name, tuple(t._shape), tuple(t._stride), t._offset, _storage_bytes(t),
                               bool(t._requires_grad)))


def _rebuild_pickled(dtype_name, shape, stride, offset, data, requires_grad):
    from engine import _dtype as dt
    from engine.serialization._unpickler import LoadedStorage, rebuild_tensor
    from engine.serialization import _copy_storage

    dtype = dt.DTYPES_BY_NAME[dtype_name]
    storage = _copy_storage(data, len(data))
    return rebuild_tensor(LoadedStorage(storage, dtype, len(data) // dtype.itemsize), offset, shape, stride,
                          requires_grad)


def reduce_parameter(p):
    from engine._tensor import make_tensor

    data = make_tensor(p._storage, p._shape, p._stride, p._offset, p._dtype)
    return (_rebuild_parameter, (data, bool(p._requires_grad)))


def _rebuild_parameter(data, requires_grad):
    from engine.nn.parameter import Parameter

    return Parameter(data, requires_grad)
