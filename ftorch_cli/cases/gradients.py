"""The gradient step of a case (FT-P2C-004): what `call.grad` asks after the call.

    "grad": {"outputs": [0], "upstream": "ones" | "given", "order": 1 | 2, "args": [tensors]}

- `outputs`: which tensor leaves of the call's output are differentiated (torch's
  differentiable outputs, chosen at extraction);
- the differentiated inputs are every tensor leaf of the arguments that requires
  grad, in argument order (recorded inputs keep their `requires_grad`);
- `upstream`: "ones" is the gradient of the sum of the outputs; "given" takes one
  upstream gradient per output from `args` (seeded random tensors, recorded);
- order 2 (OpInfo's gradgrad): the first gradients are taken with
  create_graph=True, then differentiated again against one vector per input
  (the rest of `args`), i.e. the gradient of sum(v_i * grad_i) — gradgradcheck's
  vector-Jacobian product. Second-order gradients that do not exist (None) are
  zeros, as gradgradcheck treats them.

The same code runs on torch (extraction, live oracle) and on the engine
(conformance) through `lib.autograd.grad`, `lib.ones_like` and `lib.zeros_like`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class GradientObservation:
    gradients: list  # first-order gradient per differentiated input (None: not reached)
    second_order: Optional[list]  # order 2 only: gradient of sum(v_i * gradient_i) per input
    grad_fn: list  # grad_fn.name() of each differentiated output (None: no grad_fn)


def node_name(tensor) -> Optional[str]:
    grad_fn = getattr(tensor, "grad_fn", None)
    return None if grad_fn is None else grad_fn.name()


def check_spec(grad: Any) -> None:
    """Raise ValueError for a malformed `call.grad`."""
    if not isinstance(grad, dict) or grad.get("upstream") not in ("ones", "given") or grad.get("order", 1) not in (1, 2):
        raise ValueError(f"malformed gradient step {grad!r}")
    outputs = grad.get("outputs")
    if not isinstance(outputs, list) or not outputs or not all(isinstance(i, int) and i >= 0 for i in outputs):
        raise ValueError(f"gradient step: malformed outputs {outputs!r}")


def split_vectors(grad: dict, vectors: list) -> tuple[Optional[list], list]:
    """`args` -> (upstream gradients or None for "ones", second-order vectors)."""
    if grad["upstream"] == "ones":
        return None, list(vectors)
    count = len(grad["outputs"])
    return list(vectors[:count]), list(vectors[count:])


def selected_outputs(grad: dict, output_leaves: list) -> list:
    picked = grad["outputs"]
    if max(picked) >= len(output_leaves):
        raise RuntimeError(f"the call returned {len(output_leaves)} tensor(s); the case differentiates output #{max(picked)}")
    return [output_leaves[i] for i in picked]


def run_gradients(lib, grad: dict, output_leaves: list, inputs: list, vectors: list) -> GradientObservation:
    """Differentiate; raises whatever `lib` raises (the caller records it at stage "grad")."""
    outputs = selected_outputs(grad, output_leaves)
    names = [node_name(output) for output in outputs]
    upstream, second_vectors = split_vectors(grad, vectors)
    if upstream is None:
        upstream = [lib.ones_like(output) for output in outputs]
    order = grad.get("order", 1)
    first = lib.autograd.grad(outputs, inputs, grad_outputs=upstream, allow_unused=True, create_graph=order == 2)
    second = None
    if order == 2:
        second = _second_order(lib, first, inputs, second_vectors)
    return GradientObservation([_plain(lib, g) for g in first], second, names)


def _plain(lib, gradient):
    """A detached gradient with real memory: torch returns a lazy ZeroTensor for gradients that are
    structurally zero (sgn, abs'), whose storage holds no zeros to record."""
    if gradient is None:
        return None
    gradient = gradient.detach()
    is_zero_tensor = getattr(gradient, "_is_zerotensor", None)
    return lib.zeros_like(gradient) if is_zero_tensor is not None and is_zero_tensor() else gradient


def _second_order(lib, first, inputs: list, vectors: list) -> list:
    if len(vectors) != len(inputs):
        raise RuntimeError(f"second-order step: {len(vectors)} vectors for {len(inputs)} inputs")
    # Only first gradients that are still part of a graph can be differentiated again.
    pairs = [(g, v) for g, v in zip(first, vectors) if g is not None and g.requires_grad]
    found = [None] * len(inputs)
    if pairs:
        found = list(lib.autograd.grad([g for g, _ in pairs], inputs, grad_outputs=[v for _, v in pairs], allow_unused=True))
    return [lib.zeros_like(t) if g is None else _plain(lib, g) for g, t in zip(found, inputs)]
