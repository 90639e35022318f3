"""Spends of the factory's cycles (``cycles_spends``, ``cycles_guard``) over SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from canister_factory.store import factory_tables as t
from icp_client.principal import Principal

_SP = t.cycles_spends.c
_GUARD_LOCKED = sa.select(t.cycles_guard.c.id).where(t.cycles_guard.c.id == 1).with_for_update()
_LIVE = sa.or_(_SP.state == "spent", _SP.lapses_at_ns.is_(None), _SP.lapses_at_ns >= sa.bindparam("now"))
_RESERVED = sa.select(_SP.amount).where(
    _SP.state == "reserved", sa.or_(_SP.lapses_at_ns.is_(None), _SP.lapses_at_ns >= sa.bindparam("now"))
)
_SPENT_BY = sa.select(_SP.amount).where(
    _SP.caller == sa.bindparam("who"), _SP.at_ns >= sa.bindparam("since"), _LIVE
)
_INSERT = sa.insert(t.cycles_spends).returning(_SP.id)
_SETTLE = (
    sa.update(t.cycles_spends)
    .where(_SP.state == "reserved")
    .values(state="spent", amount=sa.bindparam("spent"))
)
_RELEASE = sa.delete(t.cycles_spends).where(_SP.state == "reserved")


class SqlSpends:
    """``SpendRepo`` over one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock(self) -> None:
        # PostgreSQL locks the guard row; on SQLite the write transaction's lock is enough
        self.conn.execute(_GUARD_LOCKED)

    def reserved(self, now_ns: int) -> int:
        return sum(int(a) for (a,) in self.conn.execute(_RESERVED, {"now": now_ns}))

    def spent_by(self, caller: Principal, since_ns: int, now_ns: int) -> int:
        rows = self.conn.execute(_SPENT_BY, {"who": caller.to_text(), "since": since_ns, "now": now_ns})
        return sum(int(a) for (a,) in rows)

    def reserve(
        self,
        kind: str,
        amount: int,
        now_ns: int,
        *,
        caller: Principal | None = None,
        creation_id: int | None = None,
        lapses_at_ns: int | None = None,
    ) -> int:
        values = {
            "kind": kind,
            "caller": None if caller is None else caller.to_text(),
            "creation_id": creation_id,
            "amount": str(amount),
            "state": "reserved",
            "at_ns": now_ns,
            "lapses_at_ns": lapses_at_ns,
        }
        return int(self.conn.execute(_INSERT, values).scalar_one())

    def settle(self, spend_id: int, amount: int) -> None:
        self.conn.execute(_SETTLE.where(_SP.id == spend_id), {"spent": str(amount)})

    def release(self, spend_id: int) -> None:
        self.conn.execute(_RELEASE.where(_SP.id == spend_id))

    def settle_creation(self, creation_id: int, amount: int) -> None:
        self.conn.execute(_SETTLE.where(_SP.creation_id == creation_id), {"spent": str(amount)})

    def release_creation(self, creation_id: int) -> None:
        self.conn.execute(_RELEASE.where(_SP.creation_id == creation_id))

    def prune(self, before_ns: int, now_ns: int) -> None:
        self.conn.execute(
            sa.delete(t.cycles_spends).where(
                sa.or_(
                    sa.and_(_SP.state == "spent", _SP.at_ns < before_ns),
                    sa.and_(_SP.state == "reserved", _SP.lapses_at_ns < now_ns),
                )
            )
        )
