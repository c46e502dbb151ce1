"""The one comparator registry: how values of each dtype (and of a few ops) are compared.

- bool and integer dtypes: exactly.
- floating dtypes: `|actual - expected| <= atol + rtol * |expected|` with
  torch.testing's default tolerances, or the case's OpInfo override; NaN
  matches NaN (any payload), ±inf match only themselves; the ULP distance is
  recorded (max over the tensor).
- ops whose outputs are uninitialised memory (empty, empty_like, ...): metadata
  only — dtype, shape, strides are still compared by the runner.
- eigenvector and singular-vector ops (linalg.eigh, linalg.svd, svd): each vector
  is unique only up to its sign (LAPACK implementations pick different ones), so
  a matrix output also passes when flipping the signs of whole columns (or whole
  rows, for Vh) makes it close.

`comparator_for(op, dtype)` is the only lookup; add per-op entries to
OP_COMPARATORS, never a comparator elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ftorch_cli.cases.record import UNINITIALIZED_OUTPUT_OPS
from ftorch_cli.serialize.dtypes import DTYPES, comparable_array

# torch.testing._comparison: _DTYPE_PRECISIONS (rtol, atol) and exact for the rest.
DEFAULT_TOLERANCES: dict[str, tuple[float, float]] = {  # dtype -> (atol, rtol)
    "float16": (1e-5, 1e-3),
    "bfloat16": (1e-5, 1.6e-2),
    "float32": (1e-5, 1.3e-6),
    "float64": (1e-7, 1e-7),
    "complex64": (1e-5, 1.3e-6),
    "complex128": (1e-7, 1e-7),
}


@dataclass(frozen=True)
class Tolerance:
    atol: float
    rtol: float
    source: str  # "torch.testing default", "opinfo:<Test>.<test>", "exact"


def tolerance_for(dtype: str) -> Tolerance:
    """torch.testing's default tolerance for a dtype (exact for integers and bool)."""
    default = DEFAULT_TOLERANCES.get(dtype)
    if default is None:
        return Tolerance(0.0, 0.0, "exact")
    return Tolerance(default[0], default[1], "torch.testing default")


def tolerance_for_magnitude(tolerance: Tolerance, expected: np.ndarray, dtype: str) -> Tolerance:
    """`tolerance` made normwise: atol raised to rtol x the largest finite |expected|.

    For values that are sums in an unspecified order (gradients of broadcast inputs), rounding
    scales with the terms, so a small element of a large tensor may carry the error of its largest."""
    finite = np.abs(comparable_array(expected, dtype).astype(np.float64))
    finite = finite[np.isfinite(finite)]
    normwise = tolerance.rtol * float(finite.max()) if finite.size else 0.0
    if normwise <= tolerance.atol:
        return tolerance
    return Tolerance(normwise, tolerance.rtol, f"{tolerance.source}, normwise atol {normwise:.3g}")


@dataclass
class ValueDiff:
    """What a value comparison found, in torch.testing's terms."""

    mismatched: int
    total: int
    max_abs: float
    max_rel: float
    max_ulp: Optional[float]
    abs_index: tuple
    rel_index: tuple
    tolerance: Tolerance

    @property
    def ok(self) -> bool:
        return self.mismatched == 0

    def describe(self, what: str = "Tensor-likes") -> str:
        percent = 100.0 * self.mismatched / max(self.total, 1)
        lines = [
            f"{what} are not {'equal' if self.tolerance.source == 'exact' else 'close'}!",
            f"Mismatched elements: {self.mismatched} / {self.total} ({percent:.1f}%)",
            f"Greatest absolute difference: {self.max_abs:.6g} at index {self.abs_index} (up to {self.tolerance.atol:g} allowed)",
            f"Greatest relative difference: {self.max_rel:.6g} at index {self.rel_index} (up to {self.tolerance.rtol:g} allowed)",
        ]
        if self.max_ulp is not None:
            lines.append(f"Greatest ULP distance: {self.max_ulp:.6g}")
        return "\n".join(lines)


def _index(flat_index: int, shape: tuple) -> tuple:
    return tuple(int(i) for i in np.unravel_index(flat_index, shape)) if shape else ()


def _ordered_bits(values: np.ndarray) -> np.ndarray:
    """Float bit patterns mapped to integers that increase with the float (-0.0 and 0.0 both 0)."""
    integer = {2: np.int16, 4: np.int32, 8: np.int64}[values.dtype.itemsize]
    bits = np.ascontiguousarray(values).view(integer).astype(np.int64)
    low = np.iinfo(integer).min
    return np.where(bits < 0, low - bits, bits)


def ulp_distance(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Elementwise ULP distance of two same-dtype float arrays (0 for NaN vs NaN, inf for NaN vs number)."""
    ordered_actual, ordered_expected = _ordered_bits(actual), _ordered_bits(expected)
    with np.errstate(over="ignore"):
        same_sign = (ordered_actual >= 0) == (ordered_expected >= 0)
        exact = np.abs(ordered_actual - ordered_expected).astype(np.float64)
        across = np.abs(ordered_actual.astype(np.float64)) + np.abs(ordered_expected.astype(np.float64))
    distance = np.where(same_sign, exact, across)
    nan_actual, nan_expected = np.isnan(actual), np.isnan(expected)
    distance = np.where(nan_actual & nan_expected, 0.0, distance)
    return np.where(nan_actual ^ nan_expected, np.inf, distance)


class Comparator:
    name = "base"

    def compare(self, actual: np.ndarray, expected: np.ndarray, dtype: str, tolerance: Tolerance) -> ValueDiff:
        raise NotImplementedError


class ExactComparator(Comparator):
    name = "exact"

    def compare(self, actual, expected, dtype, tolerance) -> ValueDiff:
        equal = actual == expected
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
            magnitude = np.abs(expected.astype(np.float64))
            relative = np.where(difference == 0, 0.0, difference / magnitude)
        return _diff(equal, difference, relative, None, expected.shape, Tolerance(0.0, 0.0, "exact"))


class CloseComparator(Comparator):
    name = "close"

    def compare(self, actual, expected, dtype, tolerance) -> ValueDiff:
        if DTYPES[dtype].kind == "complex":  # real and imaginary parts separately; report the worse
            part = "float32" if dtype == "complex64" else "float64"
            diffs = [self.compare(np.ascontiguousarray(getter(actual)), np.ascontiguousarray(getter(expected)), part, tolerance)
                     for getter in (np.real, np.imag)]
            return max(diffs, key=lambda diff: (diff.mismatched, diff.max_abs))
        ulps = ulp_distance(actual, expected) if dtype != "bfloat16" else None
        a = comparable_array(actual, dtype).astype(np.float64)
        e = comparable_array(expected, dtype).astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            both_nan = np.isnan(a) & np.isnan(e)
            finite = np.isfinite(a) & np.isfinite(e)
            difference = np.where(finite, np.abs(a - e), np.where(both_nan | (a == e), 0.0, np.inf))
            close = both_nan | (a == e) | (finite & (difference <= tolerance.atol + tolerance.rtol * np.abs(e)))
            relative = np.where(difference == 0, 0.0, difference / np.abs(e))
        max_ulp = float(ulps.max()) if ulps is not None and ulps.size else (0.0 if ulps is not None else None)
        return _diff(close, difference, relative, max_ulp, expected.shape, tolerance)


class MetadataOnlyComparator(Comparator):
    """For outputs whose values torch leaves uninitialised."""

    name = "metadata_only"

    def compare(self, actual, expected, dtype, tolerance) -> ValueDiff:
        return ValueDiff(0, int(expected.size), 0.0, 0.0, None, (), (), Tolerance(0.0, 0.0, "metadata only"))


def _diff(ok_mask, difference, relative, max_ulp, shape, tolerance) -> ValueDiff:
    total = int(ok_mask.size)
    if total == 0:
        return ValueDiff(0, 0, 0.0, 0.0, max_ulp, (), (), tolerance)
    abs_at = int(np.argmax(difference))
    rel_at = int(np.argmax(relative))
    return ValueDiff(
        mismatched=int(total - np.count_nonzero(ok_mask)),
        total=total,
        max_abs=float(difference.flat[abs_at]),
        max_rel=float(relative.flat[rel_at]),
        max_ulp=max_ulp,
        abs_index=_index(abs_at, shape),
        rel_index=_index(rel_at, shape),
        tolerance=tolerance,
    )


class SignFreeVectorsComparator(CloseComparator):
    """Close, or close once each column (or each row) of the actual matrix takes the sign that best
    aligns it with the expected one: eigenvectors and singular vectors are defined up to sign."""

    name = "close_up_to_vector_signs"

    def compare(self, actual, expected, dtype, tolerance) -> ValueDiff:
        diff = super().compare(actual, expected, dtype, tolerance)
        if diff.ok or expected.ndim < 2 or DTYPES[dtype].kind != "float":
            return diff
        a = comparable_array(actual, dtype).astype(np.float64)
        e = comparable_array(expected, dtype).astype(np.float64)
        for axis in (-2, -1):  # vectors as columns (U, V, eigenvectors), then as rows (Vh)
            with np.errstate(invalid="ignore", over="ignore"):
                alignment = np.nansum(a * e, axis=axis, keepdims=True)
            signs = np.where(alignment < 0, -1.0, 1.0)
            flipped = (a * signs).astype(actual.dtype) if actual.dtype.kind == "f" else actual
            candidate = super().compare(flipped, expected, dtype, tolerance)
            if candidate.ok:
                return candidate
        return diff


EXACT, CLOSE, METADATA_ONLY = ExactComparator(), CloseComparator(), MetadataOnlyComparator()
SIGN_FREE_VECTORS = SignFreeVectorsComparator()

DTYPE_COMPARATORS: dict[str, Comparator] = {
    name: CLOSE if info.kind in ("float", "complex") else EXACT for name, info in DTYPES.items()
}

# Per-op entries: ops whose outputs hold uninitialised memory in torch.
OP_COMPARATORS: dict[str, Comparator] = {
    **{name: METADATA_ONLY for name in UNINITIALIZED_OUTPUT_OPS},
    **{name: SIGN_FREE_VECTORS for name in ("linalg.eigh", "linalg.svd", "svd")},
}


def comparator_for(op: str, dtype: str) -> Comparator:
    return OP_COMPARATORS.get(op) or DTYPE_COMPARATORS.get(dtype, EXACT)
