"""einsum, tensordot and trace, composed from engine views, sums and batched matrix products
(differentiable through the ops they call, as torch's CompositeImplicit versions are).

einsum follows torch's equation rules (aten/src/ATen/native/Linear.cpp): subscripts a-z A-Z,
'...' for broadcast dims, an implicit output of the subscripts seen once (sorted, '...' first),
repeated subscripts in one operand take its diagonal; operands are contracted left to right,
each pair as one bmm over (batch, kept, contracted) dims."""
from __future__ import annotations

import builtins
import math

from engine._registry import NUMERIC, op
from engine._tensor import Tensor

_ELLIPSIS = "."


def _parse_term(term, operand_index, ndim):
    labels, i = [], 0
    seen_ellipsis = False
    while i < len(term):
        ch = term[i]
        if ch == " ":
            i += 1
            continue
        if ch == ".":
            if seen_ellipsis or term[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for operand {operand_index} that is not part of any ellipsis")
            seen_ellipsis = True
            labels.append(_ELLIPSIS)
            i += 3
            continue
        if not ch.isalpha() or not ch.isascii():
            raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the equation string, subscripts "
                               "must be in [a-zA-Z]")
        labels.append(ch)
        i += 1
    return labels


def _expand_ellipsis(labels, operand_index, ndim):
    named = [l for l in labels if l != _ELLIPSIS]
    if _ELLIPSIS in labels:
        if len(named) > ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(named)}) is more than the "
                               f"number of dimensions ({ndim}) for operand {operand_index}")
        n_ell = ndim - len(named)
        out = []
        for l in labels:
            out.extend([(_ELLIPSIS, k) for k in range(n_ell)] if l == _ELLIPSIS else [l])
        return out, n_ell
    if len(named) != ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(named)}) does not match the "
                           f"number of dimensions ({ndim}) for operand {operand_index} and no ellipsis was given")
    return list(labels), 0


def _take_diagonals(t, labels, operand_index):
    """Repeated labels in one operand: keep their diagonal (once)."""
    from engine._views import diagonal

    while True:
        dup = next((l for i, l in enumerate(labels) if l in labels[:i]), None)
        if dup is None:
            return t, labels
        i = labels.index(dup)
        j = labels.index(dup, i + 1)
        if t._shape[i] != t._shape[j]:
            raise RuntimeError(f"einsum(): subscript {dup} is repeated for operand {operand_index} but the sizes don't "
                               f"match, {t._shape[j]} != {t._shape[i]}")
        t = diagonal(t, 0, i, j)
        labels = [l for k, l in enumerate(labels) if k not in (i, j)] + [dup]


def _sum_out(t, labels, drop):
    dims = [i for i, l in enumerate(labels) if l in drop]
    if not dims:
        return t, labels
    from engine._ops.reduction import sum as _sum

    t = _sum(t, dims)
    return t, [l for l in labels if l not in drop]


def _permute_to(t, labels, order):
    from engine._views import permute

    perm = [labels.index(l) for l in order]
    if perm != list(range(len(perm))):
        t = permute(t, perm)
    return t


def _contract(a, la, b, lb, keep, sizes):
    """a (labels la) times b (labels lb), summed over shared labels not in keep: one bmm."""
    from engine._ops.linalg import bmm
    from engine._views import expand, reshape

    batch = [l for l in la if l in lb and l in keep]
    contracted = [l for l in la if l in lb and l not in keep]
    a_only = [l for l in la if l not in lb]
    b_only = [l for l in lb if l not in la]
    a = _permute_to(a, la, batch + a_only + contracted)
    b = _permute_to(b, lb, batch + contracted + b_only)
    full_a = tuple(sizes[l] for l in batch + a_only + contracted)
    full_b = tuple(sizes[l] for l in batch + contracted + b_only)
    if a._shape != full_a:
        a = expand(a, *full_a)
    if b._shape != full_b:
        b = expand(b, *full_b)
    nb = math.prod(sizes[l] for l in batch)
    m = math.prod(sizes[l] for l in a_only)
    k = math.prod(sizes[l] for l in contracted)
    n = math.prod(sizes[l] for l in b_only)
    out = bmm(reshape(a, (nb, m, k)), reshape(b, (nb, k, n)))
    labels = batch + a_only + b_only
    return reshape(out, tuple(sizes[l] for l in labels)), labels


@op("einsum", dtypes=NUMERIC, family="linalg")
def einsum(equation, *operands, path=None):
    """`torch.einsum`: https://pytorch.org/docs/stable/generated/torch.einsum.html"""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not {type(equation).__name__}")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): argument 'tensors' (position 2) must be tuple of Tensors, not "
                            f"{type(t).__name__}")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    parsed = [_parse_term(term, i, len(t._shape)) for i, (term, t) in enumerate(zip(terms, operands))]
    expanded, n_ells = [], []
    for i, (labels, t) in enumerate(zip(parsed, operands)):
        full, n_ell = _expand_ellipsis(labels, i, len(t._shape))
        expanded.append(full)
        n_ells.append(n_ell)
    max_ell = builtins.max(n_ells)
    # ellipsis dims align from the right, like broadcasting
    aligned = []
    for full, n_ell in zip(expanded, n_ells):
        aligned.append([(_ELLIPSIS, max_ell - n_ell + l[1]) if isinstance(l, tuple) else l for l in full])
    ell_labels = [(_ELLIPSIS, k) for k in range(max_ell)]
    if arrow:
        out_terms = _parse_term(rhs, -1, 0)
        for l in out_terms:
            if l != _ELLIPSIS and not any(l in labels for labels in parsed):
                raise RuntimeError(f"einsum(): output subscript {l} does not appear in the equation for any input operand")
            if l != _ELLIPSIS and out_terms.count(l) > 1:
                raise RuntimeError(f"einsum(): output subscript {l} appears more than once in the output")
        output = []
        for l in out_terms:
            output.extend(ell_labels if l == _ELLIPSIS else [l])
    else:
        counts = {}
        for labels in parsed:
            for l in labels:
                if l != _ELLIPSIS:
                    counts[l] = counts.get(l, 0) + 1
        # torch sorts implicit output subscripts with upper case before lower case (ASCII order)
        output = ell_labels + sorted(l for l, c in counts.items() if c == 1)
    sizes = {}
    tensors = []
    for i, (t, labels) in enumerate(zip(operands, aligned)):
        t, labels = _take_diagonals(t, labels, i)
        for l, s in zip(labels, t._shape):
            old = sizes.get(l)
            if old is None or old == 1:
                sizes[l] = s
            elif s != 1 and s != old:
                name = "..." if isinstance(l, tuple) else l
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped): "
                                   f"subscript {name} has size {s} for operand {i} which does not broadcast with "
                                   f"previously seen size {old}")
        tensors.append((t, labels))
    for l in output:
        sizes.setdefault(l, 1)
    # sum out labels that only one operand has and the output does not keep
    result, labels = tensors[0]
    for idx in range(len(tensors)):
        if idx == 0:
            later = [l for _, ls in tensors[1:] for l in ls]
            result, labels = _sum_out(result, labels, {l for l in labels if l not in output and l not in later})
            continue
        t, lt = tensors[idx]
        later = [l for _, ls in tensors[idx + 1:] for l in ls]
        t, lt = _sum_out(t, lt, {l for l in lt if l not in output and l not in later and l not in labels})
        keep = set(output) | set(later)
        result, labels = _contract(result, labels, t, lt, keep, sizes)
    # result may miss broadcast output labels of size 1 (ellipsis dims of no operand)
    from engine._views import reshape, expand

    missing = [l for l in output if l not in labels]
    if missing:
        result = reshape(result, tuple(result._shape) + (1,) * len(missing))
        labels = labels + missing
    result = _permute_to(result, labels, output)
    target = tuple(sizes[l] for l in output)
    if result._shape != target:
        result = expand(result, *target)
    if result is operands[0]:  # a new tensor (a view), never the operand itself, as in torch
        result = result.view(tuple(result._shape))
    return result


@op("tensordot", dtypes=NUMERIC, family="linalg")
def tensordot(a, b, dims=2, out=None):
    """`torch.tensordot`: https://pytorch.org/docs/stable/generated/torch.tensordot.html"""
    from engine._ops.linalg import mm
    from engine._views import permute, reshape

    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, builtins.int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > len(a._shape) or dims > len(b._shape):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a = list(range(len(a._shape) - dims, len(a._shape)))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, builtins.int) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, builtins.int) else list(dims_b)
        if len(dims_a) != len(dims_b):
            raise RuntimeError(f"both dimension lists should have same length")
    from engine._shape import wrap_dim

    dims_a = [wrap_dim(d, len(a._shape)) for d in dims_a]
    dims_b = [wrap_dim(d, len(b._shape)) for d in dims_b]
    from engine._ops.reduction import sum as _sum

    for da, db in zip(dims_a, dims_b):
        # torch sums a broadcast (size-1) contracted dim of either side right away
        if b._shape[db] == 1 and a._shape[da] != 1:
            a = _sum(a, da, True, dtype=a._dtype)
        elif a._shape[da] == 1 and b._shape[db] != 1:
            b = _sum(b, db, True, dtype=b._dtype)
        elif a._shape[da] != b._shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a._shape[da]} in dim {da} and "
                               f"second has size {b._shape[db]} in dim {db}")
    free_a = [d for d in range(len(a._shape)) if d not in dims_a]
    free_b = [d for d in range(len(b._shape)) if d not in dims_b]
    k = math.prod(a._shape[d] for d in dims_a)
    m = math.prod(a._shape[d] for d in free_a)
    n = math.prod(b._shape[d] for d in free_b)
    a2 = reshape(permute(a, free_a + dims_a), (m, k))
    b2 = reshape(permute(b, dims_b + free_b), (k, n))
    result = reshape(mm(a2, b2), tuple(a._shape[d] for d in free_a) + tuple(b._shape[d] for d in free_b))
    if out is not None:
        from engine._views import resize_
        from engine._tensor import copy_into

        resize_(out, result._shape)
        copy_into(out, result)
        return out
    return result


@op("trace", dtypes=NUMERIC, method=True, family="linalg")
def trace(input):
    """`torch.trace`: the sum of the main diagonal of a matrix (integers sum to int64)."""
    from engine._iter import _type_name
    from engine._ops.reduction import sum as _sum
    from engine._views import diagonal

    if len(input._shape) != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {len(input._shape)}")
    if input._dtype.name == "bool":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return _sum(diagonal(input, 0, 0, 1))
