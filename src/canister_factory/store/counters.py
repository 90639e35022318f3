"""The counters row (``factory_counters``) over SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from canister_factory.store import factory_tables as t
from canister_factory.unit_of_work import Counters

_LAST_TIME = t.counters.c.last_created_at_time_ns
_NEXT_CREATED_AT = (
    sa.update(t.counters)
    .values(
        last_created_at_time_ns=sa.case(
            (sa.bindparam("now") < _LAST_TIME + 1, _LAST_TIME + 1), else_=sa.bindparam("now")
        )
    )
    .returning(_LAST_TIME)
)
_NEXT_UPLOAD_ID = t.counters.c.next_upload_id
_STORED = t.counters.c.stored_bytes


class SqlCounters:
    """``CounterRepo`` over one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def start(self) -> None:
        """Create the row (at deploy)."""
        self.conn.execute(
            sa.insert(t.counters).values(
                id=1,
                next_upload_id=1,
                total_canisters_created=0,
                active_uploads=0,
                unique_callers=0,
                last_created_at_time_ns=0,
                stored_bytes=0,
            )
        )

    def read(self) -> Counters:
        row = self.conn.execute(sa.select(t.counters).where(t.counters.c.id == 1)).mappings().one()
        return Counters(**{k: int(v) for k, v in row.items() if k != "id"})

    def allocate_upload_id(self) -> int:
        statement = (
            sa.update(t.counters).values(next_upload_id=_NEXT_UPLOAD_ID + 1).returning(_NEXT_UPLOAD_ID - 1)
        )
        return int(self.conn.execute(statement).scalar_one())

    def next_created_at_time(self, now_ns: int) -> int:
        return int(self.conn.execute(_NEXT_CREATED_AT, {"now": now_ns}).scalar_one())

    def claim_storage(self, size: int, limit: int) -> int | None:
        statement = (
            sa.update(t.counters)
            .where(_STORED + size <= limit)
            .values(stored_bytes=_STORED + size)
            .returning(_STORED)
        )
        total = self.conn.execute(statement).scalar()
        return None if total is None else int(total)

    def bump(
        self,
        *,
        total_canisters_created: int = 0,
        active_uploads: int = 0,
        unique_callers: int = 0,
        overhead_cycles_used: int = 0,
        stored_bytes: int = 0,
    ) -> None:
        deltas = {
            "total_canisters_created": total_canisters_created,
            "active_uploads": active_uploads,
            "unique_callers": unique_callers,
            "overhead_cycles_used": overhead_cycles_used,
            "stored_bytes": stored_bytes,
        }
        values = {name: t.counters.c[name] + delta for name, delta in deltas.items() if delta}
        if values:
            self.conn.execute(sa.update(t.counters).values(**values))
