"""What a creation reserves in one transaction: quota, the daily rate, the cycles floor, the daily cycles bound."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from canister_factory._core.config import InitArg
from canister_factory._core.errors import IcUnavailable, InsufficientCycles, LimitExceeded
from canister_factory._core.quotas import RATE_LIMITED
from icp_client.principal import Principal
from tests.unit.service.helpers import Env, T, create, upload


def test_the_quota_counts_creations_not_attempts(env: Env, alice: Principal, counter: bytes) -> None:
    env.deploy(InitArg(max_canisters_per_caller=1))
    upload_id = upload(env, alice, counter)
    create(env, alice, upload_id)
    with pytest.raises(LimitExceeded, match="1/1"):
        create(env, alice, upload_id)
    assert env.quota_used(alice) == 1 and len(env.rows()) == 1


def test_concurrent_requests_never_pass_the_quota(env: Env, alice: Principal, counter: bytes) -> None:
    env.deploy(InitArg(max_canisters_per_caller=2))
    upload_id = upload(env, alice, counter)

    def attempt(_: int) -> str:
        try:
            create(env, alice, upload_id)
            return "created"
        except LimitExceeded:
            return "refused"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(attempt, range(5)))
    assert outcomes == ["created"] * 2 + ["refused"] * 3
    assert env.quota_used(alice) == 2 and len(env.local.list_canisters()) == 2


def test_the_daily_rate_rolls_over_after_a_day(env: Env, alice: Principal, counter: bytes) -> None:
    env.deploy(InitArg(max_creations_per_day=1))
    upload_id = upload(env, alice, counter)
    create(env, alice, upload_id)
    with pytest.raises(LimitExceeded, match=RATE_LIMITED):
        create(env, alice, upload_id)
    env.clock.advance(24 * 3600 + 1)
    create(env, alice, upload_id)


def test_the_cycles_floor_refuses_before_anything_is_reserved(
    env: Env, alice: Principal, counter: bytes
) -> None:
    env.deploy(InitArg(min_factory_cycles=5 * T), funding=7 * T)
    upload_id = upload(env, alice, counter)
    with pytest.raises(InsufficientCycles):
        create(env, alice, upload_id, cycles=2 * T)
    assert env.rows() == [] and env.quota_used(alice) == 0 and env.reserved() == 0
    assert env.ic.calls["create_canister"] == 0
    create(env, alice, upload_id, cycles=T)


def test_reservations_in_flight_count_against_the_floor(env: Env, alice: Principal, counter: bytes) -> None:
    """A creation whose reply was lost still holds its cycles: the next one may not spend them too."""
    env.deploy(InitArg(min_factory_cycles=T), funding=3 * T + T // 2)
    upload_id = upload(env, alice, counter)
    env.ic.fail("create_canister", IcUnavailable("scripted: no answer"), times=3)
    with pytest.raises(IcUnavailable):
        create(env, alice, upload_id, cycles=2 * T)
    assert env.reserved() == 2 * T + env.ctx.ic.ledger_fee()
    with pytest.raises(InsufficientCycles):
        create(env, alice, upload_id, cycles=T)


def test_the_daily_cycles_bound_per_caller(
    env: Env, alice: Principal, bob: Principal, counter: bytes
) -> None:
    env.deploy(InitArg(max_cycles_per_caller_per_day=3 * T))
    alices, bobs = upload(env, alice, counter), upload(env, bob, counter)
    create(env, alice, alices, cycles=2 * T)
    with pytest.raises(LimitExceeded, match="Cycles limit per day"):
        create(env, alice, alices, cycles=T)
    create(env, bob, bobs, cycles=2 * T)  # each caller has their own bound
    env.clock.advance(24 * 3600 + 1)
    create(env, alice, alices, cycles=T)
