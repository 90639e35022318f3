"""The callers' quota rows, the registry of creations and the spare pool, in memory."""

from __future__ import annotations

import dataclasses

from canister_factory._core.config import DB_INT_MAX
from canister_factory._core.errors import StoreError
from canister_factory._core.lifecycle import TERMINAL, State
from canister_factory.store.memory.settings import MemoryCounters
from canister_factory.store.memory.state import Spare, Tables
from canister_factory.unit_of_work import CallerQuota, CreationRow
from icp_client.principal import Principal


class MemoryCallers:
    """``CallerRepo`` in memory."""

    def __init__(self, state: Tables, counters: MemoryCounters) -> None:
        self._s = state
        self._counters = counters

    def lock(self, caller: Principal) -> CallerQuota:
        if caller not in self._s.callers:
            self._s.callers[caller] = CallerQuota(0, 0, None)
            self._counters.bump(unique_callers=1)
        return self._s.callers[caller]

    def quota(self, caller: Principal) -> CallerQuota:
        return self._s.callers.get(caller, CallerQuota(0, 0, None))

    def adjust_quota(self, caller: Principal, delta: int) -> None:
        quota = self._s.callers.get(caller)
        if quota is not None:
            self._s.callers[caller] = dataclasses.replace(quota, quota_used=quota.quota_used + delta)

    def record_created(self, caller: Principal, now_ns: int) -> None:
        self._counters.bump(total_canisters_created=1)
        quota = self._s.callers.get(caller)
        if quota is not None:
            self._s.callers[caller] = CallerQuota(quota.quota_used, quota.created_count + 1, now_ns)


class MemoryCreations:
    """``CreationRepo`` in memory."""

    def __init__(self, state: Tables) -> None:
        self._s = state

    def insert(self, row: CreationRow) -> int:
        if row.idempotency_key is not None and self.find_by_key(row.caller, row.idempotency_key) is not None:
            raise StoreError("database error: IntegrityError: canisters_caller_key")
        record_id = self._s.next_id("canisters")
        self._s.creations[record_id] = dataclasses.replace(row, id=record_id)
        return record_id

    def get(self, record_id: int, *, lock: bool = False) -> CreationRow | None:
        return self._s.creations.get(record_id)

    def find_by_key(self, caller: Principal, key: str) -> CreationRow | None:
        rows = self._s.creations.values()
        return next((r for r in rows if r.caller == caller and r.idempotency_key == key), None)

    def find_by_canister(self, canister_id: Principal) -> CreationRow | None:
        rows = [
            r for r in self._s.creations.values() if r.canister_id == canister_id and r.state is State.READY
        ]
        return max(rows, key=lambda r: r.id, default=None)

    def update(self, record_id: int, **fields: object) -> None:
        row = self._s.creations.get(record_id)
        if row is not None:  # as an UPDATE of no row: nothing happens
            self._s.creations[record_id] = dataclasses.replace(row, **fields)  # type: ignore[arg-type]

    def page(
        self, owner: Principal | None, cursor: int | None, limit: int, *, or_caller: bool = False
    ) -> list[CreationRow]:
        rows = sorted(self._s.creations.values(), key=lambda r: r.id, reverse=True)
        if owner is not None:
            rows = [r for r in rows if r.owner == owner or (or_caller and r.caller == owner)]
        if cursor is not None and cursor <= DB_INT_MAX:
            rows = [r for r in rows if r.id < cursor]
        return rows[:limit]

    def unfinished(self) -> list[CreationRow]:
        return sorted((r for r in self._s.creations.values() if r.state not in TERMINAL), key=lambda r: r.id)

    def claim(self, record_id: int, owner: str, until_ns: int) -> None:
        self.update(record_id, claimed_by=owner, claimed_until_ns=until_ns)

    def count_requested_since(self, caller: Principal, since_ns: int) -> int:
        rows = self._s.creations.values()
        return sum(
            1
            for r in rows
            if r.caller == caller and r.requested_at_ns >= since_ns and r.state is not State.FAILED
        )


class MemorySpares:
    """``SparePool`` in memory."""

    def __init__(self, state: Tables) -> None:
        self._s = state

    def add(self, canister_id: Principal, record_id: int, now_ns: int) -> None:
        if canister_id not in self._s.spares:
            self._s.spares[canister_id] = Spare(now_ns, self._s.next_id("spares"))

    def take(self) -> Principal | None:
        ordered = self.all()
        if not ordered:
            return None
        del self._s.spares[ordered[0]]
        return ordered[0]

    def all(self) -> list[Principal]:
        return sorted(self._s.spares, key=lambda p: (self._s.spares[p].added_at_ns, self._s.spares[p].order))

    def count(self) -> int:
        return len(self._s.spares)
