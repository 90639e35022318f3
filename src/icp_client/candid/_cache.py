"""A small bounded cache for the codec's compiled readers and writers, safe to share between threads.

Entries are keyed by the identity of type objects (kept alive by the entry, so an id cannot be reused while
cached) and remember the revision of every :class:`TypeEnv` whose names they followed: redefining a name
makes them stale.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

from icp_client.candid.types import TypeEnv

K = TypeVar("K")
V = TypeVar("V")

Revisions = tuple[tuple[TypeEnv, int], ...]


class BoundedCache(Generic[K, V]):
    """At most ``size`` entries weighing at most ``max_weight`` together; the oldest go first."""

    def __init__(self, size: int, max_weight: int | None = None) -> None:
        self._size = size
        self._max_weight = max_weight if max_weight is not None else size
        self._entries: dict[K, tuple[V, int]] = {}
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        return None if entry is None else entry[0]

    def put(self, key: K, value: V, weight: int = 1) -> None:
        """Remember ``value`` (unless it alone weighs more than the cache may hold)."""
        if weight > self._max_weight:
            return
        with self._lock:
            self._drop(key)
            while self._entries and (
                len(self._entries) >= self._size or self._weight + weight > self._max_weight
            ):
                self._drop(next(iter(self._entries)))
            self._entries[key] = (value, weight)
            self._weight += weight

    def _drop(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._weight -= entry[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weight = 0

    def __len__(self) -> int:
        return len(self._entries)


def current(deps: Revisions) -> bool:
    """True while none of the environments has changed since the entry was built."""
    return all(env.revision == revision for env, revision in deps)
