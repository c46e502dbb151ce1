"""Shape and join ops (engine/_ops/shape.py): the engine against torch.

Each case is a function of the library (torch or engine) and its input
tensors, run on both with the same data: values, dtype, shape and strides of
every output, which outputs are views of the input (split/chunk/unbind), the
exception type for bad arguments, and gradients with torch's node names
(CatBackward0, SplitBackward0, ...), including double backward.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import engine
from engine_helpers import assert_same, to_engine, to_torch


def _data(shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    if dtype.is_floating_point:
        return torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
    if dtype is torch.bool:
        return torch.randint(0, 2, shape, generator=g).bool()
    return torch.randint(-9, 10, shape, generator=g).to(dtype)


def _both(fn, *inputs):
    """fn(torch, *torch inputs) and fn(engine, *engine inputs)."""
    expected = fn(torch, *inputs)
    actual = fn(engine, *[to_engine(t) if isinstance(t, torch.Tensor) else t for t in inputs])
    return actual, expected


def _check(fn, *inputs, check_stride=True):
    actual, expected = _both(fn, *inputs)
    assert_same(actual, expected, check_stride=check_stride)
    return actual, expected


X = _data((3, 4))
X3 = _data((2, 3, 4), seed=1)
T = _data((4, 3), seed=2).t()  # transposed, non-contiguous

FORWARD = {
    "cat0": (lambda L, x, y: L.cat([x, y]), X, X),
    "cat1": (lambda L, x, y: L.cat((x, y), 1), X, X),
    "cat_neg": (lambda L, x, y: L.cat([x, y, x], -1), X3, X3),
    "cat_transposed": (lambda L, x, y: L.cat([x, y], 0), T, T),
    "cat_legacy_empty": (lambda L, x, y: L.cat([L.zeros(0), x, L.zeros(0)], 1), X, X),
    "cat_only_empty": (lambda L, x, y: L.cat([L.zeros(0), L.zeros(0, dtype=L.int64)]), X, X),
    "cat_promote": (lambda L, x, y: L.cat([x, y.to(L.float64), y.to(L.int32)]), X, X),
    "cat_int_bool": (lambda L, x, y: L.cat([(x > 0), (y * 3).to(L.int8)]), X, X),
    "cat_channels_last": (lambda L, x, y: L.cat([x.permute(0, 3, 1, 2), y.permute(0, 3, 1, 2)], 1),
                          _data((2, 3, 4, 5)), _data((2, 3, 4, 5), seed=3)),
    "cat_mixed_layout": (lambda L, x, y: L.cat([x.permute(0, 3, 1, 2), y], 1), _data((2, 3, 4, 5)),
                         _data((2, 5, 3, 4))),
    "cat_channels_last_empty": (lambda L, x, y: L.cat([x.permute(0, 3, 1, 2), L.zeros(0)], 1),
                                _data((2, 3, 4, 5)), X),
    "cat_channels_last_ambiguous": (lambda L, x, y: L.cat([x.permute(0, 3, 1, 2), y.permute(0, 3, 1, 2)], 2),
                                    _data((2, 1, 1, 3)), _data((2, 1, 1, 3), seed=4)),
    "cat_channels_last_3d": (lambda L, x, y: L.cat([x.permute(0, 4, 1, 2, 3), y.permute(0, 4, 1, 2, 3)], 1),
                             _data((2, 3, 4, 5, 2)), _data((2, 3, 4, 5, 3), seed=5)),
    "stack_channels_last_3d": (lambda L, x, y: L.stack([x.permute(0, 4, 1, 2, 3), y.permute(0, 4, 1, 2, 3)]),
                               _data((2, 3, 4, 5, 2)), _data((2, 3, 4, 5, 2), seed=5)),
    "concat": (lambda L, x, y: L.concat([x, y], 1), X, X),
    "concatenate": (lambda L, x, y: L.concatenate([x, y], axis=1), X, X),
    "stack0": (lambda L, x, y: L.stack([x, y]), X, X),
    "stack_last": (lambda L, x, y: L.stack([x, y], -1), X3, X3),
    "stack_channels_last": (lambda L, x, y: L.stack([x.permute(0, 3, 1, 2), y.permute(0, 3, 1, 2)], 1),
                            _data((2, 3, 4, 5)), _data((2, 3, 4, 5), seed=3)),
    "stack_transposed": (lambda L, x, y: L.stack([x, y], 1), T, T),
    "stack_0dim": (lambda L, x, y: L.stack([x[0, 0], y[1, 1]]), X, X),
    "hstack": (lambda L, x, y: L.hstack([x, y]), X, X),
    "hstack_1d": (lambda L, x, y: L.hstack([x[0], y[1], x[2, 1]]), X, X),
    "vstack": (lambda L, x, y: L.vstack([x[0], y[1]]), X, X),
    "dstack": (lambda L, x, y: L.dstack([x, y]), X, X),
    "dstack_1d": (lambda L, x, y: L.dstack([x[0], y[0]]), X, X),
    "column_stack": (lambda L, x, y: L.column_stack([x, y, y[:, 0]]), _data((4,)), _data((4, 2))),
    "split_int": (lambda L, x: L.split(x, 2), X),
    "split_int_dim": (lambda L, x: x.split(3, 1), X),
    "split_sizes": (lambda L, x: L.split(x, [1, 0, 2], 0), X),
    "split_with_sizes": (lambda L, x: x.split_with_sizes([2, 2], -1), X),
    "split_big": (lambda L, x: x.split(10), X),
    "chunk": (lambda L, x: x.chunk(2), X),
    "chunk_more": (lambda L, x: L.chunk(x, 6, 1), X),
    "chunk_empty": (lambda L, x: L.chunk(L.zeros(0, 3), 3), X),
    "tensor_split_sections": (lambda L, x: L.tensor_split(x, 3, 1), X),
    "tensor_split_indices": (lambda L, x: L.tensor_split(x, [1, 5, -1, 2], 1), X),
    "tensor_split_tensor": (lambda L, x: x.tensor_split(L.tensor([1, 2])), X),
    "unbind": (lambda L, x: x.unbind(1), X3),
    "hsplit": (lambda L, x: L.hsplit(x, 2), X),
    "hsplit_1d": (lambda L, x: x[0].hsplit([1, 3]), X),
    "vsplit": (lambda L, x: L.vsplit(x, [1]), X),
    "dsplit": (lambda L, x: x.dsplit(2), X3),
    "unsafe_split": (lambda L, x: L.unsafe_split(x, 2, 1), X),
    "unsafe_split_with_sizes": (lambda L, x: x.unsafe_split_with_sizes([1, 2]), X),
    "unsafe_chunk": (lambda L, x: L.unsafe_chunk(x, 3, -1), X),
    "fliplr_method": (lambda L, x: x.fliplr(), X),
    "flipud_method": (lambda L, x: x.flipud(), X),
    "tril_inplace": (lambda L, x: (x * 1).tril_(1), X),
    "triu_inplace": (lambda L, x: (x * 1).triu_(-1), X3),
    "flip": (lambda L, x: L.flip(x, (0, 2)), X3),
    "flip_method": (lambda L, x: x.flip(-1), X3),
    "flip_transposed": (lambda L, x: x.flip(0), T),
    "flip_none": (lambda L, x: L.flip(x, []), X),
    "fliplr": (lambda L, x: L.fliplr(x), X3),
    "flipud": (lambda L, x: L.flipud(x), X3),
    "roll_flat": (lambda L, x: L.roll(x, 5), X3),
    "roll_dim": (lambda L, x: L.roll(x, -1, 1), X3),
    "roll_dims": (lambda L, x: L.roll(x, (1, 7), (0, 2)), X3),
    "roll_transposed": (lambda L, x: x.roll(2), T),
    "rot90": (lambda L, x: L.rot90(x), X3),
    "rot90_k2": (lambda L, x: L.rot90(x, 2, [1, 2]), X3),
    "rot90_k3": (lambda L, x: x.rot90(-1, (2, 0)), X3),
    "rot90_k0": (lambda L, x: x.rot90(4), T),
    "repeat": (lambda L, x: x.repeat(2, 1, 3), X),
    "repeat_list": (lambda L, x: x.repeat([1, 2]), T),
    "repeat_zero": (lambda L, x: x.repeat(0, 2), X),
    "tile": (lambda L, x: L.tile(x, (2,)), X),
    "tile_more": (lambda L, x: x.tile((2, 1, 1)), X),
    "repeat_interleave_int": (lambda L, x: x.repeat_interleave(2), X),
    "repeat_interleave_dim": (lambda L, x: L.repeat_interleave(x, 3, dim=1), X),
    "repeat_interleave_tensor": (lambda L, x: L.repeat_interleave(x, L.tensor([1, 0, 2]), dim=0), X),
    "repeat_interleave_tensor1": (lambda L, x: x.repeat_interleave(L.tensor([2]), dim=1), X),
    "repeat_interleave_output_size": (lambda L, x: x.repeat_interleave(L.tensor([1, 0, 2]), 0, output_size=3), X),
    "repeat_interleave_repeats_only": (lambda L, x: L.repeat_interleave(L.tensor([1, 3, 2])), X),
    "tril": (lambda L, x: x.tril(), X),
    "tril_diag": (lambda L, x: L.tril(x, -1), X3),
    "triu_diag": (lambda L, x: L.triu(x, 2), T),
    "triu_int": (lambda L, x: (x * 10).to(L.int32).triu(), X),
    "triu_bool": (lambda L, x: (x > 0).triu(-1), X),
    "diag_vector": (lambda L, x: L.diag(x[0], 1), X),
    "diag_matrix": (lambda L, x: L.diag(x, -1), X),
    "diag_embed": (lambda L, x: L.diag_embed(x), X3),
    "diag_embed_dims": (lambda L, x: L.diag_embed(x, -1, 0, 2), X3),
    "diagflat": (lambda L, x: L.diagflat(x, 2), X),
    "diagonal_scatter": (lambda L, x, y: L.diagonal_scatter(x, y[0, :3]), X, X),
    "diagonal_scatter_offset": (lambda L, x, y: L.diagonal_scatter(x, y[0, :, :2], 1, 0, 2), X3, X3),
    "select_scatter": (lambda L, x, y: L.select_scatter(x, y[0], 0, -1), X, X),
    "slice_scatter": (lambda L, x, y: L.slice_scatter(x, y[:, :2], 1, 0, 4, 2), X, X),
    "slice_scatter_default": (lambda L, x, y: L.slice_scatter(x, y), X, X),
    "narrow_copy": (lambda L, x: x.narrow_copy(1, 1, 2), T),
    "meshgrid_ij": (lambda L, x, y: L.meshgrid(x[0], y[1, :3], indexing="ij"), X, X),
    "meshgrid_xy": (lambda L, x, y: L.meshgrid([x[0], y[1, :3], x[2, 0]], indexing="xy"), X, X),
    "atleast_1d": (lambda L, x: L.atleast_1d(x[0, 0]), X),
    "atleast_2d_many": (lambda L, x: L.atleast_2d(x[0, 0], x[0], x), X),
    "atleast_3d_list": (lambda L, x: L.atleast_3d([x[0, 0], x[0], x, x.unsqueeze(0)]), X),
    "broadcast_tensors": (lambda L, x, y: L.broadcast_tensors(x, y[0], y[:, :1]), X, X),
    "ravel": (lambda L, x: L.ravel(x), T),
    "swapaxes": (lambda L, x: L.swapaxes(x, 0, 2), X3),
    "moveaxis": (lambda L, x: L.moveaxis(x, 0, -1), X3),
}


@pytest.mark.parametrize("name", list(FORWARD))
def test_forward_matches_torch(name):
    fn, *inputs = FORWARD[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check(fn, *inputs)


@pytest.mark.parametrize("dtype", [torch.float64, torch.int64, torch.int16, torch.uint8, torch.bool])
@pytest.mark.parametrize("name", ["cat1", "stack_last", "split_int", "flip", "roll_dims", "rot90", "repeat",
                                  "tril_diag", "diag_embed", "repeat_interleave_tensor", "slice_scatter"])
def test_forward_dtypes(name, dtype):
    fn, *inputs = FORWARD[name]
    _check(fn, *[t.to(dtype) for t in inputs])


def test_broadcast_shapes():
    for shapes in [((2, 1), (3,)), ((1,), 4, ()), ([5, 1, 3], (4, 1)), ()]:
        assert engine.broadcast_shapes(*shapes) == torch.broadcast_shapes(*shapes)
    with pytest.raises(RuntimeError):
        engine.broadcast_shapes((2,), (3,))


@pytest.mark.parametrize("name", ["split_int", "split_sizes", "chunk", "unbind", "tensor_split_indices",
                                  "meshgrid_ij", "atleast_2d_many", "broadcast_tensors"])
def test_views_alias_their_input(name):
    fn, *inputs = FORWARD[name]
    actual, expected = _both(fn, *inputs)
    for e, t in zip(actual, expected):
        if t._base is not None:  # (the inputs are views in the engine: to_engine builds them with as_strided)
            assert e._base is not None
        assert e.storage_offset() == t.storage_offset()


def test_atleast_and_broadcast_hand_back_their_input():
    x = engine.zeros(2, 3)
    assert engine.atleast_1d(x) is x and engine.atleast_2d(x) is x
    assert engine.broadcast_tensors(x, engine.zeros(3))[0] is x


def test_unsafe_split_shares_memory_but_is_no_view():
    x = engine.arange(6.)
    a, b = engine.unsafe_split(x, 3)
    assert a._base is None and b.data_ptr() == x.data_ptr() + 3 * 4
    a.mul_(2)
    assert x.tolist() == [0, 2, 4, 3, 4, 5] and x._version == 0


def test_copies_do_not_alias():
    x = engine.arange(12.).reshape(3, 4)
    for y in (engine.cat([x]), engine.flip(x, [0]), x.roll(1), x.repeat(1, 1), x.tril(), x.narrow_copy(0, 0, 3)):
        assert y.data_ptr() != x.data_ptr()
        assert y._base is None


ERRORS = {
    "cat_empty_list": lambda L, x: L.cat([]),
    "cat_0dim": lambda L, x: L.cat([x[0, 0], x[0, 0]]),
    "cat_shapes": lambda L, x: L.cat([x, x[:, :2]], 0),
    "cat_ndim": lambda L, x: L.cat([x, x[0]]),
    "cat_dim": lambda L, x: L.cat([x, x], 2),
    "cat_not_tensors": lambda L, x: L.cat([x, 1]),
    "cat_out_overlap": lambda L, x: L.cat([x[:1], x[1:2]], out=x[:2]),
    "stack_empty": lambda L, x: L.stack([]),
    "stack_shapes": lambda L, x: L.stack([x, x[:2]]),
    "split_negative": lambda L, x: x.split(-1),
    "split_sizes_sum": lambda L, x: x.split([1, 1]),
    "split_zero": lambda L, x: x.split(0),
    "split_0dim": lambda L, x: x[0, 0].split(1),
    "chunk_zero": lambda L, x: x.chunk(0),
    "unbind_0dim": lambda L, x: x[0, 0].unbind(),
    "tensor_split_0dim": lambda L, x: L.tensor_split(x[0, 0], 2),
    "tensor_split_sections": lambda L, x: L.tensor_split(x, 0),
    "flip_repeated": lambda L, x: x.flip(0, -2),
    "flip_range": lambda L, x: x.flip(2),
    "fliplr_1d": lambda L, x: L.fliplr(x[0]),
    "roll_empty_shifts": lambda L, x: L.roll(x, ()),
    "roll_mismatch": lambda L, x: L.roll(x, (1, 2), (0,)),
    "rot90_dims": lambda L, x: L.rot90(x, 1, [0]),
    "rot90_same": lambda L, x: L.rot90(x, 1, [1, 1]),
    "rot90_1d": lambda L, x: L.rot90(x[0]),
    "repeat_fewer": lambda L, x: x.repeat(2),
    "repeat_negative": lambda L, x: x.repeat(-1, 1),
    "repeat_interleave_negative": lambda L, x: x.repeat_interleave(-1),
    "repeat_interleave_size": lambda L, x: x.repeat_interleave(L.tensor([1, 2]), dim=0),
    "tril_1d": lambda L, x: x[0].tril(),
    "hsplit_divisible": lambda L, x: L.hsplit(x, 3),
    "vsplit_1d": lambda L, x: L.vsplit(x[0], 2),
    "dsplit_2d": lambda L, x: L.dsplit(x, 2),
    "unsafe_split_list": lambda L, x: L.unsafe_split(x, [1, 2]),
    "diag_3d": lambda L, x: L.diag(x.unsqueeze(0)),
    "diag_embed_same": lambda L, x: L.diag_embed(x, 0, 1, 1),
    "diagonal_scatter_shape": lambda L, x: L.diagonal_scatter(x, x[0]),
    "select_scatter_shape": lambda L, x: L.select_scatter(x, x[0, :2], 0, 0),
    "slice_scatter_shape": lambda L, x: L.slice_scatter(x, x, 1, 0, 2),
    "narrow_copy_dim": lambda L, x: x.narrow_copy(2, 0, 1),
    "narrow_copy_length": lambda L, x: x.narrow_copy(0, 2, 5),
    "meshgrid_2d": lambda L, x: L.meshgrid(x, x, indexing="ij"),
    "meshgrid_indexing": lambda L, x: L.meshgrid(x[0], indexing="ji"),
    "broadcast_tensors_shapes": lambda L, x: L.broadcast_tensors(x, x[:2]),
    "stack_dim": lambda L, x: L.stack([x, x], 3),
    "chunk_0dim": lambda L, x: x[0, 0].chunk(2),
    "split_sizes_negative": lambda L, x: x.split([4, -1]),
    "roll_dim_range": lambda L, x: x.roll(1, 2),
    "rot90_range": lambda L, x: x.rot90(1, (0, 2)),
    "rot90_same_wrapped": lambda L, x: x.rot90(1, (0, -2)),
    "repeat_interleave_float": lambda L, x: x.repeat_interleave(L.tensor([1.0, 2.0, 1.0]), dim=0),
    "repeat_interleave_2d": lambda L, x: x.repeat_interleave(L.ones(2, 2, dtype=L.int64), dim=0),
    "repeat_interleave_tensor_negative": lambda L, x: x.repeat_interleave(L.tensor([1, -1, 1]), dim=0),
    "repeat_interleave_output_size": lambda L, x: x.repeat_interleave(L.tensor([1, 1, 1]), dim=0, output_size=4),
    "repeat_interleave_int_output_size": lambda L, x: x.repeat_interleave(2, dim=0, output_size=5),
    "repeat_interleave_0dim": lambda L, x: x[0, 0].repeat_interleave(2, dim=0),
    "repeat_interleave_repeats_0dim": lambda L, x: L.repeat_interleave(L.tensor(2)),
    "diag_embed_range": lambda L, x: L.diag_embed(x, 0, 0, 3),
    "tensor_split_float": lambda L, x: L.tensor_split(x, L.tensor([1.0])),
    "tensor_split_int32": lambda L, x: L.tensor_split(x, L.tensor(2, dtype=L.int32)),
    "tensor_split_2d": lambda L, x: L.tensor_split(x, L.tensor([[1]])),
    "meshgrid_dtype": lambda L, x: L.meshgrid(x[0], x[0].to(L.float64), indexing="ij"),
    "select_scatter_index": lambda L, x: L.select_scatter(x, x[0], 0, 5),
    "cat_out_dtype": lambda L, x: L.cat([x, x], out=L.zeros(6, 4, dtype=L.int64)),
    "tile_negative": lambda L, x: x.tile((-1,)),
    "unbind_range": lambda L, x: x.unbind(2),
    "flip_0dim": lambda L, x: x[0, 0].flip(1),
    "narrow_copy_start": lambda L, x: x.narrow_copy(0, 4, 1),
}
MESSAGE_DIFFERS = {"meshgrid_2d": "torch prints the tensor in its legacy format"}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name):
    fn = ERRORS[name]
    with pytest.raises(Exception) as torch_error:
        fn(torch, X.clone())
    with pytest.raises(Exception) as engine_error:
        fn(engine, to_engine(X.clone()))
    assert isinstance(engine_error.value, torch_error.type), (engine_error.value, torch_error.value)
    if name not in MESSAGE_DIFFERS:
        assert str(engine_error.value) == str(torch_error.value)


# ---- gradients ----
def _grad_case(fn, inputs, seed=0):
    """Outputs, grad_fn names and the gradients of a seeded random weighting of every output."""
    def run(L, tensors):
        outs = fn(L, *tensors)
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        names = [type(o.grad_fn).__name__ if not isinstance(o, engine.Tensor) and o.grad_fn is not None else
                 (o.grad_fn.name() if o.grad_fn is not None else None) for o in outs]
        total = None
        for i, o in enumerate(outs):
            w = _data(tuple(o.shape), torch.float64, seed=seed + i)
            w = w if L is torch else to_engine(w)
            term = (o * w).sum()
            total = term if total is None else total + term
        grads = L.autograd.grad(total, tensors, allow_unused=True)
        return names, grads

    t_inputs = [t.detach().to(torch.float64).requires_grad_() for t in inputs]
    e_inputs = [to_engine(t.detach()).requires_grad_() for t in t_inputs]
    t_names, t_grads = run(torch, t_inputs)
    e_names, e_grads = run(engine, e_inputs)
    return (e_names, e_grads), (t_names, t_grads)


GRADIENTS = [
    "cat0", "cat1", "cat_legacy_empty", "cat_promote", "concat", "stack_last", "hstack", "dstack", "column_stack",
    "split_int", "split_sizes", "split_with_sizes", "chunk", "tensor_split_indices", "unbind", "flip", "fliplr",
    "roll_flat", "roll_dims", "rot90", "rot90_k3", "rot90_k0", "repeat", "tile_more", "repeat_interleave_int",
    "repeat_interleave_dim", "repeat_interleave_tensor", "tril_diag", "triu_diag", "diag_vector", "diag_matrix",
    "diag_embed_dims", "diagflat", "diagonal_scatter", "diagonal_scatter_offset", "select_scatter", "slice_scatter",
    "narrow_copy", "meshgrid_xy", "hsplit", "dsplit", "unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk",
    "tril_inplace", "triu_inplace", "atleast_3d_list", "broadcast_tensors", "ravel",
]


@pytest.mark.parametrize("name", GRADIENTS)
def test_gradients_match_torch(name):
    fn, *inputs = FORWARD[name]
    (e_names, e_grads), (t_names, t_grads) = _grad_case(fn, inputs)
    assert e_names == t_names
    for e, t in zip(e_grads, t_grads):
        if t is None:
            assert e is None or not to_torch(e).any()
        else:
            torch.testing.assert_close(to_torch(e), t)


def test_unused_split_outputs_get_zero_gradient():
    x = engine.arange(6.).requires_grad_()
    a, b, c = x.split(2)
    b.sum().backward()
    assert x.grad.tolist() == [0, 0, 1, 1, 0, 0]
    y = engine.arange(6.).reshape(2, 3).requires_grad_()
    y.unbind(1)[2].sum().backward()
    assert y.grad.tolist() == [[0, 0, 1], [0, 0, 1]]


@pytest.mark.parametrize("name", ["cat1", "stack_last", "split_sizes", "unbind", "flip", "roll_dims", "rot90",
                                  "repeat", "tril_diag", "diag_embed", "repeat_interleave_tensor", "slice_scatter"])
def test_double_backward(name):
    fn, *inputs = FORWARD[name]

    def second(L, tensors):
        outs = fn(L, *tensors)
        outs = outs if isinstance(outs, (tuple, list)) else (outs,)
        total = sum(((o * o).sum() for o in outs), start=L.zeros((), dtype=L.float64))
        grads = L.autograd.grad(total, tensors, create_graph=True)
        inner = sum(((g * g).sum() for g in grads), start=L.zeros((), dtype=L.float64))
        return L.autograd.grad(inner, tensors)

    t_inputs = [t.detach().to(torch.float64).requires_grad_() for t in inputs]
    e_inputs = [to_engine(t.detach()).requires_grad_() for t in t_inputs]
    for e, t in zip(second(engine, e_inputs), second(torch, t_inputs)):
        torch.testing.assert_close(to_torch(e), t)


# ---- properties ----
@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 4), min_size=1, max_size=4), rest=st.lists(st.integers(1, 3), max_size=2),
       dim=st.integers(0, 2), data=st.data())
def test_cat_then_split_round_trips(sizes, rest, dim, data):
    dim = min(dim, len(rest))
    shapes = [tuple(rest[:dim]) + (s,) + tuple(rest[dim:]) for s in sizes]
    parts = [_data(s, seed=i) for i, s in enumerate(shapes)]
    _check(lambda L, *ts: L.cat(ts, dim), *parts)
    joined = torch.cat(parts, dim)
    pieces = engine.split(to_engine(joined), sizes, dim)
    for e, t in zip(pieces, parts):
        assert_same(e, t, check_stride=False)
    split_size = data.draw(st.integers(1, 5))
    _check(lambda L, x: L.split(x, split_size, dim), joined)


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=4), data=st.data())
def test_flip_roll_repeat_properties(shape, data):
    x = _data(tuple(shape))
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), unique_by=lambda d: d % ndim, max_size=ndim))
    _check(lambda L, t: L.flip(t, dims), x)
    shifts = data.draw(st.lists(st.integers(-6, 6), min_size=len(dims), max_size=len(dims)))
    if dims:
        _check(lambda L, t: L.roll(t, shifts, dims), x)
    repeats = data.draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim + 1))
    _check(lambda L, t: t.repeat(*repeats), x)
    diagonal = data.draw(st.integers(-3, 3))
    if ndim >= 2:
        _check(lambda L, t: L.triu(t, diagonal), x)


@pytest.mark.parametrize("write", ["add_", "copy_", "setitem", "view_then_mul_"])
@pytest.mark.parametrize("make", ["split", "chunk", "unbind"])
def test_multi_output_views_refuse_inplace_writes_under_grad(make, write):
    def run(L):
        x = L.arange(6.).reshape(2, 3).requires_grad_()
        piece = getattr(x * 1, make)(1)[0] if make != "split" else (x * 1).split(1, 1)[0]
        if write == "add_":
            piece.add_(1)
        elif write == "copy_":
            piece.copy_(L.ones(piece.shape))
        elif write == "setitem":
            piece[0] = 5.
        else:
            piece.unsqueeze(0).mul_(2)

    with pytest.raises(RuntimeError) as torch_error:
        run(torch)
    with pytest.raises(RuntimeError) as engine_error:
        run(engine)
    assert str(engine_error.value) == str(torch_error.value)
    with engine.no_grad():
        x = engine.arange(6.)
        x.split(3)[1].add_(1)  # outside grad mode the write goes through
    assert x.tolist() == [0, 1, 2, 4, 5, 6]
