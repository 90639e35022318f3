"""Each caller's quota row (``caller_stats``) over SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from canister_factory.store import factory_tables as t
from canister_factory.store._sql import insert_ignore
from canister_factory.store.counters import SqlCounters
from canister_factory.unit_of_work import CallerQuota
from icp_client.principal import Principal

_CS = t.caller_stats
_CALLER = sa.select(_CS).where(_CS.c.caller == sa.bindparam("who"))
_CALLER_LOCKED = _CALLER.with_for_update()
_ADJUST_QUOTA = (
    sa.update(_CS)
    .where(_CS.c.caller == sa.bindparam("who"))
    .values(quota_used=_CS.c.quota_used + sa.bindparam("delta"))
)
_RECORD_CREATED = (
    sa.update(_CS)
    .where(_CS.c.caller == sa.bindparam("who"))
    .values(created_count=_CS.c.created_count + 1, last_created_at_ns=sa.bindparam("now"))
)


class SqlCallers:
    """``CallerRepo`` over one connection."""

    def __init__(self, conn: Connection, counters: SqlCounters) -> None:
        self.conn = conn
        self._counters = counters

    def lock(self, caller: Principal) -> CallerQuota:
        text = caller.to_text()
        row = self.conn.execute(_CALLER_LOCKED, {"who": text}).mappings().first()
        if row is None:
            insert = insert_ignore(self.conn, _CS).values(
                caller=text, quota_used=0, created_count=0, last_created_at_ns=None
            )
            # RETURNING says whether the row was new (rowcount is -1 for ON CONFLICT DO NOTHING on PostgreSQL).
            if self.conn.execute(insert.returning(_CS.c.caller)).first() is not None:
                self._counters.bump(unique_callers=1)
            row = self.conn.execute(_CALLER_LOCKED, {"who": text}).mappings().one()
        return CallerQuota(row["quota_used"], row["created_count"], row["last_created_at_ns"])

    def quota(self, caller: Principal) -> CallerQuota:
        row = self.conn.execute(_CALLER, {"who": caller.to_text()}).mappings().first()
        if row is None:
            return CallerQuota(0, 0, None)
        return CallerQuota(row["quota_used"], row["created_count"], row["last_created_at_ns"])

    def adjust_quota(self, caller: Principal, delta: int) -> None:
        self.conn.execute(_ADJUST_QUOTA, {"who": caller.to_text(), "delta": delta})

    def record_created(self, caller: Principal, now_ns: int) -> None:
        self._counters.bump(total_canisters_created=1)  # counters before caller_stats: the lock order
        self.conn.execute(_RECORD_CREATED, {"who": caller.to_text(), "now": now_ns})
