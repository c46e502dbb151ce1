"""Convolution, pooling, normalization and interpolation: the engine against torch.

Each case runs torch and the engine on the same data: forward values, dtype,
shape and strides; the gradients of every input that requires grad against a
random upstream gradient, with torch's grad_fn name; and (float64) the second
derivatives through create_graph=True. Also integer dtypes, non-contiguous
inputs, running statistics, argument errors and two threads.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine_helpers import assert_same, to_engine, to_torch

F = torch.nn.functional
EF = engine.nn.functional


def _engine_args(args):
    out = []
    for a in args:
        if isinstance(a, torch.Tensor):
            e = to_engine(a.detach())
            if a.requires_grad:
                e.requires_grad_(True)
            out.append(e)
        else:
            out.append(a)
    return out


def _d(x):
    if isinstance(x, (tuple, list)):
        return type(x)(_d(v) for v in x)
    return x.detach() if isinstance(x, (torch.Tensor, engine.Tensor)) else x


def same(e, t, **kwargs):
    assert_same(_d(e), _d(t), **kwargs)


def check(name, args, kwargs=None, *, grad=True, second=True, atol=None, rtol=None):
    """Run F.<name> and EF.<name>; compare outputs, then first and second order gradients."""
    kwargs = kwargs or {}
    e_args = _engine_args(args)
    t_out = getattr(F, name)(*args, **kwargs)
    e_out = getattr(EF, name)(*e_args, **kwargs)
    same(e_out, t_out, atol=atol, rtol=rtol)
    t_main = t_out[0] if isinstance(t_out, tuple) else t_out
    e_main = e_out[0] if isinstance(e_out, tuple) else e_out
    if not grad or not t_main.requires_grad:
        return e_out
    assert e_main.grad_fn.name() == t_main.grad_fn.name()
    t_in = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
    e_in = [a for a in e_args if isinstance(a, engine.Tensor) and a.requires_grad]
    upstream = torch.randn(t_main.shape, dtype=t_main.dtype)
    t_g = torch.autograd.grad(t_main, t_in, upstream, create_graph=second)
    e_g = engine.autograd.grad(e_main, e_in, to_engine(upstream), create_graph=second)
    for a, b in zip(e_g, t_g):
        same(a, b, check_stride=False, atol=atol, rtol=rtol)
    if second:
        # a gradient that does not depend on the inputs (a bias's) carries no graph in the engine
        pairs = [(a, b) for a, b in zip(t_g, e_g) if a.requires_grad and b.requires_grad]
        if pairs:
            vs = [torch.randn(a.shape, dtype=a.dtype) for a, _ in pairs]
            t_gg = torch.autograd.grad([a for a, _ in pairs], t_in, vs, allow_unused=True, materialize_grads=True)
            e_pairs = [b for _, b in pairs if b.requires_grad]
            assert len(e_pairs) == len(pairs)
            e_gg = engine.autograd.grad(e_pairs, e_in, [to_engine(v) for v in vs], allow_unused=True,
                                        materialize_grads=True)
            for a, b in zip(e_gg, t_gg):
                same(a, b, check_stride=False, atol=atol, rtol=rtol)
    return e_out


def rand(*shape, dtype=torch.float64, grad=True):
    t = torch.randn(*shape, dtype=dtype)
    return t.requires_grad_(grad and dtype.is_floating_point)


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)


# ---- convolution ----
CONV2D = [
    ((2, 4, 7, 9), (6, 4, 3, 3), {}),
    ((2, 4, 7, 9), (6, 2, 3, 2), dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)),
    ((2, 4, 7, 9), (6, 4, 1, 1), {}),
    ((2, 4, 7, 9), (4, 1, 3, 3), dict(groups=4, padding=(0, 2))),
    ((4, 7, 9), (6, 4, 3, 3), dict(padding="same")),
    ((2, 4, 8, 8), (6, 4, 4, 2), dict(padding="same", dilation=(1, 2))),
    ((2, 4, 7, 9), (6, 4, 3, 3), dict(padding="valid", stride=3)),
    ((1, 3, 5, 5), (2, 3, 5, 5), {}),
]


@pytest.mark.parametrize("x_shape, w_shape, kwargs", CONV2D)
@pytest.mark.parametrize("bias", [False, True])
def test_conv2d(x_shape, w_shape, kwargs, bias):
    args = [rand(*x_shape), rand(*w_shape), rand(w_shape[0]) if bias else None]
    check("conv2d", args, kwargs)


@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((2, 3, 10), (4, 3, 3), dict(padding=2, stride=2)),
    ((3, 10), (4, 3, 3), {}),
    ((2, 4, 10), (6, 2, 3), dict(groups=2, dilation=3, padding="same")),
])
def test_conv1d(x_shape, w_shape, kwargs):
    check("conv1d", [rand(*x_shape), rand(*w_shape), rand(w_shape[0])], kwargs)


@pytest.mark.parametrize("name, x_shape, w_shape, kwargs", [
    ("conv_transpose2d", (2, 4, 5, 6), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1, groups=2,
                                                           dilation=(2, 1))),
    ("conv_transpose2d", (4, 5, 6), (4, 3, 3, 3), {}),
    ("conv_transpose2d", (2, 4, 5, 6), (4, 3, 1, 1), dict(stride=(1, 2))),
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), dict(stride=3, padding=1, output_padding=2)),
    ("conv_transpose1d", (4, 5), (4, 3, 3), {}),
])
def test_conv_transpose(name, x_shape, w_shape, kwargs):
    bias = rand(w_shape[1] * kwargs.get("groups", 1))
    check(name, [rand(*x_shape), rand(*w_shape), bias], kwargs)


def test_conv_float32_int64_and_noncontiguous():
    x = torch.randn(2, 9, 4, 6).transpose(1, 3)  # (2, 6, 4, 9) non-contiguous
    w = torch.randn(5, 6, 3, 3)
    check("conv2d", [x, w, None], dict(padding=1), grad=False)
    xi = torch.randint(-5, 5, (2, 3, 6, 6))
    wi = torch.randint(-5, 5, (4, 3, 3, 3))
    check("conv2d", [xi, wi, torch.randint(-5, 5, (4,))], dict(stride=2), grad=False)
    check("conv_transpose2d", [xi, wi.transpose(0, 1).contiguous()], dict(stride=2), grad=False)


def test_conv_errors():
    x, w = engine.zeros(2, 3, 5, 5), engine.zeros(4, 3, 3, 3)
    with pytest.raises(RuntimeError, match="strided convolutions"):
        EF.conv2d(x, w, padding="same", stride=2)
    with pytest.raises(RuntimeError, match="channels"):
        EF.conv2d(x, engine.zeros(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        EF.conv2d(x, engine.zeros(4, 3, 6, 6))
    with pytest.raises(RuntimeError, match="Expected 3D"):
        EF.conv2d(engine.zeros(5, 5), w)


# ---- pooling ----
POOL = [
    ("max_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, dilation=(1, 2), ceil_mode=True)),
    ("max_pool2d", (3, 7, 9), dict(kernel_size=(2, 3), return_indices=True)),
    ("max_pool1d", (2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool1d", (3, 10), dict(kernel_size=2, return_indices=True)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=(3, 2), stride=(2, 1), padding=1, divisor_override=5)),
    ("avg_pool2d", (1, 1, 4, 4), dict(kernel_size=2, divisor_override=-2)),
    ("avg_pool1d", (2, 3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    ("adaptive_avg_pool2d", (2, 3, 7, 9), dict(output_size=(3, 4))),
    ("adaptive_avg_pool2d", (2, 3, 7, 9), dict(output_size=(None, 2))),
    ("adaptive_avg_pool2d", (2, 3, 7, 9), dict(output_size=1)),
    ("adaptive_avg_pool1d", (2, 3, 10), dict(output_size=4)),
    ("adaptive_max_pool2d", (2, 3, 7, 9), dict(output_size=(3, 4), return_indices=True)),
    ("adaptive_max_pool1d", (2, 3, 10), dict(output_size=4)),
]


@pytest.mark.parametrize("name, shape, kwargs", POOL)
def test_pooling(name, shape, kwargs):
    check(name, [rand(*shape)], kwargs)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.int32, torch.uint8, torch.int8])
def test_max_pool_dtypes_and_nan(dtype):
    x = (torch.randn(2, 3, 6, 7) * 20).to(dtype)
    check("max_pool2d", [x], dict(kernel_size=3, stride=2, padding=1, return_indices=True), grad=False)
    if dtype in (torch.float32, torch.int64):
        check("avg_pool2d", [x], dict(kernel_size=3, stride=2, padding=1), grad=False)
    if dtype.is_floating_point:
        x[0, 0, 1, 1] = float("nan")
        x[1, 2, 4, 4] = float("inf")
        check("max_pool2d", [x], dict(kernel_size=2, return_indices=True), grad=False)


def test_pool_errors():
    x = engine.zeros(1, 2, 5, 5)
    with pytest.raises(RuntimeError, match="pad should be"):
        EF.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="pad must be non-negative"):
        EF.avg_pool2d(x, 2, padding=-1)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        EF.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match="Input dimension should be at least 3"):
        EF.adaptive_avg_pool2d(engine.zeros(2, 2), (2, 2))
    with pytest.raises(RuntimeError, match="Output size is too small"):
        EF.max_pool2d(engine.zeros(1, 2, 1, 1), 3, stride=1)


# ---- normalization ----
def test_layer_norm():
    x = rand(3, 4, 5)
    check("layer_norm", [x, (4, 5), rand(4, 5), rand(4, 5)])
    check("layer_norm", [x, (3, 4, 5)], dict(eps=0.5))
    check("layer_norm", [rand(6, 7, dtype=torch.float32), (7,)], atol=1e-5, rtol=1e-5)
    with pytest.raises(RuntimeError, match="normalized_shape"):
        EF.layer_norm(engine.zeros(3, 4), (5,))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(4, 3, 5, 2), (5, 3), (2, 3, 6)])
def test_batch_norm(training, shape):
    c = shape[1]
    rm, rv = torch.randn(c, dtype=torch.float64), torch.rand(c, dtype=torch.float64) + 0.5
    erm, erv = to_engine(rm), to_engine(rv)
    x, w, b = rand(*shape), rand(c), rand(c)
    t = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.3, eps=1e-3)
    e = EF.batch_norm(*_engine_args([x]), erm, erv, *_engine_args([w, b]), training=training, momentum=0.3, eps=1e-3)
    same(e, t)
    assert_same(erm, rm)
    assert_same(erv, rv)
    check("batch_norm", [x, rm.clone(), rv.clone(), w, b], dict(training=training, momentum=0.3, eps=1e-3))


def test_batch_norm_edges():
    check("batch_norm", [rand(5, 3), None, None], dict(training=True))
    check("batch_norm", [rand(0), torch.zeros(0), torch.zeros(0)], dict(training=True), second=False)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        EF.batch_norm(engine.zeros(1, 3), None, None, training=True)


@pytest.mark.parametrize("shape, groups", [((2, 6, 5), 3), ((1, 6, 3), 2), ((5, 5, 5), 1), ((0, 2), 1),
                                           ((2, 4, 3, 3), 4)])
def test_group_norm(shape, groups):
    check("group_norm", [rand(*shape), groups, rand(shape[1]), rand(shape[1])], dict(eps=0.5))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        EF.group_norm(engine.zeros(2, 6, 3), 4)


def test_instance_norm_running_stats():
    rm, rv = torch.randn(6, dtype=torch.float64), torch.rand(6, dtype=torch.float64)
    erm, erv = to_engine(rm), to_engine(rv)
    x = rand(2, 6, 5)
    t = F.instance_norm(x, rm, rv, rand(6), rand(6))
    e = EF.instance_norm(to_engine(x.detach()), erm, erv, to_engine(torch.ones(6)), None)
    assert tuple(e.shape) == tuple(t.shape)
    assert_same(erm, rm)
    assert_same(erv, rv)
    check("instance_norm", [rand(2, 6, 5), None, None, rand(6), rand(6)])


# ---- interpolation ----
INTERP = [
    ((2, 3, 5), dict(size=8)), ((2, 3, 5), dict(scale_factor=1.7)), ((2, 3, 5, 4), dict(size=(7, 3))),
    ((2, 3, 5, 4), dict(scale_factor=(2, 2))), ((2, 3, 5, 4), dict(scale_factor=0.6)),
    ((1, 2, 3, 4, 5), dict(size=(4, 5, 6))), ((2, 3, 5, 4), dict(scale_factor=1.3, recompute_scale_factor=True)),
]
MODES = {"nearest": (3, 4, 5), "nearest-exact": (3, 4, 5), "linear": (3,), "bilinear": (4,), "trilinear": (5,),
         "bicubic": (4,),
         "area": (3, 4, 5)}


@pytest.mark.parametrize("shape, kwargs", INTERP)
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_interpolate(shape, kwargs, mode, dtype):
    if len(shape) not in MODES[mode]:
        pytest.skip("mode and rank do not go together")
    for align in ([None] if mode in ("nearest", "nearest-exact", "area") else [False, True]):
        check("interpolate", [rand(*shape, dtype=dtype)], dict(kwargs, mode=mode, align_corners=align),
              second=dtype is torch.float64)


def test_interpolate_uint8_nearest_and_errors():
    x = (torch.rand(2, 3, 5, 4) * 255).to(torch.uint8)
    check("interpolate", [x], dict(scale_factor=1.5), grad=False)
    check("interpolate", [x], dict(size=(3, 7), mode="nearest-exact"), grad=False)
    e = engine.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        EF.interpolate(e, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="align_corners option"):
        EF.interpolate(e, size=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="linear mode needs 3D"):
        EF.interpolate(e, size=2, mode="linear")


def test_two_threads_give_the_same_results():
    before = engine.get_num_threads()
    try:
        engine.set_num_threads(2)
        check("conv2d", [rand(4, 8, 12, 12), rand(8, 8, 3, 3), None], dict(padding=1), second=False)
        check("max_pool2d", [rand(4, 8, 12, 12)], dict(kernel_size=2), second=False)
        check("group_norm", [rand(4, 8, 12, 12), 2], second=False)
        check("interpolate", [rand(4, 8, 12, 12)], dict(scale_factor=2, mode="bilinear"), second=False)
    finally:
        engine.set_num_threads(before)


@pytest.mark.parametrize("name, args, kwargs", [
    ("conv2d", ((2, 3, 6, 6), (4, 3, 3, 3)), dict(padding=1)),
    ("max_pool2d", ((2, 3, 6, 6), 2), dict(return_indices=True)),
    ("avg_pool2d", ((2, 3, 6, 6), 3), dict(stride=2, padding=1)),
    ("adaptive_avg_pool2d", ((2, 3, 6, 6), (2, 3)), {}),
    ("batch_norm", ((2, 3, 6, 6), None, None), dict(training=True)),
    ("group_norm", ((2, 3, 6, 6), 3), {}),
    ("interpolate", ((2, 3, 6, 6),), dict(scale_factor=2, mode="bilinear")),
    ("layer_norm", ((2, 3, 6, 6), (6,)), {}),
])
def test_channels_last_inputs_keep_torch_output_format(name, args, kwargs):
    x = torch.randn(*args[0], dtype=torch.float64).to(memory_format=torch.channels_last).requires_grad_()
    rest = [torch.randn(*a, dtype=torch.float64) if isinstance(a, tuple) and name == "conv2d" else a for a in args[1:]]
    check(name, [x, *rest], kwargs, second=False)
