"""Untyped storage: one block of bytes shared by a tensor and all its views."""
from __future__ import annotations

from engine._kernel import check, ffi, lib


class UntypedStorage:
    """Bytes owned by the engine's allocator, or borrowed from another object
    (a numpy array for `from_numpy`), which the storage then keeps alive."""

    __slots__ = ("_addr", "_nbytes", "_owner", "_retired", "__weakref__")

    def __init__(self, nbytes: int, *, zero: bool = False, _addr: int = 0, _owner=None):
        if _addr:
            self._addr = _addr
            self._owner = _owner
        else:
            if nbytes < 0:
                raise RuntimeError(f"Storage size calculation overflowed or is negative: {nbytes}")
            addr = lib.ft_alloc(nbytes, 1 if zero else 0)
            if not addr:
                check(lib.ft_alloc(-1, 0) or 6)  # surfaces the allocator's message
            self._addr = addr
            self._owner = None
        self._nbytes = nbytes
        self._retired = None

    @classmethod
    def borrow(cls, addr: int, nbytes: int, owner) -> "UntypedStorage":
        return cls(nbytes, _addr=addr, _owner=owner)

    def __del__(self):
        if self._owner is None and self._addr:
            lib.ft_free(self._addr, self._nbytes)
            self._addr = 0
        for addr, nbytes in self._retired or ():
            lib.ft_free(addr, nbytes)

    def data_ptr(self) -> int:
        return self._addr

    def nbytes(self) -> int:
        return self._nbytes

    def size(self) -> int:
        return self._nbytes

    def __len__(self):
        return self._nbytes

    def resize_(self, nbytes: int) -> None:
        """Grow to nbytes, keeping the contents (torch's resize_ of a storage)."""
        if nbytes <= self._nbytes:
            self._nbytes = nbytes if self._owner is None else self._nbytes
            return
        if self._owner is not None:
            raise RuntimeError("Trying to resize storage that is not resizable")
        addr = lib.ft_alloc(nbytes, 1)
        if not addr:
            raise RuntimeError(f"DefaultCPUAllocator: not enough memory: you tried to allocate {nbytes} bytes.")
        ffi.memmove(ffi.cast("char *", addr), ffi.cast("char *", self._addr), self._nbytes)
        # Tensors cache their data address; the old block stays allocated until the
        # storage dies so a stale address can never point at freed memory.
        if self._retired is None:
            self._retired = []
        self._retired.append((self._addr, self._nbytes))
        self._addr = addr
        self._nbytes = nbytes

    def tobytes(self) -> bytes:
        return bytes(ffi.buffer(ffi.cast("char *", self._addr), self._nbytes))
