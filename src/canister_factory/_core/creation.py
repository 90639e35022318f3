"""Rules for ``create_and_install_with``: modes, controllers, cycles. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, fields

from canister_factory._core.config import MAX_INIT_ARG_SIZE, NAT_MAX, Settings, check_id
from canister_factory._core.costs import install_cost
from canister_factory._core.errors import Conflict, InsufficientCycles, InvalidArgument
from canister_factory._core.model import CreateInstallRequest, Mode
from icp_client.management import MAX_CONTROLLERS
from icp_client.principal import Principal

LOW_CYCLES = "Factory low on cycles: "
"""The reference's prefix of the cycles floor's error, which callers match on."""
MAX_IDEMPOTENCY_KEY = 128


def check_request(req: CreateInstallRequest) -> None:
    """Validate the shape of a request before anything is read or reserved.

    Raises:
        InvalidArgument: naming the field at fault.
    """
    check_id("upload_id", req.upload_id)
    if not isinstance(req.handoff, bool):
        raise InvalidArgument(f"handoff: must be a boolean, got {req.handoff!r}")
    if isinstance(req.cycles, bool) or not isinstance(req.cycles, int) or not 0 <= req.cycles <= NAT_MAX:
        raise InvalidArgument(f"cycles: must be between 0 and {NAT_MAX}, got {req.cycles}")
    if len(req.init_arg) > MAX_INIT_ARG_SIZE:
        raise InvalidArgument(f"init_arg: {len(req.init_arg)} bytes is over the limit of {MAX_INIT_ARG_SIZE}")
    if req.idempotency_key is not None and not 1 <= len(req.idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidArgument(f"idempotency_key: must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    if req.mode is Mode.UPGRADE and req.canister_id is None:
        raise InvalidArgument(
            "mode Upgrade needs canister_id: an existing canister you own that the factory still controls"
        )
    if req.owner is not None and req.canister_id is not None:
        raise InvalidArgument(
            "owner is for a new canister: omit it with canister_id (an existing canister keeps its owner)"
        )
    if req.mode is Mode.INSTALL and req.canister_id is not None:
        raise InvalidArgument(
            "mode Install is for a new canister: omit canister_id, or use Reinstall or Upgrade"
        )


def owner_of(caller: Principal, req: CreateInstallRequest) -> Principal:
    """Whom the new canister is for: ``req.owner``, or the caller when the request names nobody.

    Raises:
        InvalidArgument: the owner is the anonymous principal (it cannot control a canister).
    """
    owner = caller if req.owner is None else req.owner
    if owner.is_anonymous:
        raise InvalidArgument("owner: the anonymous principal 2vxsx-fae cannot own a canister")
    return owner


def final_controllers(
    owner: Principal, extras: tuple[Principal, ...] | None, factory: Principal, handoff: bool
) -> tuple[Principal, ...]:
    """The controllers a new canister ends with: its owner, the extras, and the factory unless handed off.

    The caller is not among them unless it is the owner or an extra: a back end that creates a canister for a
    user with ``owner`` and ``handoff`` leaves the user (and the extras) in sole control. Duplicates are
    dropped, order kept.

    Raises:
        InvalidArgument: more than 10 controllers in all, or the factory named as the owner or an extra
            controller with ``handoff`` (the factory would stay in control of a canister the registry says was
            handed off).
    """
    if handoff and factory in (owner, *(extras or ())):
        field = "owner" if owner == factory else "extra_controllers"
        raise InvalidArgument(
            f"{field}: the factory itself ({factory.to_text()}) cannot stay a controller with "
            "handoff = true; use handoff = false to keep the factory in control"
        )
    wanted = [owner, *(extras or ())]
    if not handoff:
        wanted.append(factory)
    unique = tuple(dict.fromkeys(wanted))
    if len(unique) > MAX_CONTROLLERS:
        raise InvalidArgument(
            f"extra_controllers: a canister has at most {MAX_CONTROLLERS} controllers, "
            f"this request gives {len(unique)} (owner, extras" + ("" if handoff else " and the factory") + ")"
        )
    if any(p.is_anonymous for p in unique):
        raise InvalidArgument("extra_controllers: the anonymous principal cannot control a canister")
    return unique


def check_new_canister_cycles(cycles: int, creation_fee: int, message_bytes: int, module_bytes: int) -> None:
    """Refuse ``cycles`` that cannot pay for creating the canister and installing its module.

    Raises:
        InvalidArgument: ``cycles`` is below the creation fee (the IC would refuse the creation), or below the
            creation fee plus what the install costs on this subnet (``_core.costs``: the canister would be made
            and then could not be installed).
    """
    if cycles < creation_fee:
        raise InvalidArgument(f"cycles: {cycles} is below the canister creation fee of {creation_fee}")
    install = install_cost(creation_fee, message_bytes, module_bytes)
    if cycles < creation_fee + install:
        raise InvalidArgument(
            f"cycles: {cycles} does not cover the creation fee ({creation_fee}) and the install of this module "
            f"({install}) on this subnet; give at least {creation_fee + install}"
        )


def check_cycles(balance: int, cycles: int, fees: int, creation_fee: int, settings: Settings) -> None:
    """Refuse unless ``balance - cycles - fees >= min_factory_cycles``, and ``cycles`` covers the creation fee.

    Raises:
        InvalidArgument: ``cycles`` is below the creation fee (the IC would refuse it).
        InsufficientCycles: with the reference's ``Factory low on cycles`` text.
    """
    if cycles < creation_fee:
        raise InvalidArgument(f"cycles: {cycles} is below the canister creation fee of {creation_fee}")
    require_cycles_left(balance, cycles + fees, settings)


def require_cycles_left(balance: int, spend: int, settings: Settings, *, reserved: int = 0) -> None:
    """Raises InsufficientCycles unless ``balance - reserved - spend`` stays at or above the floor.

    ``spend``: the request's cycles and fees; ``reserved``: cycles promised to spends in flight (reservations
    not yet settled by the IC's answer). The message keeps the reference's prefix ``Factory low on cycles: ``
    (callers match on it) and says where the request would take the balance, and the floor it would cross.
    """
    after = balance - reserved - spend
    if after >= settings.min_factory_cycles:
        return
    held = f", with {reserved} reserved by requests in flight," if reserved else ""
    floor = f"{settings.min_factory_cycles} (min_factory_cycles)"
    if after < 0:  # never a negative balance: say that it cannot be paid at all
        raise InsufficientCycles(
            f"{LOW_CYCLES}this request plus fees ({spend}){held} is more than the balance of {balance} can pay; "
            f"the floor is {floor}"
        )
    raise InsufficientCycles(
        f"{LOW_CYCLES}this request plus fees ({spend}){held} would take the balance from {balance} to {after}, "
        f"below the floor of {floor}"
    )


def require_above_floor(balance: int, settings: Settings) -> None:
    """Raises InsufficientCycles unless the balance is above the floor (a factory that can spend nothing takes
    no new uploads), with the reference's prefix ``Factory low on cycles: ``."""
    if balance > settings.min_factory_cycles:
        return
    raise InsufficientCycles(
        f"{LOW_CYCLES}the balance of {balance} is not above the floor of {settings.min_factory_cycles} "
        "(min_factory_cycles), so the factory can create no canister; an admin must add cycles first"
    )


@dataclass(frozen=True, slots=True)
class CreationShape:
    """What makes two creation requests the same request (for ``idempotency_key``)."""

    upload_id: int
    init_arg: bytes
    mode: Mode
    cycles: int
    handoff: bool
    controllers: tuple[Principal, ...]
    owner: Principal


def check_same_request(key: str, first: CreationShape, retry: CreationShape) -> None:
    """A retry with ``key`` must ask for what the first request asked for.

    Raises:
        Conflict: naming the key and the fields that differ.
    """
    differ = [f.name for f in fields(CreationShape) if getattr(first, f.name) != getattr(retry, f.name)]
    if differ:
        raise Conflict(
            f"idempotency_key {key!r} was already used for a different request ({', '.join(differ)} differ); "
            "use a new key for a new request"
        )


def health_text(balance: int, settings: Settings) -> str:
    """``health_check``'s answer, with the reference's texts."""
    if balance <= settings.min_factory_cycles:
        return f"Low cycles: {balance} (min {settings.min_factory_cycles})"
    return "Healthy"
