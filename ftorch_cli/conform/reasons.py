"""The one registry of reason codes (code -> meaning) used in results tables.

Every result row carries one of these; `reason()` refuses an unknown code, so a
typo is a bug caught where it is made, not a silent new category.
"""
from __future__ import annotations

REASONS: dict[str, str] = {
    # pass
    "ok": "the engine showed torch's behaviour",
    # skip (count against coverage, never pass)
    "not_implemented": "the op is not in the engine's registry",
    "dtype_not_registered": "the engine's registry does not list this dtype for the op",
    "backward_not_registered": "a gradient case of an op the engine registers without backward (has_backward false)",
    # fail: the engine ran and differed
    "variant_missing": "the engine registers the op but has no callable for this variant (function, method, attribute)",
    "unsupported_input": "a recorded input could not be built in the engine (fails closed)",
    "malformed_case": "the recorded case could not be decoded (fails closed)",
    "structure_mismatch": "the output's structure (tensor, tuple, scalar, None) differs",
    "type_mismatch": "a non-tensor output has a different Python type or value",
    "dtype_mismatch": "an output tensor's dtype differs",
    "shape_mismatch": "an output tensor's shape differs",
    "stride_mismatch": "an output tensor's strides differ where torch defines them",
    "storage_offset_mismatch": "an output view's storage offset differs",
    "alias_mismatch": "an output shares (or does not share) the input's storage unlike torch",
    "value_mismatch": "output values differ beyond the comparator's tolerance",
    "input_mutation_mismatch": "an input holds different values after the call (writes through views, in-place ops)",
    "version_mismatch": "version-counter deltas differ (or the engine has no _version)",
    "requires_grad_mismatch": "an output tensor's requires_grad differs",
    "gradient_mismatch": "first-order gradients differ (None-ness, dtype, shape or values)",
    "second_order_mismatch": "second-order gradients (gradient of a function of the gradient) differ",
    "exception_type_mismatch": "both raised, with different exception types",
    "missing_exception": "torch raised, the engine returned",
    "unreadable_output": "an engine output could not be read back",
    # error: the engine raised or crashed where torch returned
    "engine_exception": "the engine raised where torch returned a value",
    "engine_crash": "the engine raised a non-Exception BaseException (SystemExit, RecursionError, ...)",
    # separate checks of autograd cases (own columns in results.arrow)
    "grad_fn_mismatch": "the grad_fn names of the outputs differ",
    "gradcheck_mismatch": "finite differences disagree with the engine's gradient (gradcheck's tolerances)",
    "gradcheck_not_applicable": "no finite-difference check here: torch itself fails it (non-smooth point) or values are not finite",
    # hardened mode
    "allowlisted": "a deviation the packet's allowlist names for this mode",
    # live oracle
    "oracle_drift": "the live torch result differs from the recording",
    "oracle_error": "the live torch worker failed on this case",
}

OUTCOMES = ("pass", "fail", "error", "skip", "allowlisted")


def reason(code: str) -> str:
    """Return `code` after checking it is registered."""
    if code not in REASONS:
        raise KeyError(f"unregistered reason code {code!r}; add it to ftorch_cli.conform.reasons.REASONS")
    return code
