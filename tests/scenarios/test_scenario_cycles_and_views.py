"""Cycles and the read-only views through every backend: the floor, the creation fee, what a creation costs,
statistics, config, health and version."""

from __future__ import annotations

import pytest

import canister_factory
from canister_factory._core.config import InitArg
from canister_factory._core.errors import InsufficientCycles, InvalidArgument
from icp_client.identity import Identity
from tests.scenarios._helpers import CANISTER_CYCLES, CREATION_FEE, LEDGER_FEE, T, request, upload
from tests.support.backends import Backend
from tests.support.wasm_modules import counter_wasm

WASM = counter_wasm()
FLOOR = 10 * T


@pytest.mark.factory(init=InitArg(min_factory_cycles=FLOOR), funding=FLOOR + 3 * T)
def test_the_cycles_floor(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    uid = upload(api, WASM)
    balance = backend.ic_balance()
    assert balance == FLOOR + 3 * T
    with pytest.raises(InsufficientCycles) as err:
        api.create_and_install_with(request(uid, cycles=3 * T))  # 3 T plus the ledger fee crosses the floor
    assert str(err.value) == (
        f"Factory low on cycles: this request plus fees ({3 * T + LEDGER_FEE}) would take the balance from "
        f"{balance} to {FLOOR - LEDGER_FEE}, below the floor of {FLOOR} (min_factory_cycles)"
    )
    assert backend.ic_balance() == balance
    assert api.list_my_canisters().canisters == ()
    # exactly down to the floor is allowed
    created = api.create_and_install_with(request(uid, cycles=3 * T - LEDGER_FEE))
    assert backend.ic_balance() == FLOOR == balance - created.cycles_used
    with pytest.raises(InsufficientCycles) as err:
        api.create_and_install_with(request(uid, cycles=CANISTER_CYCLES))
    assert str(err.value) == (
        f"Factory low on cycles: this request plus fees ({CANISTER_CYCLES + LEDGER_FEE}) would take the balance "
        f"from {FLOOR} to {FLOOR - CANISTER_CYCLES - LEDGER_FEE}, below the floor of {FLOOR} (min_factory_cycles)"
    )
    assert api.health_check() == f"Low cycles: {FLOOR} (min {FLOOR})"
    backend.fund(2 * T)
    assert api.health_check() == "Healthy"
    created = api.create_and_install_with(request(uid, cycles=CANISTER_CYCLES))
    assert backend.ic_balance() == FLOOR + 2 * T - created.cycles_used


def test_cycles_below_the_creation_fee_are_refused(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    uid = upload(api, WASM)
    balance = backend.ic_balance()
    with pytest.raises(InvalidArgument) as err:
        api.create_and_install_with(request(uid, cycles=CREATION_FEE - 1))
    assert (
        str(err.value) == f"cycles: {CREATION_FEE - 1} is below the canister creation fee of {CREATION_FEE}"
    )
    assert backend.ic_balance() == balance
    assert api.list_my_canisters().canisters == ()


def test_cycles_that_pay_the_creation_but_not_the_install_are_refused(
    backend: Backend, alice: Identity
) -> None:
    """Issue 9: cycles equal to the creation fee made a canister that could then not be installed."""
    api = backend.as_caller(alice)
    uid = upload(api, WASM)
    balance = backend.ic_balance()
    with pytest.raises(InvalidArgument) as err:
        api.create_and_install_with(request(uid, cycles=CREATION_FEE))
    assert str(err.value).startswith(
        f"cycles: {CREATION_FEE} does not cover the creation fee ({CREATION_FEE}) and the install of this module"
    )
    assert backend.ic_balance() == balance
    assert api.list_my_canisters().canisters == ()


def test_cycles_used_is_what_the_factory_paid(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    uid = upload(api, WASM)
    for cycles, handoff in ((CANISTER_CYCLES, True), (CREATION_FEE + 4 * T // 10, False), (7 * T, True)):
        before = backend.ic_balance()
        created = api.create_and_install_with(request(uid, cycles=cycles, handoff=handoff))
        assert created.cycles_used == cycles + LEDGER_FEE == before - backend.ic_balance()
        (record,) = [r for r in api.list_my_canisters().canisters if r.canister_id == created.canister_id]
        assert (record.cycles, record.cycles_used) == (cycles, created.cycles_used)


def test_stats_config_health_version(backend: Backend, alice: Identity, bob: Identity) -> None:
    api, other = backend.as_caller(alice), backend.as_caller(bob)
    assert api.my_stats().created_count == 0
    assert api.my_stats().last_created_at is None
    uid = upload(api, WASM)
    api.create_upload()  # left open
    api.create_and_install_with(request(uid))
    api.create_and_install_with(request(uid))
    other.create_and_install_with(request(upload(other, WASM)))

    mine = api.my_stats()
    assert mine.created_count == 2 and mine.last_created_at is not None and mine.last_created_at > 0
    assert other.my_stats().created_count == 1
    stats = api.get_factory_stats()
    assert stats.total_canisters_created == 3
    assert stats.total_uploads == 3
    assert stats.active_uploads == 3
    assert stats.factory_cycles_balance == backend.ic_balance()

    config = api.get_config()
    assert config.admins == (backend.admin.principal,)
    assert config.allowlist is None
    assert config.emergency_stop is False
    assert config.max_canisters_per_caller == 100
    assert config.min_factory_cycles == 5 * T
    assert config.max_upload_size == 50_000_000
    assert config.upload_ttl_ns == 24 * 3600 * 10**9
    assert config.next_upload_id == 4

    assert api.health_check() == "Healthy"
    assert api.version() == canister_factory.__version__


def test_unique_callers_counts_each_creator_once(backend: Backend, alice: Identity, bob: Identity) -> None:
    api, other = backend.as_caller(alice), backend.as_caller(bob)
    uid = upload(api, WASM)
    backend.as_caller(backend.admin).create_upload()  # an upload alone does not make a creator
    api.create_and_install_with(request(uid))
    assert api.get_factory_stats().unique_callers == 1
    api.create_and_install_with(request(uid))
    assert api.get_factory_stats().unique_callers == 1
    other.create_and_install_with(request(upload(other, WASM)))
    assert api.get_factory_stats().unique_callers == 2


@pytest.mark.factory(
    init=InitArg(max_canisters_per_caller=7, min_factory_cycles=2 * T, max_upload_size=1_000_000),
    funding=0,
)
def test_config_reflects_init_and_an_unfunded_factory_is_unhealthy(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    config = api.get_config()
    assert (config.max_canisters_per_caller, config.min_factory_cycles, config.max_upload_size) == (
        7,
        2 * T,
        1_000_000,
    )
    assert api.health_check() == f"Low cycles: 0 (min {2 * T})"
    assert api.get_factory_stats().factory_cycles_balance == 0 == backend.ic_balance()
    with pytest.raises(InsufficientCycles) as err:
        api.create_upload()
    assert str(err.value).startswith(
        f"Factory low on cycles: the balance of 0 is not above the floor of {2 * T}"
    )
