"""The settings and the counters, in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from canister_factory._core.config import Settings
from canister_factory._core.errors import StoreError
from canister_factory.store.memory.state import Deployed, Tables
from canister_factory.unit_of_work import Counters, RowLock
from icp_client.principal import Principal


class MemorySettings:
    """``SettingsRepo`` in memory."""

    def __init__(self, state: Tables, counters: MemoryCounters) -> None:
        self._s = state
        self._counters = counters

    def factory_key(self, make_pem: Callable[[], str]) -> str:
        if self._s.key is None:
            self._s.key = make_pem()
        return self._s.key

    def is_deployed(self) -> bool:
        return self._s.deployed is not None

    def load(
        self, *, lock: RowLock | None = None, for_caller: Principal | None = None, admins: bool = True
    ) -> Settings | None:
        if self._s.deployed is None:
            return None
        settings = self._s.deployed.settings
        allowlist = settings.allowlist
        if allowlist is not None and for_caller is not None:
            allowlist = allowlist & {for_caller}
        return dataclasses.replace(
            settings, allowlist=allowlist, admins=settings.admins if admins else frozenset()
        )

    def insert(self, settings: Settings, *, deployer: Principal, now_ns: int, network: str) -> None:
        if self._s.deployed is not None:
            raise StoreError("database error: IntegrityError: the settings row exists already")
        self._s.deployed = Deployed(settings, network)
        self._counters.start()

    def network(self) -> str | None:
        return None if self._s.deployed is None else self._s.deployed.network

    def set_emergency_stop(self, stopped: bool) -> None:
        self._change(emergency_stop=stopped)

    def set_allowlist(self, allowlist: frozenset[Principal] | None) -> None:
        self._change(allowlist=None if allowlist is None else frozenset(allowlist))

    def set_admins(self, admins: frozenset[Principal]) -> None:
        self._change(admins=frozenset(admins))

    def _change(self, **fields: object) -> None:
        deployed = self._s.deployed
        if deployed is not None:  # as an UPDATE of no row: nothing happens
            settings = dataclasses.replace(deployed.settings, **fields)  # type: ignore[arg-type]
            self._s.deployed = Deployed(settings, deployed.network)


class MemoryCounters:
    """``CounterRepo`` in memory."""

    def __init__(self, state: Tables) -> None:
        self._s = state

    def start(self) -> None:
        self._s.counters = Counters(1, 0, 0, 0, 0, 0, 0)

    def read(self) -> Counters:
        return self._s.require_counters()

    def allocate_upload_id(self) -> int:
        counters = self._s.require_counters()
        self._s.counters = dataclasses.replace(counters, next_upload_id=counters.next_upload_id + 1)
        return counters.next_upload_id

    def next_created_at_time(self, now_ns: int) -> int:
        counters = self._s.require_counters()
        value = max(now_ns, counters.last_created_at_time_ns + 1)
        self._s.counters = dataclasses.replace(counters, last_created_at_time_ns=value)
        return value

    def claim_storage(self, size: int, limit: int) -> int | None:
        counters = self._s.require_counters()
        if counters.stored_bytes + size > limit:
            return None
        self._s.counters = dataclasses.replace(counters, stored_bytes=counters.stored_bytes + size)
        return counters.stored_bytes + size

    def bump(
        self,
        *,
        total_canisters_created: int = 0,
        active_uploads: int = 0,
        unique_callers: int = 0,
        overhead_cycles_used: int = 0,
        stored_bytes: int = 0,
    ) -> None:
        c = self._s.counters
        if c is None:
            return  # as an UPDATE of no row
        self._s.counters = dataclasses.replace(
            c,
            total_canisters_created=c.total_canisters_created + total_canisters_created,
            active_uploads=c.active_uploads + active_uploads,
            unique_callers=c.unique_callers + unique_callers,
            overhead_cycles_used=c.overhead_cycles_used + overhead_cycles_used,
            stored_bytes=c.stored_bytes + stored_bytes,
        )
