"""Derivative rules of the linear-algebra family added with LAPACK (engine/_ops/einsum.py,
engine/_ops/linalg_lapack.py) and of the random ops: torch's node names and formulas
(tools/autograd/derivatives.yaml)."""
from __future__ import annotations

from engine.autograd.derivatives import _arg, composite, rule

# CompositeImplicit in torch: differentiable through the ops they call
composite("einsum", "tensordot", "nn.functional.dropout")


@rule("trace", name="TraceBackward0", keep=lambda values: {"trace_shape": tuple(_arg(values, 0)._shape)})
def _trace(ctx, grad):
    import engine

    n, m = ctx._values["trace_shape"]
    return engine.eye(n, m, dtype=grad.dtype) * grad
