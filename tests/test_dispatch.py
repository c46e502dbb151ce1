"""engine/_dispatch.py: key sets, thread-local sets and routing against torch (FT-P2C-002)."""
import pytest
import torch

import engine
from engine import _dispatch


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_key_sets_match_torch(dtype):
    def keys(lib):
        x = lib.ones(2, 3, dtype=getattr(lib, dtype))
        out = [str(lib._C._dispatch_keys(x)), str(lib._C._dispatch_keys(x.t()))]
        with lib.inference_mode():
            y = x.clone()
        out.append(str(lib._C._dispatch_keys(y)))
        out.append(str(lib._C._dispatch_keys(y.view(-1))))
        return out

    assert keys(engine) == keys(torch)


def test_tls_sets_match_torch():
    def sets(lib):
        C = lib._C
        out = [str(C._dispatch_tls_local_include_set()), str(C._dispatch_tls_local_exclude_set())]
        with lib.inference_mode():
            out += [str(C._dispatch_tls_local_include_set()), str(C._dispatch_tls_local_exclude_set())]
        return out

    assert sets(engine) == sets(torch)


def test_routing():
    x = engine.ones(2)
    assert _dispatch.route("aten::add.Tensor", x) == "AutogradCPU"
    assert _dispatch.route("aten::ones", ) == "BackendSelect"
    with engine.inference_mode():
        assert _dispatch.route("aten::view", x) == "ADInplaceOrView"
        assert _dispatch.route("aten::add.Tensor", x) == "CPU"
        y = x.clone()
    assert _dispatch.route("aten::add.Tensor", y) == "CPU"
    assert _dispatch.route_call("add", (x, x), {}) == "AutogradCPU"
    assert _dispatch.route_call("not_an_op", (x,), {}) == ""


def test_kernel_queries_match_torch():
    for name in ("aten::add.Tensor", "aten::matmul", "aten::view", "aten::add.out", "aten::ones"):
        for key in ("CPU", "CompositeImplicitAutograd", "BackendSelect", "ADInplaceOrView"):
            assert engine._C._dispatch_has_kernel_for_dispatch_key(name, key) == \
                torch._C._dispatch_has_kernel_for_dispatch_key(name, key), (name, key)
    assert str(_dispatch.DispatchKeySet(["AutogradCPU", "CPU"])) == "DispatchKeySet(CPU, AutogradCPU)"
    assert _dispatch.DispatchKeySet(["CPU", "AutocastCPU"]).highestPriorityTypeId() == _dispatch.DispatchKey.AutocastCPU
