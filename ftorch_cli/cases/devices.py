"""FT-P2C-007 cases: the meta device, device and dtype transitions, execution modes.

- `generated.meta`: OpInfo samples of every op the packet covers (with
  `include_engine_registry`, every op the engine registers), run by a program that
  moves each tensor argument to device='meta' (`.to('meta')`, keeping its strides)
  and calls the op; the observation is every output tensor's metadata (device,
  dtype, shape, strides, storage offset, is a view) or the exception torch raises;
- `generated.devices`: `.to(...)` in all its spellings, `.cpu()`, `.type()`, dtype
  conversions, `copy_` across dtypes, meta factories and methods, mixing meta and CPU
  tensors, and the deterministic-algorithms switches, each as a small program.
Every expected value comes from running torch.
"""
from __future__ import annotations

import itertools
from typing import Iterator

from ftorch_cli.cases.autograd_programs import program_source
from ftorch_cli.cases.opinfo import stable_seed
from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec

META_SOURCE = "generated.meta"
DEVICE_SOURCE = "generated.devices"


def meta_call(lib, variant, target, args, kwargs):
    def to_meta(value):
        if isinstance(value, lib.Tensor):
            return value.detach().to("meta")
        if type(value) in (list, tuple):
            return type(value)(to_meta(item) for item in value)
        return value

    def describe(value):
        if isinstance(value, lib.Tensor):
            return ("tensor", str(value.device), str(value.dtype), tuple(value.shape), tuple(value.stride()),
                    value.storage_offset(), value._base is not None)
        if isinstance(value, (list, tuple)):
            return [describe(item) for item in value]
        return value

    args = [to_meta(value) for value in args]
    kwargs = {key: to_meta(value) for key, value in kwargs.items()}
    if variant == "function":
        function = lib
        for part in target.split("."):
            function = getattr(function, part)
        out = function(*args, **kwargs)
    elif variant == "method":
        out = getattr(args[0], target)(*args[1:], **kwargs)
    else:
        out = getattr(args[0], target)
    return describe(out)


def device_program(lib, scenario, x):
    def meta_facts(t):
        return (str(t.device), str(t.dtype), tuple(t.shape), tuple(t.stride()), t.storage_offset(), t.is_meta)

    if scenario == "to_dtype":
        return x.to(lib.float64)
    if scenario == "to_same_dtype_is_self":
        return x.to(x.dtype) is x
    if scenario == "to_copy_is_new":
        y = x.to(x.dtype, copy=True)
        return y is x, y
    if scenario == "to_cpu_string":
        return x.to("cpu") is x
    if scenario == "to_device_object":
        return x.to(lib.device("cpu")) is x, str(x.device), repr(x.device)
    if scenario == "to_other":
        return x.to(lib.zeros(1, dtype=lib.int32))
    if scenario == "to_device_and_dtype":
        return x.to("cpu", lib.int64)
    if scenario == "to_keywords":
        return x.to(device="cpu", dtype=lib.float64, non_blocking=True, copy=False)
    if scenario == "to_transposed_keeps_layout":
        y = x.t().to(lib.float64)
        return y, y.stride()
    if scenario == "cpu_is_self":
        return x.cpu() is x
    if scenario == "type_names":
        return [x.type(), x.double().type(), x.long().type(), x.int().type(), x.short().type(), x.char().type(),
                x.byte().type(), x.bool().type()]
    if scenario == "type_convert":
        return x.type(lib.float64), x.type("torch.IntTensor"), x.type(x.type()) is x
    if scenario == "type_bad_name":
        return x.type("torch.NotATensor")
    if scenario == "copy_across_dtypes":
        y = lib.zeros(x.shape, dtype=lib.int32)
        y.copy_(x * 3.7)
        z = lib.zeros(x.shape, dtype=lib.float64)
        z.copy_(y)
        return y, z
    if scenario == "copy_broadcast":
        y = lib.zeros(4, 2, 3, dtype=lib.float64)
        return y.copy_(x)
    if scenario == "copy_bad_shape":
        y = lib.zeros(3, 2)
        return y.copy_(x)
    if scenario == "meta_factories":
        return [meta_facts(lib.empty(2, 3, device="meta")), meta_facts(lib.zeros(4, dtype=lib.int64, device="meta")),
                meta_facts(lib.ones((2, 5), device=lib.device("meta"))), meta_facts(lib.empty_strided((2, 3), (1, 2), device="meta")),
                meta_facts(lib.full((3,), 1.5, device="meta")), meta_facts(lib.empty(10 ** 6, 10 ** 6, device="meta"))]
    if scenario == "to_meta_layout":
        return [meta_facts(x.to("meta")), meta_facts(x.t().to("meta")), meta_facts(x[:, 1:].to("meta")),
                meta_facts(x.to("meta", lib.float64)), meta_facts(x.to(lib.empty(1, device="meta")))]
    if scenario == "meta_to_meta_is_self":
        m = x.to("meta")
        return m.to("meta") is m, m.to(m.dtype) is m
    if scenario == "meta_properties":
        m = x.to("meta")
        return str(m.device), repr(m.device), m.is_meta, m.is_cpu, m.type(), m.data_ptr(), repr(m), repr(m.double())
    if scenario == "meta_views":
        m = x.to("meta")
        return [meta_facts(m.t()), meta_facts(m[1]), meta_facts(m[:, 1:]), meta_facts(m.view(-1)), m.view(-1)._base is m]
    if scenario == "meta_inplace":
        m = x.to("meta")
        return m.zero_() is m, m.fill_(2) is m, m.mul_(3) is m, meta_facts(m)
    if scenario == "meta_copy_from_cpu":
        m = x.to("meta")
        return m.copy_(x) is m
    if scenario == "meta_to_cpu":
        return x.to("meta").to("cpu")
    if scenario == "meta_cpu":
        return x.to("meta").cpu()
    if scenario == "meta_item":
        return x.to("meta").item()
    if scenario == "meta_item_one":
        return x[0, 0].to("meta").item()
    if scenario == "meta_tolist":
        return x.to("meta").tolist()
    if scenario == "meta_numpy":
        return x.to("meta").numpy()
    if scenario == "cpu_copy_from_meta":
        return x.clone().copy_(x.to("meta"))
    if scenario == "mix_meta_first":
        return x.to("meta") + x
    if scenario == "mix_cpu_first":
        return x + x.to("meta")
    if scenario == "mix_meta_and_cpu_scalar_tensor":
        return meta_facts(lib.add(x.to("meta"), lib.tensor(1.0)))
    if scenario == "deterministic_switches":
        before = (lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled())
        try:
            lib.use_deterministic_algorithms(True)
            on = (lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled(),
                  lib.get_deterministic_debug_mode())
            lib.use_deterministic_algorithms(True, warn_only=True)
            warn = (lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled(),
                    lib.get_deterministic_debug_mode())
            lib.set_deterministic_debug_mode("error")
            error = (lib.are_deterministic_algorithms_enabled(), lib.is_deterministic_algorithms_warn_only_enabled())
            lib.set_deterministic_debug_mode(0)
            off = (lib.are_deterministic_algorithms_enabled(), lib.get_deterministic_debug_mode())
        finally:
            lib.use_deterministic_algorithms(before[0], warn_only=before[1])
        return before, on, warn, error, off
    if scenario == "deterministic_bad_mode":
        return lib.use_deterministic_algorithms("yes")
    if scenario == "deterministic_bad_debug_mode":
        return lib.set_deterministic_debug_mode("sometimes")
    if scenario == "deterministic_results_unchanged":
        before = lib.are_deterministic_algorithms_enabled()
        try:
            lib.use_deterministic_algorithms(True)
            return (x * 2).sum(0), lib.mm(x, x.t())
        finally:
            lib.use_deterministic_algorithms(before)
    raise ValueError(scenario)


SCENARIOS = (
    "to_dtype", "to_same_dtype_is_self", "to_copy_is_new", "to_cpu_string", "to_device_object", "to_other",
    "to_device_and_dtype", "to_keywords", "to_transposed_keeps_layout", "cpu_is_self", "type_names", "type_convert",
    "type_bad_name", "copy_across_dtypes", "copy_broadcast", "copy_bad_shape", "meta_factories", "to_meta_layout",
    "meta_to_meta_is_self", "meta_properties", "meta_views", "meta_inplace", "meta_copy_from_cpu", "meta_to_cpu",
    "meta_cpu", "meta_item", "meta_item_one", "meta_tolist", "meta_numpy", "cpu_copy_from_meta", "mix_meta_first",
    "mix_cpu_first", "mix_meta_and_cpu_scalar_tensor", "deterministic_switches", "deterministic_bad_mode",
    "deterministic_bad_debug_mode", "deterministic_results_unchanged",
)
META_SAMPLES = 3


def device_specs(torch, db, dtypes: list, seed: int, scenarios: bool = True) -> Iterator[CaseSpec]:
    """The scenario programs (op "devices", when `scenarios`) and the meta cases of the ops `db` selects."""
    source = program_source(device_program)
    for dtype_name in dtypes if scenarios else ():
        dtype = getattr(torch, dtype_name)
        if dtype_name not in ("float32", "float64", "int64"):
            continue
        for scenario in SCENARIOS:
            torch.manual_seed(stable_seed(seed, "devices", scenario, dtype_name))
            x = torch.randn(2, 3).mul(3).to(dtype)
            yield CaseSpec(op="devices", dtype=dtype_name, source=DEVICE_SOURCE, label=scenario,
                           call=Call("program", "device_program", source=source), args=[scenario, x], stride_check="none")
    meta_source = program_source(meta_call)
    for op, call in db.selected(torch):
        for dtype_name in dtypes:
            dtype = getattr(torch, dtype_name)
            if dtype not in op.supported_dtypes("cpu"):
                continue
            count = META_SAMPLES if dtype_name == "float32" else 1
            torch.manual_seed(stable_seed(seed, "meta", op.name, op.variant_test_name, dtype_name))
            try:
                samples = list(itertools.islice(op.sample_inputs("cpu", dtype, requires_grad=False), count))
            except Exception:  # noqa: BLE001 - an OpInfo that cannot make samples has no meta cases
                continue
            for index, sample in enumerate(samples):
                args = [sample.input, *sample.args]
                if call.variant == "function":
                    variant, target = "function", call.target
                elif call.variant == "method":
                    variant, target = "method", call.target
                else:
                    variant, target = "attribute", call.target
                label = f"meta:{op.variant_test_name + ':' if op.variant_test_name else ''}sample:{index}"
                yield CaseSpec(op=op.name, dtype=dtype_name, source=META_SOURCE, label=label, variant_name=op.variant_test_name,
                               call=Call("program", "meta_call", source=meta_source),
                               args=[variant, target, args, dict(sample.kwargs)], stride_check="none")
