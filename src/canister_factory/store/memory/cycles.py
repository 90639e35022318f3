"""Spends of the factory's cycles and the pool of store canisters, in memory."""

from __future__ import annotations

import dataclasses

from canister_factory._core.errors import StoreError
from canister_factory.store.memory.state import Spend, Tables
from canister_factory.unit_of_work import StoreRow
from icp_client.principal import Principal

RESERVED, SPENT = "reserved", "spent"


class MemorySpends:
    """``SpendRepo`` in memory."""

    def __init__(self, state: Tables) -> None:
        self._s = state

    def lock(self) -> None:
        """Nothing to do: the one writer already excludes every other check."""

    def reserved(self, now_ns: int) -> int:
        return sum(s.amount for s in self._s.spends.values() if s.state == RESERVED and _live(s, now_ns))

    def spent_by(self, caller: Principal, since_ns: int, now_ns: int) -> int:
        spends = self._s.spends.values()
        return sum(
            s.amount for s in spends if s.caller == caller and s.at_ns >= since_ns and _live(s, now_ns)
        )

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
        spend_id = self._s.next_id("cycles_spends")
        self._s.spends[spend_id] = Spend(kind, caller, creation_id, amount, RESERVED, now_ns, lapses_at_ns)
        return spend_id

    def settle(self, spend_id: int, amount: int) -> None:
        self._settle([spend_id], amount)

    def release(self, spend_id: int) -> None:
        self._release([spend_id])

    def settle_creation(self, creation_id: int, amount: int) -> None:
        self._settle([i for i, s in self._s.spends.items() if s.creation_id == creation_id], amount)

    def release_creation(self, creation_id: int) -> None:
        self._release([i for i, s in self._s.spends.items() if s.creation_id == creation_id])

    def prune(self, before_ns: int, now_ns: int) -> None:
        for spend_id, s in list(self._s.spends.items()):
            lapsed = s.lapses_at_ns is not None and s.lapses_at_ns < now_ns
            if (s.state == SPENT and s.at_ns < before_ns) or (s.state == RESERVED and lapsed):
                del self._s.spends[spend_id]

    def _settle(self, ids: list[int], amount: int) -> None:
        for spend_id in ids:
            spend = self._s.spends.get(spend_id)
            if spend is not None and spend.state == RESERVED:
                self._s.spends[spend_id] = dataclasses.replace(spend, state=SPENT, amount=amount)

    def _release(self, ids: list[int]) -> None:
        for spend_id in ids:
            spend = self._s.spends.get(spend_id)
            if spend is not None and spend.state == RESERVED:
                del self._s.spends[spend_id]


def _live(spend: Spend, now_ns: int) -> bool:
    """Spent, or a reservation that has not lapsed."""
    return spend.state == SPENT or spend.lapses_at_ns is None or spend.lapses_at_ns >= now_ns


class MemoryChunkStores:
    """``ChunkStoreRepo`` in memory."""

    def __init__(self, state: Tables) -> None:
        self._s = state

    def canisters(self) -> list[Principal]:
        return [r.canister_id for r in self.rows() if r.canister_id is not None]

    def rows(self) -> list[StoreRow]:
        return [self._s.chunk_stores[i] for i in sorted(self._s.chunk_stores)]

    def add(self, created_at_time_ns: int, token: str, until_ns: int, now_ns: int) -> int:
        store_id = self._s.next_id("store_canisters")
        self._s.chunk_stores[store_id] = StoreRow(store_id, None, created_at_time_ns, token, until_ns, None)
        return store_id

    def claim(self, store_id: int, token: str, until_ns: int) -> None:
        self._update(store_id, claimed_by=token, claimed_until_ns=until_ns)

    def set_canister(self, store_id: int, canister_id: Principal) -> None:
        if any(r.canister_id == canister_id and r.id != store_id for r in self._s.chunk_stores.values()):
            raise StoreError(f"database error: IntegrityError: store canister {canister_id} exists already")
        self._update(store_id, canister_id=canister_id)

    def release(self, store_id: int, token: str, module_hash: bytes | None) -> None:
        row = self._s.chunk_stores.get(store_id)
        if row is not None and row.claimed_by == token:
            self._update(store_id, claimed_by=None, claimed_until_ns=None, module_hash=module_hash)

    def _update(self, store_id: int, **fields: object) -> None:
        row = self._s.chunk_stores.get(store_id)
        if row is not None:
            self._s.chunk_stores[store_id] = dataclasses.replace(row, **fields)  # type: ignore[arg-type]
