"""The store port's transactions, on every backend: commit, rollback, discarded reads, serialised writers."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from canister_factory._core.errors import StoreError
from canister_factory.unit_of_work import UnitOfWork
from tests.integration.store._records import ALICE, deploy, upload


class Boom(Exception):
    pass


def test_a_write_that_returns_is_committed(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        tx.uploads.insert(upload(tx.counters.allocate_upload_id()))
    with uow.read() as tx:
        assert tx.settings.is_deployed()
        assert tx.uploads.get(1) is not None
        assert tx.counters.read().next_upload_id == 2


def test_a_write_that_raises_leaves_every_concern_as_it_was(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
    with pytest.raises(Boom), uow.write() as tx:
        tx.uploads.insert(upload(tx.counters.allocate_upload_id()))
        tx.callers.lock(ALICE)
        tx.settings.set_emergency_stop(True)
        tx.spends.reserve("top_up", 5, 1)
        raise Boom
    with uow.read() as tx:
        settings = tx.settings.load()
        assert settings is not None and not settings.emergency_stop
        assert tx.uploads.get(1) is None
        assert tx.counters.read().next_upload_id == 1
        assert tx.counters.read().unique_callers == 0
        assert tx.spends.reserved(0) == 0


def test_what_a_read_writes_is_discarded(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
    with uow.read() as tx:
        tx.settings.set_emergency_stop(True)
    with uow.read() as tx:
        settings = tx.settings.load()
        assert settings is not None and not settings.emergency_stop


def test_a_store_failure_is_a_store_error(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
    with pytest.raises(StoreError), uow.write() as tx:
        deploy(tx)  # the settings row exists already


def test_concurrent_writers_never_hand_out_the_same_id(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)

    def allocate(_: int) -> int:
        with uow.write() as tx:
            upload_id = tx.counters.allocate_upload_id()
            tx.uploads.insert(upload(upload_id))
            return upload_id

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(allocate, range(24)))
    assert sorted(ids) == list(range(1, 25))
    with uow.read() as tx:
        assert tx.uploads.count(ALICE, committed=False) == 24


def test_a_writer_waits_for_the_one_before_it(uow: UnitOfWork) -> None:
    """A read-then-write rule holds: the second writer sees the first one's result, not the state before it."""
    with uow.write() as tx:
        deploy(tx)
    inside = threading.Event()
    release = threading.Event()
    seen: list[int] = []

    def first() -> None:
        with uow.write() as tx:
            tx.settings.load(lock="update")
            tx.counters.bump(active_uploads=1)
            inside.set()
            release.wait(10)

    def second() -> None:
        inside.wait(10)
        with uow.write() as tx:
            tx.settings.load(lock="update")
            seen.append(tx.counters.read().active_uploads)
            tx.counters.bump(active_uploads=1)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    inside.wait(10)
    time.sleep(0.1)  # let the second writer reach its transaction while the first holds its own
    release.set()
    for thread in threads:
        thread.join(30)
    assert seen == [1]
    with uow.read() as tx:
        assert tx.counters.read().active_uploads == 2
