"""The store port's callers, registry, spares, spends and store canisters, on every backend."""

from __future__ import annotations

from dataclasses import replace

import pytest

from canister_factory._core.config import DB_INT_MAX
from canister_factory._core.errors import StoreError
from canister_factory._core.lifecycle import State
from canister_factory._core.model import Mode
from canister_factory.unit_of_work import CallerQuota, StoreRow, UnitOfWork
from tests.integration.store._records import ALICE, BOB, CANISTER, OTHER_CANISTER, U128, creation, deploy


def test_a_callers_row_is_made_once_and_counted_once(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        assert tx.callers.quota(ALICE) == CallerQuota(0, 0, None)
        assert tx.callers.lock(ALICE) == CallerQuota(0, 0, None)
        tx.callers.adjust_quota(ALICE, +2)
        tx.callers.record_created(ALICE, 77)
    with uow.write() as tx:
        assert tx.callers.lock(ALICE) == CallerQuota(2, 1, 77)
        tx.callers.adjust_quota(ALICE, -1)
    with uow.read() as tx:
        assert tx.callers.quota(ALICE) == CallerQuota(1, 1, 77)
        counters = tx.counters.read()
    assert (counters.unique_callers, counters.total_canisters_created) == (1, 1)


def test_a_creation_reads_back_as_recorded(uow: UnitOfWork) -> None:
    row = creation(idempotency_key="k1", controllers=(ALICE, BOB), cycles_used=U128 + 1)
    with uow.write() as tx:
        record_id = tx.creations.insert(row)
    with uow.read() as tx:
        assert tx.creations.get(record_id, lock=True) == replace(row, id=record_id)
        assert tx.creations.find_by_key(ALICE, "k1") == tx.creations.get(record_id)
        assert tx.creations.find_by_key(BOB, "k1") is None
        assert tx.creations.get(record_id + 1) is None


def test_an_idempotency_key_names_one_creation_per_owner(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        tx.creations.insert(creation(idempotency_key="k"))
        tx.creations.insert(creation(BOB, idempotency_key="k"))
    with pytest.raises(StoreError), uow.write() as tx:
        tx.creations.insert(creation(idempotency_key="k"))


def test_updates_and_claims(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        record_id = tx.creations.insert(creation())
        tx.creations.update(
            record_id,
            state=State.INSTALLED,
            canister_id=CANISTER,
            mode=Mode.REINSTALL,
            cycles_used=U128,
            error="e",
            attempts=2,
            from_spare=True,
            module_hash=b"\x22" * 32,
        )
        tx.creations.claim(record_id, "other:2:x", 5000)
    with uow.read() as tx:
        row = tx.creations.get(record_id)
    assert row is not None
    assert (row.state, row.canister_id, row.mode, row.cycles_used) == (
        State.INSTALLED,
        CANISTER,
        Mode.REINSTALL,
        U128,
    )
    assert (row.error, row.attempts, row.from_spare, row.module_hash) == ("e", 2, True, b"\x22" * 32)
    assert (row.claimed_by, row.claimed_until_ns) == ("other:2:x", 5000)


def test_pages_newest_first_by_owner_and_cursor(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        ids = [tx.creations.insert(creation(ALICE if i % 2 else BOB)) for i in range(6)]
    with uow.read() as tx:
        assert [r.id for r in tx.creations.page(None, None, 10)] == ids[::-1]
        assert [r.id for r in tx.creations.page(ALICE, None, 2)] == [ids[5], ids[3]]
        assert [r.id for r in tx.creations.page(ALICE, ids[3], 10)] == [ids[1]]
        assert [r.id for r in tx.creations.page(BOB, DB_INT_MAX + 5, 1)] == [
            ids[4]
        ]  # above every id: the top


def test_unfinished_rate_and_canister_lookups(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        ready_old = tx.creations.insert(creation(state=State.READY, canister_id=CANISTER, requested_at_ns=10))
        ready_new = tx.creations.insert(creation(state=State.READY, canister_id=CANISTER, requested_at_ns=20))
        failed = tx.creations.insert(
            creation(state=State.FAILED, canister_id=OTHER_CANISTER, requested_at_ns=30)
        )
        open_ids = [
            tx.creations.insert(creation(state=s, requested_at_ns=40))
            for s in (State.RESERVED, State.RECOVERING)
        ]
    with uow.read() as tx:
        assert [r.id for r in tx.creations.unfinished()] == open_ids
        found = tx.creations.find_by_canister(CANISTER)
        assert found is not None and found.id == ready_new != ready_old
        assert tx.creations.find_by_canister(OTHER_CANISTER) is None  # only READY ones
        assert tx.creations.count_requested_since(ALICE, 20) == 3  # FAILED ones do not count
        assert tx.creations.count_requested_since(BOB, 0) == 0
    assert failed not in open_ids


def test_spares_are_taken_oldest_first_and_never_twice(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        tx.spares.add(OTHER_CANISTER, 2, 20)
        tx.spares.add(CANISTER, 1, 10)
        tx.spares.add(CANISTER, 3, 30)  # there already: nothing changes
    with uow.write() as tx:
        assert (tx.spares.count(), tx.spares.all()) == (2, [CANISTER, OTHER_CANISTER])
        assert tx.spares.take() == CANISTER
    with uow.write() as tx:
        assert tx.spares.take() == OTHER_CANISTER
        assert tx.spares.take() is None


def test_reservations_settle_release_lapse_and_prune(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        create = tx.spends.reserve("creation", U128, 100, caller=ALICE, creation_id=1)
        top_up = tx.spends.reserve("top_up", 50, 100, caller=ALICE, lapses_at_ns=500)
        store = tx.spends.reserve("store", 7, 100, lapses_at_ns=500)
        tx.spends.reserve("top_up", 3, 100, caller=BOB)
    with uow.write() as tx:
        tx.spends.lock()
        assert tx.spends.reserved(100) == U128 + 60
        assert tx.spends.reserved(501) == U128 + 3  # lapsed reservations no longer count
        assert tx.spends.spent_by(ALICE, 0, 100) == U128 + 50
        assert tx.spends.spent_by(ALICE, 101, 100) == 0
        tx.spends.settle(top_up, 40)
        tx.spends.release(store)
        tx.spends.settle_creation(1, U128 - 1)
    with uow.write() as tx:
        assert tx.spends.reserved(100) == 3
        assert tx.spends.spent_by(ALICE, 0, 10**6) == U128 + 39  # spends never lapse
        tx.spends.settle(top_up, 1)  # settled already: no change
        tx.spends.release(create)  # a spend is not a reservation: it stays
        assert tx.spends.spent_by(ALICE, 0, 10**6) == U128 + 39
        tx.spends.prune(101, 10**6)  # spends from before 101 go; reservations without a lapse stay
    with uow.read() as tx:
        assert tx.spends.spent_by(ALICE, 0, 10**6) == 0
        assert tx.spends.reserved(10**6) == 3
    with uow.write() as tx:
        other = tx.spends.reserve("creation", 9, 200, caller=BOB, creation_id=2)
        tx.spends.release_creation(2)
    with uow.read() as tx:
        assert tx.spends.spent_by(BOB, 0, 0) == 3 and other > 0


def test_store_canisters_are_claimed_created_and_released(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        first = tx.chunk_stores.add(11, "me:1:a", 1000, 5)
        second = tx.chunk_stores.add(12, "me:1:b", 1000, 6)
        tx.chunk_stores.set_canister(first, CANISTER)
    with uow.write() as tx:
        assert tx.chunk_stores.canisters() == [CANISTER]  # not the one still being created
        assert tx.chunk_stores.rows() == [
            StoreRow(first, CANISTER, 11, "me:1:a", 1000, None),
            StoreRow(second, None, 12, "me:1:b", 1000, None),
        ]
        tx.chunk_stores.release(first, "someone:else:x", b"\x01")  # not the holder: nothing happens
        tx.chunk_stores.release(second, "me:1:b", None)
        tx.chunk_stores.claim(first, "me:1:c", 2000)
        tx.chunk_stores.release(first, "me:1:c", b"\x33" * 32)
    with uow.read() as tx:
        assert tx.chunk_stores.rows() == [
            StoreRow(first, CANISTER, 11, None, None, b"\x33" * 32),
            StoreRow(second, None, 12, None, None, None),
        ]
