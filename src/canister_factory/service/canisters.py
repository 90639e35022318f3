"""``canister_status``: what the IC reports about a canister, for a caller who owns, created or controls it."""

from __future__ import annotations

from canister_factory._core.errors import PermissionDenied
from canister_factory._core.model import CanisterInfo
from canister_factory.ports import ManagementPort
from canister_factory.service.context import Context, settings_of
from icp_client.principal import Principal


def canister_status(ctx: Context, caller: Principal, canister_id: Principal) -> CanisterInfo:
    """The canister's controllers and module hash (public on the IC), and its status, cycles and memory when
    someone who may read them can be asked: the factory, if it still controls it, else the caller, if it does
    and the IC lets the factory ask as the caller (the embedded IC).

    The caller must control it, or own it or have created it (in the registry); admins may see every canister
    of the registry.

    Raises:
        PermissionDenied: none of these.
        IcError: the IC could not answer (a canister that does not exist is an ``IcReject``).
    """
    controllers = ctx.ic.read_controllers(canister_id=canister_id)
    with ctx.store.read() as tx:
        entry = tx.creations.find_by_canister(canister_id)
        admins = settings_of(tx).admins if entry is not None else frozenset()
    related = () if entry is None else (entry.owner, entry.caller, *admins)
    if caller not in controllers and caller not in related:
        raise PermissionDenied(
            f"canister {canister_id}: you neither control it nor own it (nor created it) in this factory's registry"
        )
    reader = _reader(ctx, caller, controllers)
    info = CanisterInfo(
        canister_id=canister_id,
        controllers=tuple(controllers),
        module_hash_hex=_hex(ctx.ic.read_module_hash(canister_id=canister_id)),
        status=None,
        cycles=None,
        memory_size=None,
        owner=None if entry is None else entry.owner,
    )
    if reader is None:
        return info
    status = reader.canister_status(canister_id=canister_id)
    return CanisterInfo(
        info.canister_id,
        info.controllers,
        info.module_hash_hex,
        status.status.value,
        status.cycles,
        status.memory_size,
        info.owner,
    )


def _reader(ctx: Context, caller: Principal, controllers: tuple[Principal, ...]) -> ManagementPort | None:
    """Who can read the canister's status for this caller: the factory, or the caller through ``ic_as``."""
    if ctx.ic.sender in controllers:
        return ctx.ic
    if caller in controllers:
        return ctx.ic_as(caller)
    return None


def _hex(module_hash: bytes | None) -> str | None:
    return None if module_hash is None else module_hash.hex()
