"""Running SHA-256 and module checks of open uploads, kept in memory so ``commit_upload`` need not re-read them.

An entry is only ever trusted when it covers exactly the chunks the database holds (same chunk count and total
length); anything else (another process appended, this process restarted, the entry was evicted) falls back to
reading the chunks back from the database. So the cache can make a commit faster, never wrong.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from canister_factory._core.errors import InvalidArgument
from canister_factory.wasm_stream import ModuleStreamCheck

MAX_ENTRIES = 1024


@dataclass
class _Running:
    chunk_count: int
    total_len: int
    hasher: Any
    check: ModuleStreamCheck
    problem: InvalidArgument | None = None

    def feed(self, chunk: bytes) -> None:
        self.hasher.update(chunk)
        self.chunk_count += 1
        self.total_len += len(chunk)
        if self.problem is None:
            try:
                self.check.feed(chunk)
            except InvalidArgument as exc:
                self.problem = exc


@dataclass
class RunningDigests:
    """Per-upload running digests, bounded in number (least recently used evicted first)."""

    max_entries: int = MAX_ENTRIES
    _entries: OrderedDict[int, _Running] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def appended(self, upload_id: int, chunk_index: int, chunk: bytes, max_size: int) -> None:
        """Record that ``chunk`` was stored as chunk number ``chunk_index`` of the upload."""
        with self._lock:
            entry = self._entries.pop(upload_id, None)
            if entry is None and chunk_index == 0:
                entry = _Running(0, 0, hashlib.sha256(), ModuleStreamCheck(max_size))
            if entry is None or entry.chunk_count != chunk_index:
                return
            entry.feed(chunk)
            self._entries[upload_id] = entry
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def result(
        self, upload_id: int, chunk_count: int, total_len: int
    ) -> tuple[bytes, InvalidArgument | None] | None:
        """The digest and module problem of the upload, if the entry covers exactly these chunks."""
        with self._lock:
            entry = self._entries.get(upload_id)
            if entry is None or (entry.chunk_count, entry.total_len) != (chunk_count, total_len):
                return None
            problem = entry.problem
            if problem is None:
                try:
                    entry.check.finish()
                except InvalidArgument as exc:
                    problem = exc
            return entry.hasher.copy().digest(), problem

    def forget(self, upload_id: int) -> None:
        with self._lock:
            self._entries.pop(upload_id, None)
