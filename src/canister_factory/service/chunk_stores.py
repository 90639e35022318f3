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
import time
from collections.abc import Iterator
from dataclasses import dataclass

from canister_factory._core.config import Settings
from canister_factory._core.costs import upload_chunk_cost
from canister_factory._core.errors import FactoryFault, IcReject
from canister_factory.ports import CHUNK_SIZE, MAX_CHUNKS_PER_STORE, CanisterSettings, CyclesLedgerError
from canister_factory.service import claims, cycles
from canister_factory.service.context import Context, settings_of
from canister_factory.store.factory_repo import FactoryRepo, StoreRow
from icp_client.principal import Principal

MAX_STORES = 8
STORE_CANISTER_CYCLES = 1_000_000_000_000  # a new store's own cycles, on top of the creation fee
WAIT_S = 300.0
_POLL_S = 0.2


class StoresBusy(FactoryFault):
    """Every store canister stayed busy with other large installs for ``WAIT_S``."""

    code = "stores_busy"


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
            with self.ctx.store.write() as repo:
                repo.release_store(store.id, store.token, module_hash)

    def renew(self, store: ClaimedStore) -> None:
        """Extend the claim (a long install renews it as it sends chunks)."""
        with self.ctx.store.write() as repo:
            repo.claim_store(store.id, store.token, self.ctx.now() + claims.LEASE_NS)

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
        with self.ctx.store.read() as repo:
            settings = settings_of(repo)
        spend_id = cycles.reserve(self.ctx, settings, "store", spend)
        with self.ctx.store.write() as repo:
            created_at_time = repo.next_created_at_time(self.ctx.now())
        try:
            self.ctx.ic.withdraw(amount=amount, to=store.canister_id, created_at_time=created_at_time)
        except (CyclesLedgerError, IcReject):
            cycles.release(self.ctx, spend_id)
            raise
        with self.ctx.store.write() as repo:
            repo.settle_spend(spend_id, spend)
            repo.bump(overhead_cycles_used=spend)

    # claiming -------------------------------------------------------------------------------------------

    def _acquire(self, module_hash: bytes) -> ClaimedStore:
        token = claims.new_token()
        deadline = time.monotonic() + WAIT_S
        while True:
            found = self._try_claim(token, module_hash)
            if isinstance(found, ClaimedStore):
                return found
            if isinstance(found, _ToCreate):
                return self._create(found)
            if time.monotonic() > deadline:
                raise StoresBusy(
                    f"all {MAX_STORES} store canisters stayed busy with other large installs for {WAIT_S:.0f} s; "
                    "try again"
                )
            time.sleep(_POLL_S)

    def _try_claim(self, token: str, module_hash: bytes) -> ClaimedStore | _ToCreate | None:
        """One attempt, in one transaction under the cycles lock (which also serialises the pool's growth)."""
        now = self.ctx.now()
        with self.ctx.store.write() as repo:
            settings = settings_of(repo, lock="share")
            repo.lock_cycles()
            rows = repo.store_rows()
            free = [r for r in rows if claims.is_stale(r.claimed_by, r.claimed_until_ns, now)]
            if free:
                pick = min(free, key=lambda r: (r.module_hash != module_hash, r.canister_id is None, r.id))
                repo.claim_store(pick.id, token, now + claims.LEASE_NS)
                if pick.canister_id is not None:
                    return ClaimedStore(pick.id, pick.canister_id, token)
                return self._plan_creation(repo, settings, pick, token)
            if len(rows) >= MAX_STORES:
                return None
            created_at_time = repo.next_created_at_time(now)
            store_id = repo.add_store(created_at_time, token, now + claims.LEASE_NS, now)
            row = StoreRow(store_id, None, created_at_time, token, now + claims.LEASE_NS, None)
            return self._plan_creation(repo, settings, row, token)

    def _plan_creation(self, repo: FactoryRepo, settings: Settings, row: StoreRow, token: str) -> _ToCreate:
        """Reserve the new store's cost against the floor (a resumed creation reserves again: it may be new)."""
        spend = self._store_cost()
        cycles.check_spend(repo, self.ctx, settings, spend, None)
        now = self.ctx.now()
        spend_id = repo.insert_spend("store", spend, now, lapses_at_ns=now + cycles.LAPSE_NS)
        return _ToCreate(row, spend_id, token)

    def _unclaim(self, plan: _ToCreate) -> None:
        with self.ctx.store.write() as repo:
            repo.release_store(plan.row.id, plan.token, None)

    def finish_interrupted(self) -> int:
        """Finish the creation of every store canister whose creation was interrupted; returns how many.

        Run by reconciliation: a store whose ``create_canister`` reply was lost exists on the IC, and must join
        the pool (the ledger's deduplication returns it) rather than stay unknown.
        """
        finished = 0
        with self.ctx.store.read() as repo:
            pending = [r for r in repo.store_rows() if r.canister_id is None]
        for row in pending:
            token = claims.new_token()
            plan = self._claim_pending(row.id, token)
            if plan is None:
                continue
            store = self._create(plan)
            with self.ctx.store.write() as repo:
                repo.release_store(store.id, token, None)
            finished += 1
        return finished

    def _claim_pending(self, store_id: int, token: str) -> _ToCreate | None:
        now = self.ctx.now()
        with self.ctx.store.write() as repo:
            settings = settings_of(repo, lock="share")
            repo.lock_cycles()
            rows = {r.id: r for r in repo.store_rows()}
            row = rows.get(store_id)
            if row is None or row.canister_id is not None:
                return None
            if not claims.is_stale(row.claimed_by, row.claimed_until_ns, now):
                return None
            repo.claim_store(row.id, token, now + claims.LEASE_NS)
            return self._plan_creation(repo, settings, row, token)

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
        with self.ctx.store.write() as repo:
            repo.set_store_canister(plan.row.id, created.canister_id)
            repo.settle_spend(plan.spend_id, spent)
            repo.bump(overhead_cycles_used=spent)
        return ClaimedStore(plan.row.id, created.canister_id, plan.token)
