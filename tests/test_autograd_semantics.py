"""Autograd semantics against torch: each rule of torch's observable behaviour,
run side by side in torch and the engine with the same program."""
import numpy as np
import pytest
import torch

import engine


def both(fn):
    """Run fn(lib) for lib in (torch, engine); return (torch_result, engine_result)."""
    return fn(torch), fn(engine)


def values(x):
    if isinstance(x, (torch.Tensor, engine.Tensor)):
        return np.asarray(x.detach().numpy() if isinstance(x, torch.Tensor) else x.detach().numpy())
    return x


def assert_close(t, e):
    if t is None or e is None:
        assert t is None and e is None, f"{t!r} vs {e!r}"
        return
    np.testing.assert_allclose(values(e), values(t), rtol=1e-6, atol=1e-6)


def raises_same(fn):
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(expected.type) as got:
        fn(engine)
    return expected.value, got.value


def leaf(lib, data, requires_grad=True):
    return lib.tensor(data, dtype=lib.float64, requires_grad=requires_grad)


def test_leaf_and_non_leaf_flags():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        b = leaf(lib, [3.0, 4.0], requires_grad=False)
        c = a * b
        d = b * 2
        return (a.is_leaf, a.requires_grad, b.is_leaf, c.is_leaf, c.requires_grad, d.is_leaf, d.requires_grad,
                c.grad_fn.name(), d.grad_fn)

    t, e = both(program)
    assert t == e


def test_grad_fn_graph_shape_and_names():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        b = leaf(lib, [3.0, 4.0])
        y = (a * b + a).exp()
        names = [y.grad_fn.name()]
        add = y.grad_fn.next_functions[0][0]
        names.append(add.name())
        names.extend(n.name() if n is not None else None for n, _ in add.next_functions)
        mul = add.next_functions[0][0]
        names.extend(n.name() for n, _ in mul.next_functions)
        return names

    t, e = both(program)
    assert t == e


def test_grad_accumulates_across_backwards_and_diamonds():
    def program(lib):
        a = leaf(lib, [1.0, 2.0, 3.0])
        b = a * a          # a used twice: a diamond
        c = b * a + b
        c.backward(lib.ones(3, dtype=lib.float64))
        first = a.grad.clone()
        (a * 3).backward(lib.ones(3, dtype=lib.float64))
        return first, a.grad

    (t1, t2), (e1, e2) = both(program)
    assert_close(t1, e1)
    assert_close(t2, e2)


def test_non_scalar_output_needs_explicit_gradient():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        (a * 2).backward()

    expected, got = raises_same(program)
    assert str(got) == str(expected)


def test_backward_twice_needs_retain_graph():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        y = (a * a).exp()
        g = lib.ones(2, dtype=lib.float64)
        y.backward(g)
        y.backward(g)

    expected, got = raises_same(program)
    assert "second time" in str(got)

    def retained(lib):
        a = leaf(lib, [1.0, 2.0])
        y = (a * a).exp()
        g = lib.ones(2, dtype=lib.float64)
        y.backward(g, retain_graph=True)
        y.backward(g)
        return a.grad

    t, e = both(retained)
    assert_close(t, e)


def test_backward_on_tensor_without_grad_raises():
    def program(lib):
        lib.tensor([1.0]).backward()

    expected, got = raises_same(program)
    assert str(got) == str(expected)


def test_grad_modes():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        with lib.no_grad():
            b = a * 2
            with lib.enable_grad():
                c = a * 2
        with lib.set_grad_enabled(False):
            d = a * 2
        lib.set_grad_enabled(True)

        @lib.no_grad()
        def f(x):
            return x * 2

        with lib.inference_mode():
            e = a * 2
            inside = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
        return (b.requires_grad, c.requires_grad, d.requires_grad, f(a).requires_grad, e.requires_grad, inside,
                lib.is_grad_enabled())

    t, e = both(program)
    assert t == e


def test_modified_saved_tensor_raises_at_backward():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        b = a * 1
        c = b * b      # saves b
        b.add_(1)
        c.backward(lib.ones(2, dtype=lib.float64))

    expected, got = raises_same(program)
    assert "modified by an inplace operation" in str(got)


def test_inplace_on_leaf_requiring_grad_raises():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        a.mul_(2)

    expected, got = raises_same(program)
    assert str(got) == str(expected)


def test_inplace_on_non_leaf_rebases_graph():
    def program(lib):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * 2
        y.add_(1)
        y.mul_(y * 1)
        y.backward(lib.ones(3, dtype=lib.float64))
        return x.grad, y.grad_fn.name()

    (tg, tn), (eg, en) = both(program)
    assert_close(tg, eg)
    assert tn == en

    def self_as_other(lib):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * 2
        y.mul_(y)  # mul_ saves `other`, which is y itself and gets modified
        y.backward(lib.ones(3, dtype=lib.float64))

    expected, got = raises_same(self_as_other)
    assert "modified by an inplace operation" in str(got)


def test_inplace_through_view_of_non_leaf():
    def program(lib):
        x = leaf(lib, [[1.0, 2.0], [3.0, 4.0]])
        y = x * 1
        row = y[0]
        row.mul_(3)
        (y * y).backward(lib.ones(2, 2, dtype=lib.float64))
        return x.grad

    t, e = both(program)
    assert_close(t, e)


def test_autograd_grad_with_unused_and_create_graph():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        b = leaf(lib, [3.0, 4.0])
        y = (a * a * a)
        (ga,) = lib.autograd.grad(y, (a,), lib.ones(2, dtype=lib.float64), create_graph=True)
        (gga,) = lib.autograd.grad(ga, (a,), lib.ones(2, dtype=lib.float64))
        unused = lib.autograd.grad((a * 2), (a, b), lib.ones(2, dtype=lib.float64), allow_unused=True)
        return ga, gga, unused[1], a.grad

    t, e = both(program)
    for x, y in zip(t, e):
        assert_close(x, y)

    def strict_unused(lib):
        a = leaf(lib, [1.0, 2.0])
        b = leaf(lib, [3.0, 4.0])
        lib.autograd.grad((a * 2), (a, b), lib.ones(2, dtype=lib.float64))

    raises_same(strict_unused)


def test_backward_inputs_restricts_accumulation():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        b = leaf(lib, [3.0, 4.0])
        (a * b).backward(lib.ones(2, dtype=lib.float64), inputs=[a])
        return a.grad, b.grad

    t, e = both(program)
    assert_close(t[0], e[0])
    assert t[1] is None and e[1] is None


def test_hooks_order_and_retain_grad():
    def program(lib):
        calls = []
        a = leaf(lib, [1.0, 2.0])
        b = a * 2
        b.retain_grad()
        b.register_hook(lambda g: calls.append(("b", values(g).tolist())) or g * 10)
        a.register_hook(lambda g: calls.append(("a", values(g).tolist())))
        (b * b).backward(lib.ones(2, dtype=lib.float64))
        return calls, values(b.grad).tolist(), values(a.grad).tolist(), b.retains_grad

    t, e = both(program)
    assert t == e


def test_custom_function():
    def program(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale):
                ctx.save_for_backward(x)
                ctx.scale = scale
                return x * x * x * scale

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x * x * ctx.scale, None

        class ScaleInPlace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                return x.mul_(2)

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        class WithIndex(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = lib.tensor([0, 1])
                ctx.mark_non_differentiable(idx)
                return x * 1, idx

            @staticmethod
            def backward(ctx, grad, grad_idx):
                return grad

        a = leaf(lib, [1.0, 2.0])
        y = Cube.apply(a, 2.0)
        z = ScaleInPlace.apply(y * 1)
        w, idx = WithIndex.apply(z)
        w.backward(lib.ones(2, dtype=lib.float64))
        return a.grad, y.grad_fn.name(), idx.requires_grad, w.requires_grad

    t, e = both(program)
    assert_close(t[0], e[0])
    assert t[1:] == e[1:]


def test_requires_grad_only_for_floating_point():
    def program(lib):
        lib.tensor([1, 2]).requires_grad_()

    expected, got = raises_same(program)
    assert str(got) == str(expected)


def test_detach_shares_storage_and_leaves_graph():
    def program(lib):
        a = leaf(lib, [1.0, 2.0])
        b = (a * 2).detach()
        return b.requires_grad, b.grad_fn, b.is_leaf

    t, e = both(program)
    assert t == e


def test_tiny_graph_of_the_benchmark():
    def program(lib):
        a = leaf(lib, [float(i) for i in range(16)])
        b = leaf(lib, [float(i) / 3 for i in range(16)])
        c = leaf(lib, [1.0] * 16)
        y = (a * b + c).sum()
        y.backward()
        return a.grad, b.grad, c.grad, y.grad_fn.name()

    t, e = both(program)
    for x, y in zip(t[:3], e[:3]):
        assert_close(x, y)
    assert t[3] == e[3]
