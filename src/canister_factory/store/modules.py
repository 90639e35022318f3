"""Committed modules (``modules``, ``module_chunks``) over SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from canister_factory.store import factory_tables as t
from canister_factory.store._sql import OPEN_STATES, chunk, delete_chunk_data, sha256
from canister_factory.store.counters import SqlCounters

_MC = t.module_chunks


class SqlModules:
    """``ModuleRepo`` over one connection."""

    def __init__(self, conn: Connection, counters: SqlCounters) -> None:
        self.conn = conn
        self._counters = counters

    def size(self, module_hash: bytes) -> int | None:
        value = self.conn.execute(sa.select(t.modules.c.size).where(t.modules.c.hash == module_hash)).scalar()
        return None if value is None else int(value)

    def chunk_ids(self, module_hash: bytes) -> list[int]:
        query = sa.select(_MC.c.data_id).where(_MC.c.module_hash == module_hash).order_by(_MC.c.idx)
        return [int(i) for (i,) in self.conn.execute(query)]

    def chunk(self, data_id: int) -> bytes:
        return chunk(self.conn, data_id)

    def chunk_hashes(self, module_hash: bytes) -> list[bytes]:
        return [sha256(self.chunk(i)) for i in self.chunk_ids(module_hash)]

    def read(self, module_hash: bytes) -> bytes:
        return b"".join(self.chunk(i) for i in self.chunk_ids(module_hash))

    def count(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(t.modules)).scalar_one())

    def create(self, module_hash: bytes, upload_id: int, size: int, now_ns: int) -> None:
        """A new module made of the chunks of upload ``upload_id`` (which keep their stored bytes)."""
        chunks = t.upload_chunks
        self.conn.execute(sa.insert(t.modules).values(hash=module_hash, size=size, created_at_ns=now_ns))
        select = sa.select(
            sa.literal(module_hash, sa.LargeBinary), chunks.c.idx, chunks.c.size, chunks.c.data_id
        )
        self.conn.execute(
            sa.insert(_MC).from_select(
                ["module_hash", "idx", "size", "data_id"], select.where(chunks.c.upload_id == upload_id)
            )
        )

    def collect(self, module_hash: bytes) -> None:
        """Delete a module nothing refers to any more (no upload, no unfinished creation)."""
        used_by_upload = sa.select(t.uploads.c.id).where(t.uploads.c.module_hash == module_hash).limit(1)
        used_by_creation = (
            sa.select(t.canisters.c.id)
            .where(t.canisters.c.module_hash == module_hash, t.canisters.c.state.in_(OPEN_STATES))
            .limit(1)
        )
        if self.conn.execute(used_by_upload).first() or self.conn.execute(used_by_creation).first():
            return
        self._counters.bump(stored_bytes=-(self.size(module_hash) or 0))
        delete_chunk_data(self.conn, sa.select(_MC.c.data_id).where(_MC.c.module_hash == module_hash))
        self.conn.execute(sa.delete(_MC).where(_MC.c.module_hash == module_hash))
        self.conn.execute(sa.delete(t.modules).where(t.modules.c.hash == module_hash))
