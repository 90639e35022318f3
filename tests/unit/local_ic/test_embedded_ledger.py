"""The local IC's cycles ledger (balances, create_canister with deduplication, withdraw), as the factory reads it."""

from __future__ import annotations

from typing import Any

import pytest

from canister_factory.ic.edge import created_canister, withdrawn_block
from canister_factory.ic.embedded import ledger_result
from canister_factory.ports import CanisterSettings, CreatedCanister, CyclesLedgerError, FakeClock
from icp_client.errors import Reject
from icp_client.principal import Principal
from icp_local import CreateCanisterOk, LedgerErr, LocalIc

T = 10**12
FEE = 100_000_000
CREATION_FEE = 500_000_000_000


def create(ic: LocalIc, *args: Any, **kwargs: Any) -> CreatedCanister:
    """The ledger's create_canister as the factory reads it (a Duplicate is the first canister)."""
    return created_canister(ledger_result(ic.ledger_create_canister(*args, **kwargs)))


def withdraw(ic: LocalIc, *args: Any) -> int:
    return withdrawn_block(ledger_result(ic.ledger_withdraw(*args)))


@pytest.fixture
def funded(ic: LocalIc, alice: Principal) -> Principal:
    ic.mint(alice, 10 * T)
    return alice


def test_mint_and_balance(ic: LocalIc, alice: Principal) -> None:
    assert ic.icrc1_balance_of(alice) == 0
    first = ic.mint(alice, 3 * T)
    second = ic.mint(alice, 2**70)
    assert second == first + 1
    assert ic.icrc1_balance_of(alice) == 3 * T + 2**70
    assert ic.icrc1_balance_of(alice, bytes(32)) == 3 * T + 2**70
    assert ic.icrc1_balance_of(alice, b"\x01" * 32) == 0
    assert ic.icrc1_fee() == FEE


def test_subaccounts_and_invalid_subaccount(ic: LocalIc, alice: Principal) -> None:
    ic.mint(alice, 5, b"\x01" * 32)
    assert ic.icrc1_balance_of(alice, b"\x01" * 32) == 5
    with pytest.raises(Reject) as info:
        ic.icrc1_balance_of(alice, b"\x01")
    assert info.value.error_code == "IC0503"


def test_deposit_deducts_the_fee(ic: LocalIc, alice: Principal) -> None:
    result = ic.deposit(alice, T)
    assert result.balance == T - FEE == ic.icrc1_balance_of(alice)
    with pytest.raises(Reject):
        ic.deposit(alice, FEE)


def test_create_canister(ic: LocalIc, clock: FakeClock, funded: Principal) -> None:
    created = create(ic, funded, 2 * T, None, clock.now_ns())
    assert not created.duplicate
    assert created.block_id is not None
    assert ic.icrc1_balance_of(funded) == 10 * T - 2 * T - FEE
    status = ic.canister_status(funded, created.canister_id)
    assert status.cycles == 2 * T - CREATION_FEE
    assert status.controllers == (funded,)
    assert ic.canister_info(created.canister_id, 1).recent_changes[0].origin == Principal.from_text(
        "rkp4c-7iaaa-aaaaa-aaaca-cai"
    )


def test_create_canister_with_controllers(
    ic: LocalIc, clock: FakeClock, funded: Principal, bob: Principal
) -> None:
    created = create(ic, funded, T, CanisterSettings(controllers=(bob,)), clock.now_ns())
    assert ic.read_controllers(created.canister_id) == (bob,)


def test_duplicate_create_returns_the_first_canister(
    ic: LocalIc, clock: FakeClock, funded: Principal
) -> None:
    when = clock.now_ns()
    first = create(ic, funded, T, None, when)
    clock.advance(3600)
    again = create(ic, funded, T, CanisterSettings(freezing_threshold=1), when)
    assert again.duplicate
    assert (again.canister_id, again.block_id) == (first.canister_id, first.block_id)
    raw = ic.ledger_create_canister(funded, T, None, when)
    assert raw == LedgerErr("Duplicate", {"duplicate_of": first.block_id, "canister_id": first.canister_id})
    assert ic.icrc1_balance_of(funded) == 10 * T - T - FEE
    assert len(ic.list_canisters()) == 1
    other = create(ic, funded, T, None, when + 1)
    assert other.canister_id != first.canister_id
    different_amount = create(ic, funded, T + 1, None, when)
    assert not different_amount.duplicate


def test_no_dedup_without_created_at_time(ic: LocalIc, funded: Principal) -> None:
    first = create(ic, funded, T, None, None)
    second = create(ic, funded, T, None, None)
    assert first.canister_id != second.canister_id


def test_too_old_and_in_the_future(ic: LocalIc, clock: FakeClock, funded: Principal) -> None:
    day = 24 * 3600 * 10**9
    minute = 60 * 10**9
    now = clock.now_ns()
    assert ic.ledger_create_canister(funded, T, None, now - day - minute - 1) == LedgerErr("TooOld")
    assert ic.ledger_create_canister(funded, T, None, now + minute + 1) == LedgerErr(
        "CreatedInFuture", {"ledger_time": now}
    )
    assert isinstance(ic.ledger_create_canister(funded, T, None, now - day), CreateCanisterOk)
    assert isinstance(ic.ledger_create_canister(funded, T, None, now + minute), CreateCanisterOk)
    with pytest.raises(CyclesLedgerError) as info:
        create(ic, funded, T, None, now + 2 * minute)
    assert info.value.variant == "CreatedInFuture"


def test_dedup_window_expires(ic: LocalIc, clock: FakeClock, funded: Principal) -> None:
    when = clock.now_ns()
    create(ic, funded, T, None, when)
    clock.advance(24 * 3600 + 61)
    assert ic.ledger_create_canister(funded, T, None, when) == LedgerErr("TooOld")


def test_insufficient_funds(ic: LocalIc, clock: FakeClock, funded: Principal) -> None:
    with pytest.raises(CyclesLedgerError) as info:
        create(ic, funded, 10 * T, None, clock.now_ns())
    assert (info.value.variant, info.value.fields) == ("InsufficientFunds", {"balance": 10 * T})
    assert ic.icrc1_balance_of(funded) == 10 * T
    assert ic.list_canisters() == []


def test_amount_below_the_creation_fee(ic: LocalIc, clock: FakeClock, funded: Principal) -> None:
    when = clock.now_ns()
    result = ic.ledger_create_canister(funded, CREATION_FEE - 1, None, when)
    assert isinstance(result, LedgerErr) and result.variant == "FailedToCreate"
    assert "requires a fee of 500000000000" in str(result.fields["error"])
    assert result.fields["refund_block"] == result.fields["fee_block"] + 1  # type: ignore[operator]
    assert ic.icrc1_balance_of(funded) == 10 * T - 2 * FEE
    assert ic.list_canisters() == []
    with pytest.raises(CyclesLedgerError) as info:
        create(ic, funded, CREATION_FEE - 1, None, when)
    assert info.value.variant == "Duplicate"
    assert info.value.fields["canister_id"] is None


def test_invalid_settings_fail_to_create_with_a_refund(
    ic: LocalIc, clock: FakeClock, funded: Principal
) -> None:
    many = tuple(Principal.self_authenticating(bytes([i])) for i in range(11))
    with pytest.raises(CyclesLedgerError) as info:
        create(ic, funded, T, CanisterSettings(controllers=many), clock.now_ns())
    assert info.value.variant == "FailedToCreate"
    assert "'controllers' length exceeds" in str(info.value.fields["error"])
    assert ic.icrc1_balance_of(funded) == 10 * T - 2 * FEE


def test_subnet_selection(ic: LocalIc, clock: FakeClock, funded: Principal) -> None:
    ok = create(ic, funded, T, None, clock.now_ns(), subnet=ic.subnet_id)
    assert ic.canister_exists(ok.canister_id)
    with pytest.raises(CyclesLedgerError) as info:
        create(ic, funded, T, None, clock.now_ns() + 1, subnet=Principal.anonymous())
    assert info.value.variant == "FailedToCreate"


def test_withdraw(ic: LocalIc, clock: FakeClock, funded: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(funded, 0)
    when = clock.now_ns()
    block = withdraw(ic, funded, T, canister, when)
    assert ic.canister_status(funded, canister).cycles == T
    assert ic.icrc1_balance_of(funded) == 9 * T - FEE
    assert withdraw(ic, funded, T, canister, when) == block
    assert ic.ledger_withdraw(funded, T, canister, when) == LedgerErr("Duplicate", {"duplicate_of": block})
    assert ic.canister_status(funded, canister).cycles == T


def test_withdraw_refusals(ic: LocalIc, clock: FakeClock, funded: Principal, bob: Principal) -> None:
    when = clock.now_ns()
    assert ic.ledger_withdraw(funded, T, bob, when) == LedgerErr("InvalidReceiver", {"receiver": bob})
    assert ic.ledger_withdraw(funded, 0, Principal.from_canister_index(7), when) == LedgerErr(
        "GenericError", {"message": "amount must be positive", "error_code": 0}
    )
    with pytest.raises(CyclesLedgerError) as info:
        withdraw(ic, funded, 100 * T, Principal.from_canister_index(7), when)
    assert info.value.variant == "InsufficientFunds"
    assert ic.icrc1_balance_of(funded) == 10 * T


def test_withdraw_to_a_missing_canister_costs_two_fees(
    ic: LocalIc, clock: FakeClock, funded: Principal
) -> None:
    missing = Principal.from_canister_index(ic.config.first_index + 77)
    result = ic.ledger_withdraw(funded, T, missing, clock.now_ns())
    assert isinstance(result, LedgerErr) and result.variant == "FailedToWithdraw"
    assert result.fields["rejection_code"] == "DestinationInvalid"
    assert ic.icrc1_balance_of(funded) == 10 * T - 2 * FEE
