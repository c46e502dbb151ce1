"""Test helpers shared by the engine tests: moving tensors between torch and the
engine (via numpy, tests only) and comparing engine results with torch's."""
from __future__ import annotations

import numpy as np
import torch

import engine


def to_engine(t: torch.Tensor) -> "engine.Tensor":
    """An engine tensor with t's values, shape, strides and storage offset."""
    base = t.untyped_storage()
    flat = torch.empty(0, dtype=t.dtype).set_(base, 0, (base.nbytes() // t.element_size(),), (1,))
    e_base = engine.from_numpy(flat.numpy().copy())
    return e_base.as_strided(tuple(t.shape), tuple(t.stride()), t.storage_offset())


def to_torch(e: "engine.Tensor") -> torch.Tensor:
    return torch.from_numpy(np.array(e.numpy(), copy=True))


def dtype_to_engine(d: torch.dtype):
    return getattr(engine, str(d).split(".")[1])


def assert_same(e, t, *, check_stride=True, atol=None, rtol=None):
    """engine result e equals torch result t: type, dtype, shape, strides, values (NaN == NaN)."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, engine.Tensor), f"expected a tensor, got {type(e).__name__}"
        assert str(e.dtype) == str(t.dtype), f"dtype {e.dtype} != {t.dtype}"
        assert tuple(e.shape) == tuple(t.shape), f"shape {tuple(e.shape)} != {tuple(t.shape)}"
        if check_stride and t.numel() > 1:
            assert e.stride() == t.stride(), f"stride {e.stride()} != {t.stride()}"
        torch.testing.assert_close(to_torch(e), t.contiguous(), equal_nan=True, atol=atol, rtol=rtol)
    elif isinstance(t, (tuple, list)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            assert_same(a, b, check_stride=check_stride, atol=atol, rtol=rtol)
    else:
        assert e == t or (e != e and t != t), f"{e!r} != {t!r}"
