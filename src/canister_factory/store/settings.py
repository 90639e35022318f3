"""The deployed configuration, the admins, the allowlist and the factory's key over SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from canister_factory._core.config import DEFAULT_MAX_STORED_MODULE_BYTES, Settings
from canister_factory.store import factory_tables as t
from canister_factory.store._sql import insert_ignore, opt_int, opt_text
from canister_factory.store.counters import SqlCounters
from canister_factory.unit_of_work import RowLock
from icp_client.principal import Principal

_SETTINGS = sa.select(t.settings).where(t.settings.c.id == 1)
_SETTINGS_LOCKED = {
    None: _SETTINGS,
    "share": _SETTINGS.with_for_update(read=True),
    "update": _SETTINGS.with_for_update(),
}
_ALLOWED = sa.select(t.allowlist.c.principal).where(t.allowlist.c.principal == sa.bindparam("who"))
_KEY = sa.select(t.keys.c.pem).where(t.keys.c.id == 1)


class SqlSettings:
    """``SettingsRepo`` over one connection."""

    def __init__(self, conn: Connection, counters: SqlCounters) -> None:
        self.conn = conn
        self._counters = counters

    def factory_key(self, make_pem: Callable[[], str]) -> str:
        existing = self.conn.execute(_KEY).scalar()
        if existing is not None:
            return str(existing)
        self.conn.execute(insert_ignore(self.conn, t.keys).values(id=1, pem=make_pem()))
        return str(self.conn.execute(_KEY).scalar_one())

    def is_deployed(self) -> bool:
        return self.conn.execute(sa.select(t.settings.c.id)).first() is not None

    def load(
        self, *, lock: RowLock | None = None, for_caller: Principal | None = None, admins: bool = True
    ) -> Settings | None:
        row = self.conn.execute(_SETTINGS_LOCKED[lock]).mappings().first()
        if row is None:
            return None
        admin_set = frozenset(self._principals(t.admins)) if admins else frozenset()
        allowlist: frozenset[Principal] | None = None
        if row["allowlist_enabled"]:
            allowlist = frozenset(
                self._allowlisted(for_caller) if for_caller else self._principals(t.allowlist)
            )
        return Settings(
            max_canisters_per_caller=row["max_canisters_per_caller"],
            min_factory_cycles=int(row["min_factory_cycles"]),
            max_upload_size=row["max_upload_size"],
            upload_ttl_ns=row["upload_ttl_ns"],
            allowlist=allowlist,
            admins=admin_set,
            emergency_stop=row["emergency_stop"],
            max_creations_per_day=row["max_creations_per_day"],
            max_active_uploads_per_caller=row["max_active_uploads_per_caller"],
            max_modules_per_caller=row["max_modules_per_caller"],
            max_cycles_per_caller_per_day=opt_int(row["max_cycles_per_caller_per_day"]),
            max_stored_module_bytes=row["max_stored_module_bytes"] or DEFAULT_MAX_STORED_MODULE_BYTES,
        )

    def insert(self, settings: Settings, *, deployer: Principal, now_ns: int, network: str) -> None:
        self.conn.execute(
            sa.insert(t.settings).values(
                id=1,
                deployed_at_ns=now_ns,
                deployer=deployer.to_text(),
                max_canisters_per_caller=settings.max_canisters_per_caller,
                min_factory_cycles=str(settings.min_factory_cycles),
                max_upload_size=settings.max_upload_size,
                upload_ttl_ns=settings.upload_ttl_ns,
                allowlist_enabled=settings.allowlist is not None,
                emergency_stop=settings.emergency_stop,
                max_creations_per_day=settings.max_creations_per_day,
                max_active_uploads_per_caller=settings.max_active_uploads_per_caller,
                max_modules_per_caller=settings.max_modules_per_caller,
                network=network,
                max_cycles_per_caller_per_day=opt_text(settings.max_cycles_per_caller_per_day),
                max_stored_module_bytes=settings.max_stored_module_bytes,
            )
        )
        self._counters.start()
        self.set_admins(settings.admins)
        self.set_allowlist(settings.allowlist)

    def network(self) -> str | None:
        return self.conn.execute(sa.select(t.settings.c.network)).scalar()

    def set_emergency_stop(self, stopped: bool) -> None:
        self.conn.execute(sa.update(t.settings).values(emergency_stop=stopped))

    def set_allowlist(self, allowlist: frozenset[Principal] | None) -> None:
        self.conn.execute(sa.update(t.settings).values(allowlist_enabled=allowlist is not None))
        self.conn.execute(sa.delete(t.allowlist))
        if allowlist:
            self.conn.execute(sa.insert(t.allowlist), [{"principal": p.to_text()} for p in allowlist])

    def set_admins(self, admins: frozenset[Principal]) -> None:
        self.conn.execute(sa.delete(t.admins))
        self.conn.execute(sa.insert(t.admins), [{"principal": p.to_text()} for p in admins])

    def _allowlisted(self, caller: Principal) -> Iterator[Principal]:
        if self.conn.execute(_ALLOWED, {"who": caller.to_text()}).first() is not None:
            yield caller

    def _principals(self, table: sa.Table) -> Iterator[Principal]:
        for (text,) in self.conn.execute(sa.select(table.c.principal)):
            yield Principal.from_text(text)
