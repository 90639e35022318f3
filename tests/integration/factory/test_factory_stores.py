"""Large installs through the pool of store canisters: one install per store, never evicting another's chunks."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from canister_factory._core.errors import IcUnavailable
from canister_factory.service import chunk_stores
from canister_factory.service.installer import rechunk
from icp_local.testing import faults_of
from tests.support.factory import Harness, new_principal, request, upload_module
from tests.support.wasm_modules import data_module

MIB = 1024 * 1024


def _install_at_once(h: Harness, modules: list[bytes]) -> list[str]:
    callers = [new_principal() for _ in modules]
    uploads = [
        upload_module(h.factory, c, m, chunk_size=2_000_000) for c, m in zip(callers, modules, strict=True)
    ]
    start = threading.Barrier(len(modules))

    def create(i: int) -> str:
        start.wait()
        return h.factory.create_and_install_with(callers[i], request(uploads[i])).module_hash_hex

    with ThreadPoolExecutor(len(modules)) as pool:
        return list(pool.map(create, range(len(modules))))


def test_concurrent_large_installs_each_get_a_store(h: Harness) -> None:
    modules = [data_module(35 * MIB, seed=i) for i in range(3)]  # 105 chunks: more than one store holds
    assert _install_at_once(h, modules) == [hashlib.sha256(m).hexdigest() for m in modules]
    with h.factory.ctx.store.read() as tx:
        stores = tx.chunk_stores.canisters()
    assert 1 <= len(stores) <= 3


def test_with_one_store_the_installs_wait_their_turn(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunk_stores, "MAX_STORES", 1)
    modules = [data_module(3 * MIB, seed=10 + i) for i in range(3)]
    assert _install_at_once(h, modules) == [hashlib.sha256(m).hexdigest() for m in modules]
    with h.factory.ctx.store.read() as tx:
        assert len(tx.chunk_stores.canisters()) == 1


def test_a_store_claimed_by_a_dead_process_is_taken_over(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunk_stores, "MAX_STORES", 1)
    alice = new_principal()
    uid = upload_module(h.factory, alice, data_module(3 * MIB, seed=20), chunk_size=2_000_000)
    h.factory.create_and_install_with(alice, request(uid))
    dead = f"{h.factory.ctx.host.hostname()}:999999999:dead"  # a process of this host that is gone
    with h.factory.ctx.store.write() as tx:
        (row,) = tx.chunk_stores.rows()
        tx.chunk_stores.claim(row.id, dead, h.clock.now_ns() + 10**15)
    assert h.factory.create_and_install_with(alice, request(uid)).module_hash_hex


def test_an_interrupted_store_creation_is_resumed_without_a_second_canister(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    ic = h.app.embedded
    assert ic is not None
    alice = new_principal()
    uid = upload_module(h.factory, alice, data_module(3 * MIB, seed=30), chunk_size=2_000_000)
    original = chunk_stores.ChunkStores._create

    def reply_lost_once(self: chunk_stores.ChunkStores, plan: object) -> object:
        monkeypatch.setattr(chunk_stores.ChunkStores, "_create", original)
        faults_of(ic).reply_lost("create_canister")  # the store is created, its reply lost
        return original(self, plan)  # type: ignore[arg-type]

    monkeypatch.setattr(chunk_stores.ChunkStores, "_create", reply_lost_once)
    h.factory.ctx.ic_retries = 1
    with pytest.raises(IcUnavailable):
        h.factory.create_and_install_with(alice, request(uid))
    on_the_ic = set(ic.list_canisters())  # the creation's canister, and the store nobody knows yet
    with h.factory.ctx.store.read() as tx:
        assert tx.chunk_stores.canisters() == []
    assert h.factory.installer.stores.finish_interrupted() == 1
    with h.factory.ctx.store.read() as tx:
        (store,) = tx.chunk_stores.canisters()
    assert store in on_the_ic
    created = h.factory.create_and_install_with(alice, request(uid))
    assert set(ic.list_canisters()) - on_the_ic == {created.canister_id}  # no second store canister


@pytest.mark.parametrize("sizes", [[5], [1, 1, 1], [2_000_000, 1], [3, 4, 5, 6]])
def test_rechunk_keeps_the_bytes_in_fixed_chunks(sizes: list[int]) -> None:
    pieces = [bytes([i]) * n for i, n in enumerate(sizes)]
    chunks = list(rechunk(pieces, 4))
    assert b"".join(chunks) == b"".join(pieces)
    assert all(len(c) == 4 for c in chunks[:-1]) and 0 < len(chunks[-1]) <= 4
