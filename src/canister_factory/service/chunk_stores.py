"""The pool of store canisters that large installs send their chunks to: one install per store at a time.

A module larger than one ingress message is installed with ``install_chunked_code`` from the chunk store of a
store canister the factory controls (at most 100 chunks of 1 MiB each). Every such install claims a store of the
pool in the database *before* it sends a chunk and keeps it until the install returns, so concurrent installs
use different stores and none clears or fills another's chunk store. A store keeps its chunks afterwards, and a
claim prefers the store that last held the same module, so installing one module many times sends its chunks
once. The pool grows on demand up to ``MAX_STORES``; each new store, and each top-up of a store's own cycles
(its chunk store costs it per chunk), is a spend reserved against the floor like any other (``service.cycles``).
When every store is busy, an install waits for one to be released (``WAIT_S``).

A claim is a lease (``claims.LEASE_NS``, renewed while chunks are sent); one left by a killed process is taken
over at once, and a store whose creation was interrupted is created again with the same ``created_at_time``, which
the cycles ledger deduplicates.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from canister_factory._core.config import Settings
from canister_factory._core.costs import upload_chunk_cost
from canister_factory._core.errors import IcReject, StoresBusy
from canister_factory.ports import CHUNK_SIZE, MAX_CHUNKS_PER_STORE, CanisterSettings, CyclesLedgerError
from canister_factory.service import claims, cycles
from canister_factory.service.context import Context, settings_of
from canister_factory.unit_of_work import StoreRow, Transaction
from icp_client.principal import Principal

MAX_STORES = 8
STORE_CANISTER_CYCLES = 1_000_000_000_000  # a new store's own cycles, on top of the creation fee
WAIT_S = 300.0
_POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class ClaimedStore:
    """A store canister this install holds, and the claim's token."""

    id: int
    canister_id: Principal
    token: str


@dataclass(frozen=True, slots=True)
class _ToCreate:
    row: StoreRow
    spend_id: int
    token: str


class ChunkStores:
    """Claims, creates, funds and releases the store canisters of one factory."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @contextlib.contextmanager
    def claim(self, module_hash: bytes) -> Iterator[ClaimedStore]:
        """Hold a store canister for one install of ``module_hash``; released (noting the module) at the end.

        Raises:
            StoresBusy: every store stayed busy for ``WAIT_S``.
            InsufficientCycles: a new store would cross the floor.
            IcError: creating a store failed.
        """
        store = self._acquire(module_hash)
        try:
            yield store
        finally:
            with self.ctx.store.write() as tx:
                tx.chunk_stores.release(store.id, store.token, module_hash)

    def renew(self, store: ClaimedStore) -> None:
        """Extend the claim (a long install renews it as it sends chunks)."""
        with self.ctx.store.write() as tx:
            tx.chunk_stores.claim(store.id, store.token, self.ctx.now() + claims.LEASE_NS)

    def fund_for(self, store: ClaimedStore, chunks: int) -> None:
        """Top the store up if its cycles might not pay for ``chunks`` more chunks (and a full store's upkeep).

        The top-up is reserved against the floor, and counted as the factory's overhead.
        """
        fee = upload_chunk_cost(self.ctx.ic.creation_fee(), CHUNK_SIZE)
        needed = (chunks + MAX_CHUNKS_PER_STORE) * fee
        held = self.ctx.ic.canister_status(canister_id=store.canister_id).cycles
        if held >= needed:
            return
        amount = max(STORE_CANISTER_CYCLES, needed - held)
        spend = amount + self.ctx.ic.ledger_fee()
        with self.ctx.store.read() as tx:
            settings = settings_of(tx)
        spend_id = cycles.reserve(self.ctx, settings, "store", spend)
        with self.ctx.store.write() as tx:
            created_at_time = tx.counters.next_created_at_time(self.ctx.now())
        try:
            self.ctx.ic.withdraw(amount=amount, to=store.canister_id, created_at_time=created_at_time)
        except (CyclesLedgerError, IcReject):
            cycles.release(self.ctx, spend_id)
            raise
        with self.ctx.store.write() as tx:
            tx.spends.settle(spend_id, spend)
            tx.counters.bump(overhead_cycles_used=spend)

    # claiming -------------------------------------------------------------------------------------------

    def _acquire(self, module_hash: bytes) -> ClaimedStore:
        host = self.ctx.host
        token = claims.new_token(host)
        deadline = host.monotonic() + WAIT_S
        while True:
            found = self._try_claim(token, module_hash)
            if isinstance(found, ClaimedStore):
                return found
            if isinstance(found, _ToCreate):
                return self._create(found)
            if host.monotonic() > deadline:
                raise StoresBusy(
                    f"all {MAX_STORES} store canisters stayed busy with other large installs for {WAIT_S:.0f} s; "
                    "try again"
                )
            host.sleep(_POLL_S)

    def _try_claim(self, token: str, module_hash: bytes) -> ClaimedStore | _ToCreate | None:
        """One attempt, in one transaction under the cycles lock (which also serialises the pool's growth)."""
        now = self.ctx.now()
        with self.ctx.store.write() as tx:
            settings = settings_of(tx, lock="share")
            tx.spends.lock()
            rows = tx.chunk_stores.rows()
            free = [r for r in rows if self._stale(r, now)]
            if free:
                pick = min(free, key=lambda r: (r.module_hash != module_hash, r.canister_id is None, r.id))
                tx.chunk_stores.claim(pick.id, token, now + claims.LEASE_NS)
                if pick.canister_id is not None:
                    return ClaimedStore(pick.id, pick.canister_id, token)
                return self._plan_creation(tx, settings, pick, token)
            if len(rows) >= MAX_STORES:
                return None
            created_at_time = tx.counters.next_created_at_time(now)
            store_id = tx.chunk_stores.add(created_at_time, token, now + claims.LEASE_NS, now)
            row = StoreRow(store_id, None, created_at_time, token, now + claims.LEASE_NS, None)
            return self._plan_creation(tx, settings, row, token)

    def _stale(self, row: StoreRow, now: int) -> bool:
        return claims.is_stale(self.ctx.host, row.claimed_by, row.claimed_until_ns, now)

    def _plan_creation(self, tx: Transaction, settings: Settings, row: StoreRow, token: str) -> _ToCreate:
        """Reserve the new store's cost against the floor (a resumed creation reserves again: it may be new)."""
        spend = self._store_cost()
        cycles.check_spend(tx, self.ctx, settings, spend, None)
        now = self.ctx.now()
        spend_id = tx.spends.reserve("store", spend, now, lapses_at_ns=now + cycles.LAPSE_NS)
        return _ToCreate(row, spend_id, token)

    def _unclaim(self, plan: _ToCreate) -> None:
        with self.ctx.store.write() as tx:
            tx.chunk_stores.release(plan.row.id, plan.token, None)

    def finish_interrupted(self) -> int:
        """Finish the creation of every store canister whose creation was interrupted; returns how many.

        Run by reconciliation: a store whose ``create_canister`` reply was lost exists on the IC, and must join
        the pool (the ledger's deduplication returns it) rather than stay unknown.
        """
        finished = 0
        with self.ctx.store.read() as tx:
            pending = [r for r in tx.chunk_stores.rows() if r.canister_id is None]
        for row in pending:
            token = claims.new_token(self.ctx.host)
            plan = self._claim_pending(row.id, token)
            if plan is None:
                continue
            store = self._create(plan)
            with self.ctx.store.write() as tx:
                tx.chunk_stores.release(store.id, token, None)
            finished += 1
        return finished

    def _claim_pending(self, store_id: int, token: str) -> _ToCreate | None:
        now = self.ctx.now()
        with self.ctx.store.write() as tx:
            settings = settings_of(tx, lock="share")
            tx.spends.lock()
            rows = {r.id: r for r in tx.chunk_stores.rows()}
            row = rows.get(store_id)
            if row is None or row.canister_id is not None:
                return None
            if not self._stale(row, now):
                return None
            tx.chunk_stores.claim(row.id, token, now + claims.LEASE_NS)
            return self._plan_creation(tx, settings, row, token)

    def _store_cost(self) -> int:
        return self.ctx.ic.creation_fee() + STORE_CANISTER_CYCLES + self.ctx.ic.ledger_fee()

    def _create(self, plan: _ToCreate) -> ClaimedStore:
        ic = self.ctx.ic
        try:
            created = ic.create_canister(
                amount=ic.creation_fee() + STORE_CANISTER_CYCLES,
                settings=CanisterSettings(controllers=(ic.sender,)),
                created_at_time=plan.row.created_at_time_ns,
            )
        except (CyclesLedgerError, IcReject):  # refused: nothing was spent
            cycles.release(self.ctx, plan.spend_id)
            self._unclaim(plan)
            raise
        except BaseException:  # no answer: it may have run; a retry resumes it with the same created_at_time
            self._unclaim(plan)
            raise
        spent = created.charged if created.charged is not None else self._store_cost()
        with self.ctx.store.write() as tx:
            tx.chunk_stores.set_canister(plan.row.id, created.canister_id)
            tx.spends.settle(plan.spend_id, spent)
            tx.counters.bump(overhead_cycles_used=spent)
        return ClaimedStore(plan.row.id, created.canister_id, plan.token)
