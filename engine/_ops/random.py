"""Random sampling, bit-identical to torch's CPU generator: rand, randn, randint, randperm,
the *_like forms, bernoulli, normal (all overloads), the in-place samplers (uniform_, normal_,
bernoulli_, random_, exponential_, geometric_, log_normal_, cauchy_) and
nn.functional.dropout, over the samplers in csrc/random.c.

torch's CPU kernels draw one sample per element in TensorIterator order, which for a single
output is memory order (dims by decreasing stride); samples are generated in that order into a
contiguous buffer and placed. normal_ on a standard-contiguous tensor of >= 16 elements takes
torch's chunked Box-Muller path (normal_fill). torch.bernoulli with a float p on an Intel CPU
uses MKL's stream in torch; the engine follows torch's default kernel (what torch runs on
other CPUs)."""
from __future__ import annotations

import builtins
import math

from engine import _dtype as dt
from engine._generator import generator_of
from engine._iter import _type_name
from engine._kernel import check, lib
from engine._registry import ALL, FLOATING, op, tensor_method
from engine._shape import contiguous_strides, is_contiguous, size_args, broadcast_pair
from engine._tensor import Tensor, copy_into, empty_tensor, view_of

FAMILY = "random"


# ---- placing samples in torch's order ----

def _memory_order(t: Tensor):
    """The dims of t by decreasing stride (TensorIterator's iteration order, outermost first)."""
    return sorted(range(len(t._shape)), key=lambda d: -t._stride[d] if t._shape[d] != 1 else 0)


def _generate(t: Tensor, produce) -> Tensor:
    """produce(address, n) writes numel(t) samples of t's dtype in order; they land in t in memory order."""
    n = t.numel()
    if n == 0:
        return t
    order = _memory_order(t)
    shape = tuple(t._shape[d] for d in order)
    stride = tuple(t._stride[d] for d in order)
    if is_contiguous(shape, stride):
        produce(t._addr, n)
    else:
        buffer = empty_tensor(shape, t._dtype)
        produce(buffer._addr, n)
        copy_into(view_of(t, shape, stride, t._offset), buffer)
    return t


def _fill(t, sampler, generator, a=0.0, b=0.0, range_=0, base=0):
    gen = generator_of(generator)._handle
    fill16 = 1 if is_contiguous(t._shape, t._stride) else 0
    return _generate(t, lambda addr, n: check(lib.ft_rng_fill(gen, sampler, t._dtype.code, n, addr, fill16,
                                                              float(a), float(b), range_, base)))


def _written(t):
    t._bump_version()
    return t


def _check_self(name, self):
    if not isinstance(self, Tensor):
        raise TypeError(f"{name}(): argument 'self' must be Tensor, not {type(self).__name__}")
    from engine._tensor import check_no_internal_overlap

    check_no_internal_overlap(self)


def _float_only(self, kernel):
    if not self._dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_type_name(self._dtype)}'")


def _number(name, value):
    if isinstance(value, Tensor):
        return value.item()
    return value


# ---- in-place samplers (Tensor methods) ----

@tensor_method("uniform_")
def uniform_(self, from_=0, to=1, *, generator=None, **kwargs):
    if "from" in kwargs:
        from_ = kwargs.pop("from")
    _check_self("uniform_", self)
    _float_only(self, "check_uniform_bounds")
    from_, to = float(_number("uniform_", from_)), float(_number("uniform_", to))
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_fmt(from_)} > to={_fmt(to)}")
    info = _finfo(self._dtype)
    if to - from_ > info:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{_ctype(self._dtype)}>::max(), but found "
                           f"to={_fmt(to)} and from={_fmt(from_)} which result in to-from to exceed the limit")
    return _written(_fill(self, lib.FT_RNG_UNIFORM, generator, from_, to))


def _fmt(v):
    return f"{v:g}" if v != int(v) or abs(v) >= 1e16 else str(int(v))


def _finfo(dtype):
    return 3.4028234663852886e38 if dtype is dt.float32 else 1.7976931348623157e308


def _ctype(dtype):
    return {dt.float32: "float", dt.float64: "double"}.get(dtype, "double")


def _check_std(std):
    if std < 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")


@tensor_method("normal_")
def normal_(self, mean=0, std=1, *, generator=None):
    _check_self("normal_", self)
    mean, std = float(_number("normal_", mean)), float(_number("normal_", std))
    _check_std(std)
    _float_only(self, "normal_kernel_cpu")
    return _written(_fill(self, lib.FT_RNG_NORMAL, generator, mean, std))


def _check_p(p):
    if not (0 <= p <= 1):
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_fmt(p)}")


def _bernoulli_tensor_into(self, p: Tensor, generator):
    if not p._dtype.is_floating_point:
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_type_name(p._dtype)}'")
    from engine._views import expand

    expanded = expand(p, *self._shape) if p._shape != self._shape else p
    order = _memory_order(self)
    shape = tuple(self._shape[d] for d in order)
    p_view = view_of(expanded, shape, tuple(expanded._stride[d] for d in order), expanded._offset)
    p_flat = empty_tensor(shape, p._dtype)
    copy_into(p_flat, p_view)
    if self.numel() and not bool(((p_flat >= 0) & (p_flat <= 1)).all()):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
                           "improved?  If so, please report an enhancement request to PyTorch.)")
    gen = generator_of(generator)._handle
    return _generate(self, lambda addr, n: check(lib.ft_rng_bernoulli_tensor(gen, self._dtype.code, n, addr,
                                                                              p._dtype.code, p_flat._addr)))


@tensor_method("bernoulli_")
def bernoulli_(self, p=0.5, *, generator=None):
    _check_self("bernoulli_", self)
    if isinstance(p, Tensor):
        return _written(_bernoulli_tensor_into(self, p, generator))
    p = float(p)
    _check_p(p)
    return _written(_fill(self, lib.FT_RNG_BERNOULLI, generator, p))


_INT_RANGES = {
    dt.bool: (0, 1), dt.uint8: (0, 255), dt.int8: (-128, 127), dt.int16: (-32768, 32767),
    dt.int32: (-(1 << 31), (1 << 31) - 1), dt.int64: (-(1 << 63), (1 << 63) - 1),
    dt.float32: (-(1 << 24), 1 << 24), dt.float64: (-(1 << 53), 1 << 53),
}
_C_NAMES = {dt.bool: "bool", dt.uint8: "unsigned char", dt.int8: "signed char", dt.int16: "short", dt.int32: "int",
            dt.int64: "long", dt.float32: "float", dt.float64: "double"}


def _random_from_to(self, from_, to, generator):
    lo, hi = _INT_RANGES[self._dtype]
    if to is None:
        if from_ == -(1 << 63) and self._dtype in (dt.int64, dt.float32, dt.float64):
            return _fill(self, lib.FT_RNG_RANDOM_FULL64, generator)
        to = hi + 1 if not self._dtype.is_floating_point else hi + 1
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' casted to "
                               f"dtype, but got from={from_} > to_inc={hi}")
    else:
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
        if not (lo <= from_ <= hi):
            raise RuntimeError(f"from is out of bounds for {_C_NAMES[self._dtype]}")
        if not (lo <= to - 1 <= hi):
            raise RuntimeError(f"to - 1 is out of bounds for {_C_NAMES[self._dtype]}")
    return _fill(self, lib.FT_RNG_RANDOM_FROM_TO, generator, range_=int(to - from_), base=int(from_))


_MISSING = object()


@tensor_method("random_")
def random_(self, from_=_MISSING, to=_MISSING, *, generator=None, **kwargs):
    """random_(), random_(to), random_(from, to) and random_(from, None) (up to the dtype's maximum)."""
    if "from" in kwargs:
        from_ = kwargs.pop("from")
    _check_self("random_", self)
    if from_ is _MISSING and to is _MISSING:
        return _written(_fill(self, lib.FT_RNG_RANDOM, generator))
    if to is _MISSING:
        return _written(_random_from_to(self, 0, _int_arg("random_", from_), generator))
    from_ = 0 if from_ is _MISSING else _int_arg("random_", from_)
    return _written(_random_from_to(self, from_, None if to is None else _int_arg("random_", to), generator))


@tensor_method("exponential_")
def exponential_(self, lambd=1, *, generator=None):
    _check_self("exponential_", self)
    lambd = float(lambd)
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(lambd)}")
    if not self._dtype.is_floating_point:
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_type_name(self._dtype)}")
    return _written(_fill(self, lib.FT_RNG_EXPONENTIAL, generator, lambd))


@tensor_method("geometric_")
def geometric_(self, p, *, generator=None):
    _check_self("geometric_", self)
    p = float(p)
    if not (0 < p < 1):
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(p)}")
    return _written(_fill(self, lib.FT_RNG_GEOMETRIC, generator, p))


@tensor_method("log_normal_")
def log_normal_(self, mean=1, std=2, *, generator=None):
    _check_self("log_normal_", self)
    mean, std = float(mean), float(std)
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(std)}")
    _float_only(self, "log_normal_cpu")
    return _written(_fill(self, lib.FT_RNG_LOG_NORMAL, generator, mean, std))


@tensor_method("cauchy_")
def cauchy_(self, median=0, sigma=1, *, generator=None):
    _check_self("cauchy_", self)
    sigma = float(sigma)
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(sigma)}")
    _float_only(self, "cauchy_cpu")
    return _written(_fill(self, lib.FT_RNG_CAUCHY, generator, float(median), sigma))


# ---- factories ----

def _factory_shape(size, name=None):
    """The shape of a size argument; name: a varargs factory (rand, randn) that, like torch's, needs one."""
    from engine._factories import _shape_args

    if name is not None and not size:  # torch's parser requires a size (rand() is not a 0-dim tensor)
        raise TypeError(f"{name}() received an invalid combination of arguments - got (), but expected one of:\n"
                        " * (tuple of ints size, *, torch.Generator generator, Tensor out = None, torch.dtype dtype = "
                        "None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool "
                        "requires_grad = False)")
    return _shape_args(size)


def _new(shape, dtype, out, requires_grad=False):
    if out is not None:
        from engine._views import resize_

        if dtype is not None and out._dtype is not dtype:
            raise RuntimeError(f"dtype {dtype} does not match dtype of out parameter ({out._dtype})")
        return resize_(out, shape)
    return empty_tensor(shape, dtype)


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def _like(input, dtype, memory_format):
    from engine._factories import _like_layout

    return empty_tensor(input._shape, dtype or input._dtype, _like_layout(input, memory_format))


@op("rand", dtypes=FLOATING, family=FAMILY)
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    """`torch.rand`: https://pytorch.org/docs/stable/generated/torch.rand.html"""
    t = _new(_factory_shape(size, "rand"), dtype or (out._dtype if out is not None else dt.get_default_dtype()), out)
    _float_only(t, "check_uniform_bounds")
    return _finish(_fill(t, lib.FT_RNG_UNIFORM, generator, 0.0, 1.0), requires_grad)


@op("rand_like", dtypes=FLOATING, family=FAMILY)
def rand_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """`torch.rand_like`: https://pytorch.org/docs/stable/generated/torch.rand_like.html"""
    t = _like(input, dtype, memory_format)
    _float_only(t, "check_uniform_bounds")
    return _finish(_fill(t, lib.FT_RNG_UNIFORM, generator, 0.0, 1.0), requires_grad)


@op("randn", dtypes=FLOATING, family=FAMILY)
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    """`torch.randn`: https://pytorch.org/docs/stable/generated/torch.randn.html"""
    t = _new(_factory_shape(size, "randn"), dtype or (out._dtype if out is not None else dt.get_default_dtype()), out)
    _float_only(t, "normal_kernel_cpu")
    return _finish(_fill(t, lib.FT_RNG_NORMAL, generator, 0.0, 1.0), requires_grad)


@op("randn_like", dtypes=FLOATING, family=FAMILY)
def randn_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    """`torch.randn_like`: https://pytorch.org/docs/stable/generated/torch.randn_like.html"""
    t = _like(input, dtype, memory_format)
    _float_only(t, "normal_kernel_cpu")
    return _finish(_fill(t, lib.FT_RNG_NORMAL, generator, 0.0, 1.0), requires_grad)


def _int_arg(name, value):
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, builtins.float):
        value = int(value)
    return value


@op("randint", dtypes=ALL - {"bool"} | {"bool"}, family=FAMILY)
def randint(*args, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
            pin_memory=False, **kwargs):
    """`torch.randint(low=0, high, size)`: https://pytorch.org/docs/stable/generated/torch.randint.html"""
    args = list(args)
    if "size" in kwargs:
        args.append(kwargs.pop("size"))
    if "high" in kwargs:
        args.insert(0 if not args else len(args) - 1, kwargs.pop("high"))
    if "low" in kwargs:
        args.insert(0, kwargs.pop("low"))
    if kwargs:
        raise TypeError(f"randint() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if len(args) == 2:
        low, high, size = 0, args[0], args[1]
    elif len(args) == 3:
        low, high, size = args
    else:
        raise TypeError(f"randint() takes 2 or 3 positional arguments but {len(args)} were given")
    low, high = _int_arg("randint", low), _int_arg("randint", high)
    t = _new(_factory_shape(size), dtype or (out._dtype if out is not None else dt.int64), out)
    _random_from_to(t, low, high, generator)
    return _finish(t, requires_grad)


@op("randint_like", dtypes=ALL, family=FAMILY)
def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    """`torch.randint_like`: https://pytorch.org/docs/stable/generated/torch.randint_like.html"""
    if high is None:
        low, high = 0, low
    low, high = _int_arg("randint_like", low), _int_arg("randint_like", high)
    t = _like(input, dtype, memory_format)
    _random_from_to(t, low, high, generator)
    return _finish(t, requires_grad)


@op("randperm", dtypes=ALL - {"bool"}, family=FAMILY)
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """`torch.randperm`: https://pytorch.org/docs/stable/generated/torch.randperm.html"""
    n = _int_arg("randperm", n)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dtype = dtype or (out._dtype if out is not None else dt.int64)
    if dtype is dt.bool:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    lo, hi = _INT_RANGES[dtype]
    if n > 0 and n - 1 > hi:
        raise RuntimeError(f"n must be within [0, {hi + 1}] for randperm with dtype {_type_name(dtype)}... ")
    t = _new((n,), dtype, out)
    gen = generator_of(generator)._handle
    if n:
        buffer = t if is_contiguous(t._shape, t._stride) else empty_tensor((n,), dtype)
        check(lib.ft_rng_randperm(gen, dtype.code, n, buffer._addr))
        if buffer is not t:
            copy_into(t, buffer)
    return _finish(t, requires_grad)


# ---- bernoulli, normal ----

@op("bernoulli", dtypes=ALL, method=True, family=FAMILY)
def bernoulli(input, p=None, *, generator=None, out=None):
    """`torch.bernoulli`: https://pytorch.org/docs/stable/generated/torch.bernoulli.html"""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if out is not None:
        from engine._views import resize_

        result = resize_(out, input._shape)
    else:
        from engine._factories import _like_layout

        result = empty_tensor(input._shape, input._dtype, _like_layout(input, None))
    if p is None:
        _bernoulli_tensor_into(result, input, generator)
    else:
        p = float(p)
        _check_p(p)
        _fill(result, lib.FT_RNG_BERNOULLI, generator, p)
    return result


def _normal_out(shape, dtype, out):
    if out is not None:
        from engine._views import resize_

        return resize_(out, shape)
    return empty_tensor(shape, dtype)


@op("normal", dtypes=FLOATING, family=FAMILY, aten=("normal",))
def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           pin_memory=False, requires_grad=False):
    """`torch.normal`: all four overloads (Tensor/float mean x Tensor/float std, and float, float, size)."""
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_t and not std_t:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got (float, float), but "
                            "expected one of: (Tensor mean, Tensor std), (Tensor mean, float std), "
                            "(float mean, Tensor std), (float mean, float std, tuple of ints size)")
        mean, std = float(mean), float(std)
        _check_std(std)
        t = _normal_out(_factory_shape((size,) if isinstance(size, int) else size),
                        dtype or (out._dtype if out is not None else dt.get_default_dtype()), out)
        _float_only(t, "normal_kernel_cpu")
        return _finish(_fill(t, lib.FT_RNG_NORMAL, generator, mean, std), requires_grad)
    if mean_t and not std_t:
        std = float(std)
        _check_std(std)
        t = _normal_out(mean._shape, mean._dtype, out)
        _float_only(t, "normal_kernel_cpu")
        _fill(t, lib.FT_RNG_NORMAL, generator, 0.0, std)
        return t.add_(mean)
    if std_t and not mean_t:
        mean = float(mean)
        if std.numel() and bool((std < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        t = _normal_out(std._shape, std._dtype, out)
        _float_only(t, "normal_kernel_cpu")
        _fill(t, lib.FT_RNG_NORMAL, generator, 0.0, 1.0)
        from engine._factories import full

        return t.mul_(std).add_(full((), mean, dtype=t._dtype))
    if std.numel() and bool((std < 0).any()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    shape = broadcast_pair(mean._shape, std._shape)
    t = _normal_out(shape, mean._dtype, out)
    _float_only(t, "normal_kernel_cpu")
    _fill(t, lib.FT_RNG_NORMAL, generator, 0.0, 1.0)
    return t.mul_(std).add_(mean)


# ---- dropout ----

@op("nn.functional.dropout", dtypes=FLOATING, family=FAMILY, aten=("dropout",))
def dropout(input, p=0.5, training=True, inplace=False):
    """`torch.nn.functional.dropout`: torch's CPU path (_dropout_impl): a bernoulli(1 - p) mask in
    the input's dtype, divided by 1 - p, times the input."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if p == 0 or not training or input.numel() == 0:
        return input
    if p == 1:
        from engine._factories import zeros

        zero = zeros((), dtype=input._dtype)
        return input.mul_(zero) if inplace else input * zero
    from engine._factories import _like_layout

    noise = empty_tensor(input._shape, input._dtype, _like_layout(input, None))
    _fill(noise, lib.FT_RNG_BERNOULLI, None, 1 - p)
    noise.div_(1 - p)
    return input.mul_(noise) if inplace else input * noise
