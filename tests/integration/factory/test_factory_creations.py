"""``create_and_install_with`` through ``Factory`` on the embedded IC: defects 1, 3, 5, 6 (sequential), 7,
quotas and rate limits, the registry, idempotency, and reinstall/upgrade of existing canisters."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from canister_factory._core.config import InitArg
from canister_factory._core.errors import (
    InsufficientCycles,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    PermissionDenied,
)
from canister_factory._core.model import Mode
from canister_factory.ports import CanisterRunStatus
from icp_client.principal import Principal
from tests.support.factory import (
    CANISTER_CYCLES,
    CREATION_FEE,
    LEDGER_FEE,
    Harness,
    new_principal,
    request,
    sha256_hex,
    upload_module,
)
from tests.support.wasm_modules import counter_wasm, large_module

WASM = counter_wasm()


# defect 1: handoff really transfers control


def test_handoff_leaves_exactly_caller_and_extras(h: Harness, alice: Principal, counter_upload: int) -> None:
    bob, carol = new_principal(), new_principal()
    created = h.factory.create_and_install_with(
        alice, request(counter_upload, handoff=True, extra_controllers=(bob, alice, carol, bob))
    )
    assert h.app.embedded is not None
    assert sorted(h.app.embedded.read_controllers(created.canister_id)) == sorted([alice, bob, carol])
    assert h.factory.principal not in h.app.embedded.read_controllers(created.canister_id)


def test_without_handoff_the_factory_stays_a_controller(
    h: Harness, alice: Principal, counter_upload: int
) -> None:
    bob = new_principal()
    created = h.factory.create_and_install_with(
        alice, request(counter_upload, handoff=False, extra_controllers=(bob,))
    )
    assert h.app.embedded is not None
    assert sorted(h.app.embedded.read_controllers(created.canister_id)) == sorted(
        [alice, bob, h.factory.principal]
    )


def test_handed_off_canister_is_the_callers(h: Harness, alice: Principal, counter_upload: int) -> None:
    created = h.factory.create_and_install_with(alice, request(counter_upload))
    status = h.app.ic_as(alice).canister_status(canister_id=created.canister_id)
    assert status.status is CanisterRunStatus.RUNNING
    assert status.module_hash == hashlib.sha256(WASM).digest()
    assert status.cycles > 0


def test_more_than_ten_controllers_is_an_error_and_reserves_nothing(
    h: Harness, alice: Principal, counter_upload: int
) -> None:
    extras = tuple(new_principal() for _ in range(10))
    with pytest.raises(InvalidArgument, match=r"^extra_controllers: a canister has at most 10 controllers"):
        h.factory.create_and_install_with(alice, request(counter_upload, extra_controllers=extras))
    assert h.factory.list_my_canisters(alice).canisters == ()
    assert h.ic_canisters == []


def test_module_hash_on_the_ic(h: Harness, alice: Principal, counter_upload: int) -> None:
    created = h.factory.create_and_install_with(alice, request(counter_upload))
    assert created.module_hash_hex == sha256_hex(WASM)
    assert h.app.embedded is not None
    assert h.app.embedded.read_module_hash(created.canister_id) == hashlib.sha256(WASM).digest()


def test_reinstall_mode_on_a_new_canister_is_an_install(
    h: Harness, alice: Principal, counter_upload: int
) -> None:
    created = h.factory.create_and_install_with(alice, request(counter_upload, mode=Mode.REINSTALL))
    assert h.app.embedded is not None
    assert h.app.embedded.read_module_hash(created.canister_id) == hashlib.sha256(WASM).digest()
    assert h.factory.list_my_canisters(alice).canisters[0].mode is Mode.REINSTALL


def test_upgrade_without_canister_id_is_an_error(h: Harness, alice: Principal, counter_upload: int) -> None:
    with pytest.raises(InvalidArgument, match=r"^mode Upgrade needs canister_id"):
        h.factory.create_and_install_with(alice, request(counter_upload, mode=Mode.UPGRADE))


def test_reference_texts_for_the_upload(
    h: Harness, alice: Principal, bob: Principal, counter_upload: int
) -> None:
    with pytest.raises(NotFound, match=r"^upload_id not found$"):
        h.factory.create_and_install_with(alice, request(999))
    with pytest.raises(PermissionDenied, match=r"^not owner of upload$"):
        h.factory.create_and_install_with(bob, request(counter_upload))


# defect 7: cycles


def test_cycles_used_is_exactly_the_balance_difference(
    h: Harness, alice: Principal, counter_upload: int
) -> None:
    before = h.balance()
    created = h.factory.create_and_install_with(alice, request(counter_upload, cycles=2 * CANISTER_CYCLES))
    assert created.cycles_used == before - h.balance()
    assert created.cycles_used == 2 * CANISTER_CYCLES + LEDGER_FEE


def test_floor_accounts_for_the_spend(make: Callable[..., Harness]) -> None:
    floor = 10 * CANISTER_CYCLES
    h = make(InitArg(min_factory_cycles=floor), funding=floor + CANISTER_CYCLES + LEDGER_FEE)
    alice = new_principal()
    uid = upload_module(h.factory, alice, WASM)
    balance = h.balance()
    with pytest.raises(InsufficientCycles) as err:
        h.factory.create_and_install_with(alice, request(uid, cycles=CANISTER_CYCLES + 1))
    assert str(err.value) == (
        f"Factory low on cycles: this request plus fees ({CANISTER_CYCLES + 1 + LEDGER_FEE}) would take the "
        f"balance from {balance} to {floor - 1}, below the floor of {floor} (min_factory_cycles)"
    )
    assert h.ic_canisters == []
    assert h.factory.my_stats(alice).created_count == 0
    created = h.factory.create_and_install_with(
        alice, request(uid, cycles=CANISTER_CYCLES)
    )  # lands on the floor
    assert h.balance() == floor
    assert created.cycles_used == CANISTER_CYCLES + LEDGER_FEE


def test_cycles_below_the_creation_fee(h: Harness, alice: Principal, counter_upload: int) -> None:
    with pytest.raises(InvalidArgument) as err:
        h.factory.create_and_install_with(alice, request(counter_upload, cycles=CREATION_FEE - 1))
    assert (
        str(err.value) == f"cycles: {CREATION_FEE - 1} is below the canister creation fee of {CREATION_FEE}"
    )
    assert h.ic_canisters == []
    assert h.factory.list_my_canisters(alice).canisters == ()


# quotas and rate limit


def test_quota_reached(make: Callable[..., Harness]) -> None:
    h = make(InitArg(max_canisters_per_caller=2))
    alice, bob = new_principal(), new_principal()
    uid = upload_module(h.factory, alice, WASM)
    h.factory.create_and_install_with(alice, request(uid))
    h.factory.create_and_install_with(alice, request(uid))
    with pytest.raises(LimitExceeded) as err:
        h.factory.create_and_install_with(alice, request(uid))
    assert str(err.value) == "Per-caller canister limit reached: 2/2"
    assert h.factory.my_stats(alice).created_count == 2
    h.factory.create_and_install_with(bob, request(upload_module(h.factory, bob, WASM)))  # per caller


def test_rate_limit_per_rolling_day(make: Callable[..., Harness]) -> None:
    h = make(InitArg(max_creations_per_day=2))
    alice = new_principal()
    uid = upload_module(h.factory, alice, WASM)
    h.factory.create_and_install_with(alice, request(uid))
    h.clock.advance(12 * 3600)
    h.factory.create_and_install_with(alice, request(uid))
    with pytest.raises(LimitExceeded) as err:
        h.factory.create_and_install_with(alice, request(uid))
    assert str(err.value) == "Rate limit reached, try again later."
    h.clock.advance(12 * 3600 + 1)  # the first creation is now over a day old: one slot frees up
    h.factory.create_and_install_with(alice, request(uid))
    with pytest.raises(LimitExceeded, match=r"^Rate limit reached, try again later\.$"):
        h.factory.create_and_install_with(alice, request(uid))
    assert h.factory.my_stats(alice).created_count == 3


# defect 3: the registry


def test_registry_row(h: Harness, alice: Principal, counter_upload: int) -> None:
    h.clock.advance(3)
    created = h.factory.create_and_install_with(
        alice, request(counter_upload, handoff=False, cycles=3 * CANISTER_CYCLES)
    )
    page = h.factory.list_my_canisters(alice)
    assert page.next_cursor is None
    (row,) = page.canisters
    assert row.canister_id == created.canister_id
    assert row.owner == alice
    assert row.module_hash_hex == sha256_hex(WASM)
    assert row.mode is Mode.INSTALL
    assert row.cycles == 3 * CANISTER_CYCLES
    assert row.state == "READY"
    assert row.handoff is False
    assert row.created_at_ns == row.updated_at_ns == h.clock.now_ns()
    assert row.cycles_used == created.cycles_used
    assert row.error is None


def test_listing_paginates_newest_first_and_admin_sees_all(
    h: Harness, alice: Principal, bob: Principal
) -> None:
    ua, ub = upload_module(h.factory, alice, WASM), upload_module(h.factory, bob, WASM)
    mine = [h.factory.create_and_install_with(alice, request(ua)).canister_id for _ in range(5)]
    theirs = h.factory.create_and_install_with(bob, request(ub)).canister_id
    seen: list[Principal] = []
    cursor = None
    pages = 0
    while True:
        page = h.factory.list_my_canisters(alice, cursor, 2)
        seen += [c.canister_id for c in page.canisters]  # type: ignore[misc]
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == list(reversed(mine))
    assert pages == 3
    everyone = h.factory.list_canisters(h.admin)
    assert [c.canister_id for c in everyone.canisters] == [theirs, *reversed(mine)]
    assert h.factory.list_my_canisters(new_principal()).canisters == ()
    with pytest.raises(InvalidArgument, match=r"^limit:"):
        h.factory.list_my_canisters(alice, None, 0)
    with pytest.raises(PermissionDenied, match=r"^Admin access required$"):
        h.factory.list_canisters(alice)


# our additions: idempotency, reinstall/upgrade of an existing canister


def test_idempotency_key_returns_the_first_result(h: Harness, alice: Principal, counter_upload: int) -> None:
    first = h.factory.create_and_install_with(alice, request(counter_upload, idempotency_key="k1"))
    again = h.factory.create_and_install_with(alice, request(counter_upload, idempotency_key="k1"))
    assert again == first
    assert len(h.ic_canisters) == 1
    assert h.factory.my_stats(alice).created_count == 1
    other = h.factory.create_and_install_with(alice, request(counter_upload, idempotency_key="k2"))
    assert other.canister_id != first.canister_id


def test_idempotency_key_is_per_caller(
    h: Harness, alice: Principal, bob: Principal, counter_upload: int
) -> None:
    h.factory.create_and_install_with(alice, request(counter_upload, idempotency_key="same"))
    ub = upload_module(h.factory, bob, WASM)
    h.factory.create_and_install_with(bob, request(ub, idempotency_key="same"))
    assert len(h.ic_canisters) == 2


@pytest.mark.parametrize("mode", [Mode.UPGRADE, Mode.REINSTALL])
def test_upgrade_or_reinstall_an_existing_canister(
    h: Harness, alice: Principal, counter_upload: int, mode: Mode
) -> None:
    created = h.factory.create_and_install_with(alice, request(counter_upload, handoff=False))
    v2 = large_module(4096, seed=2)
    uid2 = upload_module(h.factory, alice, v2)
    h.clock.advance(1)
    before = h.balance()
    result = h.factory.create_and_install_with(
        alice, request(uid2, mode=mode, canister_id=created.canister_id, cycles=0)
    )
    assert result.canister_id == created.canister_id
    assert result.module_hash_hex == sha256_hex(v2)
    assert result.cycles_used == 0 == before - h.balance()
    assert h.app.embedded is not None
    assert h.app.embedded.read_module_hash(created.canister_id) == hashlib.sha256(v2).digest()
    (row,) = h.factory.list_my_canisters(alice).canisters
    assert (row.module_hash_hex, row.mode, row.updated_at_ns) == (sha256_hex(v2), mode, h.clock.now_ns())
    assert len(h.ic_canisters) == 1


def test_upgrade_with_a_top_up(h: Harness, alice: Principal, counter_upload: int) -> None:
    created = h.factory.create_and_install_with(alice, request(counter_upload, handoff=False))
    ic = h.app.ic_as(alice)
    cycles_before = ic.canister_status(canister_id=created.canister_id).cycles
    before = h.balance()
    result = h.factory.create_and_install_with(
        alice,
        request(counter_upload, mode=Mode.UPGRADE, canister_id=created.canister_id, cycles=CANISTER_CYCLES),
    )
    assert result.cycles_used == CANISTER_CYCLES + LEDGER_FEE == before - h.balance()
    assert ic.canister_status(canister_id=created.canister_id).cycles > cycles_before


def test_upgrade_of_a_canister_not_owned(
    h: Harness, alice: Principal, bob: Principal, counter_upload: int
) -> None:
    created = h.factory.create_and_install_with(alice, request(counter_upload, handoff=False))
    ub = upload_module(h.factory, bob, WASM)
    with pytest.raises(PermissionDenied) as err:
        h.factory.create_and_install_with(
            bob, request(ub, mode=Mode.UPGRADE, canister_id=created.canister_id)
        )
    assert str(err.value) == f"canister {created.canister_id} was not created by this factory for you"
    stranger = Principal.from_canister_index(5 * 2**20 + 999)
    with pytest.raises(PermissionDenied, match=r"was not created by this factory for you"):
        h.factory.create_and_install_with(
            alice, request(counter_upload, mode=Mode.UPGRADE, canister_id=stranger)
        )


def test_upgrade_of_a_handed_off_canister(h: Harness, alice: Principal, counter_upload: int) -> None:
    created = h.factory.create_and_install_with(alice, request(counter_upload, handoff=True))
    with pytest.raises(PermissionDenied) as err:
        h.factory.create_and_install_with(
            alice, request(counter_upload, mode=Mode.UPGRADE, canister_id=created.canister_id)
        )
    assert (
        str(err.value) == f"the factory no longer controls canister {created.canister_id}: it was handed off"
    )


def test_install_mode_with_canister_id_is_an_error(h: Harness, alice: Principal, counter_upload: int) -> None:
    created = h.factory.create_and_install_with(alice, request(counter_upload, handoff=False))
    with pytest.raises(InvalidArgument, match=r"^mode Install is for a new canister"):
        h.factory.create_and_install_with(alice, request(counter_upload, canister_id=created.canister_id))


# defect 5: large modules through the chunk store, each chunk uploaded once


def test_large_module_installs_through_chunks_once(
    h: Harness, alice: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = large_module(3 * 1024 * 1024, seed=5)
    uid = upload_module(h.factory, alice, big, chunk_size=2_000_000)
    ic = h.app.embedded
    assert ic is not None
    calls: list[str] = []
    for name in ("upload_chunk", "install_code", "install_chunked_code"):
        original = getattr(ic, name)
        monkeypatch.setattr(
            ic, name, lambda *a, _n=name, _o=original, **k: (calls.append(_n), _o(*a, **k))[1]
        )
    first = h.factory.create_and_install_with(alice, request(uid))
    assert ic.read_module_hash(first.canister_id) == hashlib.sha256(big).digest()
    assert calls.count("upload_chunk") == 3  # 3 MiB in 1 MiB chunks
    assert calls.count("install_chunked_code") == 1 and "install_code" not in calls
    with h.factory.ctx.store.read() as tx:
        (store,) = tx.chunk_stores.canisters()
    stored = sorted(h.factory.ctx.ic.stored_chunks(canister_id=store))
    calls.clear()
    second = h.factory.create_and_install_with(alice, request(uid))
    assert ic.read_module_hash(second.canister_id) == hashlib.sha256(big).digest()
    assert calls == ["install_chunked_code"], "no chunk is uploaded again"
    assert sorted(h.factory.ctx.ic.stored_chunks(canister_id=store)) == stored


def test_small_module_uses_install_code(h: Harness, alice: Principal, counter_upload: int) -> None:
    h.factory.create_and_install_with(alice, request(counter_upload))
    with h.factory.ctx.store.read() as tx:
        assert tx.chunk_stores.canisters() == []
