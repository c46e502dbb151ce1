"""The Tensor: a view (shape, strides, offset, dtype) onto a shared UntypedStorage.

Only metadata lives here; ops attach themselves to Tensor through the op
registry (engine/_registry.py), so this file stays the one place that says
what a tensor *is*.
"""
from __future__ import annotations

import builtins
from functools import lru_cache

from engine import _dtype as dt
from engine._device import CPU
from engine._kernel import check, ffi, lib
from engine._shape import contiguous_strides, is_contiguous, is_non_overlapping_and_dense, numel, wrap_dim
from engine._storage import (
    _CHAR_ARRAY, _INLINE_OFFSET, SMALL_BLOCK_BYTES, UntypedStorage, _AllocatorBlock, _block_address, _new_block,
    _new_storage,
)


class _VersionCounter:
    """Shared by a tensor and all views of it, as torch's VariableVersion is."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class _InferenceVersionCounter(_VersionCounter):
    """The counter of a tensor made under inference_mode (torch's inference tensors)."""

    __slots__ = ()


# Swapped by engine.inference_mode while it is active, so make_tensor pays nothing for the check.
# Outside inference mode a new tensor gets no counter object at all (None stands for
# "version 0, shared with nobody"); one is made when a view shares it or a write bumps it.
new_version_counter = _VersionCounter


def version_counter(t) -> _VersionCounter:
    """t's version counter, made now if t has none yet (before a view or a saved tensor shares it)."""
    vc = t._version_counter
    if vc is None:
        vc = t._version_counter = _VersionCounter()
    return vc


def _fresh_version_counter():
    vc = new_version_counter
    return None if vc is _VersionCounter else vc()


class Size(tuple):
    """`torch.Size`: a tuple of ints with torch's repr."""

    def __repr__(self):
        return "torch.Size([" + ", ".join(str(s) for s in self) + "])"

    def numel(self):
        return numel(tuple(self))

    def __getitem__(self, item):
        result = tuple.__getitem__(self, item)
        return Size(result) if isinstance(item, slice) else result


class Tensor:
    __slots__ = (
        "_storage", "_shape", "_stride", "_offset", "_dtype", "_base", "_version_counter", "_addr",
        "_requires_grad", "grad", "grad_fn", "_autograd", "_flat_step", "__dict__", "__weakref__",
    )
    # _flat_step caches how the elements lie in memory, read in row-major order, for the
    # ops' fast paths: 1 = contiguous (element i at _addr + i), 0 = an expanded single
    # element (every element is the one at _addr), None = neither. Whatever changes
    # _shape or _stride after creation (resize_, an out= restride) must refresh it.

    # Let numpy defer to our operators in mixed expressions.
    __array_priority__ = 1000

    def __new__(cls, *args, **kwargs):
        # `torch.Tensor(2, 3)` (uninitialised float) and `torch.Tensor([1, 2])` (data, default dtype)
        from engine._factories import _legacy_tensor_constructor

        return _legacy_tensor_constructor(cls, args, kwargs)

    # ---- metadata ----
    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._shape)
        return self._shape[wrap_dim(dim, len(self._shape))]

    def stride(self, dim=None):
        if dim is None:
            return self._stride
        return self._stride[wrap_dim(dim, len(self._shape))]

    def storage_offset(self) -> int:
        return self._offset

    def dim(self) -> int:
        return len(self._shape)

    ndim = property(dim)

    def ndimension(self) -> int:
        return len(self._shape)

    def numel(self) -> int:
        return numel(self._shape)

    nelement = numel

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return CPU

    @property
    def is_cpu(self):
        return True

    @property
    def is_cuda(self):
        return False

    @property
    def is_meta(self):
        return False

    @property
    def is_sparse(self):
        return False

    @property
    def is_quantized(self):
        return False

    @property
    def layout(self):
        from engine import strided

        return strided

    def is_contiguous(self, memory_format=None) -> bool:
        from engine._memory_format import channels_last, contiguous_format, preserve_format

        if memory_format is None or memory_format is contiguous_format:
            return self._flat_step == 1
        if memory_format is channels_last:
            from engine._shape import is_channels_last_contiguous

            return is_channels_last_contiguous(self._shape, self._stride)
        if memory_format is preserve_format:
            raise RuntimeError("Preserve memory format is unsupported by the contiguous operator.")
        return False

    def is_non_overlapping_and_dense(self) -> bool:
        return is_non_overlapping_and_dense(self._shape, self._stride)

    def is_floating_point(self) -> bool:
        return self._dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def is_signed(self) -> bool:
        return self._dtype.is_signed

    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        return numel(self._shape) * self._dtype.itemsize

    def data_ptr(self) -> int:
        return self._addr

    def untyped_storage(self) -> UntypedStorage:
        return self._storage

    def _typed_storage_nbytes(self) -> int:
        return self._storage._nbytes

    def is_inference(self) -> bool:
        return isinstance(self._version_counter, _InferenceVersionCounter)

    @property
    def _version(self) -> int:
        vc = self._version_counter
        return 0 if vc is None else vc.value

    def _bump_version(self) -> None:
        vc = self._version_counter
        if vc is None:
            vc = self._version_counter = _VersionCounter()
        vc.value += 1

    def get_device(self) -> int:
        return -1

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value) -> None:
        value = builtins.bool(value)
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed variable "
                "in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if value and not self._dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = value

    # ---- Python protocol ----
    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self):
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self.select(0, i) for i in range(self._shape[0]))

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if numel(self._shape) != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                if numel(self._shape) > 1 else "Boolean value of Tensor with no values is ambiguous"
            )
        return builtins.bool(self.item())

    def _scalar_for_conversion(self, kind):
        if numel(self._shape) != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index") if kind == "index" \
                else RuntimeError(f"a Tensor with {numel(self._shape)} elements cannot be converted to Scalar")
        return self.item()

    def __int__(self):
        return builtins.int(self._scalar_for_conversion("int"))

    def __float__(self):
        return builtins.float(self._scalar_for_conversion("float"))

    def __complex__(self):
        return builtins.complex(self._scalar_for_conversion("complex"))

    def __index__(self):
        if self._dtype.is_floating_point or numel(self._shape) != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __repr__(self, *, tensor_contents=None):
        from engine._printing import tensor_repr

        return tensor_repr(self)

    def __str__(self):
        return self.__repr__()

    def __format__(self, spec):
        if self.dim() == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def __reduce_ex__(self, protocol):
        from engine._serialization import reduce_tensor

        return reduce_tensor(self)

    def __deepcopy__(self, memo):
        from engine._factories import _deepcopy_tensor

        return _deepcopy_tensor(self, memo)

    # ---- values out ----
    def item(self):
        n = numel(self._shape)
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        value = ffi.cast(self._dtype._ctype + " *", self._addr)[0]
        if self._dtype is dt.bool:
            return builtins.bool(value)
        return value

    def tolist(self):
        src = self if is_contiguous(self._shape, self._stride) else self.contiguous()
        n = numel(src._shape)
        flat = ffi.unpack(ffi.cast(src._dtype._ctype + " *", src._addr), n) if n else []
        if src._dtype is dt.bool:
            flat = [builtins.bool(v) for v in flat]
        if not src._shape:
            return flat[0]
        return _nest(flat, src._shape)

    def numpy(self, *, force=False):
        """A numpy array sharing this tensor's memory (`torch.Tensor.numpy`)."""
        from engine._interop import to_numpy

        return to_numpy(self)


def _nest(flat, shape):
    if len(shape) == 1:
        return list(flat)
    step = numel(shape[1:])
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


@lru_cache(maxsize=4096)
def flat_step(shape: tuple, stride: tuple):
    """Tensor._flat_step for a layout: 1 contiguous, 0 an expanded single element, None neither."""
    if is_contiguous(shape, stride):
        return 1
    for size, st in zip(shape, stride):
        if size != 1 and st != 0:
            return None
    return 0


_new_tensor = object.__new__
_contiguous_strides = lru_cache(maxsize=4096)(contiguous_strides)

# shape -> (numel, contiguous strides): what a fast path needs to allocate a result, in one dict
# lookup (`SHAPE_FACTS.get(shape) or shape_facts(shape)`).
SHAPE_FACTS: dict = {}


def shape_facts(shape: tuple) -> tuple:
    facts = SHAPE_FACTS.get(shape)
    if facts is None:
        if len(SHAPE_FACTS) >= 4096:
            SHAPE_FACTS.clear()
        facts = SHAPE_FACTS[shape] = (numel(shape), contiguous_strides(shape))
    return facts


def make_tensor(storage, shape, stride, offset, dtype, base=None, version=None):
    """Build a Tensor object around existing storage, bypassing argument checks."""
    t = _new_tensor(Tensor)
    t._storage = storage
    t._shape = shape
    t._stride = stride
    t._offset = offset
    t._dtype = dtype
    t._base = base
    t._version_counter = version if version is not None else _fresh_version_counter()
    t._addr = storage._addr + offset * dtype.itemsize
    t._requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._autograd = None
    t._flat_step = flat_step(shape, stride)
    return t


def new_contiguous(shape: tuple, dtype, nbytes: int, stride=None) -> Tensor:
    """A fresh contiguous tensor of nbytes = numel * itemsize: the ops' fast paths build their
    results with this (stride, when given, must be contiguous_strides(shape))."""
    t = _new_tensor(Tensor)
    if nbytes <= SMALL_BLOCK_BYTES:
        block = _new_block(_CHAR_ARRAY, nbytes or 1)
        addr = id(block) + _INLINE_OFFSET if _INLINE_OFFSET is not None else _block_address(block)
    else:
        block = _AllocatorBlock(nbytes, False)
        addr = block.addr
    s = _new_storage(UntypedStorage)
    s._addr = addr
    s._block = block
    s._nbytes = nbytes
    s._borrowed = False
    t._storage = s
    t._shape = shape
    t._stride = _contiguous_strides(shape) if stride is None else stride
    t._offset = 0
    t._dtype = dtype
    t._base = None
    vc = new_version_counter
    t._version_counter = None if vc is _VersionCounter else vc()
    t._addr = addr
    t._requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._autograd = None
    t._flat_step = 1
    return t


def storage_bytes_needed(shape, stride, offset, itemsize) -> int:
    """Bytes a view needs from the start of its storage; 0 for empty views."""
    if 0 in shape:
        return 0
    last = offset
    for size, st in zip(shape, stride):
        if st < 0:
            raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, got strides: {list(stride)}")
        last += (size - 1) * st
    return (last + 1) * itemsize


def empty_tensor(shape: tuple, dtype, stride=None, *, zero=False) -> Tensor:
    """A fresh tensor from the allocator; contiguous unless stride is given."""
    if stride is None:
        if not zero:
            return new_contiguous(shape, dtype, numel(shape) * dtype.itemsize)
        stride = contiguous_strides(shape)
        nbytes = numel(shape) * dtype.itemsize
    else:
        nbytes = storage_bytes_needed(shape, stride, 0, dtype.itemsize)
    return make_tensor(UntypedStorage(nbytes, zero=zero), shape, stride, 0, dtype)


def view_of(src: Tensor, shape, stride, offset) -> Tensor:
    """A view sharing src's storage and version counter, with _base set like torch's."""
    base = src._base if src._base is not None else src
    return make_tensor(src._storage, shape, stride, offset, src._dtype, base, version_counter(src))


def copy_into(dst: Tensor, src: Tensor) -> None:
    """dst[...] = src with broadcasting and dtype conversion (no version bump)."""
    from engine._shape import broadcast_strides

    shape = dst._shape
    if src._shape != shape:
        src_stride = broadcast_strides(src._shape, src._stride, shape)
    else:
        src_stride = src._stride
    check(lib.ft_copy(len(shape), shape, dst._addr, dst._dtype.code, dst._stride,
                      src._addr, src._dtype.code, src_stride))


def check_no_internal_overlap(t: Tensor) -> None:
    """torch refuses to write through a tensor where one memory location stands
    for several elements (a broadcast dim: size > 1, stride 0)."""
    for size, stride in zip(t._shape, t._stride):
        if stride == 0 and size > 1:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation."
            )
