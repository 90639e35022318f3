"""Rules for ``create_and_install_with``: modes, controllers, cycles. No I/O here."""

from __future__ import annotations

from canister_factory._core.config import MAX_INIT_ARG_SIZE, NAT_MAX, Settings
from canister_factory._core.errors import InsufficientCycles, InvalidArgument
from canister_factory._core.model import CreateInstallRequest, Mode
from icp_client.management import MAX_CONTROLLERS
from icp_client.principal import Principal

MAX_IDEMPOTENCY_KEY = 128


def check_request(req: CreateInstallRequest) -> None:
    """Validate the shape of a request before anything is read or reserved.

    Raises:
        InvalidArgument: naming the field at fault.
    """
    if not 0 <= req.cycles <= NAT_MAX:
        raise InvalidArgument(f"cycles: must be between 0 and {NAT_MAX}, got {req.cycles}")
    if len(req.init_arg) > MAX_INIT_ARG_SIZE:
        raise InvalidArgument(f"init_arg: {len(req.init_arg)} bytes is over the limit of {MAX_INIT_ARG_SIZE}")
    if req.idempotency_key is not None and not 1 <= len(req.idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidArgument(f"idempotency_key: must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    if req.mode is Mode.UPGRADE and req.canister_id is None:
        raise InvalidArgument(
            "mode Upgrade needs canister_id: an existing canister you own that the factory still controls"
        )
    if req.mode is Mode.INSTALL and req.canister_id is not None:
        raise InvalidArgument(
            "mode Install is for a new canister: omit canister_id, or use Reinstall or Upgrade"
        )


def final_controllers(
    caller: Principal, extras: tuple[Principal, ...] | None, factory: Principal, handoff: bool
) -> tuple[Principal, ...]:
    """The controllers a new canister ends with: the caller, the extras, and the factory unless handed off.

    Duplicates are dropped, order kept.

    Raises:
        InvalidArgument: more than 10 controllers in all.
    """
    wanted = [caller, *(extras or ())]
    if not handoff:
        wanted.append(factory)
    unique = tuple(dict.fromkeys(wanted))
    if len(unique) > MAX_CONTROLLERS:
        raise InvalidArgument(
            f"extra_controllers: a canister has at most {MAX_CONTROLLERS} controllers, "
            f"this request gives {len(unique)} (caller, extras"
            + ("" if handoff else " and the factory")
            + ")"
        )
    if any(p.is_anonymous for p in unique):
        raise InvalidArgument("extra_controllers: the anonymous principal cannot control a canister")
    return unique


def check_cycles(balance: int, cycles: int, fees: int, creation_fee: int, settings: Settings) -> None:
    """Refuse unless ``balance - cycles - fees >= min_factory_cycles``, and ``cycles`` covers the creation fee.

    Raises:
        InvalidArgument: ``cycles`` is below the creation fee (the IC would refuse it).
        InsufficientCycles: with the reference's ``Factory low on cycles`` text.
    """
    if cycles < creation_fee:
        raise InvalidArgument(f"cycles: {cycles} is below the canister creation fee of {creation_fee}")
    require_cycles_left(balance, cycles + fees, settings)


def require_cycles_left(balance: int, spend: int, settings: Settings) -> None:
    """Raises InsufficientCycles unless spending ``spend`` keeps the balance at or above the floor."""
    if balance - spend < settings.min_factory_cycles:
        raise InsufficientCycles(f"Factory low on cycles: {balance} (min {settings.min_factory_cycles})")


def health_text(balance: int, settings: Settings) -> str:
    """``health_check``'s answer, with the reference's texts."""
    if balance <= settings.min_factory_cycles:
        return f"Low cycles: {balance} (min {settings.min_factory_cycles})"
    return "Healthy"
