"""Admin methods and the read-only views: config, statistics, health, the registry."""

from __future__ import annotations

from canister_factory._core.access import require_admin, require_signed
from canister_factory._core.config import InitArg, Settings, check_id, resolve_init, validate_allowlist
from canister_factory._core.creation import health_text
from canister_factory._core.errors import Conflict, InvalidArgument, NotFound
from canister_factory._core.model import CallerStats, CanisterPage, CanisterRecord, ConfigView, FactoryStats
from canister_factory.service.context import Context, settings_of
from canister_factory.unit_of_work import CreationRow
from icp_client.principal import Principal

LAST_ADMIN = "Cannot remove the last admin"
ALREADY_DEPLOYED = "the factory is already deployed in this state"
MAX_PAGE = 1000
DEFAULT_PAGE = 100


def deploy(ctx: Context, deployer: Principal, init: InitArg | None, *, network: str) -> Settings:
    """Deploy the factory in an empty store with ``init`` (the deployer is the admin if none are given).

    Raises:
        InvalidArgument: an option is out of range.
        Conflict: the factory is already deployed in this store.
    """
    require_signed(deployer)
    settings = resolve_init(init, deployer)
    with ctx.store.write() as tx:
        if tx.settings.is_deployed():
            raise Conflict(ALREADY_DEPLOYED)
        tx.settings.insert(settings, deployer=deployer, now_ns=ctx.now(), network=network)
    return settings


def set_emergency_stop(ctx: Context, caller: Principal, stopped: bool) -> None:
    with ctx.store.write() as tx:
        require_admin(settings_of(tx, lock="update"), caller)
        tx.settings.set_emergency_stop(stopped)


def set_allowlist(ctx: Context, caller: Principal, allowlist: list[Principal] | None) -> None:
    checked = validate_allowlist(allowlist)
    with ctx.store.write() as tx:
        require_admin(settings_of(tx, lock="update"), caller)
        tx.settings.set_allowlist(checked)


def add_admin(ctx: Context, caller: Principal, admin: Principal) -> None:
    if admin.is_anonymous:
        raise InvalidArgument("admin: the anonymous principal 2vxsx-fae cannot be an admin")
    with ctx.store.write() as tx:
        settings = settings_of(tx, lock="update")
        require_admin(settings, caller)
        tx.settings.set_admins(settings.admins | {admin})


def remove_admin(ctx: Context, caller: Principal, admin: Principal) -> None:
    """Remove ``admin`` from the admin set (an admin only; never the last one).

    Raises:
        PermissionDenied: ``caller`` is not an admin.
        NotFound: ``admin`` is not an admin (nothing to remove).
        Conflict: ``admin`` is the last admin.
    """
    with ctx.store.write() as tx:
        settings = settings_of(tx, lock="update")
        require_admin(settings, caller)
        if admin not in settings.admins:
            raise NotFound(f"{admin.to_text()} is not an admin: nothing to remove")
        if len(settings.admins) <= 1:
            raise Conflict(LAST_ADMIN)
        tx.settings.set_admins(settings.admins - {admin})


def get_config(ctx: Context) -> ConfigView:
    with ctx.store.read() as tx:
        settings = settings_of(tx)
        next_upload_id = tx.counters.read().next_upload_id
    return ConfigView(
        max_canisters_per_caller=settings.max_canisters_per_caller,
        min_factory_cycles=settings.min_factory_cycles,
        max_upload_size=settings.max_upload_size,
        upload_ttl_ns=settings.upload_ttl_ns,
        allowlist=None if settings.allowlist is None else tuple(sorted(settings.allowlist)),
        admins=tuple(sorted(settings.admins)),
        next_upload_id=next_upload_id,
        emergency_stop=settings.emergency_stop,
        max_creations_per_day=settings.max_creations_per_day,
        max_active_uploads_per_caller=settings.max_active_uploads_per_caller,
        max_modules_per_caller=settings.max_modules_per_caller,
        max_cycles_per_caller_per_day=settings.max_cycles_per_caller_per_day,
        max_stored_module_bytes=settings.max_stored_module_bytes,
    )


def my_stats(ctx: Context, caller: Principal) -> CallerStats:
    with ctx.store.read() as tx:
        quota = tx.callers.quota(caller)
    return CallerStats(created_count=quota.quota_used, last_created_at=quota.last_created_at_ns)


def get_factory_stats(ctx: Context) -> FactoryStats:
    balance = ctx.ic.cycles_balance()
    with ctx.store.read() as tx:
        settings_of(tx)
        counters = tx.counters.read()
    return FactoryStats(
        total_canisters_created=counters.total_canisters_created,
        total_uploads=counters.next_upload_id - 1,
        active_uploads=counters.active_uploads,
        factory_cycles_balance=balance,
        unique_callers=counters.unique_callers,
    )


def health_check(ctx: Context) -> str:
    balance = ctx.ic.cycles_balance()
    with ctx.store.read() as tx:
        settings = settings_of(tx)
    return health_text(balance, settings)


def list_canisters(
    ctx: Context,
    caller: Principal,
    owner: Principal | None,
    cursor: int | None,
    limit: int | None,
    *,
    created_for_others: bool = False,
) -> CanisterPage:
    """A page of the registry, newest first: ``owner``'s canisters, or (admins only) everyone's.

    ``created_for_others``: with ``owner``, also the canisters ``owner`` created for someone else.
    """
    size = _page_size(limit)
    if cursor is not None:
        check_id("cursor", cursor)
    with ctx.store.read() as tx:
        if owner is None:
            require_admin(settings_of(tx), caller)
        rows = tx.creations.page(owner, cursor, size + 1, or_caller=created_for_others)
    more = len(rows) > size
    rows = rows[:size]
    return CanisterPage(tuple(record_view(r) for r in rows), rows[-1].id if more else None)


def record_view(row: CreationRow) -> CanisterRecord:
    return CanisterRecord(
        canister_id=row.canister_id,
        owner=row.owner,
        caller=row.caller,
        module_hash_hex=row.module_hash.hex(),
        mode=row.mode,
        cycles=row.cycles,
        state=row.state.value,
        handoff=row.handoff,
        created_at_ns=row.requested_at_ns,
        updated_at_ns=row.updated_at_ns,
        cycles_used=row.cycles_used,
        error=row.error,
    )


def _page_size(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"limit: must be between 1 and {MAX_PAGE}, got {limit}")
    return limit
