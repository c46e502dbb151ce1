"""torch.nn.functional activations, losses and friends against torch: values,
gradients and grad_fn names (engine/_ops/activation.py, loss.py, nn_misc.py)."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import engine
import engine.nn.functional as EF

RNG = np.random.default_rng(1234)


def _pair(array, grad=True):
    return torch.tensor(array, requires_grad=grad), engine.tensor(array).requires_grad_(grad)


def _compare(name, targs, eargs, kwargs=None, atol=1e-5):
    kwargs = kwargs or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = getattr(TF, name)(*targs, **kwargs)
        ye = getattr(EF, name)(*eargs, **kwargs)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert ye.dtype.__repr__().split(".")[-1] == str(yt.dtype).split(".")[-1]
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=1e-5)
    tg = [a for a in targs if isinstance(a, torch.Tensor) and a.requires_grad]
    eg = [a for a in eargs if isinstance(a, engine.Tensor) and a.requires_grad]
    if tg:
        assert ye.grad_fn.name() == yt.grad_fn.name()
        g = torch.randn_like(yt)
        gt = torch.autograd.grad(yt, tg, g)
        ge = engine.autograd.grad(ye, eg, engine.tensor(g.numpy()))
        for a, b in zip(ge, gt):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=atol, rtol=1e-5)


ACTIVATIONS = [
    ("leaky_relu", (0.2,)), ("elu", (1.5,)), ("selu", ()), ("celu", (0.7,)), ("silu", ()), ("mish", ()),
    ("hardtanh", (-0.5, 2.0)), ("relu6", ()), ("hardswish", ()), ("hardsigmoid", ()), ("softplus", (2.0, 3.0)),
    ("softshrink", (0.6,)), ("hardshrink", (0.6,)), ("logsigmoid", ()), ("threshold", (0.3, -2.0)),
    ("softsign", ()), ("tanhshrink", ()), ("glu", ()), ("rrelu", ()),
]


@pytest.mark.parametrize("name,args", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_matches_torch(name, args, dtype):
    x = (RNG.standard_normal((4, 6)) * 4).astype(dtype)
    xt, xe = _pair(x)
    _compare(name, [xt, *args], [xe, *args])


@pytest.mark.parametrize("name,args", [a for a in ACTIVATIONS if a[0] not in ("softsign", "tanhshrink", "glu")],
                         ids=[a[0] for a in ACTIVATIONS if a[0] not in ("softsign", "tanhshrink", "glu")])
def test_activation_keeps_layout_of_transposed_input(name, args):
    x = RNG.standard_normal((5, 3)).astype(np.float32)
    yt = getattr(TF, name)(torch.tensor(x).t(), *args)
    ye = getattr(EF, name)(engine.tensor(x).t(), *args)
    assert ye.stride() == yt.stride()
    np.testing.assert_allclose(ye.numpy(), yt.numpy(), atol=1e-6)


@pytest.mark.parametrize("name,args", [("elu", (1.0,)), ("leaky_relu", (0.1,)), ("hardtanh", ()), ("threshold", (0.1, -1.0)), ("threshold", (0.1, 5.0)),
                                       ("silu", ()), ("selu", ()), ("celu", (1.0,)), ("relu6", ()), ("hardswish", ())])
def test_inplace_forms(name, args):
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    xt, xe = _pair(x)
    yt = getattr(TF, name)(xt * 1, *args, inplace=True)
    ye = getattr(EF, name)(xe * 1, *args, inplace=True)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=1e-6)
    g = torch.randn_like(yt)
    gt, = torch.autograd.grad(yt, xt, g)
    ge, = engine.autograd.grad(ye, xe, engine.tensor(g.numpy()))
    np.testing.assert_allclose(ge.numpy(), gt.numpy(), atol=1e-5)
    t = engine.tensor(x.copy())
    assert getattr(EF, name)(t, *args, inplace=True) is t


def test_prelu_matches_torch():
    xt, xe = _pair(RNG.standard_normal((2, 3, 4)).astype(np.float32))
    wt, we = _pair(np.array([0.1, 0.2, 0.3], dtype=np.float32))
    _compare("prelu", [xt, wt], [xe, we])


def test_integer_inputs_raise_like_torch():
    with pytest.raises(NotImplementedError, match="elu_cpu"):
        EF.elu(engine.tensor([1, 2]))
    assert EF.relu6(engine.tensor([-3, 4, 9])).tolist() == [0, 4, 6]


X = RNG.standard_normal((3, 5)).astype(np.float32)
T = RNG.standard_normal((3, 5)).astype(np.float32)
P = RNG.uniform(0.05, 0.95, (3, 5)).astype(np.float32)
TB = RNG.uniform(0, 1, (3, 5)).astype(np.float32)
TI = np.array([0, 4, 2])
W = RNG.uniform(0.5, 2, (5,)).astype(np.float32)
X4 = RNG.standard_normal((2, 5, 3, 2)).astype(np.float32)
TI4 = RNG.integers(0, 5, (2, 3, 2))
TI4[0, 0, 0] = -100

LOSSES = [
    ("mse_loss", (X, T), {}), ("l1_loss", (X, T), {}), ("smooth_l1_loss", (X, T), {"beta": 0.5}),
    ("huber_loss", (X, T), {"delta": 0.7}), ("soft_margin_loss", (X, np.sign(T)), {}),
    ("binary_cross_entropy", (P, TB), {}), ("binary_cross_entropy", (P, TB), {"weight": TB}),
    ("binary_cross_entropy_with_logits", (X, TB), {}), ("binary_cross_entropy_with_logits", (X, TB), {"pos_weight": W}),
    ("nll_loss", (X, TI), {}), ("nll_loss", (X, TI), {"weight": W}), ("nll_loss", (X4, TI4), {"weight": W}),
    ("cross_entropy", (X, TI), {}), ("cross_entropy", (X, TI), {"label_smoothing": 0.2, "weight": W}),
    ("cross_entropy", (X4, TI4), {"label_smoothing": 0.2}), ("cross_entropy", (X, TB), {"label_smoothing": 0.1}),
    ("kl_div", (X, TB), {}), ("kl_div", (X, T), {"log_target": True}), ("poisson_nll_loss", (X, TB), {}),
    ("poisson_nll_loss", (P, TB * 3), {"log_input": False, "full": True}),
    ("hinge_embedding_loss", (X, np.sign(T)), {}),
    ("multilabel_soft_margin_loss", (X, (TB > 0.5).astype(np.float32)), {"weight": W}),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name,args,kwargs", LOSSES, ids=[f"{c[0]}-{i}" for i, c in enumerate(LOSSES)])
def test_loss_matches_torch(name, args, kwargs, reduction):
    targs = [torch.tensor(a, requires_grad=(i == 0)) for i, a in enumerate(args)]
    eargs = [engine.tensor(a).requires_grad_(i == 0) for i, a in enumerate(args)]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    ekw = {k: engine.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = getattr(TF, name)(*targs, reduction=reduction, **tkw)
        ye = getattr(EF, name)(*eargs, reduction=reduction, **ekw)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert ye.grad_fn.name() == yt.grad_fn.name()
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=1e-5, rtol=1e-5)
    g = torch.randn_like(yt)
    gt, = torch.autograd.grad(yt, targs[0], g)
    ge, = engine.autograd.grad(ye, eargs[0], engine.tensor(g.numpy()))
    np.testing.assert_allclose(ge.numpy(), gt.numpy(), atol=1e-5, rtol=1e-5)


def test_nll_loss_target_out_of_bounds():
    with pytest.raises(IndexError, match="Target 7 is out of bounds."):
        EF.nll_loss(engine.tensor(X), engine.tensor([0, 7, 1]))


def test_binary_cross_entropy_clamps_log():
    x = np.array([0.0, 1.0, 0.5], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.5], dtype=np.float32)
    _compare("binary_cross_entropy", [torch.tensor(x), torch.tensor(t)], [engine.tensor(x), engine.tensor(t)])


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear(shape, with_bias):
    xt, xe = _pair(RNG.standard_normal(shape).astype(np.float32))
    wt, we = _pair(RNG.standard_normal((5, 4)).astype(np.float32))
    bt, be = _pair(RNG.standard_normal((5,)).astype(np.float32))
    _compare("linear", [xt, wt] + ([bt] if with_bias else []), [xe, we] + ([be] if with_bias else []))


def test_bilinear_and_misc():
    x1 = _pair(RNG.standard_normal((3, 4)).astype(np.float32))
    x2 = _pair(RNG.standard_normal((3, 6)).astype(np.float32))
    w = _pair(RNG.standard_normal((5, 4, 6)).astype(np.float32))
    b = _pair(RNG.standard_normal((5,)).astype(np.float32))
    _compare("bilinear", [x1[0], x2[0], w[0], b[0]], [x1[1], x2[1], w[1], b[1]], atol=1e-4)
    x = _pair(RNG.standard_normal((3, 4)).astype(np.float32))
    y = _pair(RNG.standard_normal((3, 4)).astype(np.float32))
    _compare("softmin", [x[0], 1], [x[1], 1])
    _compare("normalize", [x[0]], [x[1]])
    _compare("cosine_similarity", [x[0], y[0]], [x[1], y[1]])
    _compare("pairwise_distance", [x[0], y[0]], [x[1], y[1]])


def test_one_hot():
    i = np.array([[0, 2], [4, 1]])
    assert EF.one_hot(engine.tensor(i)).tolist() == TF.one_hot(torch.tensor(i)).tolist()
    assert EF.one_hot(engine.tensor(i), 6).tolist() == TF.one_hot(torch.tensor(i), 6).tolist()
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        EF.one_hot(engine.tensor(i), 3)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding(padding_idx):
    i = np.array([[0, 2], [4, 2]])
    wt, we = _pair(RNG.standard_normal((5, 3)).astype(np.float32))
    _compare("embedding", [torch.tensor(i), wt], [engine.tensor(i), we], {"padding_idx": padding_idx})


def test_embedding_max_norm_renormalises_rows():
    w = (RNG.standard_normal((5, 3)) * 3).astype(np.float32)
    i = np.array([0, 2, 2])
    wt, we = torch.tensor(w), engine.tensor(w)
    yt = TF.embedding(torch.tensor(i), wt, max_norm=1.0)
    ye = EF.embedding(engine.tensor(i), we, max_norm=1.0)
    np.testing.assert_allclose(ye.numpy(), yt.numpy(), atol=1e-6)
    np.testing.assert_allclose(we.numpy(), wt.numpy(), atol=1e-6)


PADS = [((2, 5), (1, 2)), ((1, 2, 5), (2, 1)), ((1, 2, 3, 4), (1, 1, 2, 0)), ((1, 1, 3, 3, 4), (1, 0, 1, 1, 2, 1)),
        ((5, 3, 4, 4), (-2, 3, 0, 0)), ((4, 2, 5, 5), (-2, -1, 4, 2))]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", PADS, ids=[str(p[1]) for p in PADS])
def test_pad_matches_torch(mode, shape, pad):
    a = RNG.standard_normal(shape)
    xt, xe = _pair(a)
    try:
        TF.pad(xt, pad, mode=mode)
    except (RuntimeError, NotImplementedError) as error:
        with pytest.raises(type(error)):
            EF.pad(xe, pad, mode=mode)
        return
    _compare("pad", [xt, pad], [xe, pad], {"mode": mode})


@pytest.mark.parametrize("p", [2, 1, 0, 0.5, 3, float("inf")])
def test_pdist_matches_torch(p):
    a = RNG.standard_normal((5, 3))
    a[4] = a[0]  # a zero distance
    xt, xe = _pair(a)
    _compare("pdist", [xt, p], [xe, p])


@pytest.mark.parametrize("name,args", [("elu", (1.0,)), ("silu", ()), ("softplus", (1.0, 20.0)), ("hardswish", ())])
def test_activation_on_large_and_strided_inputs(name, args):
    # above the kernel's threading grain, and a non-dense view (copied first)
    x = RNG.standard_normal((300, 400)).astype(np.float32)
    _compare(name, [torch.tensor(x), *args], [engine.tensor(x), *args])
    t, e = torch.tensor(x)[:, ::2], engine.tensor(x)[:, ::2]
    np.testing.assert_allclose(getattr(EF, name)(e, *args).numpy(), getattr(TF, name)(t, *args).numpy(), atol=1e-6)
    e_copy, t_copy = engine.tensor(x), torch.tensor(x)
    if name in ("elu", "silu", "hardswish"):
        getattr(EF, name)(e_copy[:, ::2], *args, inplace=True)
        getattr(TF, name)(t_copy[:, ::2], *args, inplace=True)
        np.testing.assert_allclose(e_copy.numpy(), t_copy.numpy(), atol=1e-6)
