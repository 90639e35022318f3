"""The embedded IC as a whole: persistence across restarts, fault injection, the ManagementPort adapter."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from embedded_wasm import module_with_metadata

from canister_factory.ic.embedded import EmbeddedManagement
from canister_factory.ports import (
    CanisterSettings,
    CyclesLedgerError,
    FakeClock,
    InstallMode,
    ManagementPort,
)
from icp_client.errors import Reject, Unavailable
from icp_client.principal import Principal
from icp_local import CreateCanisterOk, LedgerErr, LocalIc, SubnetConfig
from icp_local.db import IcDatabase
from icp_local.testing import faults_of

WASM = module_with_metadata(public={"name": b"test"})
T = 10**12


def test_state_survives_a_restart(db_path: Path, clock: FakeClock, alice: Principal) -> None:
    db = IcDatabase.open(f"sqlite:///{db_path}")
    ic = LocalIc(db, clock=clock)
    ic.mint(alice, 10 * T)
    created = ic.ledger_create_canister(alice, T, None, clock.now_ns())
    assert isinstance(created, CreateCanisterOk)
    ic.install_code(alice, created.canister_id, InstallMode.INSTALL, WASM)
    chunk = ic.upload_chunk(alice, created.canister_id, b"chunk")
    db.dispose()

    db = IcDatabase.open(f"sqlite:///{db_path}")
    again = LocalIc(db, clock=clock)
    assert again.list_canisters() == [created.canister_id]
    assert again.read_module_hash(created.canister_id) == hashlib.sha256(WASM).digest()
    assert again.read_metadata(created.canister_id, "name", alice) == b"test"
    assert again.stored_chunks(alice, created.canister_id) == [chunk]
    assert again.icrc1_balance_of(alice) == 9 * T - 100_000_000
    duplicate = again.ledger_create_canister(alice, T, None, clock.now_ns())
    assert isinstance(duplicate, LedgerErr) and duplicate.variant == "Duplicate"
    later = again.provisional_create_canister_with_cycles(alice)
    assert later.canister_index() == (created.canister_id.canister_index() or 0) + 1
    db.dispose()


def test_two_engines_on_one_database_share_state(db: IcDatabase, clock: FakeClock, alice: Principal) -> None:
    first = LocalIc(db, clock=clock)
    second = LocalIc(db, clock=clock)
    canister = first.provisional_create_canister_with_cycles(alice)
    assert second.canister_exists(canister)
    assert second.provisional_create_canister_with_cycles(alice) != canister


def test_fault_reject_has_no_effect(ic: LocalIc, alice: Principal) -> None:
    faults_of(ic).reject("provisional_create_canister_with_cycles", 2, "busy", "IC0999")
    with pytest.raises(Reject) as info:
        ic.provisional_create_canister_with_cycles(alice)
    assert (info.value.reject_code, info.value.error_code, info.value.reject_message) == (2, "IC0999", "busy")
    assert ic.list_canisters() == []
    ic.provisional_create_canister_with_cycles(alice)
    assert len(ic.list_canisters()) == 1


def test_fault_unavailable_before(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    faults_of(ic).unavailable("install_code", times=2)
    assert faults_of(ic).pending("install_code") == 2
    for _ in range(2):
        with pytest.raises(Unavailable):
            ic.install_code(alice, canister, InstallMode.INSTALL, WASM)
    assert ic.read_module_hash(canister) is None
    ic.install_code(alice, canister, InstallMode.INSTALL, WASM)
    assert faults_of(ic).pending("install_code") == 0


def test_fault_reply_lost_commits(ic: LocalIc, clock: FakeClock, alice: Principal) -> None:
    ic.mint(alice, 10 * T)
    faults_of(ic).reply_lost("create_canister")
    when = clock.now_ns()
    with pytest.raises(Unavailable, match="reply lost"):
        ic.ledger_create_canister(alice, T, None, when)
    assert len(ic.list_canisters()) == 1
    retry = ic.ledger_create_canister(alice, T, None, when)
    assert isinstance(retry, LedgerErr) and retry.variant == "Duplicate"
    assert ic.list_canisters() == [retry.fields["canister_id"]]


def test_fault_does_not_fire_when_the_call_rejects(ic: LocalIc, alice: Principal) -> None:
    missing = Principal.from_canister_index(ic.config.first_index + 3)
    faults_of(ic).reply_lost("start_canister")
    with pytest.raises(Reject):
        ic.start_canister(alice, missing)
    faults_of(ic).clear()
    assert faults_of(ic).pending("start_canister") == 0
    with pytest.raises(ValueError):
        faults_of(ic).reject("x", 1, times=0)


def test_management_port(ic: LocalIc, clock: FakeClock, alice: Principal, bob: Principal) -> None:
    port: ManagementPort = EmbeddedManagement(ic, alice)
    ic.mint(alice, 10 * T)
    assert port.sender == alice
    assert port.cycles_balance() == 10 * T
    assert (port.ledger_fee(), port.creation_fee()) == (100_000_000, 500_000_000_000)
    created = port.create_canister(amount=T, settings=None, created_at_time=clock.now_ns())
    canister = created.canister_id
    assert port.create_canister(amount=T, settings=None, created_at_time=clock.now_ns()).duplicate
    digest = port.upload_chunk(canister_id=canister, chunk=WASM)
    assert port.stored_chunks(canister_id=canister) == [digest]
    port.install_chunked_code(
        target_canister=canister,
        store_canister=None,
        chunk_hashes=[digest],
        wasm_module_hash=digest,
        mode=InstallMode.INSTALL,
        arg=b"",
    )
    port.clear_chunk_store(canister_id=canister)
    port.install_code(canister_id=canister, mode=InstallMode.UPGRADE, wasm_module=WASM, arg=b"")
    assert port.read_module_hash(canister_id=canister) == digest
    port.update_settings(canister_id=canister, settings=CanisterSettings(controllers=(alice, bob)))
    assert port.read_controllers(canister_id=canister) == tuple(sorted((alice, bob)))
    assert port.canister_status(canister_id=canister).module_hash == digest
    block = port.withdraw(amount=T, to=canister, created_at_time=clock.now_ns())
    assert port.withdraw(amount=T, to=canister, created_at_time=clock.now_ns()) == block
    with pytest.raises(CyclesLedgerError) as info:
        port.withdraw(amount=T, to=bob, created_at_time=clock.now_ns())
    assert info.value.variant == "InvalidReceiver"
    port.stop_canister(canister_id=canister)
    port.start_canister(canister_id=canister)
    port.stop_canister(canister_id=canister)
    port.delete_canister(canister_id=canister)
    assert not ic.canister_exists(canister)


def test_custom_config(db: IcDatabase, clock: FakeClock, alice: Principal) -> None:
    config = SubnetConfig(creation_fee=10, ledger_fee=1, default_provisional_cycles=5)
    ic = LocalIc(db, clock=clock, config=config)
    canister = ic.provisional_create_canister_with_cycles(alice)
    assert ic.canister_status(alice, canister).cycles == 5
    ic.mint(alice, 100)
    created = ic.ledger_create_canister(alice, 50, None, clock.now_ns())
    assert isinstance(created, CreateCanisterOk)
    assert ic.canister_status(alice, created.canister_id).cycles == 40
    assert ic.icrc1_balance_of(alice) == 49


def test_default_ids_are_well_known() -> None:
    from icp_local import CMC_ID, CYCLES_LEDGER_ID, MANAGEMENT_CANISTER_ID

    assert str(CYCLES_LEDGER_ID) == "um5iw-rqaaa-aaaaq-qaaba-cai"
    assert str(CMC_ID) == "rkp4c-7iaaa-aaaaa-aaaca-cai"
    assert str(MANAGEMENT_CANISTER_ID) == "aaaaa-aa"
    config = SubnetConfig()
    assert not config.in_range(CYCLES_LEDGER_ID) and not config.in_range(CMC_ID)
