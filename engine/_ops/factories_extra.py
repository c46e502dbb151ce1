"""More factories: logspace, tril_indices / triu_indices, empty_permuted, and the
Tensor.new_* methods (defined in engine/_methods.py) as registered ops."""
from __future__ import annotations

import builtins
import math

from engine import _dtype as dt
from engine._registry import ALL, op
from engine._tensor import Tensor

FACTORY = "factory"


def _engine():
    import engine

    return engine


@op("logspace", family=FACTORY)
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """`torch.logspace`: base ** (steps points from start to end), filled from both ends as torch does."""
    e = _engine()
    start, end = (x.item() if isinstance(x, Tensor) else x for x in (start, end))
    if isinstance(steps, Tensor):
        steps = steps.item()
    if not isinstance(steps, builtins.int) or isinstance(steps, builtins.bool):
        raise TypeError(f"logspace() received an invalid combination of arguments - got ({type(start).__name__}, "
                        f"{type(end).__name__}, {type(steps).__name__}), but expected (Number start, Number end, "
                        "int steps, float base = 10.0, ...)")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype or dt.get_default_dtype()
    if dtype.is_floating_point:
        # torch: scalar_start/end in the output dtype, the step in double, pow(scalar_t base, double)
        start_t = e.tensor(float(start), dtype=dtype).item()
        end_t = e.tensor(float(end), dtype=dtype).item()
        base_t = e.tensor(float(base), dtype=dtype).item()
    else:
        # integral logspace: start and end converted to the integer type first, the base kept as a double
        start_t, end_t, base_t = float(math.trunc(start)), float(math.trunc(end)), float(base)
    if steps == 0:
        values = e.empty(0, dtype=dt.float64)
    elif steps == 1:
        values = e.tensor([start_t], dtype=dt.float64)
    else:
        step = (end_t - start_t) / (steps - 1)
        idx = e.arange(steps, dtype=dt.float64)
        half = steps // 2
        low = e.add(e.mul(idx, step), start_t)
        high = e.rsub(e.mul(e.rsub(idx, steps - 1), step), end_t)
        values = e.where(e.lt(idx, half), low, high)
    result = e.pow(base_t, values)
    if not dtype.is_floating_point:
        result = e.trunc(result)
    result = result.to(dtype)
    if out is not None:
        from engine._ops.reduction import _into

        result = _into(result, out)
    if requires_grad:
        result.requires_grad_(True)
    return result


def _triangle_indices(name, row, col, offset, dtype, lower):
    e = _engine()
    for value, arg in ((row, "row"), (col, "col")):
        if value < 0:
            raise RuntimeError(f"{arg} must be non-negative, got{value}")
    if dtype is not dt.int64 and dtype is not dt.int32:
        raise RuntimeError(f"\"{name}\" not implemented for '{dtype}'")
    rows, cols = [], []
    for r in builtins.range(row):
        if lower:
            first, last = 0, builtins.min(col, r + offset + 1)
        else:
            first, last = builtins.max(0, r + offset), col
        for c in builtins.range(first, last):
            rows.append(r)
            cols.append(c)
    if not rows:
        return e.empty((2, 0), dtype=dtype)
    return e.tensor([rows, cols], dtype=dtype)  # a fresh (2, N) tensor, not a view (torch's has no _base)


@op("tril_indices", family=FACTORY)
def tril_indices(row, col, offset=0, *, dtype=None, layout=None, device=None, pin_memory=False):
    """`torch.tril_indices`: the coordinates of the lower triangle of a row x col matrix, row-major."""
    return _triangle_indices("tril_indices", row, col, offset, dtype or dt.int64, True)


@op("triu_indices", family=FACTORY)
def triu_indices(row, col, offset=0, *, dtype=None, layout=None, device=None, pin_memory=False):
    """`torch.triu_indices`: the coordinates of the upper triangle of a row x col matrix, row-major."""
    return _triangle_indices("triu_indices", row, col, offset, dtype or dt.int64, False)


@op("empty_permuted", family=FACTORY)
def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """`torch.empty_permuted`: uninitialised, laid out in memory in the order physical_layout gives."""
    size = tuple(size)
    physical_layout = tuple(physical_layout)
    if sorted(physical_layout) != list(builtins.range(len(size))):
        raise RuntimeError(f"Number of dimensions in size does not match the length of the physical_layout; "
                           f"i.e. len(size) = {len(size)} is not equal to len(physical_layout) = "
                           f"{len(physical_layout)}" if len(physical_layout) != len(size) else
                           "physical_layout must be a permutation of the dims")
    strides = [0] * len(size)
    running = 1
    for dim in reversed(physical_layout):
        strides[dim] = running
        running *= builtins.max(size[dim], 1)
    return _engine().empty_strided(size, tuple(strides), dtype=dtype, requires_grad=requires_grad)


for _name in ("new_empty", "new_empty_strided", "new_full", "new_ones", "new_zeros"):
    op(_name, dtypes=ALL, method=True, public=False, family=FACTORY)(getattr(Tensor, _name))
