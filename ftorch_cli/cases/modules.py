"""FT-P2C-008 cases: torch.nn modules from torch's module_db
(torch/testing/_internal/common_modules.py), as `program` calls.

For every ModuleInfo whose class is a public torch.nn class, and every
ModuleInput its module_inputs_func gives (float32, cpu, requires_grad=True) in
training and in eval mode, torch builds the module with a fixed seed; its
state_dict, the constructor arguments and the forward inputs are the case's
inputs. The program `run_module` (source stored with the case, builtins only)
runs with `lib` = torch (recording) or the engine (conform): construct
`lib.nn.<Class>` with the same arguments, load_state_dict those exact tensors,
set the mode, seed the generator (dropout), run forward, backward of the sum of
the floating outputs, and return the outputs, the parameter gradients, the
input gradients and the state_dict after the forward (running statistics).
Conform skips (counts as not implemented) the cases of classes engine.nn lacks.
Nothing here states an outcome: every expectation comes from running torch.
"""
from __future__ import annotations

import inspect
import textwrap
from typing import Iterator

from ftorch_cli.cases.opinfo import stable_seed
from ftorch_cli.cases.program import Call
from ftorch_cli.cases.record import CaseSpec

SOURCE = "generated.modules"
TARGET = "run_module"
TOLERANCE = (1e-5, 1e-4, "module forward/backward, float32 accumulation order")
# Attention: batched matmuls, softmax and their backward sum in another order than torch's kernels
# (gradients of the projections differ by a few 1e-5 where terms cancel).
TOLERANCES = {"nn.MultiheadAttention": (1e-4, 1e-3, "attention: bmm/softmax backward accumulation order")}


def run_module(lib, name, ctor_args, ctor_kwargs, state, fwd_args, fwd_kwargs, training):
    cls = getattr(lib.nn, name)
    module = cls(*ctor_args, **ctor_kwargs)
    module.load_state_dict(state)
    module.train(training)
    lib.manual_seed(0)

    def leaves(value):
        if isinstance(value, (tuple, list)):
            return [leaf for item in value for leaf in leaves(item)]
        if isinstance(value, dict):
            return [leaf for item in value.values() for leaf in leaves(item)]
        return [value] if isinstance(value, lib.Tensor) else []

    output = module(*fwd_args, **fwd_kwargs)
    total = None
    for tensor in leaves(output):
        if tensor.requires_grad and tensor.is_floating_point():
            total = tensor.sum() if total is None else total + tensor.sum()
    if total is not None:
        total.backward()
    inputs = [t for t in leaves([fwd_args, fwd_kwargs]) if t.requires_grad]
    return {
        "output": output,
        "param_grads": [[n, p.grad] for n, p in module.named_parameters()],
        "input_grads": [t.grad for t in inputs],
        "state": [[k, v] for k, v in module.state_dict().items()],
    }


def _source(function) -> str:
    return textwrap.dedent(inspect.getsource(function))


def module_names(torch) -> list[str]:
    """The op names of the packet: nn.<Class> for every module_db class that torch.nn exports."""
    from torch.testing._internal.common_modules import module_db

    names = []
    for info in module_db:
        cls = info.module_cls
        if getattr(torch.nn, cls.__name__, None) is cls and f"nn.{cls.__name__}" not in names:
            names.append(f"nn.{cls.__name__}")
    return names


def _detached(torch, value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad)
    if isinstance(value, tuple):
        return tuple(_detached(torch, v) for v in value)
    if isinstance(value, list):
        return [_detached(torch, v) for v in value]
    if isinstance(value, dict):
        return {k: _detached(torch, v) for k, v in value.items()}
    return value


def module_specs(torch, names: set, seed: int) -> Iterator[CaseSpec]:
    from torch.testing._internal.common_modules import module_db

    source = _source(run_module)
    for info in module_db:
        cls = info.module_cls
        op = f"nn.{cls.__name__}"
        if op not in names or getattr(torch.nn, cls.__name__, None) is not cls:
            continue
        for training in (True, False):
            mode = "train" if training else "eval"
            torch.manual_seed(stable_seed(seed, op, mode))
            try:
                samples = info.module_inputs_func(info, device="cpu", dtype=torch.float32, requires_grad=True,
                                                  training=training)
            except Exception:  # a sample builder torch cannot run here
                continue
            for index, sample in enumerate(samples):
                if sample.forward_input is None:
                    continue
                ctor, fwd = sample.constructor_input, sample.forward_input
                torch.manual_seed(stable_seed(seed, op, f"{mode}:{index}"))
                try:
                    module = cls(*ctor.args, **ctor.kwargs)
                    state = {k: v.detach().clone() for k, v in module.state_dict().items()}
                except Exception:  # e.g. Lazy* modules: no state before their first forward
                    continue
                label = f"{info.name}:{mode}:{index}" + (f":{sample.desc}" if sample.desc else "")
                yield CaseSpec(op=op, dtype="float32", source=SOURCE, label=label,
                               call=Call("program", TARGET, source=source),
                               args=[cls.__name__, _detached(torch, tuple(ctor.args)), _detached(torch, dict(ctor.kwargs)),
                                     state, _detached(torch, tuple(fwd.args)), _detached(torch, dict(fwd.kwargs)),
                                     training],
                               tolerance=TOLERANCES.get(op, TOLERANCE),
                               stride_check="none")
