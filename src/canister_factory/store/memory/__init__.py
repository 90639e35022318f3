"""The store port in memory: the store of the use cases' unit tests, with the SQL store's transaction semantics.

A write transaction works on a copy of the state, taken under the one writer lock, and the copy replaces the
state when the block returns; a block that raises leaves the state as it was (rollback). A read transaction
works on a copy too: it sees one snapshot and what it writes is dropped. Every stored value is immutable (frozen
records, bytes, tuples), so a copy copies the dictionaries only: cheap for the states unit tests build.

A write transaction opened inside another on the same thread raises ``StoreError`` (on SQLite it would wait
for itself until the busy timeout). ``tests/integration/store`` holds this implementation to the same
contract as the SQL one.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from canister_factory._core.errors import StoreError
from canister_factory.store.memory.cycles import MemoryChunkStores, MemorySpends
from canister_factory.store.memory.registry import MemoryCallers, MemoryCreations, MemorySpares
from canister_factory.store.memory.settings import MemoryCounters, MemorySettings
from canister_factory.store.memory.state import Tables
from canister_factory.store.memory.uploads import MemoryModules, MemoryUploads

if TYPE_CHECKING:
    from canister_factory.unit_of_work import UnitOfWork

__all__ = ["MemoryTransaction", "MemoryUnitOfWork"]


class MemoryTransaction:
    """The concerns of one transaction, each over the transaction's copy of the state."""

    def __init__(self, state: Tables) -> None:
        self.counters = MemoryCounters(state)
        self.settings = MemorySettings(state, self.counters)
        self.modules = MemoryModules(state, self.counters)
        self.uploads = MemoryUploads(state, self.counters, self.modules)
        self.callers = MemoryCallers(state, self.counters)
        self.creations = MemoryCreations(state)
        self.spares = MemorySpares(state)
        self.spends = MemorySpends(state)
        self.chunk_stores = MemoryChunkStores(state)


class MemoryUnitOfWork:
    """``UnitOfWork`` in memory: one writer at a time, rollback on exception, snapshot reads. Thread-safe."""

    def __init__(self) -> None:
        self._state = Tables()
        self._writer = threading.Lock()
        self._local = threading.local()

    @contextlib.contextmanager
    def write(self) -> Iterator[MemoryTransaction]:
        if getattr(self._local, "writing", False):
            raise StoreError("database error: a write transaction inside another would wait for itself")
        with self._writer:
            self._local.writing = True
            try:
                work = self._state.copy()
                yield MemoryTransaction(work)
                self._state = work  # commit: reached only when the block returned
            finally:
                self._local.writing = False

    @contextlib.contextmanager
    def read(self) -> Iterator[MemoryTransaction]:
        yield MemoryTransaction(self._state.copy())


if TYPE_CHECKING:  # mypy proves that this implements the port
    _IMPLEMENTS: UnitOfWork = MemoryUnitOfWork()
