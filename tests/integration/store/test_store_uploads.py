"""The store port's uploads and modules, on every backend."""

from __future__ import annotations

import hashlib
from dataclasses import replace

from canister_factory._core.config import DB_INT_MAX
from canister_factory._core.lifecycle import State
from canister_factory.unit_of_work import Transaction, UnitOfWork
from icp_client.principal import Principal
from tests.integration.store._records import ALICE, BOB, creation, deploy, upload

HASH = hashlib.sha256(b"abcdef").digest()


def _open(tx: Transaction, chunks: list[bytes], owner: Principal = ALICE, at: int = 10) -> int:
    upload_id = tx.counters.allocate_upload_id()
    tx.uploads.insert(upload(upload_id, owner, at=at))
    for data in chunks:
        current = tx.uploads.get(upload_id)
        assert current is not None
        assert tx.counters.claim_storage(len(data), 10**9) is not None
        tx.uploads.append_chunk(current, data, at)
    return upload_id


def _commit(tx: Transaction, upload_id: int, module_hash: bytes = HASH, at: int = 20) -> None:
    current = tx.uploads.get(upload_id, lock=True)
    assert current is not None
    tx.uploads.commit(current, module_hash, at)


def test_chunks_are_kept_in_order(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        upload_id = _open(tx, [b"abc", b"def"])
    with uow.read() as tx:
        stored = tx.uploads.get(upload_id)
        assert stored is not None and (stored.total_len, stored.chunk_count) == (6, 2)
        assert list(tx.uploads.chunks(upload_id)) == [b"abc", b"def"]
        assert tx.uploads.chunk_hashes(upload_id) == [hashlib.sha256(c).digest() for c in (b"abc", b"def")]
        assert (tx.uploads.chunk_at(upload_id, 1), tx.uploads.chunk_at(upload_id, 2)) == (b"def", None)
        assert tx.uploads.count(ALICE, committed=False) == 1
        assert tx.uploads.count(BOB, committed=False) == 0


def test_ids_no_stored_upload_can_have_find_nothing(uow: UnitOfWork) -> None:
    with uow.read() as tx:
        assert tx.uploads.get(DB_INT_MAX + 1) is None
        assert tx.uploads.get(2**64 - 1) is None
        assert tx.uploads.get(-1) is None


def test_touch_moves_the_last_activity(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        upload_id = _open(tx, [b"x"])
        tx.uploads.touch(upload_id, 99)
    with uow.read() as tx:
        stored = tx.uploads.get(upload_id)
        assert stored is not None and stored.last_activity_ns == 99


def test_a_committed_upload_becomes_a_module(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        upload_id = _open(tx, [b"abc", b"def"])
        _commit(tx, upload_id)
    with uow.read() as tx:
        stored = tx.uploads.get(upload_id)
        assert stored is not None and stored.module_hash == HASH and stored.last_activity_ns == 20
        assert tx.uploads.count(ALICE, committed=True) == 1
        assert (tx.modules.size(HASH), tx.modules.count()) == (6, 1)
        assert tx.modules.read(HASH) == b"abcdef"
        assert [tx.modules.chunk(i) for i in tx.modules.chunk_ids(HASH)] == [b"abc", b"def"]
        assert tx.modules.chunk_hashes(HASH) == [hashlib.sha256(c).digest() for c in (b"abc", b"def")]
        assert list(tx.uploads.chunks(upload_id)) == []  # the chunks are the module's now
        assert tx.counters.read().stored_bytes == 6


def test_a_second_copy_of_a_module_shares_it_and_frees_its_bytes(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        _commit(tx, _open(tx, [b"abcdef"]))
        _commit(tx, _open(tx, [b"abc", b"def"], owner=BOB))
    with uow.read() as tx:
        assert tx.modules.count() == 1
        assert tx.modules.read(HASH) == b"abcdef"
        assert tx.counters.read().stored_bytes == 6


def test_deleting_uploads_frees_bytes_and_collects_unused_modules(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        open_id = _open(tx, [b"zz"])
        first, second = _open(tx, [b"abcdef"]), _open(tx, [b"abcdef"], owner=BOB)
        _commit(tx, first)
        _commit(tx, second)
    with uow.write() as tx:
        for upload_id in (open_id, first):
            stored = tx.uploads.get(upload_id)
            assert stored is not None
            tx.uploads.delete(stored)
    with uow.read() as tx:
        assert tx.uploads.get(open_id) is None and tx.uploads.get(first) is None
        assert tx.modules.count() == 1  # the second upload still uses it
        assert tx.counters.read().stored_bytes == 6
    with uow.write() as tx:
        tx.creations.insert(creation(module_hash=HASH, state=State.CREATED))  # an unfinished creation uses it
        stored = tx.uploads.get(second)
        assert stored is not None
        tx.uploads.delete(stored)
    with uow.read() as tx:
        assert tx.modules.size(HASH) == 6
    with uow.write() as tx:
        tx.creations.update(1, state=State.READY)
        tx.creations.insert(creation(module_hash=HASH, state=State.READY))
        other = _open(tx, [b"abcdef"])
        _commit(tx, other)
        stored = tx.uploads.get(other)
        assert stored is not None
        tx.uploads.delete(stored)  # the last use: the module goes, with its bytes
    with uow.read() as tx:
        assert (tx.modules.size(HASH), tx.modules.count(), tx.modules.chunk_ids(HASH)) == (None, 0, [])
        assert tx.counters.read().stored_bytes == 0


def test_expired_lists_idle_open_uploads_longest_idle_first(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        late, early, fresh = _open(tx, [b"a"], at=30), _open(tx, [b"b"], at=10), _open(tx, [b"c"], at=90)
        _commit(tx, _open(tx, [b"abcdef"], at=5))  # committed uploads never expire
    with uow.read() as tx:
        assert [u.id for u in tx.uploads.expired(50, 10)] == [early, late]
        assert [u.id for u in tx.uploads.expired(50, 1)] == [early]
        assert [u.id for u in tx.uploads.expired(91, 10)] == [early, late, fresh]


def test_an_upload_reads_back_as_inserted(uow: UnitOfWork) -> None:
    record = replace(upload(7, BOB, at=3), total_len=0)
    with uow.write() as tx:
        deploy(tx)
        tx.uploads.insert(record)
    with uow.read() as tx:
        assert tx.uploads.get(7) == record
