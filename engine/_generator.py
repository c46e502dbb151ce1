"""torch.Generator and the default CPU generator: the state lives in C (csrc/random.c), an
mt19937 engine seeded and laid out exactly like torch's CPUGeneratorImpl, so the same seed
gives the same numbers as torch and get_rng_state() is a byte tensor torch itself accepts."""
from __future__ import annotations

import builtins
import os

from engine import _dtype as dt
from engine._kernel import check, lib

DEFAULT_SEED = 67280421310721  # c10::detail::default_rng_seed_val


def _non_deterministic_seed() -> int:
    return int.from_bytes(os.urandom(8), "little")


class Generator:
    """`torch.Generator`: https://pytorch.org/docs/stable/generated/torch.Generator.html"""

    def __init__(self, device="cpu"):
        from engine._device import as_device

        self._device = as_device(device)
        handle = lib.ft_gen_new(DEFAULT_SEED)
        if not handle:
            raise RuntimeError("Generator: out of memory")
        self._handle = handle

    def __del__(self, _free=lib.ft_gen_free):
        handle = getattr(self, "_handle", 0)
        if handle:
            self._handle = 0
            _free(handle)

    @property
    def device(self):
        return self._device

    def manual_seed(self, seed):
        seed = _seed_value(seed)
        lib.ft_gen_manual_seed(self._handle, seed)
        return self

    def seed(self) -> int:
        value = _non_deterministic_seed()
        lib.ft_gen_manual_seed(self._handle, value)
        return value

    def initial_seed(self) -> int:
        return int(lib.ft_gen_initial_seed(self._handle))

    def get_state(self):
        from engine._tensor import empty_tensor

        size = int(lib.ft_gen_state_size())
        state = empty_tensor((size,), dt.uint8)
        check(lib.ft_gen_get_state(self._handle, state._addr, size))
        return state

    def set_state(self, new_state):
        from engine._tensor import Tensor, empty_tensor, copy_into

        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._dtype is not dt.uint8:
            raise RuntimeError(f"expected a torch.ByteTensor, but got {new_state._dtype}")  # torch: RNG state must be a torch.ByteTensor
        flat = empty_tensor((new_state.numel(),), dt.uint8)
        if new_state.numel():
            copy_into(flat, new_state.reshape(-1))
        check(lib.ft_gen_set_state(self._handle, flat._addr, new_state.numel()))
        return self

    def clone_state(self):
        other = Generator(self._device)
        lib.ft_gen_copy(other._handle, self._handle)
        return other

    def __repr__(self):
        return f"<engine.Generator object at {hex(id(self))}>"


def _seed_value(seed) -> int:
    if isinstance(seed, builtins.bool) or not hasattr(seed, "__index__"):
        raise TypeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed.__index__())
    if seed < -(1 << 63) or seed >= (1 << 64):
        raise RuntimeError(f"Overflow when unpacking long")
    return seed & 0xFFFFFFFFFFFFFFFF


default_generator = Generator()
default_generator.manual_seed(_non_deterministic_seed())


def generator_of(generator) -> Generator:
    if generator is None:
        return default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"expected a Generator, but got {type(generator).__name__}")
    return generator


def manual_seed(seed):
    """`torch.manual_seed`: seeds the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)
