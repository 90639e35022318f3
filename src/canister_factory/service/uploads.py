"""Uploads: create, put chunks, commit with SHA-256, clear, inspect, expire."""

from __future__ import annotations

import hashlib

from canister_factory._core import uploads as rules
from canister_factory._core.access import require_admin, require_caller
from canister_factory._core.config import NAT32_MAX, Settings, check_id
from canister_factory._core.creation import require_above_floor
from canister_factory._core.errors import Conflict, InvalidArgument
from canister_factory._core.model import UploadInfo, UploadSummary
from canister_factory.service.context import Context, settings_of
from canister_factory.service.creations import module_of
from canister_factory.unit_of_work import Transaction
from canister_factory.wasm_stream import ModuleStreamCheck, ic_refusal
from icp_client.principal import Principal

CLEANUP_BATCH = 32


def create_upload(ctx: Context, caller: Principal) -> int:
    """Open a new upload owned by ``caller``; returns its id."""
    with ctx.store.read() as tx:
        settings = settings_of(tx, caller=caller)
    require_caller(settings, caller)
    require_above_floor(ctx.ic.cycles_balance(), settings)
    now = ctx.now()
    with ctx.store.write() as tx:
        settings = settings_of(tx, lock="share", caller=caller)
        require_caller(settings, caller)
        _remove_expired(tx, settings, now, CLEANUP_BATCH)
        rules.check_open_upload_limit(tx.uploads.count(caller, committed=False), settings)
        upload_id = tx.counters.allocate_upload_id()
        tx.uploads.insert(rules.Upload(upload_id, caller, now, now, 0, 0, None))
        tx.counters.bump(active_uploads=1)
    return upload_id


def put_chunk(ctx: Context, caller: Principal, upload_id: int, chunk: bytes, index: int | None = None) -> int:
    """Add ``chunk`` to an open upload (at ``index`` if given: a retry is idempotent); returns the total length.

    Raises:
        InvalidArgument: a bad id or index. LimitExceeded: the chunk, the upload or the factory's storage is full.
    """
    check_id("upload_id", upload_id)
    if index is not None:
        check_id("chunk index", index, NAT32_MAX)
    rules.check_chunk_size(len(chunk))
    now = ctx.now()
    with ctx.store.write() as tx:
        settings = settings_of(tx, lock="share", caller=caller)
        require_caller(settings, caller)
        upload = rules.writable(_live_upload(tx, upload_id, settings, now), caller)
        same = None
        if index is not None and index < upload.chunk_count:
            same = tx.uploads.chunk_at(upload_id, index) == chunk
        if rules.plan_chunk(upload, index, len(chunk), same, settings) is rules.ChunkAction.REPEAT:
            tx.uploads.touch(upload_id, now)
            return upload.total_len
        if tx.counters.claim_storage(len(chunk), settings.max_stored_module_bytes) is None:
            raise rules.storage_full(tx.counters.read().stored_bytes, len(chunk), settings)
        total = tx.uploads.append_chunk(upload, chunk, now)
    ctx.digests.appended(upload_id, upload.chunk_count, chunk, settings.max_upload_size)
    return total


def commit_upload(ctx: Context, caller: Principal, upload_id: int, expected_sha256_hex: str) -> str:
    """Check the upload's SHA-256 and that it is a Wasm module, then keep it as a reusable module.

    The bytes are hashed and checked chunk by chunk, in constant memory. If they hash to a module that is
    already stored, this upload shares it. Returns the hash in lower-case hex.
    """
    check_id("upload_id", upload_id)
    expected = rules.parse_expected_hash(expected_sha256_hex)
    with ctx.store.read() as tx:
        settings = settings_of(tx, caller=caller)
        require_caller(settings, caller)
        upload = rules.writable(_live_upload(tx, upload_id, settings, ctx.now()), caller)
        known = ctx.digests.result(upload_id, upload.chunk_count, upload.total_len)
        actual, problem = known or _hash_and_check(tx, upload_id, settings)
        problem = problem or ic_refusal(tx.uploads.chunks(upload_id), upload.total_len)
    rules.check_hash(expected, actual)
    if problem is not None:
        raise problem
    with ctx.store.write() as tx:
        settings = settings_of(tx, lock="share", caller=caller)
        require_caller(settings, caller)
        current = rules.writable(tx.uploads.get(upload_id, lock=True), caller)
        if (current.chunk_count, current.total_len) != (upload.chunk_count, upload.total_len):
            raise Conflict("the upload changed while it was being committed; commit it again")
        rules.check_module_limit(tx.uploads.count(caller, committed=True), settings)
        tx.uploads.commit(current, actual, ctx.now())
    ctx.digests.forget(upload_id)
    return actual.hex()


def clear_upload(ctx: Context, caller: Principal, upload_id: int) -> None:
    """Remove an upload (open or committed) that ``caller`` owns."""
    check_id("upload_id", upload_id)
    with ctx.store.write() as tx:
        require_caller(settings_of(tx, lock="share", caller=caller), caller)
        upload = rules.owned(tx.uploads.get(upload_id, lock=True), caller)
        tx.uploads.delete(upload)
        tx.counters.bump(active_uploads=-1)


def get_upload_info(ctx: Context, caller: Principal, upload_id: int) -> UploadInfo:
    """The upload's owner, chunk digests, length, committed hash and creation time (an expired one is gone)."""
    check_id("upload_id", upload_id)
    with ctx.store.read() as tx:
        upload = rules.readable(_live_upload(tx, upload_id, settings_of(tx), ctx.now()), caller)
        if upload.module_hash is None:
            chunks = tx.uploads.chunk_hashes(upload_id)
        else:
            chunks = tx.modules.chunk_hashes(upload.module_hash)
        total = upload.total_len
    return UploadInfo(upload.owner, tuple(chunks), total, upload.module_hash, upload.created_at_ns)


def cleanup_expired_uploads_manual(ctx: Context, caller: Principal) -> int:
    """Admin only: remove every expired open upload now; returns how many."""
    removed = 0
    while True:
        with ctx.store.write() as tx:
            settings = settings_of(tx, lock="share")
            require_admin(settings, caller)
            batch = _remove_expired(tx, settings, ctx.now(), CLEANUP_BATCH)
        removed += batch
        if batch < CLEANUP_BATCH:
            return removed


def cleanup_expired(ctx: Context) -> int:
    """The timer's cleanup: like the manual one, without the admin check."""
    removed = 0
    while True:
        with ctx.store.write() as tx:
            batch = _remove_expired(tx, settings_of(tx, lock="share"), ctx.now(), CLEANUP_BATCH)
        removed += batch
        if batch < CLEANUP_BATCH:
            return removed


def _remove_expired(tx: Transaction, settings: Settings, now: int, limit: int) -> int:
    expired = tx.uploads.expired(rules.expiry_cutoff(now, settings), limit)
    for upload in expired:
        tx.uploads.delete(upload)
    if expired:
        tx.counters.bump(active_uploads=-len(expired))
    return len(expired)


def _live_upload(tx: Transaction, upload_id: int, settings: Settings, now: int) -> rules.Upload | None:
    """The upload, or None if it does not exist or has expired (it is then as good as removed)."""
    upload = tx.uploads.get(upload_id)
    if upload is not None and rules.is_expired(upload, now, settings):
        return None
    return upload


def _hash_and_check(
    tx: Transaction, upload_id: int, settings: Settings
) -> tuple[bytes, InvalidArgument | None]:
    """The upload's SHA-256, and why it is not an acceptable module (None if it is)."""
    hasher = hashlib.sha256()
    check = ModuleStreamCheck(max_size=settings.max_upload_size)
    problem: InvalidArgument | None = None
    for data in tx.uploads.chunks(upload_id):
        hasher.update(data)
        if problem is None:
            try:
                check.feed(data)
            except InvalidArgument as exc:
                problem = exc
    if problem is None:
        try:
            check.finish()
        except InvalidArgument as exc:
            problem = exc
    return hasher.digest(), problem


def module_bytes(ctx: Context, caller: Principal, upload_id: int) -> bytes:
    """The bytes of ``caller``'s committed upload."""
    check_id("upload_id", upload_id)
    with ctx.store.read() as tx:
        return tx.modules.read(module_of(tx.uploads.get(upload_id), caller))


MAX_LISTED_UPLOADS = 1000


def list_my_uploads(ctx: Context, caller: Principal) -> list[UploadSummary]:
    """The caller's open uploads, oldest first (at most ``MAX_LISTED_UPLOADS``; the per-caller limit on open
    uploads, 10 by default, keeps them fewer): each with its size, chunk count and expiry. Expired ones are as
    good as removed and not listed."""
    now = ctx.now()
    with ctx.store.read() as tx:
        settings = settings_of(tx, caller=caller)
        found = tx.uploads.open_of(caller, MAX_LISTED_UPLOADS)
    return [
        UploadSummary(
            upload_id=u.id,
            total_len=u.total_len,
            chunk_count=u.chunk_count,
            created_at_ns=u.created_at_ns,
            last_activity_ns=u.last_activity_ns,
            expires_at_ns=u.last_activity_ns + settings.upload_ttl_ns,
        )
        for u in found
        if not rules.is_expired(u, now, settings)
    ]
