"""Uploads and their chunks (``uploads``, ``upload_chunks``, ``chunk_data``) over SQL."""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from canister_factory._core.config import DB_INT_MAX
from canister_factory._core.uploads import Upload
from canister_factory.store import factory_tables as t
from canister_factory.store._sql import chunk, delete_chunk_data, sha256, upload_of
from canister_factory.store.counters import SqlCounters
from canister_factory.store.modules import SqlModules
from icp_client.principal import Principal

_U = t.uploads
_UC = t.upload_chunks
_UPLOAD = sa.select(_U).where(_U.c.id == sa.bindparam("upload_id"))
_UPLOAD_LOCKED = _UPLOAD.with_for_update()


class SqlUploads:
    """``UploadRepo`` over one connection."""

    def __init__(self, conn: Connection, counters: SqlCounters, modules: SqlModules) -> None:
        self.conn = conn
        self._counters = counters
        self._modules = modules

    def get(self, upload_id: int, *, lock: bool = False) -> Upload | None:
        if not 0 <= upload_id <= DB_INT_MAX:  # a valid nat64 that no stored upload can have
            return None
        query = _UPLOAD_LOCKED if lock else _UPLOAD
        row = self.conn.execute(query, {"upload_id": upload_id}).mappings().first()
        return None if row is None else upload_of(row)

    def insert(self, upload: Upload) -> None:
        self.conn.execute(
            sa.insert(_U).values(
                id=upload.id,
                owner=upload.owner.to_text(),
                created_at_ns=upload.created_at_ns,
                last_activity_ns=upload.last_activity_ns,
                total_len=upload.total_len,
                chunk_count=upload.chunk_count,
                module_hash=upload.module_hash,
            )
        )

    def count(self, owner: Principal, *, committed: bool) -> int:
        cond = _U.c.module_hash.is_not(None) if committed else _U.c.module_hash.is_(None)
        query = sa.select(sa.func.count()).where(_U.c.owner == owner.to_text(), cond)
        return int(self.conn.execute(query).scalar_one())

    def chunk_at(self, upload_id: int, idx: int) -> bytes | None:
        query = sa.select(_UC.c.data_id).where(_UC.c.upload_id == upload_id, _UC.c.idx == idx)
        data_id = self.conn.execute(query).scalar()
        return None if data_id is None else chunk(self.conn, int(data_id))

    def append_chunk(self, upload: Upload, data: bytes, now_ns: int) -> int:
        data_id = self.conn.execute(
            sa.insert(t.chunk_data).values(data=data).returning(t.chunk_data.c.id)
        ).scalar_one()
        self.conn.execute(
            sa.insert(_UC).values(
                upload_id=upload.id, idx=upload.chunk_count, size=len(data), data_id=data_id
            )
        )
        total = upload.total_len + len(data)
        self.conn.execute(
            sa.update(_U)
            .where(_U.c.id == upload.id)
            .values(total_len=total, chunk_count=upload.chunk_count + 1, last_activity_ns=now_ns)
        )
        return total

    def touch(self, upload_id: int, now_ns: int) -> None:
        self.conn.execute(sa.update(_U).where(_U.c.id == upload_id).values(last_activity_ns=now_ns))

    def chunks(self, upload_id: int) -> Iterator[bytes]:
        for data_id in self._chunk_ids(upload_id):
            yield chunk(self.conn, data_id)

    def chunk_hashes(self, upload_id: int) -> list[bytes]:
        return [sha256(data) for data in self.chunks(upload_id)]

    def commit(self, upload: Upload, module_hash: bytes, now_ns: int) -> None:
        if self._modules.size(module_hash) is None:
            self._modules.create(module_hash, upload.id, upload.total_len, now_ns)
        else:  # the module is stored already: this upload's copy of its bytes goes
            delete_chunk_data(self.conn, sa.select(_UC.c.data_id).where(_UC.c.upload_id == upload.id))
            self._counters.bump(stored_bytes=-upload.total_len)
        self.conn.execute(sa.delete(_UC).where(_UC.c.upload_id == upload.id))
        self.conn.execute(
            sa.update(_U).where(_U.c.id == upload.id).values(module_hash=module_hash, last_activity_ns=now_ns)
        )

    def delete(self, upload: Upload) -> None:
        delete_chunk_data(self.conn, sa.select(_UC.c.data_id).where(_UC.c.upload_id == upload.id))
        self.conn.execute(sa.delete(_UC).where(_UC.c.upload_id == upload.id))
        self.conn.execute(sa.delete(_U).where(_U.c.id == upload.id))
        if upload.module_hash is None:
            self._counters.bump(stored_bytes=-upload.total_len)
        else:
            self._modules.collect(upload.module_hash)

    def expired(self, cutoff_ns: int, limit: int) -> list[Upload]:
        query = (
            sa.select(_U)
            .where(_U.c.module_hash.is_(None), _U.c.last_activity_ns < cutoff_ns)
            .order_by(_U.c.last_activity_ns)
            .limit(limit)
        )
        return [upload_of(row) for row in self.conn.execute(query).mappings()]

    def _chunk_ids(self, upload_id: int) -> list[int]:
        query = sa.select(_UC.c.data_id).where(_UC.c.upload_id == upload_id).order_by(_UC.c.idx)
        return [int(i) for (i,) in self.conn.execute(query)]

    def open_of(self, owner: Principal, limit: int) -> list[Upload]:
        query = (
            sa.select(_U)
            .where(_U.c.owner == owner.to_text(), _U.c.module_hash.is_(None))
            .order_by(_U.c.id)
            .limit(limit)
        )
        return [upload_of(row) for row in self.conn.execute(query).mappings()]
