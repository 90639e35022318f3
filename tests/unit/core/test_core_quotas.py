"""Per-caller limits: the lifetime cap (reference text) and the rolling-day rate limit."""

from __future__ import annotations

import pytest

from canister_factory._core.config import InitArg, resolve_init
from canister_factory._core.errors import LimitExceeded
from canister_factory._core.quotas import DAY_NS, check_quota, check_rate
from icp_client.principal import Principal

ADMIN = Principal.self_authenticating(b"admin key")


def test_quota_allows_below_the_cap() -> None:
    check_quota(4, resolve_init(InitArg(max_canisters_per_caller=5), ADMIN))


def test_quota_text_at_the_cap() -> None:
    with pytest.raises(LimitExceeded) as err:
        check_quota(5, resolve_init(InitArg(max_canisters_per_caller=5), ADMIN))
    assert str(err.value) == "Per-caller canister limit reached: 5/5"


def test_quota_zero_refuses_everything() -> None:
    with pytest.raises(LimitExceeded, match=r"^Per-caller canister limit reached: 0/0$"):
        check_quota(0, resolve_init(InitArg(max_canisters_per_caller=0), ADMIN))


def test_rate_limit_off_by_default() -> None:
    check_rate(10**6, resolve_init(None, ADMIN))


def test_rate_limit_text() -> None:
    s = resolve_init(InitArg(max_creations_per_day=2), ADMIN)
    check_rate(1, s)
    with pytest.raises(LimitExceeded) as err:
        check_rate(2, s)
    assert str(err.value) == "Rate limit reached, try again later."


def test_day_is_24_hours_in_ns() -> None:
    assert DAY_NS == 86_400 * 10**9
