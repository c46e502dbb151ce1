"""FT-P2C-001 cases: metadata, views, aliasing and the version counter.

Every view op runs over a set of input layouts (contiguous, transposed, sliced
with offset and step, expanded with zero strides, zero-size, 0-dim, vectors,
size-one dims) with argument sets derived from the input's shape, including
arguments torch rejects (its exception is the expectation). Each case records
shape, strides, storage offset, aliasing of the output with the input and the
version-counter deltas; "+write" cases also write through the output
(`out.add_(1)`) and record the input afterwards. Expected values all come from
running torch; nothing here states an outcome.
"""
from __future__ import annotations

from typing import Callable, Iterator

from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec

SOURCE = "generated.views"

# Argument generators take the input's shape and yield (label, args): arguments
# torch accepts and some it rejects. _op_table pairs each op with the variants
# torch offers for it and its generator.


def _numel(shape) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def _view_shapes(shape):
    n, ndim = _numel(shape), len(shape)
    yield "flat", ((-1,),)
    yield "numel", ((n,),)
    if ndim >= 2:
        yield "first_rest", ((shape[0], -1),)
        yield "rest_last", ((-1, shape[-1]),)
        yield "reversed", (tuple(reversed(shape)),)
    yield "unit_front", ((1, *shape),)
    yield "varargs", tuple(shape) if shape else ((),)
    yield "bad_numel", ((n + 1,),)
    yield "two_inferred", ((-1, -1),)


def _pairs(ndim):
    if ndim == 0:
        return [(0, 0), (0, -1), (0, 1)]
    return [(0, ndim - 1), (-1, -2 if ndim > 1 else -1), (0, 0), (0, ndim)]


def _transpose(shape):
    for d0, d1 in _pairs(len(shape)):
        yield f"{d0},{d1}", (d0, d1)


def _no_args(shape):
    yield "", ()


def _permute(shape):
    ndim = len(shape)
    dims = list(range(ndim))
    yield "reverse", (tuple(reversed(dims)),)
    yield "identity", (tuple(dims),)
    if ndim >= 2:
        yield "rotate", (tuple(dims[1:] + dims[:1]),)
        yield "negative", (tuple(d - ndim for d in reversed(dims)),)
        yield "repeated", (tuple([0] * ndim),)
    if ndim:
        yield "too_few", (tuple(dims[:-1]),)


def _expand(shape):
    yield "new_dim", ((2, *shape),)
    yield "keep", ((-1,) * len(shape),) if shape else ((),)
    if 1 in shape:
        yield "grow_ones", (tuple(3 if size == 1 else size for size in shape),)
    if shape and shape[0] != 1:
        yield "bad", ((shape[0] + 1, *shape[1:]),)
    yield "new_dim_minus_one", ((2, -1, *shape[1:]) if shape else (2, -1),)


def _expand_as_other(torch, dtype):
    def generate(shape):
        yield "new_dim", (torch.zeros((2, *shape), dtype=dtype),)
        yield "same", (torch.zeros(shape, dtype=dtype),)
        yield "bad", (torch.zeros((*shape, 5), dtype=dtype),)

    return generate


def _squeeze(shape):
    ndim = len(shape)
    yield "all", ()
    for dim in sorted({0, ndim - 1, -1}) if ndim else (0, -1):
        yield f"dim{dim}", (dim,)
    if ndim >= 2:
        yield "dims", ((0, ndim - 1),)
    yield "out_of_range", (ndim + 1,)


def _unsqueeze(shape):
    ndim = len(shape)
    for dim in sorted({0, ndim, -1, -ndim - 1}):
        yield f"dim{dim}", (dim,)
    yield "out_of_range", (ndim + 2,)


def _flatten(shape):
    ndim = len(shape)
    yield "all", ()
    if ndim >= 2:
        yield "0,1", (0, 1)
        yield "1,-1", (1, -1)
        yield "1,1", (1, 1)
        yield "reversed", (ndim - 1, 0)
    yield "start_only", (-1,)


def _unflatten(shape):
    if not shape:
        yield "scalar", (0, (1,))
        return
    last = shape[-1]
    yield "last_unit", (-1, (1, last))
    if last and last % 2 == 0:
        yield "last_halves", (-1, (2, -1))
    yield "first_inferred", (0, (-1, 1))
    yield "bad_sizes", (0, (shape[0] + 1, 2))


def _narrow(shape):
    if not shape:
        yield "scalar", (0, 0, 1)
        return
    yield "head", (0, 0, min(1, shape[0]))
    yield "last_dim", (-1, 1 if shape[-1] > 1 else 0, max(shape[-1] - 1, 0))
    yield "negative_start", (0, -1, 1)
    yield "too_long", (0, 0, shape[0] + 1)


def _select(shape):
    if not shape:
        yield "scalar", (0, 0)
        return
    yield "first", (0, 0)
    yield "last", (-1, -1)
    if len(shape) > 1:
        yield "middle", (1, 1)
    yield "out_of_range", (0, shape[0])


def _diagonal(shape):
    yield "default", ()
    yield "offset1", (1,)
    yield "offset-1", (-1,)
    if len(shape) >= 3:
        yield "dims0,2", (0, 0, 2)
        yield "dims-1,0", (0, -1, 0)
    yield "same_dims", (0, 0, 0)


def _movedim(shape):
    ndim = len(shape)
    yield "first_last", (0, -1)
    yield "last_first", (-1, 0)
    if ndim >= 2:
        yield "pair", ((0, 1), (1, 0))
    yield "bad", (0, ndim + 1)


def _unfold(shape):
    if not shape:
        yield "scalar", (0, 1, 1)
        return
    last = shape[-1]
    yield "window2", (-1, min(2, last), 1)
    yield "window2_step2", (-1, min(2, last), 2)
    yield "dim0", (0, 1, 1)
    yield "too_big", (-1, last + 1, 1)


def _as_strided(shape):
    yield "flat2", ((2,), (1,), 0)
    yield "overlapping", ((2, 2), (1, 1), 0)
    yield "offset", ((2,), (2,), 1)
    yield "zero_stride", ((3, 2), (0, 1), 0)
    yield "out_of_bounds", ((1000,), (1,), 0)


def _getitem(shape):
    ndim = len(shape)
    if ndim:
        yield "int0", (0,)
        yield "int-1", (-1,)
        yield "slice_step2", (slice(None, None, 2),)
        yield "slice_from1", (slice(1, None),)
        yield "ellipsis_int", ((Ellipsis, 0),)
        yield "int_slice_none", ((0, slice(None), None) if ndim >= 2 else (0, None),)
        yield "out_of_range", (shape[0] + 5,)
        yield "too_many", ((0,) * (ndim + 1),)
        yield "negative_step", (slice(None, None, -1),)
    yield "none", (None,)
    yield "ellipsis", (Ellipsis,)
    yield "true", (True,)
    yield "false", (False,)
    yield "none_ellipsis_none", ((None, Ellipsis, None),)


def _setitem_values(torch, dtype):
    def generate(shape):
        ndim = len(shape)
        scalar = True if dtype == torch.bool else 5
        if ndim:
            yield "int0_scalar", (0, scalar)
            yield "step2_scalar", (slice(None, None, 2), scalar)
            yield "ellipsis_last_tensor", ((Ellipsis, -1), torch.ones(shape[:-1], dtype=dtype))
            yield "broadcast_row", ((Ellipsis,), torch.zeros(shape[-1:], dtype=dtype))
            yield "bad_shape", ((Ellipsis,), torch.zeros((shape[-1] + 2,), dtype=dtype))
        yield "ellipsis_scalar", (Ellipsis, scalar)
        yield "none_scalar", (None, scalar)

    return generate


def _op_table(torch, dtype) -> dict[str, tuple[tuple[str, ...], Callable]]:
    """op name -> (variants, argument generator)."""
    both = ("method", "function")
    return {
        "view": (("method",), _view_shapes),
        "reshape": (both, _view_shapes),
        "transpose": (both, _transpose),
        "t": (both, _no_args),
        "T": (("attribute",), _no_args),
        "permute": (both, _permute),
        "expand": (("method",), _expand),
        "expand_as": (("method",), _expand_as_other(torch, dtype)),
        "squeeze": (both, _squeeze),
        "unsqueeze": (both, _unsqueeze),
        "flatten": (both, _flatten),
        "unflatten": (both, _unflatten),
        "narrow": (both, _narrow),
        "select": (both, _select),
        "diagonal": (both, _diagonal),
        "movedim": (both, _movedim),
        "unfold": (("method",), _unfold),
        "as_strided": (both, _as_strided),
        "__getitem__": (("method",), _getitem),
        "__setitem__": (("setitem",), _setitem_values(torch, dtype)),
        "contiguous": (("method",), _no_args),
        "clone": (both, _no_args),
        "detach": (both, _no_args),
    }


VIEW_OPS = tuple(_op_table(None, None))


def _layouts(torch, dtype) -> dict[str, Callable]:
    """Input layouts, each a factory so every case gets fresh, unshared inputs."""

    def values(n):
        base = torch.arange(n, dtype=torch.float64)
        if dtype == torch.bool:
            return base.remainder(3) == 0
        if dtype.is_floating_point:
            return (base * 1.5 - 7).to(dtype)
        if dtype == torch.uint8:
            return base.remainder(251).to(dtype)
        return (base - 5).to(dtype)

    return {
        "contiguous": lambda: values(24).reshape(2, 3, 4),
        "transposed": lambda: values(24).reshape(4, 3, 2).permute(2, 1, 0),
        "sliced": lambda: values(120).reshape(4, 6, 5)[1:3, ::2, 1:5],
        "expanded": lambda: values(4).reshape(1, 1, 4).expand(2, 3, 4),
        "zero_size": lambda: values(0).reshape(2, 0, 4),
        "matrix": lambda: values(12).reshape(3, 4),
        "matrix_t": lambda: values(12).reshape(4, 3).t(),
        "vector_step": lambda: values(12)[1::2],
        "scalar": lambda: values(1).reshape(()),
        "size_one": lambda: values(6).reshape(1, 6, 1),
    }


# dtypes beyond float32 run over these layouts and the first arguments of each op only
SECONDARY_LAYOUTS = ("contiguous", "transposed", "sliced")
WRITE_LAYOUTS = ("contiguous", "transposed", "sliced", "expanded")


def view_specs(torch, dtypes: list[str], ops: set[str] | None = None) -> Iterator[CaseSpec]:
    primary = "float32" if "float32" in dtypes else dtypes[0]
    for dtype_name in dtypes:
        dtype = getattr(torch, dtype_name)
        layouts = _layouts(torch, dtype)
        for op, (variants, arguments) in _op_table(torch, dtype).items():
            if ops is not None and op not in ops:
                continue
            for layout_name, make_input in layouts.items():
                if dtype_name != primary and layout_name not in SECONDARY_LAYOUTS:
                    continue
                choices = list(arguments(tuple(make_input().shape)))
                if dtype_name != primary:
                    choices = choices[:2]
                for number, (label, args) in enumerate(choices):
                    for variant in variants:
                        if variant == "function" and (layout_name not in SECONDARY_LAYOUTS or number > 1):
                            continue
                        yield _spec(op, variant, dtype_name, f"{layout_name}:{label}", make_input, args)
                    write = dtype_name == primary and number == 0 and layout_name in WRITE_LAYOUTS
                    if write and op not in ("__setitem__",):
                        yield _spec(op, variants[0], dtype_name, f"{layout_name}:{label}+write", make_input, args, write=True)


def _spec(op, variant, dtype_name, label, make_input, args, write=False) -> CaseSpec:
    target = "__setitem__" if variant == "setitem" else op
    call = Call(
        variant=variant,
        target=target,
        write={"method": "add_"} if write else None,
        observe_inputs=write or variant == "setitem",
        observe_versions=True,
    )
    return CaseSpec(
        op=op,
        dtype=dtype_name,
        source=SOURCE,
        label=f"{variant}:{label}",
        call=call,
        args=[make_input(), *_fresh(args)],
        write_args=(True,) if write and dtype_name == "bool" else (1,) if write else (),
        stride_check="exact",
    )


def _fresh(args):
    """Tensors inside argument tuples are cloned so no two cases share an input."""
    return [arg.clone() if hasattr(arg, "clone") else arg for arg in args]
