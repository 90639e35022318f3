"""The Wasm memory of a live instance, with copy-on-write transactions over a memory file.

wasmtime allocates the linear memory (a reservation that does not move, ``memory_may_move`` off);
:class:`Heap` then maps a memfd holding the *committed* contents privately over it, at the same
address.  From there on the canister's writes land in private copies of pages, so:

- the pages a message wrote are the private pages of the range (:mod:`.pagemap` asks the kernel);
- rolling back is ``MADV_DONTNEED`` on those pages (the file's committed pages show through again);
- committing writes those pages into the file, then drops the private copies.

Each step costs in proportion to the pages the message wrote, not to the heap.  ``memory.grow`` makes
wasmtime open more of its own (anonymous) reservation past the mapping: a commit writes the grown
part's written pages into the file, extends it, and maps the new part from the file too.  A grown
memory cannot be shrunk in place, so a rollback after growth is the caller's to do (a new instance).
"""

from __future__ import annotations

import ctypes
import os
import weakref

import wasmtime

from . import pagemap
from .pagemap import PAGE

__all__ = ["Heap"]

_ZERO_PAGE = bytes(PAGE)


class Heap:
    """A linear memory whose changes are kept or dropped per message, page by page.

    ``committed`` is the byte length of the committed contents (the file's size).
    """

    def __init__(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        self._store = store
        self._memory = memory
        self.base = ctypes.cast(memory.data_ptr(store), ctypes.c_void_p).value or 0
        self.committed = memory.data_len(store)
        self._fd = os.memfd_create("icp-local-heap", os.MFD_CLOEXEC)
        self._finalizer = weakref.finalize(self, os.close, self._fd)
        os.ftruncate(self._fd, self.committed)

    # -- setting up -------------------------------------------------------------------------------

    def adopt_current(self) -> None:
        """Makes the memory's present contents (a fresh instance's data segments) the committed state."""
        for index in pagemap.written_pages(self.base, self.committed):
            os.pwrite(self._fd, self.page(index), index * PAGE)
        pagemap.map_file_private(self.base, self.committed, self._fd, 0)

    def load(self, pages: dict[int, bytes] | None, size: int) -> None:
        """Makes ``pages`` (4 KiB pages by index, others zero) of a ``size``-byte memory the committed state.

        Raises:
            ValueError: if the memory cannot be grown to ``size`` or a page lies past it.
        """
        self._grow_to(size)
        os.ftruncate(self._fd, size)
        self.committed = size
        for index, data in (pages or {}).items():
            if (index + 1) * PAGE > size:
                raise ValueError(f"page {index} lies past the memory's end ({size} bytes)")
            os.pwrite(self._fd, data, index * PAGE)
        pagemap.map_file_private(self.base, size, self._fd, 0)

    def _grow_to(self, size: int) -> None:
        current = self._memory.data_len(self._store)
        if size < current:
            raise ValueError(f"cannot shrink a memory of {current} bytes to {size}")
        if size > current:
            self._memory.grow(self._store, (size - current) // 65536)
        if self._memory.data_len(self._store) != size:
            raise ValueError(f"cannot grow the memory to {size} bytes")

    def rebind(self, store: wasmtime.Store, memory: wasmtime.Memory) -> None:
        """Maps the committed file over another instance's memory (a fresh one, after a rollback of growth).

        Raises:
            ValueError: if that memory cannot be grown to the committed length.
        """
        self._store = store
        self._memory = memory
        self.base = ctypes.cast(memory.data_ptr(store), ctypes.c_void_p).value or 0
        self._grow_to(self.committed)
        pagemap.map_file_private(self.base, self.committed, self._fd, 0)

    def apply(self, pages: dict[int, bytes], size: int) -> None:
        """Makes ``pages`` and ``size`` bytes committed: another process's kept messages, read from storage.

        Nothing may be pending. Raises:
            ValueError: if ``size`` is below the committed size or the memory cannot grow to it.
        """
        if size < self.committed:
            raise ValueError(f"cannot shrink a memory of {self.committed} bytes to {size}")
        if size > self.committed:
            self._grow_to(size)
            os.ftruncate(self._fd, size)
        for index, data in pages.items():
            if (index + 1) * PAGE > size:
                raise ValueError(f"page {index} lies past the memory's end ({size} bytes)")
            os.pwrite(self._fd, data, index * PAGE)
        if size > self.committed:
            pagemap.map_file_private(
                self.base + self.committed, size - self.committed, self._fd, self.committed
            )
        self.committed = size

    # -- per message ------------------------------------------------------------------------------

    @property
    def length(self) -> int:
        """The memory's current length in bytes (grows during a message)."""
        return self._memory.data_len(self._store)

    def written(self) -> list[int]:
        """Indices of the pages written since the last commit or rollback (grown pages included)."""
        return pagemap.written_pages(self.base, self.length)

    def page(self, index: int) -> bytes:
        """The current content of page ``index``."""
        return ctypes.string_at(self.base + index * PAGE, PAGE)

    def commit(self, pages: list[int], contents: dict[int, bytes] | None = None) -> dict[int, bytes]:
        """Makes the written ``pages`` committed (``contents``: their bytes, if already read); returns them.

        Raises:
            OSError: if writing the memory file fails.
        """
        if contents is None:
            contents = {index: self.page(index) for index in pages}
        length = self.length
        if length > self.committed:
            os.ftruncate(self._fd, length)
        for start, stop in _runs(pages):
            os.pwrite(self._fd, b"".join(contents[i] for i in range(start, stop)), start * PAGE)
        if length > self.committed:
            pagemap.map_file_private(
                self.base + self.committed, length - self.committed, self._fd, self.committed
            )
        self._discard(pages)
        self.committed = length
        return contents

    def rollback(self, pages: list[int]) -> None:
        """Drops the written ``pages`` (the memory must not have grown since the last commit)."""
        self._discard(pages)

    def _discard(self, pages: list[int]) -> None:
        limit = self.committed // PAGE
        for start, stop in _runs([p for p in pages if p < limit]):
            pagemap.discard(self.base + start * PAGE, (stop - start) * PAGE)

    # -- whole state ------------------------------------------------------------------------------

    def snapshot(self) -> dict[int, bytes]:
        """The non-zero committed pages (O(heap): for install, upgrade and exports of a whole state)."""
        pages: dict[int, bytes] = {}
        for offset in range(0, self.committed, 256 * PAGE):
            chunk = os.pread(self._fd, min(256 * PAGE, self.committed - offset), offset)
            for i in range(0, len(chunk), PAGE):
                if chunk[i : i + PAGE] != _ZERO_PAGE:
                    pages[(offset + i) // PAGE] = chunk[i : i + PAGE]
        return pages

    def close(self) -> None:
        """Closes the memory file (the mapping goes with wasmtime's memory)."""
        self._finalizer()
        self._fd = -1


def _runs(pages: list[int]) -> list[tuple[int, int]]:
    """Sorted page indices as contiguous [start, stop) runs."""
    runs: list[tuple[int, int]] = []
    for index in sorted(pages):
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs
