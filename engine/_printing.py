"""Tensor printing: `repr(tensor)` and `torch.set_printoptions`, character for character.

A port of torch's `torch/_tensor_str.py`, which is the spec. torch computes its
formatting statistics with tensor ops; here they are computed in plain Python
over the values `Tensor.tolist()` returns, so printing depends on nothing but
views (`select`, `narrow`) and `tolist`. Above the threshold only the edge items
are read, so printing a huge tensor costs a few dozen elements, not all of them.

Python floats are doubles; float32 values widen to them exactly, and torch
formats each element through `Tensor.item()` too, so the strings agree.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import sys

from engine import _dtype as dt


@dataclasses.dataclass
class _PrinterOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrinterOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """`torch.set_printoptions`. As in torch, `sci_mode` is always assigned, so
    omitting it resets it to automatic."""
    if profile is not None and profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """`torch.get_printoptions`: a dict that can be passed back to set_printoptions."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """`torch._tensor_str.printoptions`: set_printoptions for the duration of a block."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ---- element formatting ----
class _Formatter:
    """Chooses one width and style (integer-valued, fixed or scientific) for all elements."""

    def __init__(self, floating_dtype: bool, values: list):
        self.floating_dtype = floating_dtype
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1

        if not floating_dtype:
            for value in values:
                self.max_width = max(self.max_width, len(f"{value}"))
            return

        nonzero_finite = [v for v in values if v != 0 and math.isfinite(v)]
        if not nonzero_finite:
            return
        magnitudes = [abs(v) for v in nonzero_finite]
        smallest, largest = min(magnitudes), max(magnitudes)
        self.int_mode = all(v.is_integer() for v in nonzero_finite)
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = PRINT_OPTS.sci_mode

        precision = PRINT_OPTS.precision
        if self.sci_mode:
            widths = (len(f"{v:.{precision}e}") for v in nonzero_finite)
        elif self.int_mode:
            # integer-valued floats print as "3." : one extra character for the dot
            widths = (len(f"{v:.0f}") + 1 for v in nonzero_finite)
        else:
            widths = (len(f"{v:.{precision}f}") for v in nonzero_finite)
        self.max_width = max(self.max_width, max(widths))

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        if self.floating_dtype:
            precision = PRINT_OPTS.precision
            if self.sci_mode:
                text = f"{value:{self.max_width}.{precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if math.isfinite(value):
                    text += "."
            else:
                text = f"{value:.{precision}f}"
        else:
            text = f"{value}"
        return (self.max_width - len(text)) * " " + text


# ---- reading values ----
def _summarized_values(t) -> list:
    """Nested lists like `t.tolist()`, keeping only the first and last `edgeitems`
    entries of every dimension longer than 2 * edgeitems (torch's get_summarized_data,
    without the cat/stack)."""
    edge = PRINT_OPTS.edgeitems
    shape = t.shape
    if len(shape) == 0 or all(size <= 2 * edge for size in shape):
        return t.tolist()
    size = shape[0]
    if len(shape) == 1:
        return t.narrow(0, 0, edge).tolist() + t.narrow(0, size - edge, edge).tolist()
    rows = range(size) if size <= 2 * edge else [*range(edge), *range(size - edge, size)]
    return [_summarized_values(t.select(0, i)) for i in rows]


def _flatten(values, ndim: int) -> list:
    for _ in range(ndim - 1):
        values = [item for row in values for item in row]
    return values


# ---- layout ----
def _vector_str(values, size, indent, summarize, formatter) -> str:
    # an element takes its width plus ", "
    element_length = formatter.width() + 2
    elements_per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        data = ["..."]
    elif summarize and size > 2 * edge:
        data = [formatter.format(v) for v in values[:edge]] + [" ..."] + [formatter.format(v) for v in values[edge:]]
    else:
        data = [formatter.format(v) for v in values]
    lines = [", ".join(data[i:i + elements_per_line]) for i in range(0, len(data), elements_per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(values, shape, indent, summarize, formatter) -> str:
    """values holds the summarized entries of a tensor of (original) shape `shape`."""
    ndim = len(shape)
    if ndim == 0:
        return formatter.format(values)
    if ndim == 1:
        return _vector_str(values, shape[0], indent, summarize, formatter)
    edge = PRINT_OPTS.edgeitems
    inner = shape[1:]
    if summarize and shape[0] > 2 * edge:
        # `values` holds 2 * edge rows when summarized; with edge == 0 it holds none
        slices = (
            [_nested_str(row, inner, indent + 1, summarize, formatter) for row in values[:edge]]
            + ["..."]
            + [_nested_str(row, inner, indent + 1, summarize, formatter) for row in values[edge:2 * edge]]
        )
    else:
        slices = [_nested_str(row, inner, indent + 1, summarize, formatter) for row in values]
    return "[" + ("," + "\n" * (ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(t, indent) -> str:
    if t.numel() == 0:
        return "[]"
    summarize = t.numel() > PRINT_OPTS.threshold
    shape = tuple(t.shape)
    if summarize and not PRINT_OPTS.edgeitems and shape:
        # torch prints a bare "[...]" whatever the values; don't read them
        return "[...]"
    values = _summarized_values(t) if summarize else t.tolist()
    flat = [values] if not shape else _flatten(values, len(shape))
    formatter = _Formatter(t.dtype.is_floating_point, flat)
    return _nested_str(values, shape, indent, summarize, formatter)


def _add_suffixes(tensor_str, suffixes, indent, force_newline) -> str:
    parts = [tensor_str]
    # torch's arithmetic, kept as is: without a newline rfind gives -1 and this counts 2 extra
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _parameter_class():
    # engine.nn may not be imported (or may not exist yet); a Parameter instance implies it is
    nn = sys.modules.get("engine.nn")
    return getattr(nn, "Parameter", None)


def _grad_fn_name(grad_fn) -> str:
    name_method = getattr(grad_fn, "name", None)
    name = name_method() if callable(name_method) else type(grad_fn).__name__
    return name.rsplit("::", 1)[-1]


def tensor_repr(t, *, tensor_contents=None) -> str:
    """`repr(tensor)` exactly as torch prints it (torch._tensor_str._str)."""
    from engine._tensor import Tensor

    parameter = _parameter_class()
    is_plain_tensor = type(t) is Tensor or (parameter is not None and type(t) is parameter)
    prefix = "tensor(" if is_plain_tensor else f"{type(t).__name__}("
    indent = len(prefix)
    suffixes = []
    dtype = t.dtype
    shape = tuple(t.shape)

    if t.numel() == 0:
        # numpy's habit: the shape is shown unless it is (0,)
        if len(shape) != 1:
            suffixes.append("size=" + str(shape))
        # no elements to tell int64 apart, so every non-default dtype is named
        if dtype is not dt.get_default_dtype():
            suffixes.append("dtype=" + str(dtype))
        tensor_str = "[]" if tensor_contents is None else tensor_contents
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append("size=" + str(shape))
        if dtype not in (dt.get_default_dtype(), dt.int64, dt.bool):
            suffixes.append("dtype=" + str(dtype))
        tensor_str = _tensor_str(t, indent) if tensor_contents is None else tensor_contents

    grad_fn = getattr(t, "grad_fn", None)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")

    text = _add_suffixes(prefix + tensor_str, suffixes, indent, force_newline=False)
    if parameter is not None and isinstance(t, parameter) and not is_plain_tensor:
        text = f"Parameter({text})"
    return text
