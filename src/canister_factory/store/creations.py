"""The registry (``canisters``) and the spare pool (``spare_canisters``) over SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from canister_factory._core.config import DB_INT_MAX
from canister_factory._core.lifecycle import State
from canister_factory.store import factory_tables as t
from canister_factory.store._sql import (
    OPEN_STATES,
    column_value,
    creation_of,
    creation_values,
    insert_ignore,
    is_pg,
)
from canister_factory.unit_of_work import CreationRow
from icp_client.principal import Principal

_C = t.canisters
_INSERT = sa.insert(_C).returning(_C.c.id)
_UPDATE = sa.update(_C).where(_C.c.id == sa.bindparam("record_id_"))
_SPARE = sa.select(t.spares.c.canister_id).order_by(t.spares.c.added_at_ns).limit(1)
_SPARE_PG = _SPARE.with_for_update(skip_locked=True)


class SqlCreations:
    """``CreationRepo`` over one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert(self, row: CreationRow) -> int:
        values = creation_values(row)
        values.pop("id")
        return int(self.conn.execute(_INSERT, values).scalar_one())

    def get(self, record_id: int, *, lock: bool = False) -> CreationRow | None:
        query = sa.select(_C).where(_C.c.id == record_id)
        if lock:
            query = query.with_for_update()
        return self._first(query)

    def find_by_key(self, caller: Principal, key: str) -> CreationRow | None:
        return self._first(sa.select(_C).where(_C.c.caller == caller.to_text(), _C.c.idempotency_key == key))

    def find_by_canister(self, canister_id: Principal) -> CreationRow | None:
        query = (
            sa.select(_C)
            .where(_C.c.canister_id == canister_id.to_text(), _C.c.state == State.READY.value)
            .order_by(_C.c.id.desc())
            .limit(1)
        )
        return self._first(query)

    def update(self, record_id: int, **fields: object) -> None:
        values = {k: column_value(k, v) for k, v in fields.items()}
        self.conn.execute(_UPDATE, {"record_id_": record_id, **values})

    def page(
        self, owner: Principal | None, cursor: int | None, limit: int, *, or_caller: bool = False
    ) -> list[CreationRow]:
        query = sa.select(_C).order_by(_C.c.id.desc()).limit(limit)
        if owner is not None and or_caller:
            query = query.where(sa.or_(_C.c.owner == owner.to_text(), _C.c.caller == owner.to_text()))
        elif owner is not None:
            query = query.where(_C.c.owner == owner.to_text())
        if cursor is not None and cursor <= DB_INT_MAX:  # a larger cursor is above every id: from the top
            query = query.where(_C.c.id < cursor)
        return [creation_of(row) for row in self.conn.execute(query).mappings()]

    def unfinished(self) -> list[CreationRow]:
        query = sa.select(_C).where(_C.c.state.in_(OPEN_STATES)).order_by(_C.c.id)
        return [creation_of(row) for row in self.conn.execute(query).mappings()]

    def claim(self, record_id: int, owner: str, until_ns: int) -> None:
        self.update(record_id, claimed_by=owner, claimed_until_ns=until_ns)

    def count_requested_since(self, caller: Principal, since_ns: int) -> int:
        query = sa.select(sa.func.count()).where(
            _C.c.caller == caller.to_text(),
            _C.c.requested_at_ns >= since_ns,
            _C.c.state != State.FAILED.value,
        )
        return int(self.conn.execute(query).scalar_one())

    def _first(self, query: sa.Select[tuple[object, ...]]) -> CreationRow | None:
        row = self.conn.execute(query).mappings().first()
        return None if row is None else creation_of(row)


class SqlSpares:
    """``SparePool`` over one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, canister_id: Principal, record_id: int, now_ns: int) -> None:
        self.conn.execute(
            insert_ignore(self.conn, t.spares).values(
                canister_id=canister_id.to_text(), added_at_ns=now_ns, from_record=record_id
            )
        )

    def take(self) -> Principal | None:
        text = self.conn.execute(_SPARE_PG if is_pg(self.conn) else _SPARE).scalar()
        if text is None:
            return None
        self.conn.execute(sa.delete(t.spares).where(t.spares.c.canister_id == text))
        return Principal.from_text(text)

    def all(self) -> list[Principal]:
        query = sa.select(t.spares.c.canister_id).order_by(t.spares.c.added_at_ns)
        return [Principal.from_text(text) for (text,) in self.conn.execute(query)]

    def count(self) -> int:
        return int(self.conn.execute(sa.select(sa.func.count()).select_from(t.spares)).scalar_one())
