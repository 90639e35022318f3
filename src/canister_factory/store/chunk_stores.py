"""The pool of store canisters (``store_canisters``) over SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from canister_factory.store import factory_tables as t
from canister_factory.store._sql import store_row_of
from canister_factory.unit_of_work import StoreRow
from icp_client.principal import Principal

_SC = t.store_canisters


class SqlChunkStores:
    """``ChunkStoreRepo`` over one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def canisters(self) -> list[Principal]:
        query = sa.select(_SC.c.canister_id).where(_SC.c.canister_id.is_not(None)).order_by(_SC.c.id)
        return [Principal.from_text(text) for (text,) in self.conn.execute(query)]

    def rows(self) -> list[StoreRow]:
        query = sa.select(_SC).order_by(_SC.c.id).with_for_update()
        return [store_row_of(row) for row in self.conn.execute(query).mappings()]

    def add(self, created_at_time_ns: int, token: str, until_ns: int, now_ns: int) -> int:
        values = {
            "created_at_time_ns": created_at_time_ns,
            "claimed_by": token,
            "claimed_until_ns": until_ns,
            "added_at_ns": now_ns,
        }
        return int(self.conn.execute(sa.insert(_SC).values(**values).returning(_SC.c.id)).scalar_one())

    def claim(self, store_id: int, token: str, until_ns: int) -> None:
        self.conn.execute(
            sa.update(_SC).where(_SC.c.id == store_id).values(claimed_by=token, claimed_until_ns=until_ns)
        )

    def set_canister(self, store_id: int, canister_id: Principal) -> None:
        self.conn.execute(
            sa.update(_SC).where(_SC.c.id == store_id).values(canister_id=canister_id.to_text())
        )

    def release(self, store_id: int, token: str, module_hash: bytes | None) -> None:
        self.conn.execute(
            sa.update(_SC)
            .where(_SC.c.id == store_id, _SC.c.claimed_by == token)
            .values(claimed_by=None, claimed_until_ns=None, module_hash=module_hash)
        )
