"""What the in-memory store adds to the port's contract (``tests/integration/store`` holds it to the rest)."""

from __future__ import annotations

import threading

import pytest

from canister_factory._core.errors import StoreError
from canister_factory._core.uploads import Upload
from canister_factory.store.memory import MemoryUnitOfWork
from icp_client.principal import Principal

ALICE = Principal(b"\x0a\x01")


def test_a_write_inside_a_write_on_one_thread_is_refused_at_once() -> None:
    uow = MemoryUnitOfWork()
    with uow.write(), pytest.raises(StoreError, match="inside another"), uow.write():
        pass
    with uow.write() as tx:  # the outer one ended cleanly: writing works again
        tx.uploads.insert(Upload(1, ALICE, 0, 0, 0, 0, None))


def test_a_read_during_a_write_sees_what_was_committed_before_it() -> None:
    uow = MemoryUnitOfWork()
    started, finish = threading.Event(), threading.Event()

    def writer() -> None:
        with uow.write() as tx:
            tx.uploads.insert(Upload(1, ALICE, 0, 0, 0, 0, None))
            started.set()
            finish.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    started.wait(10)
    with uow.read() as tx:
        assert tx.uploads.get(1) is None  # not committed yet
    finish.set()
    thread.join(10)
    with uow.read() as tx:
        assert tx.uploads.get(1) is not None


def test_a_read_snapshot_does_not_move_under_a_commit() -> None:
    uow = MemoryUnitOfWork()
    with uow.read() as snapshot:
        with uow.write() as tx:
            tx.uploads.insert(Upload(1, ALICE, 0, 0, 0, 0, None))
        assert snapshot.uploads.get(1) is None
