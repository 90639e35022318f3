"""Stable memory: committed 4 KiB pages plus the pages a running message wrote (a dirty overlay).

Reads see the overlay first, then the committed pages, then zeros; writes go to the overlay only.
Committing folds the overlay into the committed pages and returns it (the message's stable delta);
rolling back forgets it.  Both cost what the message touched.
"""

from __future__ import annotations

from .pagemap import PAGE

__all__ = ["MAX_STABLE_PAGES", "StableMemory", "StableOutOfBounds"]

WASM_PAGE = 65536
MAX_STABLE_PAGES = 500 * 1024 * 1024 * 1024 // WASM_PAGE
_ZERO = bytes(PAGE)


class StableOutOfBounds(Exception):
    """An access past the end of the stable memory."""


class StableMemory:
    """The stable memory of one canister; sizes are in 64 KiB Wasm pages."""

    def __init__(self, size: int = 0, pages: dict[int, bytes] | None = None) -> None:
        self._pages: dict[int, bytes] = dict(pages or {})
        self._size = size
        self._dirty: dict[int, bytes] = {}
        self._new_size = size

    @property
    def size(self) -> int:
        """The current size in Wasm pages (including growth by the running message)."""
        return self._new_size

    def grow(self, pages: int, limit: int = MAX_STABLE_PAGES) -> int:
        """Grows by ``pages`` zero pages; returns the previous size, or -1 past ``limit``."""
        old = self._new_size
        if old + pages > limit:
            return -1
        self._new_size = old + pages
        return old

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes from ``offset``.

        Raises:
            StableOutOfBounds: if the range runs past the end.
        """
        self._check(offset, size)
        parts = []
        while size:
            index, within = divmod(offset, PAGE)
            take = min(size, PAGE - within)
            parts.append(self._page(index)[within : within + take])
            offset += take
            size -= take
        return b"".join(parts)

    def write(self, offset: int, data: bytes) -> None:
        """Writes ``data`` at ``offset`` (into the overlay).

        Raises:
            StableOutOfBounds: if the range runs past the end.
        """
        self._check(offset, len(data))
        done = 0
        while done < len(data):
            index, within = divmod(offset + done, PAGE)
            take = min(len(data) - done, PAGE - within)
            if take == PAGE:
                self._dirty[index] = bytes(data[done : done + PAGE])
            else:
                page = bytearray(self._page(index))
                page[within : within + take] = data[done : done + take]
                self._dirty[index] = bytes(page)
            done += take

    def _page(self, index: int) -> bytes:
        page = self._dirty.get(index)
        if page is None:
            page = self._pages.get(index, _ZERO)
        return page

    def _check(self, offset: int, size: int) -> None:
        if offset + size > self._new_size * WASM_PAGE:
            raise StableOutOfBounds(f"{offset} + {size} > {self._new_size * WASM_PAGE}")

    @property
    def committed_size(self) -> int:
        """The committed size in Wasm pages."""
        return self._size

    def pending(self) -> dict[int, bytes]:
        """The pages the running message wrote, with their new contents."""
        return dict(self._dirty)

    def commit(self) -> dict[int, bytes]:
        """Keeps the running message's writes and growth; returns the pages it wrote."""
        dirty, self._dirty = self._dirty, {}
        self._pages.update(dirty)
        self._size = self._new_size
        return dirty

    def rollback(self) -> None:
        """Forgets the running message's writes and growth."""
        self._dirty = {}
        self._new_size = self._size

    def apply(self, pages: dict[int, bytes], size: int) -> None:
        """Makes ``pages`` and ``size`` committed (kept messages read back from storage); nothing may be pending."""
        self._pages.update(pages)
        self._size = self._new_size = size
        self._dirty = {}

    def snapshot(self) -> dict[int, bytes]:
        """The committed non-zero pages."""
        return {index: page for index, page in self._pages.items() if page != _ZERO}

    def copy_current(self) -> StableMemory:
        """A new stable memory whose committed state is this one's current state (overlay included)."""
        return StableMemory(self._new_size, {**self._pages, **self._dirty})
