"""Uploads, their chunks and the modules they become, in memory."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator

from canister_factory._core.config import DB_INT_MAX
from canister_factory._core.errors import StoreError
from canister_factory._core.lifecycle import TERMINAL
from canister_factory._core.uploads import Upload
from canister_factory.store.memory.settings import MemoryCounters
from canister_factory.store.memory.state import Module, Tables
from icp_client.principal import Principal


class MemoryModules:
    """``ModuleRepo`` in memory."""

    def __init__(self, state: Tables, counters: MemoryCounters) -> None:
        self._s = state
        self._counters = counters

    def size(self, module_hash: bytes) -> int | None:
        module = self._s.modules.get(module_hash)
        return None if module is None else module.size

    def chunk_ids(self, module_hash: bytes) -> list[int]:
        module = self._s.modules.get(module_hash)
        return [] if module is None else list(module.chunk_ids)

    def chunk(self, data_id: int) -> bytes:
        return self._s.chunk(data_id)

    def chunk_hashes(self, module_hash: bytes) -> list[bytes]:
        return [hashlib.sha256(self.chunk(i)).digest() for i in self.chunk_ids(module_hash)]

    def read(self, module_hash: bytes) -> bytes:
        return b"".join(self.chunk(i) for i in self.chunk_ids(module_hash))

    def count(self) -> int:
        return len(self._s.modules)

    def collect(self, module_hash: bytes) -> None:
        """Delete a module nothing refers to any more (no upload, no unfinished creation)."""
        if any(u.module_hash == module_hash for u in self._s.uploads.values()):
            return
        creations = self._s.creations.values()
        if any(c.module_hash == module_hash and c.state not in TERMINAL for c in creations):
            return
        self._counters.bump(stored_bytes=-(self.size(module_hash) or 0))
        module = self._s.modules.pop(module_hash, None)
        for data_id in module.chunk_ids if module else ():
            self._s.chunk_data.pop(data_id, None)


class MemoryUploads:
    """``UploadRepo`` in memory."""

    def __init__(self, state: Tables, counters: MemoryCounters, modules: MemoryModules) -> None:
        self._s = state
        self._counters = counters
        self._modules = modules

    def get(self, upload_id: int, *, lock: bool = False) -> Upload | None:
        if not 0 <= upload_id <= DB_INT_MAX:
            return None
        return self._s.uploads.get(upload_id)

    def insert(self, upload: Upload) -> None:
        if upload.id in self._s.uploads:
            raise StoreError(f"database error: IntegrityError: upload {upload.id} exists already")
        self._s.uploads[upload.id] = upload

    def count(self, owner: Principal, *, committed: bool) -> int:
        return sum(1 for u in self._s.uploads.values() if u.owner == owner and u.committed == committed)

    def chunk_at(self, upload_id: int, idx: int) -> bytes | None:
        ids = self._s.upload_chunks.get(upload_id, ())
        return self._s.chunk(ids[idx]) if 0 <= idx < len(ids) else None

    def append_chunk(self, upload: Upload, data: bytes, now_ns: int) -> int:
        ids = self._s.upload_chunks.get(upload.id, ())
        if len(ids) != upload.chunk_count:
            raise StoreError(
                f"database error: IntegrityError: chunk {upload.chunk_count} of {upload.id} exists"
            )
        data_id = self._s.next_id("chunk_data")
        self._s.chunk_data[data_id] = bytes(data)
        self._s.upload_chunks[upload.id] = (*ids, data_id)
        total = upload.total_len + len(data)
        self._update(upload.id, total_len=total, chunk_count=upload.chunk_count + 1, last_activity_ns=now_ns)
        return total

    def touch(self, upload_id: int, now_ns: int) -> None:
        self._update(upload_id, last_activity_ns=now_ns)

    def chunks(self, upload_id: int) -> Iterator[bytes]:
        for data_id in self._s.upload_chunks.get(upload_id, ()):
            yield self._s.chunk(data_id)

    def chunk_hashes(self, upload_id: int) -> list[bytes]:
        return [hashlib.sha256(data).digest() for data in self.chunks(upload_id)]

    def commit(self, upload: Upload, module_hash: bytes, now_ns: int) -> None:
        ids = self._s.upload_chunks.pop(upload.id, ())
        if module_hash not in self._s.modules:
            self._s.modules[module_hash] = Module(upload.total_len, ids)
        else:  # the module is stored already: this upload's copy of its bytes goes
            self._drop(ids)
            self._counters.bump(stored_bytes=-upload.total_len)
        self._update(upload.id, module_hash=module_hash, last_activity_ns=now_ns)

    def delete(self, upload: Upload) -> None:
        self._drop(self._s.upload_chunks.pop(upload.id, ()))
        self._s.uploads.pop(upload.id, None)
        if upload.module_hash is None:
            self._counters.bump(stored_bytes=-upload.total_len)
        else:
            self._modules.collect(upload.module_hash)

    def expired(self, cutoff_ns: int, limit: int) -> list[Upload]:
        idle = [u for u in self._s.uploads.values() if not u.committed and u.last_activity_ns < cutoff_ns]
        return sorted(idle, key=lambda u: (u.last_activity_ns, u.id))[:limit]

    def open_of(self, owner: Principal, limit: int) -> list[Upload]:
        mine = [u for u in self._s.uploads.values() if u.owner == owner and not u.committed]
        return sorted(mine, key=lambda u: u.id)[:limit]

    def _update(self, upload_id: int, **fields: object) -> None:
        upload = self._s.uploads.get(upload_id)
        if upload is not None:  # as an UPDATE of no row: nothing happens
            self._s.uploads[upload_id] = dataclasses.replace(upload, **fields)  # type: ignore[arg-type]

    def _drop(self, ids: tuple[int, ...]) -> None:
        for data_id in ids:
            self._s.chunk_data.pop(data_id, None)
