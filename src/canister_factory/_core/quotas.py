"""Per-caller limits: the lifetime cap on canisters and the optional rolling-day rate limit."""

from __future__ import annotations

from canister_factory._core.config import Settings
from canister_factory._core.errors import LimitExceeded

RATE_LIMITED = "Rate limit reached, try again later."
DAY_NS = 24 * 60 * 60 * 1_000_000_000


def check_quota(used: int, settings: Settings) -> None:
    """Raises LimitExceeded with the reference's text when ``used`` reached ``max_canisters_per_caller``.

    ``used`` counts every creation that is not FAILED, in flight ones included: quota is reserved before the
    first IC call, so concurrent requests cannot exceed it.
    """
    if used >= settings.max_canisters_per_caller:
        raise LimitExceeded(f"Per-caller canister limit reached: {used}/{settings.max_canisters_per_caller}")


def check_rate(created_in_last_day: int, settings: Settings) -> None:
    """Raises LimitExceeded when the optional per-day limit is reached within the rolling last 24 h."""
    limit = settings.max_creations_per_day
    if limit is not None and created_in_last_day >= limit:
        raise LimitExceeded(RATE_LIMITED)


def check_daily_cycles(spent_in_last_day: int, spend: int, settings: Settings) -> None:
    """Raises LimitExceeded when ``spend`` would take the caller past ``max_cycles_per_caller_per_day``.

    ``spent_in_last_day`` counts what the caller's creations and top-ups spent, or hold reserved, in the rolling
    last 24 h.
    """
    limit = settings.max_cycles_per_caller_per_day
    if limit is not None and spent_in_last_day + spend > limit:
        raise LimitExceeded(
            f"Cycles limit per day reached: {spent_in_last_day} cycles spent in the last 24 h and this request "
            f"needs {spend} (max_cycles_per_caller_per_day {limit}); try again later"
        )
