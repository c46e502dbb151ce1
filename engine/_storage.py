"""Untyped storage: one block of bytes shared by a tensor and all its views.

A storage's memory is owned by a Python object it holds in `_block`, so freeing
happens when the last reference goes, with no `__del__` on the storage itself:
- small blocks (<= SMALL_BLOCK_BYTES) are cffi-owned arrays (`ffi.new`): one
  allocation that CPython's small-object allocator recycles and frees
  natively, far cheaper than a trip to the C allocator and back on every op;
- larger blocks come from the engine's allocator (csrc/alloc.c, where pooling
  and huge pages live) and are returned to it by `_AllocatorBlock.__del__`;
- borrowed memory (`from_numpy`) is kept alive by its owner (the array).
"""
from __future__ import annotations

from engine._kernel import ffi, lib, raise_status

# Blocks up to this size come from ffi.new (16-byte aligned, zero-filled);
# larger ones from ft_alloc (64-byte aligned, huge pages for big blocks).
SMALL_BLOCK_BYTES = 4096

_new_block = ffi.new
_cast = ffi.cast
_CHAR_ARRAY = ffi.typeof("char[]")  # resolved once: ffi.new with a string looks the type up each call


class _AllocatorBlock:
    """A block from ft_alloc, freed when the last storage holding it goes."""

    __slots__ = ("addr", "nbytes")

    def __init__(self, nbytes: int, zero: bool):
        self.addr, self.nbytes = 0, nbytes  # set before anything can fail, so __del__ always finds them
        addr = lib.ft_alloc(nbytes, 1 if zero else 0)
        if not addr:
            raise_status(lib.FT_ERR_NOMEM)  # the allocator's own message ("not enough memory: ...")
        self.addr = addr

    def __del__(self):
        lib.ft_free(self.addr, self.nbytes)


def _block_address(block) -> int:
    return int(_cast("intptr_t", block))


def _probe_inline_offset():
    """cffi keeps a small owned array's bytes inside the cdata object, at a fixed
    offset from the object's address (id() in CPython). When that holds for this
    cffi, `id(block) + offset` finds the data without a cast; checked here, at
    import, on several sizes, and never assumed otherwise."""
    offsets = set()
    for n in (1, 16, 100, 512, 2048, SMALL_BLOCK_BYTES):
        probes = [_new_block(_CHAR_ARRAY, n) for _ in range(4)]
        offsets.update(_block_address(p) - id(p) for p in probes)
    if len(offsets) == 1:
        offset = offsets.pop()
        if 0 < offset <= 64:
            return offset
    return None


_INLINE_OFFSET = _probe_inline_offset()


def new_block(nbytes: int):
    """(owner, address) of a fresh block of nbytes (small blocks come zero-filled, large ones uninitialised)."""
    if nbytes <= SMALL_BLOCK_BYTES:
        block = _new_block(_CHAR_ARRAY, nbytes or 1)  # a real address for empty tensors, like torch's
        return block, (id(block) + _INLINE_OFFSET if _INLINE_OFFSET is not None else _block_address(block))
    block = _AllocatorBlock(nbytes, False)
    return block, block.addr


class UntypedStorage:
    """Bytes owned by the engine, or borrowed from another object (a numpy
    array for `from_numpy`), which the storage then keeps alive."""

    __slots__ = ("_addr", "_nbytes", "_block", "_borrowed", "__weakref__")

    def __init__(self, nbytes: int, *, zero: bool = False, _addr: int = 0, _owner=None):
        if _addr:
            self._addr = _addr
            self._block = _owner
            self._borrowed = True
        else:
            if nbytes < 0:
                raise RuntimeError(f"Storage size calculation overflowed or is negative: {nbytes}")
            if nbytes <= SMALL_BLOCK_BYTES:
                self._block, self._addr = new_block(nbytes)  # ffi.new zero-fills
            else:
                block = _AllocatorBlock(nbytes, zero)
                self._block, self._addr = block, block.addr
            self._borrowed = False
        self._nbytes = nbytes

    @classmethod
    def borrow(cls, addr: int, nbytes: int, owner) -> "UntypedStorage":
        return cls(nbytes, _addr=addr, _owner=owner)

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
            self._nbytes = nbytes if not self._borrowed else self._nbytes
            return
        if self._borrowed:
            raise RuntimeError("Trying to resize storage that is not resizable")
        if nbytes <= SMALL_BLOCK_BYTES:
            block, addr = new_block(nbytes)
        else:
            block = _AllocatorBlock(nbytes, True)
            addr = block.addr
        ffi.memmove(ffi.cast("char *", addr), ffi.cast("char *", self._addr), self._nbytes)
        # Tensors cache their data address; the old block stays allocated until the
        # storage dies (chained behind the new one) so a stale address never points at freed memory.
        self._block = (block, self._block)
        self._addr = addr
        self._nbytes = nbytes

    def tobytes(self) -> bytes:
        return bytes(ffi.buffer(ffi.cast("char *", self._addr), self._nbytes))


_new_storage = object.__new__  # engine._tensor.new_contiguous builds storages without __init__
