"""``create_and_install_with``: reservation, the lifecycle driver, and reinstall/upgrade of existing canisters.

A creation is reserved in one transaction (access, cycles floor, quota, rate limit, module, controllers), then
driven through ``_core.lifecycle`` one IC step at a time. Each step first asks the IC where things stand, so
that re-running a step after a crash or a lost reply is safe: RESERVED re-sends ``create_canister`` with the
same ``created_at_time`` (the cycles ledger's deduplication returns the same canister), CREATED reads the module
hash before installing, INSTALLED reads the controllers before ``update_settings``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import replace

from canister_factory._core import lifecycle
from canister_factory._core import uploads as upload_rules
from canister_factory._core.access import require_caller
from canister_factory._core.config import Settings
from canister_factory._core.creation import (
    CreationShape,
    check_new_canister_cycles,
    check_request,
    check_same_request,
    final_controllers,
    owner_of,
)
from canister_factory._core.errors import (
    Conflict,
    CreationAbandoned,
    CreationInProgress,
    FactoryError,
    IcError,
    IcReject,
    IcUnavailable,
    IcUnexpected,
    NotFound,
    PermissionDenied,
)
from canister_factory._core.lifecycle import Event, State
from canister_factory._core.model import CreateInstallRequest, CreateInstallResponse, Mode
from canister_factory._core.quotas import DAY_NS, check_quota, check_rate
from canister_factory._core.uploads import Upload
from canister_factory.ports import CanisterSettings, CyclesLedgerError, InstallMode
from canister_factory.service import claims, cycles
from canister_factory.service.context import Context, settings_of
from canister_factory.service.installer import MAX_INGRESS_BYTES, Installer
from canister_factory.unit_of_work import CreationRow, Transaction
from icp_client.principal import Principal

LEASE_NS = claims.LEASE_NS
MAX_ATTEMPTS = 3  # tries of a step that the IC rejects as transient (SYS_TRANSIENT) before giving up
NOT_OWNER_OF_UPLOAD = "not owner of upload"
_MAX_STEPS = 16
_IC_MODES = {
    Mode.INSTALL: InstallMode.INSTALL,
    Mode.REINSTALL: InstallMode.REINSTALL,
    Mode.UPGRADE: InstallMode.UPGRADE,
}


def create_and_install_with(
    ctx: Context, installer: Installer, caller: Principal, req: CreateInstallRequest
) -> CreateInstallResponse:
    """Create a canister from a committed upload, install it, set its controllers (handoff or not).

    The canister is for ``req.owner`` (the caller when None): its controllers are the owner and the extras,
    plus the factory without handoff; the registry records both; quota, rate limit and daily cycles count
    against the caller. With ``req.canister_id``, reinstall or upgrade that existing canister instead.
    With ``req.idempotency_key``, a retry returns the first request's result.
    """
    check_request(req)
    if req.canister_id is not None:
        return _reinstall_existing(ctx, installer, caller, req)
    record_id = _existing_for_key(ctx, caller, req)
    if record_id is not None:
        return _outcome(ctx, drive(ctx, installer, record_id))
    token = claims.new_token(ctx.host)
    row = _reserve(ctx, caller, req, token)
    return _outcome(ctx, drive(ctx, installer, row.id, token=token, row=row))


def drive(
    ctx: Context,
    installer: Installer,
    record_id: int,
    *,
    token: str | None = None,
    row: CreationRow | None = None,
) -> CreationRow:
    """Run the creation's lifecycle until it is READY or FAILED, or another worker holds it.

    ``token`` and ``row`` are given when the caller already holds the record's claim (it reserved it just now).
    A step that follows another step of this same drive is "fresh": it knows what the IC holds (the canister it
    just created is empty, the controllers it created it with) and skips the reads a resumed step must make.

    Raises:
        IcUnavailable: the IC kept failing to answer; the record stays where it is, for reconciliation.
        IcError: a definite failure (the record is FAILED and its canister, if any, in the spare pool).
    """
    failures = 0
    claimed_at = ctx.now()
    if token is None:
        token = claims.new_token(ctx.host)
        row = _claim(ctx, record_id, token)
    elif row is None:
        row = _load(ctx, record_id)
    fresh = False
    for _ in range(_MAX_STEPS):
        if row is None:
            return _load(ctx, record_id)  # another live worker holds it
        if lifecycle.is_terminal(row.state):
            return row
        advanced: CreationRow | None = None
        try:
            advanced = _STEPS[row.state](ctx, installer, row, fresh)
        except IcUnavailable:
            failures += 1
            if failures >= ctx.ic_retries:
                raise
            ctx.host.sleep(0.05 * 2**failures)
        if ctx.now() - claimed_at > LEASE_NS // 2:  # renew the lease
            row, claimed_at = _claim(ctx, record_id, token), ctx.now()
        else:  # the step's own result, or what the store says when a step ended early
            row = advanced or _load(ctx, record_id)
        fresh = advanced is not None
    raise IcUnavailable(f"creation {record_id} did not finish in {_MAX_STEPS} steps")


def reconcile(ctx: Context, installer: Installer) -> dict[str, int]:
    """Finish or undo every creation left unfinished by a process that stopped; returns counts by outcome."""
    counts = {"ready": 0, "failed": 0, "skipped": 0, "unavailable": 0}
    with contextlib.suppress(FactoryError):  # a store canister whose creation was interrupted joins the pool
        installer.stores.finish_interrupted()
    with ctx.store.read() as tx:
        pending = tx.creations.unfinished()
    for row in pending:
        if not claims.is_stale(ctx.host, row.claimed_by, row.claimed_until_ns, ctx.now()):
            counts["skipped"] += 1
            continue
        try:
            final = drive(ctx, installer, row.id)
        except IcUnavailable:
            counts["unavailable"] += 1
            continue
        except FactoryError:
            counts["failed"] += 1
            continue
        counts["ready" if final.state is State.READY else "skipped"] += 1
    return counts


# reservation ---------------------------------------------------------------------------------------


def _reserve(ctx: Context, caller: Principal, req: CreateInstallRequest, token: str) -> CreationRow:
    """Check every rule, reserve the spend and record the creation, claimed by ``token``, in one transaction.

    A spare canister, if there is one, is claimed here too (the record then starts CREATED; its top-up is the
    spend reserved). The cycles are reserved against the floor as ``service.cycles`` explains.
    """
    fee, creation_fee = ctx.ic.ledger_fee(), ctx.ic.creation_fee()
    now = ctx.now()
    with ctx.store.write() as tx:
        settings = settings_of(tx, lock="share", caller=caller)
        require_caller(settings, caller)
        module_hash = module_of(tx.uploads.get(req.upload_id), caller)
        size = tx.modules.size(module_hash) or 0
        check_new_canister_cycles(req.cycles, creation_fee, _install_message_bytes(size, req), size)
        owner = owner_of(caller, req)
        controllers = final_controllers(owner, req.extra_controllers, ctx.ic.sender, req.handoff)
        if req.idempotency_key is not None:
            existing = tx.creations.find_by_key(caller, req.idempotency_key)
            if existing is not None:
                check_same_request(req.idempotency_key, _shape(existing), _asked(req, owner, controllers))
                return existing
        cycles.check_spend(tx, ctx, settings, req.cycles + fee, caller)  # the cycles lock first
        created_at_time = tx.counters.next_created_at_time(now)  # then the counters row, the caller's row
        quota = tx.callers.lock(caller)
        check_quota(quota.quota_used, settings)
        if settings.max_creations_per_day is not None:
            check_rate(tx.creations.count_requested_since(caller, now - DAY_NS), settings)
        state = lifecycle.next_state(State.REQUESTED, Event.RESERVE)
        spare = tx.spares.take()
        if spare is not None:
            state = lifecycle.next_state(state, Event.CLAIM_SPARE)
        row = CreationRow(
            id=0,
            owner=owner,
            caller=caller,
            canister_id=spare,
            upload_id=req.upload_id,
            module_hash=module_hash,
            mode=req.mode,
            cycles=req.cycles,
            handoff=req.handoff,
            controllers=controllers,
            init_arg=req.init_arg,
            state=state,
            created_at_time_ns=created_at_time,
            idempotency_key=req.idempotency_key,
            cycles_used=None if spare is None else 0,
            error=None,
            requested_at_ns=now,
            updated_at_ns=now,
            claimed_by=token,
            claimed_until_ns=now + LEASE_NS,
            from_spare=spare is not None,
        )
        row = replace(row, id=tx.creations.insert(row))
        tx.spends.reserve("creation", req.cycles + fee, now, caller=caller, creation_id=row.id)
        tx.callers.adjust_quota(caller, +1)
    return row


def _install_message_bytes(module_size: int, req: CreateInstallRequest) -> int:
    """The install message's size: the module when it fits one message (else the chunk hashes), and the arg."""
    return (module_size if module_size <= MAX_INGRESS_BYTES else 4096) + len(req.init_arg)


def _shape(row: CreationRow) -> CreationShape:
    return CreationShape(
        row.upload_id, row.init_arg, row.mode, row.cycles, row.handoff, row.controllers, row.owner
    )


def _asked(req: CreateInstallRequest, owner: Principal, controllers: tuple[Principal, ...]) -> CreationShape:
    return CreationShape(req.upload_id, req.init_arg, req.mode, req.cycles, req.handoff, controllers, owner)


def module_of(upload: Upload | None, caller: Principal) -> bytes:
    """The committed module of ``caller``'s upload, with the reference's error texts."""
    if upload is None:
        raise NotFound(upload_rules.UPLOAD_NOT_FOUND)
    if upload.owner != caller:
        raise PermissionDenied(NOT_OWNER_OF_UPLOAD)
    if upload.module_hash is None:
        raise Conflict(upload_rules.NOT_COMMITTED)
    return upload.module_hash


def _existing_for_key(ctx: Context, caller: Principal, req: CreateInstallRequest) -> int | None:
    """The creation a retry with this key stands for, if any.

    Raises:
        Conflict: the key was used for a different request.
    """
    if req.idempotency_key is None:
        return None
    with ctx.store.read() as tx:
        row = tx.creations.find_by_key(caller, req.idempotency_key)
    if row is None:
        return None
    owner = owner_of(caller, req)
    controllers = final_controllers(owner, req.extra_controllers, ctx.ic.sender, req.handoff)
    check_same_request(req.idempotency_key, _shape(row), _asked(req, owner, controllers))
    return row.id


# the steps -----------------------------------------------------------------------------------------


def _step_reserved(ctx: Context, installer: Installer, row: CreationRow, fresh: bool) -> CreationRow | None:
    # Never a spare here: a RESERVED record may already have a canister whose reply was lost, and re-sending
    # create_canister with the same created_at_time is how we find it.
    try:
        created = ctx.ic.create_canister(
            amount=row.cycles,
            settings=CanisterSettings(controllers=(ctx.ic.sender,)),
            created_at_time=row.created_at_time_ns,
        )
    except (CyclesLedgerError, IcReject) as exc:
        _transition(ctx, row, Event.CREATE_FAILED, error=f"create_canister failed: {exc}")
        raise exc.with_context("create_canister failed") from exc
    used = created.charged if created.charged is not None else row.cycles + ctx.ic.ledger_fee()
    with ctx.store.write() as tx:
        tx.spends.settle_creation(row.id, used)
        return _persist(tx, ctx, row, Event.CREATE_OK, canister_id=created.canister_id, cycles_used=used)


def _step_created(ctx: Context, installer: Installer, row: CreationRow, fresh: bool) -> CreationRow | None:
    canister_id = _canister(row)
    if row.from_spare:
        row = _fund_spare(ctx, row, canister_id)
    # Just created in this drive: empty. Otherwise ask the IC (a crash may have come after the install).
    current = None if fresh and not row.from_spare else ctx.ic.read_module_hash(canister_id=canister_id)
    # A spare still holds what its failed creation installed (someone else's init argument and state), so it
    # is always reinstalled, even when the module hash already matches.
    if current != row.module_hash or row.from_spare:
        mode = InstallMode.INSTALL if current is None else InstallMode.REINSTALL
        try:
            installer.install(canister_id, mode, row.module_hash, row.init_arg)
        except IcReject as exc:
            if row.from_spare or ctx.ic.read_module_hash(canister_id=canister_id) != row.module_hash:
                _failed_step(ctx, row, exc, "install_code failed")
                return None
            # Refused as a repeat of an install whose reply was lost: the module is there, so it went through.
    return _transition(ctx, row, Event.INSTALL_OK)


def _fund_spare(ctx: Context, row: CreationRow, canister_id: Principal) -> CreationRow:
    """Top a spare up to what a new canister would hold (the requested cycles less the creation fee).

    The spend is recorded before the cycles ledger's ``withdraw``, whose ``created_at_time`` makes a repeat a
    duplicate, so a crash in between neither loses the record nor pays twice.
    """
    wanted = row.cycles - ctx.ic.creation_fee()
    held = ctx.ic.canister_status(canister_id=canister_id).cycles
    if held >= wanted:  # nothing to send, or sent before a crash: what was recorded is what was spent
        _settle_creation(ctx, row.id, row.cycles_used or 0)
        return row
    fee = ctx.ic.ledger_fee()
    with ctx.store.write() as tx:
        tx.creations.update(row.id, cycles_used=wanted - held + fee, updated_at_ns=ctx.now())
    ctx.ic.withdraw(amount=wanted - held, to=canister_id, created_at_time=row.created_at_time_ns)
    _settle_creation(ctx, row.id, wanted - held + fee)
    return replace(row, cycles_used=wanted - held + fee)


def _settle_creation(ctx: Context, record_id: int, spent: int) -> None:
    with ctx.store.write() as tx:
        tx.spends.settle_creation(record_id, spent)


def _failed_step(ctx: Context, row: CreationRow, exc: IcReject, what: str) -> None:
    """A step's IC call was rejected: retry later if the IC says so (transient), else give the canister up."""
    if exc.transient and row.attempts + 1 < MAX_ATTEMPTS:
        _transition(
            ctx, row, Event.STEP_FAILED, error=f"{what}: {exc.reject_message}", attempts=row.attempts + 1
        )
        return
    _recycle(ctx, row, f"{what}: {exc.reject_message}")
    raise exc.with_context(what) from exc


def _step_installed(ctx: Context, installer: Installer, row: CreationRow, fresh: bool) -> CreationRow | None:
    canister_id = _canister(row)
    # Fresh from the install, the controllers are still the factory alone; resumed, they may already be final.
    if fresh or set(ctx.ic.read_controllers(canister_id=canister_id)) != set(row.controllers):
        try:
            ctx.ic.update_settings(
                canister_id=canister_id, settings=CanisterSettings(controllers=row.controllers)
            )
        except IcReject as exc:
            if set(ctx.ic.read_controllers(canister_id=canister_id)) != set(row.controllers):
                _failed_step(ctx, row, exc, "update_settings failed")
                return None
            # Refused as a repeat of a handoff whose reply was lost (we no longer control it): it went through.
        have = set(ctx.ic.read_controllers(canister_id=canister_id))
        if have != set(row.controllers):
            message = (
                f"controllers after update_settings are {_texts(have)}, expected {_texts(row.controllers)}"
            )
            _recycle(ctx, row, message)
            raise IcUnexpected(message)
    with ctx.store.write() as tx:
        tx.callers.record_created(row.caller, ctx.now())  # counters and caller row first: the lock order
        return _persist(tx, ctx, row, Event.SETTLE_OK)


def _step_recovering(ctx: Context, installer: Installer, row: CreationRow, fresh: bool) -> CreationRow | None:
    """Resume a creation a transient reject interrupted, from where the IC says it stands."""
    if row.attempts == 0 or row.attempts >= MAX_ATTEMPTS:  # a crash during a recycle, or out of attempts
        _recycle(ctx, row, row.error or "recovery after a failed step")
        after = f" (after {row.attempts} attempts)" if row.attempts else ""
        raise CreationAbandoned(f"creation {row.id} failed{after}: {row.error}", row.id)
    ctx.host.sleep(0.05 * row.attempts)
    canister_id = _canister(row)
    installed = ctx.ic.read_module_hash(canister_id=canister_id) == row.module_hash and not row.from_spare
    return _transition(ctx, row, Event.RESUME_INSTALLED if installed else Event.RESUME_CREATED)


_STEPS: dict[State, Callable[[Context, Installer, CreationRow, bool], CreationRow | None]] = {
    State.RESERVED: _step_reserved,
    State.CREATED: _step_created,
    State.INSTALLED: _step_installed,
    State.RECOVERING: _step_recovering,
}


def _recycle(ctx: Context, row: CreationRow, error: str) -> None:
    """Give up on a creation whose canister exists: the canister joins the spare pool if we still control it."""
    if row.state is not State.RECOVERING:
        row = _transition(ctx, row, Event.STEP_FAILED, error=error)
    canister_id = _canister(row)
    try:
        controlled = ctx.ic.sender in ctx.ic.read_controllers(canister_id=canister_id)
    except IcError:
        return  # stays RECOVERING; the next reconciliation tries again
    with ctx.store.write() as tx:
        if controlled:
            tx.spares.add(canister_id, row.id, ctx.now())
        _persist(tx, ctx, row, Event.RECYCLE, error=error)


# reinstall / upgrade of an existing canister ------------------------------------------------------


def _reinstall_existing(
    ctx: Context, installer: Installer, caller: Principal, req: CreateInstallRequest
) -> CreateInstallResponse:
    assert req.canister_id is not None
    canister_id = req.canister_id
    with ctx.store.read() as tx:
        settings = settings_of(tx, caller=caller)
        require_caller(settings, caller)
        module_hash = module_of(tx.uploads.get(req.upload_id), caller)
        entry = tx.creations.find_by_canister(canister_id)
    if entry is None or caller not in (entry.owner, entry.caller):
        raise PermissionDenied(f"canister {canister_id} was not created by this factory for you")
    if ctx.ic.sender not in ctx.ic.read_controllers(canister_id=canister_id):
        raise PermissionDenied(f"the factory no longer controls canister {canister_id}: it was handed off")
    used = _top_up(ctx, caller, canister_id, req.cycles, settings) if req.cycles else 0
    installer.install(canister_id, _IC_MODES[req.mode], module_hash, req.init_arg)
    with ctx.store.write() as tx:
        tx.creations.update(entry.id, module_hash=module_hash, mode=req.mode, updated_at_ns=ctx.now())
    return CreateInstallResponse(canister_id, module_hash.hex(), used, req.cycles)


def _top_up(ctx: Context, caller: Principal, canister_id: Principal, amount: int, settings: Settings) -> int:
    """Send ``amount`` cycles to the caller's canister, reserved against the floor and the caller's daily bound.

    Raises:
        InsufficientCycles, LimitExceeded: refused before anything is sent.
        IcError: the ledger refused (the reservation is released) or did not answer (it lapses).
    """
    spend = amount + ctx.ic.ledger_fee()
    spend_id = cycles.reserve(ctx, settings, "top_up", spend, caller)
    with ctx.store.write() as tx:
        created_at_time = tx.counters.next_created_at_time(ctx.now())
    try:
        ctx.ic.withdraw(amount=amount, to=canister_id, created_at_time=created_at_time)
    except (CyclesLedgerError, IcReject):
        cycles.release(ctx, spend_id)
        raise
    cycles.settle(ctx, spend_id, spend)
    return spend


# bookkeeping ---------------------------------------------------------------------------------------


def _transition(ctx: Context, row: CreationRow, event: Event, **fields: object) -> CreationRow:
    with ctx.store.write() as tx:
        return _persist(tx, ctx, row, event, **fields)


def _persist(tx: Transaction, ctx: Context, row: CreationRow, event: Event, **fields: object) -> CreationRow:
    """Move ``row`` along ``event`` (the table decides the new state) and save it with ``fields``."""
    state = lifecycle.next_state(row.state, event)
    now = ctx.now()
    tx.creations.update(row.id, state=state, updated_at_ns=now, **fields)
    if state is State.FAILED:
        tx.callers.adjust_quota(row.caller, -1)
        tx.spends.release_creation(row.id)  # a reservation the IC never answered with a spend
    return replace(row, state=state, updated_at_ns=now, **fields)  # type: ignore[arg-type]


def _claim(ctx: Context, record_id: int, token: str) -> CreationRow | None:
    """Take the record for this drive, unless another live worker holds it (then None)."""
    now = ctx.now()
    with ctx.store.write() as tx:
        row = tx.creations.get(record_id, lock=True)
        if row is None:
            raise NotFound(f"creation {record_id} not found")
        if lifecycle.is_terminal(row.state):
            return row
        if row.claimed_by not in (None, token) and not claims.is_stale(
            ctx.host, row.claimed_by, row.claimed_until_ns, now
        ):
            return None
        tx.creations.claim(record_id, token, now + LEASE_NS)
    return row


def _load(ctx: Context, record_id: int) -> CreationRow:
    with ctx.store.read() as tx:
        row = tx.creations.get(record_id)
    if row is None:
        raise NotFound(f"creation {record_id} not found")
    return row


def _outcome(ctx: Context, row: CreationRow) -> CreateInstallResponse:
    if row.state is State.READY and row.canister_id is not None:
        received = row.cycles - ctx.ic.creation_fee()  # a spare was topped up to as much (or held more)
        return CreateInstallResponse(row.canister_id, row.module_hash.hex(), row.cycles_used or 0, received)
    if row.state is State.FAILED:
        raise Conflict(f"this creation failed: {row.error}")
    raise CreationInProgress(f"creation {row.id} is in progress ({row.state.value}); retry with the same key")


def _canister(row: CreationRow) -> Principal:
    if row.canister_id is None:
        raise lifecycle.InvalidTransition(f"creation {row.id} in {row.state.value} has no canister id")
    return row.canister_id


def _texts(principals: Iterable[Principal]) -> str:
    return "[" + ", ".join(sorted(p.to_text() for p in principals)) + "]"
