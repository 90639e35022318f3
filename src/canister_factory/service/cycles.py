"""Every spend of the factory's cycles is reserved against the floor before the IC is asked to make it.

A spend (a creation, a top-up of a caller's canister through ``Upgrade``/``Reinstall`` with ``cycles``, the
store canister's creation and top-ups) is checked and reserved in one write transaction that holds the cycles
lock (the guard row; on SQLite the database's write lock), so two checks never interleave:

1. read the open reservations (``reserved``): spends the IC has not answered yet;
2. then read the balance from the IC;
3. refuse unless ``balance - reserved - spend >= min_factory_cycles`` (and, for a caller's spend, unless the
   caller's spends of the rolling day stay within ``max_cycles_per_caller_per_day``);
4. record the reservation.

The reservation is turned into a spend (``settle``) or released (``release``) after the IC answers; that needs no
lock. Reading the reservations *before* the balance is what makes this safe without holding the lock across IC
calls: a reservation settles only after the IC took the cycles, so a check that no longer sees it reads a balance
that already lacks them; a check that still sees it may count it twice, which errs on the side of the floor. A
reservation whose answer never came (a crash, a lost reply) stays until the creation is reconciled, or, for the
others, lapses after ``LAPSE_NS``, once any call it covered can no longer run (the IC's ingress expiry is 5 min).
"""

from __future__ import annotations

from canister_factory._core.config import Settings
from canister_factory._core.creation import require_cycles_left
from canister_factory._core.quotas import DAY_NS, check_daily_cycles
from canister_factory.service.context import Context
from canister_factory.unit_of_work import Transaction
from icp_client.principal import Principal

LAPSE_NS = 10 * 60 * 1_000_000_000


def check_spend(
    tx: Transaction, ctx: Context, settings: Settings, spend: int, caller: Principal | None
) -> None:
    """Steps 1 to 3 above, inside the caller's write transaction (which then records the reservation).

    Raises:
        InsufficientCycles: the floor would be crossed, counting the reservations in flight.
        LimitExceeded: ``caller`` would pass ``max_cycles_per_caller_per_day``.
        IcError: the balance could not be read (nothing is reserved).
    """
    now = ctx.now()
    tx.spends.lock()
    tx.spends.prune(now - DAY_NS, now)
    reserved = tx.spends.reserved(now)  # before the balance: see the module's docstring
    balance = ctx.ic.cycles_balance()
    require_cycles_left(balance, spend, settings, reserved=reserved)
    if caller is not None and settings.max_cycles_per_caller_per_day is not None:
        check_daily_cycles(tx.spends.spent_by(caller, now - DAY_NS, now), spend, settings)


def reserve(ctx: Context, settings: Settings, kind: str, spend: int, caller: Principal | None = None) -> int:
    """Check and reserve a spend not tied to a creation, in its own transaction; returns the reservation's id.

    Raises:
        InsufficientCycles, LimitExceeded, IcError: as :func:`check_spend`.
    """
    with ctx.store.write() as tx:
        check_spend(tx, ctx, settings, spend, caller)
        now = ctx.now()
        return tx.spends.reserve(kind, spend, now, caller=caller, lapses_at_ns=now + LAPSE_NS)


def settle(ctx: Context, spend_id: int, spent: int) -> None:
    """The IC made the spend: the reservation becomes what was really spent."""
    with ctx.store.write() as tx:
        tx.spends.settle(spend_id, spent)


def release(ctx: Context, spend_id: int) -> None:
    """The IC refused the spend: nothing was spent."""
    with ctx.store.write() as tx:
        tx.spends.release(spend_id)
