"""Modules larger than one message go through a store canister of the pool, claimed per install."""

from __future__ import annotations

import hashlib

import pytest

from canister_factory._core.errors import IcUnexpected, StoresBusy
from canister_factory.service import chunk_stores
from icp_client.principal import Principal
from tests.support.wasm_modules import data_module
from tests.unit.service.helpers import FACTORY, Env, create, upload

MIB = 1024 * 1024


@pytest.fixture
def big_upload(deployed: Env, alice: Principal) -> tuple[int, bytes]:
    module = data_module(3 * MIB, seed=7)
    return upload(deployed, alice, module, chunk_size=2_000_000), module


def test_a_large_module_is_installed_from_a_store_canister(
    deployed: Env, alice: Principal, big_upload: tuple[int, bytes]
) -> None:
    upload_id, module = big_upload
    created = create(deployed, alice, upload_id)
    assert deployed.local.read_module_hash(created.canister_id) == hashlib.sha256(module).digest()
    with deployed.ctx.store.read() as tx:
        (store,) = tx.chunk_stores.rows()
        overhead = tx.counters.read().overhead_cycles_used
    assert (store.claimed_by, store.module_hash) == (None, hashlib.sha256(module).digest())
    assert store.canister_id is not None and FACTORY in deployed.local.read_controllers(store.canister_id)
    assert overhead > 0 and deployed.reserved() == 0
    sent = deployed.ic.calls["upload_chunk"]
    create(deployed, alice, upload_id)
    assert deployed.ic.calls["upload_chunk"] == sent  # the store kept the chunks


def test_a_chunk_hash_the_ic_gets_wrong_is_the_factorys_own_finding(
    deployed: Env, alice: Principal, big_upload: tuple[int, bytes]
) -> None:
    deployed.ic.pretend("upload_chunk", b"\x00" * 32)
    with pytest.raises(IcUnexpected, match="upload_chunk returned hash 0000"):
        create(deployed, alice, big_upload[0])
    with deployed.ctx.store.read() as tx:
        assert [row.claimed_by for row in tx.chunk_stores.rows()] == [None]  # released


def test_when_every_store_stays_busy_the_install_gives_up_without_sleeping(
    deployed: Env, alice: Principal, big_upload: tuple[int, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chunk_stores, "MAX_STORES", 1)
    create(deployed, alice, big_upload[0])
    busy = "other-host:1:x"  # a live claim elsewhere, for longer than an install waits
    with deployed.ctx.store.write() as tx:
        (row,) = tx.chunk_stores.rows()
        tx.chunk_stores.claim(row.id, busy, deployed.clock.now_ns() + 10**15)
    with pytest.raises(StoresBusy):
        create(deployed, alice, big_upload[0])
    assert sum(deployed.host.slept) >= chunk_stores.WAIT_S
