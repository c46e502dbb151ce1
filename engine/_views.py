"""View ops: new shape/stride/offset over the same storage, with torch's exact
stride results. View ops do no work; the ones that may copy (reshape,
contiguous, flatten) say so."""
from __future__ import annotations

from engine._registry import ALL, op, tensor_method
from engine._shape import (
    contiguous_strides,
    preserve_format_strides,
    size_args,
    infer_size,
    is_contiguous,
    numel,
    view_strides,
    wrap_dim,
)
from engine._tensor import Tensor, copy_into, empty_tensor, storage_bytes_needed, view_of

VIEW = "view"


def _size_args(size):
    return size_args(size, "view(): argument 'size'")


def _fmt(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


@op("view", method=True, public=False, family=VIEW, backward=True)
def view(self, *shape):
    """`torch.Tensor.view` (the dtype overload is not supported)."""
    from engine._dtype import dtype as _dtype_cls

    if len(shape) == 1 and isinstance(shape[0], _dtype_cls):
        return _view_dtype(self, shape[0])
    shape = infer_size(_size_args(shape), numel(self._shape))
    strides = view_strides(self._shape, self._stride, shape)
    if strides is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
            "two contiguous subspaces). Use .reshape(...) instead."
        )
    return view_of(self, shape, strides, self._offset)


def _view_dtype(self, dtype):
    if dtype.itemsize != self._dtype.itemsize:
        raise RuntimeError("view(dtype): only dtypes of the same size are supported by the engine")
    from engine._tensor import make_tensor, version_counter

    base = self._base if self._base is not None else self
    return make_tensor(self._storage, self._shape, self._stride, self._offset, dtype, base, version_counter(self))


@op("view_as", method=True, public=False, family=VIEW, backward=True)
def view_as(self, other):
    return view(self, other._shape)


@op("reshape", method=True, family=VIEW, backward=True)
def reshape(input, *shape):
    """`torch.reshape`: a view when the strides allow one, else a contiguous copy."""
    shape = infer_size(_size_args(shape), numel(input._shape))
    strides = view_strides(input._shape, input._stride, shape)
    if strides is not None:
        return view_of(input, shape, strides, input._offset)
    return view(contiguous(input), shape)


@op("reshape_as", method=True, public=False, family=VIEW, backward=True)
def reshape_as(self, other):
    return reshape(self, other._shape)


@op("transpose", method=True, family=VIEW, backward=True)
def transpose(input, dim0, dim1):
    n = len(input._shape)
    d0, d1 = wrap_dim(dim0, n), wrap_dim(dim1, n)
    if n == 0:
        return view_of(input, (), (), input._offset)
    shape, strides = list(input._shape), list(input._stride)
    shape[d0], shape[d1] = shape[d1], shape[d0]
    strides[d0], strides[d1] = strides[d1], strides[d0]
    return view_of(input, tuple(shape), tuple(strides), input._offset)


tensor_method("swapaxes")(transpose)
tensor_method("swapdims")(transpose)


@op("t", method=True, family=VIEW, backward=True)
def t(input):
    if len(input._shape) > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {len(input._shape)}D")
    if len(input._shape) < 2:
        return view_of(input, input._shape, input._stride, input._offset)
    return transpose(input, 0, 1)


def _T(self):
    n = len(self._shape)
    if n not in (0, 2):
        import warnings

        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it will "
            "throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
            "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
            UserWarning,
            stacklevel=2,
        )
    return permute(self, tuple(range(n - 1, -1, -1)))


def _mT(self):
    if len(self._shape) < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor." if len(self._shape) == 1
                           else "tensor.mT is only supported on matrices or batches of matrices. Got 0-D tensor.")
    return transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.H = property(_T)  # real dtypes only: the conjugate is the tensor itself
Tensor.mH = property(_mT)
op("T", public=False, family=VIEW, backward=True)(_T)
op("mT", public=False, family=VIEW, backward=True)(_mT)


@op("permute", method=True, family=VIEW, backward=True)
def permute(input, *dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    n = len(input._shape)
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired "
            f"ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}"
        )
    wrapped = [wrap_dim(d, n) for d in dims]
    if len(set(wrapped)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return view_of(input, tuple(input._shape[d] for d in wrapped), tuple(input._stride[d] for d in wrapped), input._offset)


@op("expand", method=True, public=False, family=VIEW, backward=True)
def expand(self, *sizes, implicit=False):
    sizes = _size_args(sizes)
    n = len(self._shape)
    if len(sizes) < n:
        raise RuntimeError(
            f"expand(torch.FloatTensor{{{_fmt(self._shape)}}}, size={_fmt(sizes)}): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({n})"
        )
    shape, strides = [], []
    pad = len(sizes) - n
    for i, target in enumerate(sizes):
        if i < pad:
            if target < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({target}) isn't allowed in a leading, non-existing dimension {i}")
            shape.append(target)
            strides.append(None if target == 1 else 0)  # filled below, like torch's inferExpandGeometry
            continue
        size, stride = self._shape[i - pad], self._stride[i - pad]
        if target == -1:
            target = size
        if size != target:
            if size != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({target}) must match the existing size ({size}) at non-singleton "
                    f"dimension {i}.  Target sizes: {_fmt(sizes)}.  Tensor sizes: {_fmt(self._shape)}"
                )
            stride = 0
        shape.append(target)
        strides.append(stride)
    # A new leading dim of size 1 gets the stride spanning the dims after it
    # (torch's inferExpandGeometry); a 0-dim tensor expands with all strides 0.
    for i in range(pad - 1, -1, -1):
        if strides[i] is None:
            strides[i] = 0 if n == 0 else shape[i + 1] * strides[i + 1]
    return view_of(self, tuple(shape), tuple(strides), self._offset)


@op("expand_as", method=True, public=False, family=VIEW, backward=True)
def expand_as(self, other):
    return expand(self, other._shape)


@op("broadcast_to", method=True, family=VIEW, backward=True)
def broadcast_to(input, size):
    return expand(input, tuple(size))


@op("squeeze", method=True, family=VIEW, backward=True)
def squeeze(input, dim=None):
    n = len(input._shape)
    if dim is None:
        dims = {i for i, s in enumerate(input._shape) if s == 1}
    else:
        dims = {wrap_dim(d, n) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
        dims = {d for d in dims if n and input._shape[d] == 1}
    keep = [i for i in range(n) if i not in dims]
    return view_of(input, tuple(input._shape[i] for i in keep), tuple(input._stride[i] for i in keep), input._offset)


@op("unsqueeze", method=True, family=VIEW, backward=True)
def unsqueeze(input, dim):
    n = len(input._shape)
    d = wrap_dim(dim, n + 1)
    # torch's inferUnsqueezeGeometry: the new dim's stride spans the dim it precedes
    new_stride = 1 if d >= n else input._shape[d] * input._stride[d]
    shape = input._shape[:d] + (1,) + input._shape[d:]
    strides = input._stride[:d] + (new_stride,) + input._stride[d:]
    return view_of(input, shape, strides, input._offset)


@op("flatten", method=True, family=VIEW, backward=True)
def flatten(input, start_dim=0, end_dim=-1):
    n = len(input._shape)
    if n == 0:
        return reshape(input, (1,))
    s, e = wrap_dim(start_dim, n), wrap_dim(end_dim, n)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    merged = numel(input._shape[s:e + 1])
    return reshape(input, input._shape[:s] + (merged,) + input._shape[e + 1:])


@op("unflatten", method=True, family=VIEW, backward=True)
def unflatten(input, dim, sizes):
    n = len(input._shape)
    if n == 0:
        raise RuntimeError("unflatten got an unexpected error:\nDimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, n)
    sizes = tuple(sizes)
    if len(sizes) == 0:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        inferred = infer_size(sizes, input._shape[d])
    except RuntimeError:
        if sizes.count(-1) > 1:
            raise
        raise RuntimeError(
            f"unflatten: Provided sizes {_fmt(sizes)} don't multiply up to the size of dim {dim} "
            f"({input._shape[d]}) in the input tensor"
        ) from None
    return view(input, input._shape[:d] + inferred + input._shape[d + 1:])


@op("narrow", method=True, family=VIEW, backward=True)
def narrow(input, dim, start, length):
    n = len(input._shape)
    if n == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, n)
    if isinstance(start, Tensor):
        if start._shape or start._dtype.is_floating_point or start._dtype.name == "bool":
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = start.item()
    size = input._shape[d]
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return slice_dim(input, d, start, start + length, 1)


def slice_dim(input, d, start, stop, step):
    """input[..., start:stop:step, ...] on dim d, with indices already clamped."""
    length = max(0, (stop - start + step - 1) // step)
    shape = input._shape[:d] + (length,) + input._shape[d + 1:]
    strides = input._stride[:d] + (input._stride[d] * step,) + input._stride[d + 1:]
    offset = input._offset + (start * input._stride[d] if length else 0)
    if length == 0:
        offset = input._offset + min(start, input._shape[d]) * input._stride[d]
    return view_of(input, shape, strides, offset)


@op("select", method=True, family=VIEW, backward=True)
def select(input, dim, index):
    n = len(input._shape)
    if n == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, n)
    if isinstance(index, Tensor):
        index = index.__index__()
    size = input._shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {_fmt(input._shape)} at dimension {d}")
    if index < 0:
        index += size
    return view_of(input, input._shape[:d] + input._shape[d + 1:], input._stride[:d] + input._stride[d + 1:],
                   input._offset + index * input._stride[d])


@op("diagonal", method=True, family=VIEW, backward=True)
def diagonal(input, offset=0, dim1=0, dim2=1):
    n = len(input._shape)
    d1, d2 = wrap_dim(dim1, n), wrap_dim(dim2, n)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    storage_offset = input._offset
    if offset >= 0:
        length = max(min(input._shape[d1], input._shape[d2] - offset), 0)
        if length:
            storage_offset += offset * input._stride[d2]
    else:
        length = max(min(input._shape[d1] + offset, input._shape[d2]), 0)
        if length:
            storage_offset -= offset * input._stride[d1]
    keep = [i for i in range(n) if i not in (d1, d2)]
    shape = tuple(input._shape[i] for i in keep) + (length,)
    strides = tuple(input._stride[i] for i in keep) + (input._stride[d1] + input._stride[d2],)
    return view_of(input, shape, strides, storage_offset)


@op("movedim", method=True, family=VIEW, backward=True)
def movedim(input, source, destination):
    n = len(input._shape)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({_fmt(src)} dims) should contain the same number "
            f"of dims as destination ({_fmt(dst)} dims)"
        )
    src = [wrap_dim(d, n) for d in src]
    dst = [wrap_dim(d, n) for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({_fmt(source if isinstance(source, (list, tuple)) else [source])})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({_fmt(destination if isinstance(destination, (list, tuple)) else [destination])})")
    if n == 0:
        return view_of(input, (), (), input._offset)
    order = [-1] * n
    for s_dim, d_dim in zip(src, dst):
        order[d_dim] = s_dim
    rest_src = iter(i for i in range(n) if i not in src)
    order = [o if o != -1 else next(rest_src) for o in order]
    return permute(input, order)


tensor_method("moveaxis")(movedim)


@op("unfold", method=True, public=False, family=VIEW, backward=True)
def unfold(self, dimension, size, step):
    n = len(self._shape)
    d = wrap_dim(dimension, n) if n else 0
    dim_size = self._shape[d] if n else 1
    if size > dim_size:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {dim_size} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    count = (dim_size - size) // step + 1
    if n == 0:
        return view_of(self, (size,), (1,), self._offset)
    shape = self._shape[:d] + (count,) + self._shape[d + 1:] + (size,)
    strides = self._stride[:d] + (self._stride[d] * step,) + self._stride[d + 1:] + (self._stride[d],)
    return view_of(self, shape, strides, self._offset)


@op("as_strided", method=True, family=VIEW, backward=True)
def as_strided(input, size, stride, storage_offset=None):
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape")
    offset = input._offset if storage_offset is None else int(storage_offset)
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    for s in size:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {_fmt(size)}")
    needed = storage_bytes_needed(size, stride, offset, input._dtype.itemsize)
    if needed > input._storage._nbytes:
        raise RuntimeError(
            f"setStorage: sizes {_fmt(size)}, strides {_fmt(stride)}, storage offset {offset}, and itemsize "
            f"{input._dtype.itemsize} requiring a storage size of {needed} are out of bounds for storage of size "
            f"{input._storage._nbytes}"
        )
    return view_of(input, size, stride, offset)


@op("contiguous", method=True, public=False, family=VIEW, backward=True)
def contiguous(self, memory_format=None):
    from engine._memory_format import channels_last, contiguous_format

    if memory_format is None or memory_format is contiguous_format:
        if is_contiguous(self._shape, self._stride):
            return self
        out = empty_tensor(self._shape, self._dtype)
    elif memory_format is channels_last:
        from engine._shape import channels_last_strides, is_channels_last_contiguous

        if len(self._shape) != 4:
            raise RuntimeError("required rank 4 tensor to use channels_last format")
        if is_channels_last_contiguous(self._shape, self._stride):
            return self
        out = empty_tensor(self._shape, self._dtype, channels_last_strides(self._shape))
    else:
        raise RuntimeError("Preserve memory format is unsupported by the contiguous operator.")
    copy_into(out, self)
    return out


@op("clone", method=True, family=VIEW, backward=True)
def clone(input, *, memory_format=None):
    """`torch.clone`: preserve_format keeps the strides of dense tensors."""
    from engine._memory_format import channels_last, contiguous_format

    if memory_format is contiguous_format:
        stride = contiguous_strides(input._shape)
    elif memory_format is channels_last:
        from engine._shape import channels_last_strides

        stride = channels_last_strides(input._shape)
    else:
        stride = preserve_format_strides(input._shape, input._stride)
    out = empty_tensor(input._shape, input._dtype, stride)
    copy_into(out, input)
    return out


@op("detach", method=True, family=VIEW)
def detach(input):
    """A view sharing storage and version counter, outside the autograd graph."""
    from engine._tensor import make_tensor, version_counter

    return make_tensor(input._storage, input._shape, input._stride, input._offset, input._dtype, None,
                       version_counter(input))


def resize_(self, *sizes, memory_format=None):
    """`Tensor.resize_`: new contiguous shape, storage grown when needed, contents kept."""
    shape = _size_args(sizes)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {_fmt(shape)}")
    stride = contiguous_strides(shape)
    needed = (self._offset + numel(shape)) * self._dtype.itemsize
    if needed > self._storage._nbytes:
        self._storage.resize_(needed)
    self._shape = shape
    self._stride = stride
    self._flat_step = 1
    self._addr = self._storage._addr + self._offset * self._dtype.itemsize
    return self


tensor_method("resize_")(resize_)


def resize_as_(self, other, memory_format=None):
    return resize_(self, other._shape)


tensor_method("resize_as_")(resize_as_)
