"""Creation rules: request shape, controllers, cycles floor and creation fee, health text."""

from __future__ import annotations

import pytest

from canister_factory._core.config import InitArg, resolve_init
from canister_factory._core.creation import (
    check_cycles,
    check_request,
    final_controllers,
    health_text,
    require_above_floor,
    require_cycles_left,
)
from canister_factory._core.errors import InsufficientCycles, InvalidArgument
from canister_factory._core.model import CreateInstallRequest, Mode
from icp_client.principal import Principal

ALICE = Principal.self_authenticating(b"alice key")
BOB = Principal.self_authenticating(b"bob key")
FACTORY = Principal.self_authenticating(b"factory key")
CANISTER = Principal.from_canister_index(5 * 2**20)
SETTINGS = resolve_init(InitArg(min_factory_cycles=1000), ALICE)


def others(n: int) -> tuple[Principal, ...]:
    return tuple(Principal.self_authenticating(bytes([i, 7])) for i in range(n))


# controllers


def test_handoff_controllers_are_caller_and_extras_deduplicated_in_order() -> None:
    assert final_controllers(ALICE, (BOB, ALICE, BOB), FACTORY, True) == (ALICE, BOB)


def test_without_handoff_the_factory_stays_a_controller() -> None:
    assert final_controllers(ALICE, (BOB,), FACTORY, False) == (ALICE, BOB, FACTORY)
    assert final_controllers(ALICE, None, FACTORY, False) == (ALICE, FACTORY)
    assert final_controllers(ALICE, (FACTORY,), FACTORY, False) == (ALICE, FACTORY)


def test_ten_controllers_is_the_limit() -> None:
    assert len(final_controllers(ALICE, others(9), FACTORY, True)) == 10
    with pytest.raises(
        InvalidArgument,
        match=r"^extra_controllers: a canister has at most 10 controllers, this request gives 11",
    ):
        final_controllers(ALICE, others(10), FACTORY, True)


def test_the_factory_counts_towards_ten_without_handoff() -> None:
    with pytest.raises(InvalidArgument, match=r"gives 11"):
        final_controllers(ALICE, others(9), FACTORY, False)


def test_duplicates_do_not_count_towards_the_limit() -> None:
    assert len(final_controllers(ALICE, others(9) + others(9), FACTORY, True)) == 10


def test_anonymous_controller_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"anonymous"):
        final_controllers(ALICE, (Principal.anonymous(),), FACTORY, True)


# cycles


def test_floor_accounts_for_the_spend() -> None:
    check_cycles(
        balance=2000, cycles=900, fees=100, creation_fee=500, settings=SETTINGS
    )  # 2000-900-100 == 1000
    with pytest.raises(InsufficientCycles) as err:
        check_cycles(balance=2000, cycles=901, fees=100, creation_fee=500, settings=SETTINGS)
    assert str(err.value) == (
        "Factory low on cycles: this request plus fees (1001) would take the balance from 2000 to 999, "
        "below the floor of 1000 (min_factory_cycles)"
    )


def test_cycles_below_the_creation_fee_is_a_clear_error() -> None:
    with pytest.raises(InvalidArgument) as err:
        check_cycles(balance=10**9, cycles=499, fees=0, creation_fee=500, settings=SETTINGS)
    assert str(err.value) == "cycles: 499 is below the canister creation fee of 500"


def test_require_cycles_left() -> None:
    require_cycles_left(1001, 1, SETTINGS)
    with pytest.raises(InsufficientCycles) as err:
        require_cycles_left(1000, 1, SETTINGS)
    assert str(err.value) == (
        "Factory low on cycles: this request plus fees (1) would take the balance from 1000 to 999, "
        "below the floor of 1000 (min_factory_cycles)"
    )
    with pytest.raises(InsufficientCycles) as err:
        require_cycles_left(1500, 300, SETTINGS, reserved=400)
    assert str(err.value) == (
        "Factory low on cycles: this request plus fees (300), with 400 reserved by requests in flight, would "
        "take the balance from 1500 to 800, below the floor of 1000 (min_factory_cycles)"
    )


def test_a_request_the_balance_cannot_pay_never_shows_a_negative_balance() -> None:
    with pytest.raises(InsufficientCycles) as err:
        require_cycles_left(100, 300, SETTINGS)
    assert str(err.value) == (
        "Factory low on cycles: this request plus fees (300) is more than the balance of 100 can pay; "
        "the floor is 1000 (min_factory_cycles)"
    )


def test_require_above_floor() -> None:
    require_above_floor(1001, SETTINGS)
    with pytest.raises(
        InsufficientCycles,
        match=r"^Factory low on cycles: the balance of 1000 is not above the floor of 1000 \(min_factory_cycles\)",
    ):
        require_above_floor(1000, SETTINGS)


def test_health_text() -> None:
    assert health_text(1001, SETTINGS) == "Healthy"
    assert health_text(1000, SETTINGS) == "Low cycles: 1000 (min 1000)"


# request shape


def req(**fields: object) -> CreateInstallRequest:
    values: dict[str, object] = {
        "upload_id": 1,
        "init_arg": b"",
        "mode": Mode.INSTALL,
        "cycles": 10,
        "handoff": True,
    }
    values.update(fields)
    return CreateInstallRequest(**values)  # type: ignore[arg-type]


def test_valid_requests() -> None:
    check_request(req())
    check_request(req(mode=Mode.REINSTALL))
    check_request(req(mode=Mode.REINSTALL, canister_id=CANISTER))
    check_request(req(mode=Mode.UPGRADE, canister_id=CANISTER))
    check_request(req(idempotency_key="k" * 128))


@pytest.mark.parametrize(
    ("fields", "prefix"),
    [
        ({"mode": Mode.UPGRADE}, "mode Upgrade needs canister_id"),
        ({"canister_id": CANISTER}, "mode Install is for a new canister"),
        ({"cycles": -1}, "cycles: must be between 0 and"),
        ({"cycles": 2**128}, "cycles: must be between 0 and"),
        ({"init_arg": bytes(1024 * 1024 + 1)}, "init_arg:"),
        ({"idempotency_key": ""}, "idempotency_key:"),
        ({"idempotency_key": "k" * 129}, "idempotency_key:"),
    ],
)
def test_invalid_requests(fields: dict[str, object], prefix: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        check_request(req(**fields))
    assert str(err.value).startswith(prefix)
