"""engine.nn layers and engine.nn.init against torch: same seed -> same initial state_dict (names,
shapes, values), same repr, same forward outputs and parameter/input gradients in train and eval
mode. Layers whose functional ops (or the RNG) are not in this build are skipped."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import engine
import engine.nn as enn

F = engine.nn.functional
HAS_RNG = hasattr(engine.Tensor, "uniform_") and hasattr(engine.Tensor, "normal_") and hasattr(engine, "manual_seed")
needs_rng = pytest.mark.skipif(not HAS_RNG, reason="engine RNG (manual_seed, uniform_, normal_) not in this build")


def _needs(*names):
    missing = [n for n in names if not hasattr(F, n)]
    return pytest.mark.skipif(bool(missing) or not HAS_RNG, reason=f"missing {missing or 'RNG'}")


def to_engine(t):
    if isinstance(t, (tuple, list)):
        return type(t)(to_engine(x) for x in t)
    if not isinstance(t, torch.Tensor):
        return t
    e = engine.tensor(t.detach().numpy().copy())
    if t.requires_grad:
        e.requires_grad_(True)
    return e


def npy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach().tolist())


def flat(out):
    if isinstance(out, (tuple, list)):
        return [y for x in out for y in flat(x)]
    return [] if out is None else [out]


# (class name, args, kwargs, input shapes or a builder, needed functional ops)
LAYERS = [
    ("Identity", (3,), {"x": 1}, [(2, 3)], ()),
    ("Linear", (5, 3), {}, [(4, 5)], ("linear",)),
    ("Linear", (5, 3), {"bias": False}, [(2, 4, 5)], ("linear",)),
    ("Bilinear", (3, 4, 2), {}, [(5, 3), (5, 4)], ("bilinear",)),
    ("Flatten", (), {}, [(2, 3, 4)], ()),
    ("Flatten", (0, 1), {}, [(2, 3, 4)], ()),
    ("Unflatten", (1, (2, 2)), {}, [(3, 4)], ()),
    ("Conv1d", (4, 6, 3), {"stride": 2, "padding": 1, "groups": 2}, [(2, 4, 9)], ("conv1d",)),
    ("Conv1d", (3, 2, 3), {"padding": "same", "dilation": 2}, [(2, 3, 8)], ("conv1d",)),
    ("Conv2d", (3, 4, 3), {"padding": 1}, [(2, 3, 6, 5)], ("conv2d",)),
    ("Conv2d", (3, 4, (2, 3)), {"stride": (2, 1), "bias": False}, [(2, 3, 6, 5)], ("conv2d",)),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}, [(1, 2, 5, 5)], ("conv2d", "pad")),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "circular"}, [(1, 2, 5, 5)], ("conv2d", "pad")),
    ("ConvTranspose1d", (3, 2, 3), {"stride": 2}, [(2, 3, 4)], ("conv_transpose1d",)),
    ("ConvTranspose2d", (4, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
     [(2, 4, 3, 3)], ("conv_transpose2d",)),
    ("MaxPool1d", (3,), {"stride": 2}, [(2, 3, 9)], ("max_pool1d",)),
    ("MaxPool2d", (2,), {}, [(2, 3, 6, 6)], ("max_pool2d",)),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}, [(1, 2, 7, 7)], ("max_pool2d",)),
    ("AvgPool1d", (2,), {}, [(2, 3, 8)], ("avg_pool1d",)),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}, [(2, 2, 7, 6)], ("avg_pool2d",)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, [(2, 3, 7, 8)], ("adaptive_avg_pool2d",)),
    ("AdaptiveAvgPool1d", (3,), {}, [(2, 3, 7)], ("adaptive_avg_pool1d",)),
    ("BatchNorm1d", (4,), {}, [(6, 4)], ("batch_norm",)),
    ("BatchNorm1d", (3,), {"momentum": None}, [(4, 3, 5)], ("batch_norm",)),
    ("BatchNorm2d", (3,), {"affine": False}, [(2, 3, 4, 4)], ("batch_norm",)),
    ("BatchNorm2d", (3,), {"track_running_stats": False}, [(2, 3, 4, 4)], ("batch_norm",)),
    ("BatchNorm3d", (2,), {"momentum": 0.3}, [(2, 2, 3, 2, 2)], ("batch_norm",)),
    ("InstanceNorm3d", (2,), {"affine": True}, [(2, 2, 3, 2, 2)], ("instance_norm",)),
    ("LayerNorm", ((4,),), {}, [(3, 4)], ("layer_norm",)),
    ("LayerNorm", ((3, 4),), {"elementwise_affine": False}, [(2, 3, 4)], ("layer_norm",)),
    ("LayerNorm", (4,), {"bias": False}, [(2, 4)], ("layer_norm",)),
    ("GroupNorm", (2, 4), {}, [(3, 4, 5)], ("group_norm",)),
    ("Embedding", (10, 3), {}, "embedding", ("embedding",)),
    ("Embedding", (10, 3), {"padding_idx": -1}, "embedding", ("embedding",)),
    ("ReLU", (), {}, [(3, 4)], ("relu",)),
    ("GELU", (), {"approximate": "tanh"}, [(3, 4)], ("gelu",)),
    ("SiLU", (), {}, [(3, 4)], ("silu",)),
    ("Mish", (), {}, [(3, 4)], ("mish",)),
    ("Tanh", (), {}, [(3, 4)], ()),
    ("Sigmoid", (), {}, [(3, 4)], ()),
    ("Softmax", (), {"dim": 1}, [(3, 4)], ("softmax",)),
    ("LogSoftmax", (), {"dim": -1}, [(3, 4)], ("log_softmax",)),
    ("Softmin", (), {"dim": 0}, [(3, 4)], ("softmin",)),
    ("LeakyReLU", (0.2,), {}, [(3, 4)], ("leaky_relu",)),
    ("ELU", (), {"alpha": 0.5}, [(3, 4)], ("elu",)),
    ("CELU", (), {}, [(3, 4)], ("celu",)),
    ("SELU", (), {}, [(3, 4)], ("selu",)),
    ("Hardtanh", (-0.5, 0.5), {}, [(3, 4)], ("hardtanh",)),
    ("ReLU6", (), {}, [(3, 4)], ("hardtanh",)),
    ("Softplus", (), {"beta": 2.0}, [(3, 4)], ("softplus",)),
    ("Hardswish", (), {}, [(3, 4)], ("hardswish",)),
    ("Hardsigmoid", (), {}, [(3, 4)], ("hardsigmoid",)),
    ("LogSigmoid", (), {}, [(3, 4)], ("logsigmoid",)),
    ("Softsign", (), {}, [(3, 4)], ("softsign",)),
    ("Tanhshrink", (), {}, [(3, 4)], ("tanhshrink",)),
    ("Softshrink", (), {}, [(3, 4)], ("softshrink",)),
    ("Hardshrink", (0.3,), {}, [(3, 4)], ("hardshrink",)),
    ("GLU", (), {}, [(3, 4)], ("glu",)),
    ("PReLU", (3,), {}, [(2, 3, 4)], ("prelu",)),
    ("Threshold", (0.1, 20.0), {}, [(3, 4)], ("threshold",)),
    ("RNN", (4, 3), {}, [(5, 2, 4)], ("linear",)),
    ("RNN", (4, 3, 2), {"nonlinearity": "relu", "batch_first": True}, [(2, 5, 4)], ("linear",)),
    ("RNN", (4, 3), {}, [(5, 4)], ("linear",)),
    ("LSTM", (4, 3), {}, [(5, 2, 4)], ("linear",)),
    ("LSTM", (4, 3, 2), {"bidirectional": True, "batch_first": True}, [(2, 5, 4)], ("linear",)),
    ("LSTM", (4, 5), {"proj_size": 2}, [(3, 2, 4)], ("linear",)),
    ("LSTM", (4, 3), {"bias": False}, [(3, 4)], ("linear",)),
    ("GRU", (4, 3), {}, [(5, 2, 4)], ("linear",)),
    ("GRU", (4, 3, 3), {"bidirectional": True}, [(5, 2, 4)], ("linear",)),
    ("RNNCell", (4, 3), {"nonlinearity": "relu"}, [(2, 4), (2, 3)], ("linear",)),
    ("LSTMCell", (4, 3), {}, [(4,)], ("linear",)),
    ("GRUCell", (4, 3), {"bias": False}, [(2, 4)], ("linear",)),
    ("InstanceNorm1d", (3,), {}, [(2, 3, 5)], ("instance_norm",)),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}, [(2, 3, 4, 4)], ("instance_norm",)),
    ("InstanceNorm2d", (3,), {}, [(3, 4, 4)], ("instance_norm",)),
    ("ZeroPad2d", ((1, 0, 2, 1),), {}, [(1, 2, 3, 3)], ("pad",)),
    ("ConstantPad1d", (2, 3.5), {}, [(2, 3, 4)], ("pad",)),
    ("ReflectionPad2d", (1,), {}, [(1, 2, 3, 3)], ("pad",)),
    ("ReplicationPad1d", ((2, 1),), {}, [(2, 3, 4)], ("pad",)),
    ("CircularPad2d", (1,), {}, [(1, 2, 3, 3)], ("pad",)),
    ("RMSNorm", ((3, 4),), {}, [(2, 3, 4)], ()),
    ("RMSNorm", (4,), {"eps": 1e-3, "elementwise_affine": False}, [(2, 4)], ()),
    ("LPPool1d", (2, 3), {"stride": 2}, [(2, 3, 8)], ("avg_pool1d",)),
    ("LPPool2d", (1.5, (2, 3)), {}, [(1, 2, 4, 6)], ("avg_pool2d",)),
    ("LocalResponseNorm", (3,), {}, [(2, 5, 4)], ("avg_pool2d", "pad")),
    ("LocalResponseNorm", (2,), {"alpha": 0.1, "k": 2.0}, [(2, 5, 3, 4)], ("avg_pool2d", "pad")),
    ("MultiheadAttention", (6, 2), {}, [(4, 2, 6), (5, 2, 6), (5, 2, 6)], ("linear", "softmax")),
    ("MultiheadAttention", (6, 3), {"batch_first": True, "kdim": 4, "vdim": 5, "add_zero_attn": True},
     [(2, 4, 6), (2, 3, 4), (2, 3, 5)], ("linear", "softmax")),
    ("MultiheadAttention", (4, 2), {"add_bias_kv": True, "bias": False}, [(3, 4), (5, 4), (5, 4)],
     ("linear", "softmax", "pad")),
    ("TransformerEncoderLayer", (8, 2, 16), {"dropout": 0.0}, [(5, 2, 8)], ("linear", "softmax", "layer_norm")),
    ("TransformerEncoderLayer", (8, 4, 16), {"dropout": 0.0, "norm_first": True, "activation": "gelu",
                                             "batch_first": True}, [(2, 5, 8)], ("linear", "softmax", "layer_norm")),
    ("TransformerDecoderLayer", (8, 2, 16), {"dropout": 0.0}, [(4, 2, 8), (5, 2, 8)],
     ("linear", "softmax", "layer_norm")),
    ("Transformer", (8, 2, 2, 1, 16), {"dropout": 0.0}, [(5, 2, 8), (4, 2, 8)], ("linear", "softmax", "layer_norm")),
]


def _id(case):
    name, args, kwargs = case[:3]
    return f"{name}-{args}-{sorted(kwargs.items())}"


def _inputs(name, shapes):
    if shapes == "embedding":
        return [torch.tensor([[1, 2, 9], [0, 9, 3]])]
    return [torch.randn(s, dtype=torch.float64).float().requires_grad_(True) for s in shapes]


@pytest.mark.parametrize("case", LAYERS, ids=[_id(c) for c in LAYERS])
def test_layer_matches_torch(case):
    name, args, kwargs, shapes, needs = case
    missing = [n for n in needs if not hasattr(F, n)]
    if missing or not HAS_RNG:
        pytest.skip(f"missing {missing or 'RNG'}")
    torch.manual_seed(7)
    tmod = getattr(torch.nn, name)(*args, **kwargs)
    engine.manual_seed(7)
    emod = getattr(enn, name)(*args, **kwargs)
    assert repr(emod) == repr(tmod)
    tsd, esd = tmod.state_dict(), emod.state_dict()
    assert list(esd) == list(tsd)
    for key in tsd:
        assert tuple(esd[key].shape) == tuple(tsd[key].shape), key
        np.testing.assert_array_equal(npy(esd[key]), tsd[key].numpy(), err_msg=key)
    assert [n for n, _ in emod.named_parameters()] == [n for n, _ in tmod.named_parameters()]
    for mode in ("train", "eval"):
        getattr(tmod, mode)()
        getattr(emod, mode)()
        torch.manual_seed(3)
        tin = _inputs(name, shapes)
        ein = to_engine(tin)
        tout, eout = tmod(*tin), emod(*ein)
        touts, eouts = flat(tout), flat(eout)
        assert len(touts) == len(eouts)
        for a, b in zip(touts, eouts):
            assert tuple(b.shape) == tuple(a.shape)
            np.testing.assert_allclose(npy(b), a.detach().numpy(), rtol=1e-5, atol=1e-5)
        tsum = sum(t.sum() for t in touts if t.requires_grad)
        if not isinstance(tsum, torch.Tensor):
            continue
        tmod.zero_grad()
        emod.zero_grad()
        tsum.backward()
        esum = None
        for t in eouts:
            if t.requires_grad:
                esum = t.sum() if esum is None else esum + t.sum()
        esum.backward()
        for (n, tp), (_, ep) in zip(tmod.named_parameters(), emod.named_parameters()):
            if tp.grad is None:
                assert ep.grad is None, n
            else:
                np.testing.assert_allclose(npy(ep.grad), tp.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=n)
        for a, b in zip(tin, ein):
            if a.requires_grad:
                np.testing.assert_allclose(npy(b.grad), a.grad.numpy(), rtol=1e-4, atol=1e-5)
        for key, value in tmod.state_dict().items():  # running stats after the forward
            np.testing.assert_allclose(npy(emod.state_dict()[key]), value.numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=key)


@_needs("batch_norm")
def test_batchnorm_load_and_eval():
    torch.manual_seed(0)
    t = torch.nn.BatchNorm2d(3, momentum=None)
    for _ in range(3):
        t(torch.randn(4, 3, 2, 2))
    e = enn.BatchNorm2d(3, momentum=None)
    e.load_state_dict({k: to_engine(v) for k, v in t.state_dict().items()})
    assert int(e.num_batches_tracked) == 3
    x = torch.randn(2, 3, 2, 2)
    e(to_engine(x))
    t(x)
    np.testing.assert_allclose(npy(e.running_var), t.running_var.numpy(), rtol=1e-6)
    t.eval(); e.eval()
    np.testing.assert_allclose(npy(e(to_engine(x))), t(x).detach().numpy(), rtol=1e-5, atol=1e-6)
    old = {k: v for k, v in t.state_dict().items() if k != "num_batches_tracked"}  # plain dict: no version
    e2 = enn.BatchNorm2d(3)
    e2.load_state_dict({k: to_engine(v) for k, v in old.items()})
    assert int(e2.num_batches_tracked) == 0


def test_constructor_errors():
    cases = [
        (lambda nn: nn.Conv2d(3, 4, 3, groups=2), ValueError),
        (lambda nn: nn.Conv2d(4, 4, 3, groups=0), ValueError),
        (lambda nn: nn.Conv2d(4, 4, 3, padding="full"), ValueError),
        (lambda nn: nn.Conv2d(4, 4, 3, stride=2, padding="same"), ValueError),
        (lambda nn: nn.Conv2d(4, 4, 3, padding_mode="mirror"), ValueError),
        (lambda nn: nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"), ValueError),
        (lambda nn: nn.GroupNorm(3, 4), ValueError),
        (lambda nn: nn.Dropout(1.5), ValueError),
        (lambda nn: nn.Hardtanh(1.0, -1.0), AssertionError),
        (lambda nn: nn.LSTM(3, 0), ValueError),
        (lambda nn: nn.LSTM(3, 4, 0), ValueError),
        (lambda nn: nn.LSTM(3, 4, proj_size=4), ValueError),
        (lambda nn: nn.GRU(3, 4, proj_size=2), ValueError),
        (lambda nn: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError),
        (lambda nn: nn.LSTM(3, 4, dropout=2.0), ValueError),
        (lambda nn: nn.Embedding(5, 2, padding_idx=5), AssertionError),
        (lambda nn: nn.Unflatten(1, [2, 2.0]), TypeError),
    ]
    for build, exc in cases:
        with pytest.raises(exc) as texc:
            build(torch.nn)
        try:
            build(enn)
        except exc as err:  # (sets in a message may print in another order)
            assert str(err).split("{")[0] == str(texc.value).split("{")[0]
        except AttributeError:
            if HAS_RNG:
                raise
        else:
            raise AssertionError(f"engine did not raise {exc.__name__}: {texc.value}")


@_needs("batch_norm")
def test_forward_errors():
    t, e = torch.nn.BatchNorm2d(3), enn.BatchNorm2d(3)
    with pytest.raises(ValueError) as te:
        t(torch.randn(2, 3))
    with pytest.raises(ValueError) as ee:
        e(engine.randn(2, 3))
    assert str(ee.value) == str(te.value)
    t, e = torch.nn.LSTM(3, 4), enn.LSTM(3, 4)
    for shape in [(2, 2, 2), (1, 2, 3, 3)]:
        with pytest.raises(Exception) as te:
            t(torch.randn(shape))
        with pytest.raises(Exception) as ee:
            e(engine.randn(shape))
        assert type(ee.value) is type(te.value) and str(ee.value) == str(te.value)


@_needs("dropout")
def test_dropout_train_eval_same_mask():
    x = torch.randn(4, 5)
    t, e = torch.nn.Dropout(0.3), enn.Dropout(0.3)
    torch.manual_seed(1)
    engine.manual_seed(1)
    np.testing.assert_allclose(npy(e(to_engine(x))), t(x).numpy(), rtol=1e-6)
    t.eval(); e.eval()
    np.testing.assert_array_equal(npy(e(to_engine(x))), x.numpy())
    assert repr(e) == repr(t)


@_needs("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss", "binary_cross_entropy",
        "binary_cross_entropy_with_logits", "kl_div")
@pytest.mark.parametrize("name,kwargs,kind", [
    ("MSELoss", {}, "reg"), ("MSELoss", {"reduction": "sum"}, "reg"), ("L1Loss", {"reduction": "none"}, "reg"),
    ("SmoothL1Loss", {"beta": 0.5}, "reg"), ("HuberLoss", {"delta": 0.7}, "reg"),
    ("CrossEntropyLoss", {}, "class"), ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 1}, "class"),
    ("CrossEntropyLoss", {"weight": "w"}, "class"), ("NLLLoss", {}, "logp"), ("NLLLoss", {"weight": "w"}, "logp"),
    ("BCELoss", {}, "prob"), ("BCEWithLogitsLoss", {"pos_weight": "w"}, "bin"), ("KLDivLoss", {"reduction": "batchmean"}, "kl"),
    ("MSELoss", {"size_average": False}, "reg"),
])
def test_losses(name, kwargs, kind):
    torch.manual_seed(0)
    x = torch.randn(4, 3, requires_grad=True)
    targets = {"reg": torch.randn(4, 3), "class": torch.tensor([0, 2, 1, 1]), "logp": torch.tensor([0, 2, 1, 1]),
               "prob": torch.rand(4, 3), "bin": torch.rand(4, 3), "kl": torch.softmax(torch.randn(4, 3), 1)}
    y = targets[kind]
    kwargs = {k: (torch.rand(3) + 0.5 if v == "w" else v) for k, v in kwargs.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = getattr(torch.nn, name)(**kwargs)
        e = getattr(enn, name)(**{k: to_engine(v) for k, v in kwargs.items()})
    assert list(e.state_dict()) == list(t.state_dict())
    assert e.reduction == t.reduction
    inp = {"logp": lambda v: torch.log_softmax(v, 1), "prob": torch.sigmoid, "kl": lambda v: torch.log_softmax(v, 1)}
    f = inp.get(kind, lambda v: v)
    xe = to_engine(x)
    fe = {"logp": lambda v: F.log_softmax(v, 1), "prob": engine.sigmoid,
          "kl": lambda v: F.log_softmax(v, 1)}.get(kind, lambda v: v)
    tout, eout = t(f(x), y), e(fe(xe), to_engine(y))
    np.testing.assert_allclose(npy(eout), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    tout.sum().backward()
    eout.sum().backward()
    np.testing.assert_allclose(npy(xe.grad), x.grad.numpy(), rtol=1e-4, atol=1e-6)


@needs_rng
@pytest.mark.parametrize("name,args,kwargs", [
    ("uniform_", (-2.0, 3.0), {}), ("normal_", (1.0, 0.5), {}), ("constant_", (0.3,), {}), ("ones_", (), {}),
    ("zeros_", (), {}), ("eye_", (), {}), ("xavier_uniform_", (), {"gain": 2.0}), ("xavier_normal_", (), {}),
    ("kaiming_uniform_", (), {"a": math.sqrt(5)}), ("kaiming_normal_", (), {"mode": "fan_out", "nonlinearity": "relu"}),
    ("trunc_normal_", (), {"std": 0.5}), ("trunc_normal_", (), {"mean": 1.0, "a": 2.0, "b": 2.5}),
    ("orthogonal_", (), {"gain": 1.5}),
])
@pytest.mark.parametrize("shape", [(5, 3), (3, 7), (4, 2, 3)])
def test_init_matches_torch(name, args, kwargs, shape):
    if name == "eye_" and len(shape) != 2:
        shape = shape[:2]
    torch.manual_seed(11)
    t = getattr(torch.nn.init, name)(torch.empty(shape), *args, **kwargs)
    engine.manual_seed(11)
    e = getattr(enn.init, name)(engine.empty(shape), *args, **kwargs)
    tol = 1e-5 if name in ("orthogonal_", "trunc_normal_") else 0
    np.testing.assert_allclose(npy(e), t.numpy(), rtol=tol, atol=tol)


def test_init_helpers_and_errors():
    init, tinit = enn.init, torch.nn.init
    for nl, p in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                  ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]:
        assert init.calculate_gain(nl, p) == tinit.calculate_gain(nl, p)
    for bad in [("leaky_relu", "x"), ("softmax", None)]:
        with pytest.raises(ValueError) as te:
            tinit.calculate_gain(*bad)
        with pytest.raises(ValueError) as ee:
            init.calculate_gain(*bad)
        assert str(ee.value) == str(te.value)
    for shape in [(3, 4), (3, 4, 2, 5), (6, 1, 7)]:
        assert init._calculate_fan_in_and_fan_out(engine.empty(shape)) == \
            tinit._calculate_fan_in_and_fan_out(torch.empty(shape))
    for fn, arg in [("_calculate_fan_in_and_fan_out", (3,)), ("eye_", (2, 2, 2)), ("orthogonal_", (3,))]:
        with pytest.raises(ValueError) as te:
            getattr(tinit, fn)(torch.empty(arg))
        with pytest.raises(ValueError) as ee:
            getattr(init, fn)(engine.empty(arg))
        assert str(ee.value) == str(te.value)
    with pytest.raises(ValueError) as te:
        tinit.kaiming_uniform_(torch.empty(2, 3), mode="fan_avg")
    with pytest.raises(ValueError) as ee:
        init.kaiming_uniform_(engine.empty(2, 3), mode="fan_avg")
    assert str(ee.value) == str(te.value)
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(engine.empty(0, 3))


@_needs("linear", "relu", "cross_entropy")
def test_sequential_model_trains_like_torch():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    engine.manual_seed(0)
    em = enn.Sequential(enn.Linear(4, 8), enn.ReLU(), enn.Linear(8, 3))
    assert repr(em) == repr(tm)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    xe, ye = to_engine(x), to_engine(y)
    for _ in range(5):
        tl = torch.nn.functional.cross_entropy(tm(x), y)
        el = F.cross_entropy(em(xe), ye)
        np.testing.assert_allclose(float(el), float(tl), rtol=1e-5)
        tm.zero_grad(); em.zero_grad()
        tl.backward(); el.backward()
        with torch.no_grad():
            for p in tm.parameters():
                p -= 0.1 * p.grad
        with engine.no_grad():
            for p in em.parameters():
                p -= 0.1 * p.grad


@_needs("linear", "cross_entropy")
@pytest.mark.parametrize("kwargs,shape,target", [
    ({}, (4, 5), "index"), ({"bias": True, "label_smoothing": 0.1}, (4, 5), "index"),
    ({"out_features": (2,), "ignore_index": 1}, (3, 5), "index_k"), ({"reduction": "sum"}, (5,), "scalar"),
    ({}, (4, 5), "probs"),
])
def test_linear_cross_entropy_loss(kwargs, shape, target):
    torch.manual_seed(5)
    t = torch.nn.LinearCrossEntropyLoss(5, 3, **kwargs)
    e = enn.LinearCrossEntropyLoss(5, 3, **kwargs)
    e.load_state_dict({k: to_engine(v) for k, v in t.state_dict().items()})
    assert repr(e) == repr(t)
    x = torch.randn(shape, requires_grad=True)
    y = {"index": torch.tensor([0, 2, 1, 1]), "index_k": torch.tensor([[0, 1], [2, 2], [1, 0]]),
         "scalar": torch.tensor(2), "probs": torch.softmax(torch.randn(4, 3), 1)}[target]
    xe = to_engine(x)
    tl, el = t(x, y), e(xe, to_engine(y))
    np.testing.assert_allclose(npy(el), tl.detach().numpy(), rtol=1e-5, atol=1e-6)
    tl.backward()
    el.backward()
    np.testing.assert_allclose(npy(xe.grad), x.grad.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(npy(e.linear.weight.grad), t.linear.weight.grad.numpy(), rtol=1e-4, atol=1e-6)
