"""Generated special-value cases for FT-P2C-005 (what OpInfo samples rarely hold).

Per op family (unary elementwise, binary elementwise, reduction, matrix product)
and dtype: NaN (with a payload and with the sign bit), ±inf, -0.0, denormals,
the largest and smallest finite values, integer extremes, empty tensors, 0-dim
tensors, Python-scalar operands, mixed-dtype operands (type promotion) and one
long tensor that crosses vector-loop tails. Expected values come from torch.
"""
from __future__ import annotations

import struct
from typing import Iterator

from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec

SOURCE = "generated.special_values"
LONG_LENGTH = 4099  # odd, above every SIMD width and a few cache lines


def special_values(torch, dtype_name: str):
    """A 1-D tensor of the dtype's special values (NaN payload bits kept exactly)."""
    dtype = getattr(torch, dtype_name)
    if dtype_name == "bool":
        return torch.tensor([False, True, True, False], dtype=dtype)
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        values = sorted({0, 1, 2, 7, info.max, info.max - 1, info.min, info.min + 1, -1 if info.min < 0 else 3, -2 if info.min < 0 else 4})
        return torch.tensor(values, dtype=dtype)
    info = torch.finfo(dtype)
    inf = float("inf")
    values = [
        0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.5, 3.0, 0.1, 100.5, 1e-3,
        inf, -inf, info.max, -info.max, info.tiny, -info.tiny, info.tiny / 4, info.smallest_normal / 2 ** 10,
        1e10, -1e10, 88.72, 710.0, 3.141592653589793, -1e-30,
    ]
    tensor = torch.tensor(values, dtype=dtype)
    # NaNs are written bit by bit so their payload and sign survive: quiet, payload, negative.
    if dtype_name == "float32":
        nan_bits, pack, unpack, integer = (0x7FC00000, 0x7FC00123, 0xFFC00000), "<I", "<i", torch.int32
    else:
        nan_bits, pack, unpack, integer = (0x7FF8000000000000, 0x7FF8000000000123, 0xFFF8000000000000), "<Q", "<q", torch.int64
    signed = [struct.unpack(unpack, struct.pack(pack, bits))[0] for bits in nan_bits]
    return torch.cat([tensor, torch.tensor(signed, dtype=integer).view(dtype)])


def _strided_copy(torch, values):
    """The same values in a non-contiguous layout (every other element of a buffer)."""
    buffer = torch.zeros(values.numel() * 2, dtype=values.dtype)
    buffer[::2] = values
    return buffer[::2]


def _long(torch, values):
    repeats = LONG_LENGTH // values.numel() + 1
    return values.repeat(repeats)[:LONG_LENGTH].clone()


def _scalars(torch, dtype_name: str):
    if dtype_name == "bool":
        return [True]
    if getattr(torch, dtype_name).is_floating_point:
        return [float("nan"), float("-inf"), -0.0, 2.5]
    return [0, -1, 3]


PROMOTION_PARTNERS = ("int64", "float32", "float64", "bool")
PROMOTION_DTYPES = ("float32", "int64")  # the dtypes whose cases also pair with every partner


def _spec(op, variant_name, call, dtype_name, label, args, kwargs=None) -> CaseSpec:
    return CaseSpec(op=op, dtype=dtype_name, source=SOURCE, label=label, call=call, args=list(args),
                    kwargs=kwargs or {}, variant_name=variant_name)


# Ops for which torch itself dies on the integer extremes (the oracle cannot record them): op -> why.
ORACLE_TRAPS = {
    "lcm": "torch's lcm kernel traps (SIGFPE) on int64 extremes: abs(INT64_MIN) stays negative and a / gcd * b "
           "divides INT64_MIN by -1",
}


def special_specs(torch, op: str, variant_name: str, family: str, call: Call, dtype_name: str) -> Iterator[CaseSpec]:
    """Special-value specs for one op and dtype; `family` is unary | binary | reduction | matmul."""
    dtype = getattr(torch, dtype_name)
    if op in ORACLE_TRAPS and not dtype.is_floating_point:
        return
    values = special_values(torch, dtype_name)
    emit = lambda label, *args, **kwargs: _spec(op, variant_name, call, dtype_name, label, args, kwargs)  # noqa: E731
    if family == "unary":
        yield emit("values", values)
        yield emit("values_strided", _strided_copy(torch, values))
        yield emit("zero_dim", values[1].clone().reshape(()))
        yield emit("zero_dim_last", values[-1].clone().reshape(()))
        yield emit("empty", torch.empty(0, dtype=dtype))
        yield emit("empty_2d", torch.empty(3, 0, dtype=dtype))
        yield emit("long", _long(torch, values))
    elif family == "binary":
        n = values.numel()
        yield emit("grid", values.reshape(n, 1).clone(), values.reshape(1, n).clone())
        yield emit("long", _long(torch, values), _long(torch, values.flip(0)))
        for scalar in _scalars(torch, dtype_name):
            yield emit(f"scalar_rhs={scalar!r}", values, scalar)
        yield emit("zero_dim_rhs", values, values[2].clone().reshape(()))
        yield emit("zero_dim_lhs", values[-1].clone().reshape(()), values)
        yield emit("empty", torch.empty(0, dtype=dtype), torch.empty(0, dtype=dtype))
        yield emit("empty_broadcast", torch.empty(3, 0, dtype=dtype), torch.empty(1, dtype=dtype).fill_(1))
        for partner in PROMOTION_PARTNERS if dtype_name in PROMOTION_DTYPES else ():
            if partner != dtype_name:
                other = special_values(torch, partner)[: n].clone()
                size = min(n, other.numel())
                yield emit(f"promote_{partner}", values[:size].clone(), other[:size].clone())
    elif family == "reduction":
        n = values.numel()
        yield emit("values", values)
        yield emit("values_dim", values[: n - n % 2].reshape(2, -1).clone(), dim=1)
        yield emit("long", _long(torch, values))
        yield emit("empty", torch.empty(0, dtype=dtype))
        yield emit("empty_dim", torch.empty(2, 0, dtype=dtype), dim=1)
        yield emit("zero_dim", values[-1].clone().reshape(()))
    elif family == "matmul":
        yield from _matmul_specs(torch, op, emit, values, dtype)


def _matmul_specs(torch, op, emit, values, dtype):
    n = values.numel()
    matrix = values[: (n // 4) * 4].reshape(-1, 4).clone()
    if op in ("dot", "outer"):
        yield emit("values", values, values.flip(0).clone())
        yield emit("empty", torch.empty(0, dtype=dtype), torch.empty(0, dtype=dtype))
    elif op == "mv":
        yield emit("values", matrix, values[:4].clone())
        yield emit("empty_k", torch.empty(3, 0, dtype=dtype), torch.empty(0, dtype=dtype))
    elif op == "bmm":
        yield emit("values", matrix.reshape(1, -1, 4).clone(), matrix[:4].t().reshape(1, 4, -1).clone())
        yield emit("empty_k", torch.empty(2, 3, 0, dtype=dtype), torch.empty(2, 0, 4, dtype=dtype))
    else:  # mm, matmul
        yield emit("values", matrix, matrix[:4].t().clone())
        yield emit("empty_k", torch.empty(3, 0, dtype=dtype), torch.empty(0, 4, dtype=dtype))
        yield emit("empty_m", torch.empty(0, 5, dtype=dtype), torch.ones(5, 2, dtype=dtype))
