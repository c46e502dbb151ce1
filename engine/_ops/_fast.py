"""Fast paths for elementwise ops on small tensors: the per-call work between a
Python call and its kernel, cut to a few attribute reads.

Each op's public function (and Tensor method, and operator dunder) is built here
around the op's full implementation (`slow`: argument checks, type promotion,
broadcasting, out=, autograd recording). The fast path takes only the call
shape where everything those steps would decide is already known:

- operands are exactly `Tensor`s of one dtype the op computes in directly
  (`kinds` maps that dtype to the result dtype and the kernel's dtype codes);
- their shapes are equal, or one operand is a single element broadcast to the
  other's shape without adding dims;
- each operand is contiguous or an expanded single element (`Tensor._flat_step`),
  so the kernel walks flat memory, and the output torch would allocate is
  contiguous (always so when both operands are contiguous with one shape);
- no out=. When an operand requires grad (and grad mode is on), the op's recorder
  (`__record__` of its autograd wrapper, engine/autograd/recording.py) attaches
  the node to the result, as the slow path would after computing it.

Anything else, and any status a kernel returns, goes to `slow`, which also
raises every error; results are identical either way (tests/test_engine_fast_paths.py
compares the two paths).
"""
from __future__ import annotations

from functools import lru_cache

from engine import _dtype as dt
from engine._kernel import lib
from engine._shape import contiguous_strides, elementwise_output_strides, numel
from engine._tensor import SHAPE_FACTS, Tensor, new_contiguous, shape_facts
from engine.autograd.grad_mode import STATE

_binary_contig = lib.ft_binary_contig
_shape_facts = SHAPE_FACTS.get
_unary_contig = lib.ft_unary_contig


def binary_kinds(rule: str, dtypes) -> dict:
    """dtype -> (result dtype, result code, compute code, result itemsize) for operands of that dtype.
    rule: "promote" (computes and returns the operands' dtype), "float" (the same for floating
    dtypes only; integers would compute in the default dtype), "compare" (returns bool)."""
    kinds = {}
    for d in dt.ALL_DTYPES:
        if d.name not in dtypes or (rule == "float" and not d.is_floating_point):
            continue
        result = dt.bool if rule == "compare" else d
        kinds[d] = (result, result.code, d.code, result.itemsize)
    return kinds


def unary_kinds(rule: str, dtypes, exclude=()) -> dict:
    """The same for unary ops: "float" (floating inputs only), "same", "predicate" (returns bool)."""
    kinds = {}
    for d in dt.ALL_DTYPES:
        if d.name not in dtypes or d in exclude or (rule == "float" and not d.is_floating_point):
            continue
        result = dt.bool if rule == "predicate" else d
        kinds[d] = (result, result.code, d.code, result.itemsize)
    return kinds


@lru_cache(maxsize=4096)
def _output_is_contiguous(shape, a_shape, a_stride, b_shape, b_stride) -> bool:
    return elementwise_output_strides(shape, ((a_shape, a_stride), (b_shape, b_stride))) == contiguous_strides(shape)


def _flat_plan(a, b):
    """(shape, a_step, b_step) for operands that are not both contiguous with one shape: each must
    be flat (contiguous or an expanded single element), of the output's shape or a single element
    broadcast to it without adding dims, and torch's layout for the output must be contiguous
    (TensorIterator orders the output's dims after the inputs' strides, so a contiguous input
    with unusual strides on size-1 dims can give an output with them); else None."""
    a_step, b_step = a._flat_step, b._flat_step
    if a_step is None or b_step is None:
        return None
    a_shape, b_shape = a._shape, b._shape
    if a_shape == b_shape:
        shape = a_shape
    elif numel(b_shape) == 1 and len(b_shape) <= len(a_shape):
        shape, b_step = a_shape, 0
    elif numel(a_shape) == 1 and len(a_shape) <= len(b_shape):
        shape, a_step = b_shape, 0
    else:
        return None
    if len(shape) > 1 and not _output_is_contiguous(shape, a_shape, a._stride, b_shape, b._stride):
        return None
    return shape, a_step, b_step


def binary(code: int, kinds: dict, slow, *, alpha=False):
    """The public function of a binary op: fn(input, other, *, out=None), or with alpha=1 for add/sub."""

    record = getattr(slow, "__record__", None)  # the op's autograd recorder, when it has a derivative rule

    def run(input, other):
        """The fast path's result, or None when the call must take the slow path."""
        if type(input) is not Tensor or type(other) is not Tensor:
            return None
        d = input._dtype
        kind = kinds.get(d) if other._dtype is d else None
        if kind is None:
            return None
        recording = (input._requires_grad or other._requires_grad) and STATE.enabled
        if recording and record is None:
            return None
        shape = input._shape
        a_step = input._flat_step
        b_step = other._flat_step
        if shape != other._shape or a_step is None or b_step is None or (len(shape) > 1 and a_step + b_step != 2):
            # (one shape, flat operands and at most one dim: the output is contiguous whatever the steps)
            plan = _flat_plan(input, other)
            if plan is None:
                return None
            shape, a_step, b_step = plan
        n, strides = _shape_facts(shape) or shape_facts(shape)
        result = new_contiguous(shape, kind[0], n * kind[3], strides)
        if _binary_contig(code, kind[1], kind[2], n, result._addr, input._addr, a_step, other._addr, b_step,
                          1.0, 1):
            return None
        if recording:
            record(result, (input, other))
        return result

    # The commonest call (same shape, both contiguous, nothing requires grad) is checked inline in
    # each entry point below, so it costs one Python frame; the rest of the fast path is `run`.
    if alpha:
        def fn(input, other, *, alpha=1, out=None):
            if out is None and alpha is _ONE:
                if type(input) is Tensor and type(other) is Tensor:
                    d = input._dtype
                    shape = input._shape
                    if other._dtype is d and input._flat_step == 1 and other._flat_step == 1 and \
                            shape == other._shape and \
                            (not input._requires_grad and not other._requires_grad or not STATE.enabled):
                        kind = kinds.get(d)
                        if kind is not None:
                            n, strides = _shape_facts(shape) or shape_facts(shape)
                            result = new_contiguous(shape, kind[0], n * kind[3], strides)
                            if not _binary_contig(code, kind[1], kind[2], n, result._addr, input._addr, 1,
                                                  other._addr, 1, 1.0, 1):
                                return result
                result = run(input, other)
                if result is not None:
                    return result
            return slow(input, other, alpha=alpha, out=out)
    else:
        def fn(input, other, *, out=None):
            if out is None:
                if type(input) is Tensor and type(other) is Tensor:
                    d = input._dtype
                    shape = input._shape
                    if other._dtype is d and input._flat_step == 1 and other._flat_step == 1 and \
                            shape == other._shape and \
                            (not input._requires_grad and not other._requires_grad or not STATE.enabled):
                        kind = kinds.get(d)
                        if kind is not None:
                            n, strides = _shape_facts(shape) or shape_facts(shape)
                            result = new_contiguous(shape, kind[0], n * kind[3], strides)
                            if not _binary_contig(code, kind[1], kind[2], n, result._addr, input._addr, 1,
                                                  other._addr, 1, 1.0, 1):
                                return result
                result = run(input, other)
                if result is not None:
                    return result
            return slow(input, other, out=out)

    def make_operator(fallback):
        def operator(self, other):
            """`self <op> other` (the Tensor dunder); fallback(self, other) for what the fast path declines."""
            if type(other) is Tensor and type(self) is Tensor:
                d = self._dtype
                shape = self._shape
                if other._dtype is d and self._flat_step == 1 and other._flat_step == 1 and shape == other._shape \
                        and not self._requires_grad and not other._requires_grad:
                    kind = kinds.get(d)
                    if kind is not None:
                        n, strides = _shape_facts(shape) or shape_facts(shape)
                        result = new_contiguous(shape, kind[0], n * kind[3], strides)
                        if not _binary_contig(code, kind[1], kind[2], n, result._addr, self._addr, 1, other._addr, 1,
                                              1.0, 1):
                            return result
            result = run(self, other)
            return result if result is not None else fallback(self, other)
        return operator

    fn.fast_run = run
    fn.make_operator = make_operator
    return fn


_ONE = 1  # `alpha is _ONE`: the int 1 (CPython keeps one object for it), never True or 1.0


def binary_operator(fn, fallback, reflected=False):
    """A Python operator (`__add__`, `__rmul__`) over the fast path of fn (built by `binary`)."""
    make_operator = getattr(fn, "make_operator", None)
    if not reflected and make_operator is not None:
        return make_operator(fallback)
    run = fn.fast_run
    if reflected:
        def method(self, other):
            result = run(other, self)
            return result if result is not None else fallback(self, other)
    else:
        def method(self, other):
            result = run(self, other)
            return result if result is not None else fallback(self, other)
    return method


def binary_inplace(code: int, kinds: dict, slow, *, alpha=False):
    """The in-place method of a binary op (`add_`, `mul_`): self op= other, written into self."""

    def run(self, other):
        if type(self) is not Tensor or type(other) is not Tensor:
            return None
        d = self._dtype
        kind = kinds.get(d) if other._dtype is d else None
        if kind is None or kind[0] is not d or self._flat_step != 1 or other._storage is self._storage or \
                ((self._requires_grad or other._requires_grad) and STATE.enabled):
            return None
        shape = self._shape
        b_step = other._flat_step
        if b_step is None:
            return None
        if shape != other._shape:
            if numel(other._shape) != 1 or len(other._shape) > len(shape):
                return None
            b_step = 0
        addr = self._addr
        if _binary_contig(code, kind[1], kind[2], numel(shape), addr, addr, 1, other._addr, b_step, 1.0, 1):
            return None
        self._bump_version()
        return self

    if alpha:
        def fn_(self, other, *, alpha=1):
            if alpha is _ONE and run(self, other) is not None:
                return self
            return slow(self, other, alpha=alpha)
    else:
        def fn_(self, other):
            if run(self, other) is not None:
                return self
            return slow(self, other)
    fn_.fast_run = run
    return fn_


def unary(code: int, kinds: dict, slow, *, has_out=True):
    """The public function of a unary op: fn(input, *, out=None), or fn(input) for ops without out=."""

    record = getattr(slow, "__record__", None)

    def run(input):
        if type(input) is not Tensor or input._flat_step != 1:
            return None
        kind = kinds.get(input._dtype)
        if kind is None:
            return None
        recording = input._requires_grad and STATE.enabled
        if recording and record is None:
            return None
        shape = input._shape
        n, strides = _shape_facts(shape) or shape_facts(shape)
        result = new_contiguous(shape, kind[0], n * kind[3], strides)
        if _unary_contig(code, kind[1], kind[2], n, result._addr, input._addr):
            return None
        if recording:
            record(result, (input,))
        return result

    # The commonest call (contiguous, nothing requires grad) is checked inline: one Python frame.
    if has_out:
        def fn(input, *, out=None):
            if out is None and type(input) is Tensor:
                if input._flat_step == 1 and (not input._requires_grad or not STATE.enabled):
                    kind = kinds.get(input._dtype)
                    if kind is not None:
                        shape = input._shape
                        n, strides = _shape_facts(shape) or shape_facts(shape)
                        result = new_contiguous(shape, kind[0], n * kind[3], strides)
                        if not _unary_contig(code, kind[1], kind[2], n, result._addr, input._addr):
                            return result
                result = run(input)
                if result is not None:
                    return result
            return slow(input, out=out)
    else:
        def fn(input):
            if type(input) is Tensor:
                if input._flat_step == 1 and (not input._requires_grad or not STATE.enabled):
                    kind = kinds.get(input._dtype)
                    if kind is not None:
                        shape = input._shape
                        n, strides = _shape_facts(shape) or shape_facts(shape)
                        result = new_contiguous(shape, kind[0], n * kind[3], strides)
                        if not _unary_contig(code, kind[1], kind[2], n, result._addr, input._addr):
                            return result
                result = run(input)
                if result is not None:
                    return result
            return slow(input)
    fn.fast_run = run
    return fn
