"""Uploads on the in-memory store: chunks, commit, limits, expiry, sharing of modules."""

from __future__ import annotations

import hashlib

import pytest

from canister_factory._core import uploads as rules
from canister_factory._core.access import ADMIN_REQUIRED
from canister_factory._core.config import InitArg
from canister_factory._core.errors import Conflict, InvalidArgument, LimitExceeded, NotFound, PermissionDenied
from canister_factory.service import admin, uploads
from icp_client.principal import Principal
from tests.unit.service.helpers import Env, upload


def test_an_upload_goes_from_chunks_to_a_committed_module(
    deployed: Env, alice: Principal, counter: bytes
) -> None:
    upload_id = uploads.create_upload(deployed.ctx, alice)
    half = len(counter) // 2
    assert uploads.put_chunk(deployed.ctx, alice, upload_id, counter[:half], 0) == half
    assert uploads.put_chunk(deployed.ctx, alice, upload_id, counter[:half], 0) == half  # a retry
    assert uploads.put_chunk(deployed.ctx, alice, upload_id, counter[half:]) == len(counter)
    digest = hashlib.sha256(counter).hexdigest()
    assert uploads.commit_upload(deployed.ctx, alice, upload_id, digest.upper()) == digest
    info = uploads.get_upload_info(deployed.ctx, alice, upload_id)
    assert (info.owner, info.total_len, info.committed_hash) == (alice, len(counter), bytes.fromhex(digest))
    assert uploads.module_bytes(deployed.ctx, alice, upload_id) == counter
    stats = admin.get_factory_stats(deployed.ctx)
    assert (stats.total_uploads, stats.active_uploads) == (1, 1)


def test_a_commit_with_a_wrong_hash_or_twice_is_refused(
    deployed: Env, alice: Principal, counter: bytes
) -> None:
    upload_id = uploads.create_upload(deployed.ctx, alice)
    uploads.put_chunk(deployed.ctx, alice, upload_id, counter)
    with pytest.raises(Conflict, match="hash mismatch"):
        uploads.commit_upload(deployed.ctx, alice, upload_id, "00" * 32)
    uploads.commit_upload(deployed.ctx, alice, upload_id, hashlib.sha256(counter).hexdigest())
    with pytest.raises(Conflict, match=rules.ALREADY_COMMITTED):
        uploads.commit_upload(deployed.ctx, alice, upload_id, hashlib.sha256(counter).hexdigest())


def test_a_commit_rereads_the_chunks_when_the_running_digest_is_gone(
    deployed: Env, alice: Principal, counter: bytes
) -> None:
    upload_id = uploads.create_upload(deployed.ctx, alice)
    uploads.put_chunk(deployed.ctx, alice, upload_id, counter)
    deployed.ctx.digests.forget(upload_id)  # as after a restart
    digest = hashlib.sha256(counter).hexdigest()
    assert uploads.commit_upload(deployed.ctx, alice, upload_id, digest) == digest


def test_not_a_wasm_module_is_refused_at_commit(deployed: Env, alice: Principal) -> None:
    upload_id = uploads.create_upload(deployed.ctx, alice)
    uploads.put_chunk(deployed.ctx, alice, upload_id, b"not wasm at all")
    with pytest.raises(InvalidArgument):
        uploads.commit_upload(deployed.ctx, alice, upload_id, hashlib.sha256(b"not wasm at all").hexdigest())


def test_only_the_owner_touches_an_upload(deployed: Env, alice: Principal, bob: Principal) -> None:
    upload_id = uploads.create_upload(deployed.ctx, alice)
    with pytest.raises(PermissionDenied):
        uploads.put_chunk(deployed.ctx, bob, upload_id, b"x")
    with pytest.raises(PermissionDenied):
        uploads.get_upload_info(deployed.ctx, bob, upload_id)
    with pytest.raises(PermissionDenied):
        uploads.clear_upload(deployed.ctx, bob, upload_id)
    with pytest.raises(NotFound):
        uploads.put_chunk(deployed.ctx, alice, upload_id + 1, b"x")


def test_a_gap_or_a_changed_chunk_is_refused(deployed: Env, alice: Principal) -> None:
    upload_id = uploads.create_upload(deployed.ctx, alice)
    uploads.put_chunk(deployed.ctx, alice, upload_id, b"abc", 0)
    with pytest.raises(InvalidArgument, match="gap"):
        uploads.put_chunk(deployed.ctx, alice, upload_id, b"x", 2)
    with pytest.raises(Conflict, match="different bytes"):
        uploads.put_chunk(deployed.ctx, alice, upload_id, b"abd", 0)


def test_open_uploads_and_sizes_are_bounded(env: Env, alice: Principal) -> None:
    env.deploy(InitArg(max_active_uploads_per_caller=1, max_upload_size=10))
    upload_id = uploads.create_upload(env.ctx, alice)
    with pytest.raises(LimitExceeded):
        uploads.create_upload(env.ctx, alice)
    with pytest.raises(LimitExceeded, match="Upload too large"):
        uploads.put_chunk(env.ctx, alice, upload_id, bytes(11))
    with pytest.raises(LimitExceeded, match="Chunk too large"):
        uploads.put_chunk(env.ctx, alice, upload_id, bytes(2_000_001))


def test_the_factorys_storage_is_bounded_and_freed(env: Env, alice: Principal, bob: Principal) -> None:
    env.deploy(InitArg(max_stored_module_bytes=1000))
    first = uploads.create_upload(env.ctx, alice)
    uploads.put_chunk(env.ctx, alice, first, bytes(600))
    second = uploads.create_upload(env.ctx, bob)
    with pytest.raises(LimitExceeded):
        uploads.put_chunk(env.ctx, bob, second, bytes(600))
    uploads.clear_upload(env.ctx, alice, first)
    assert uploads.put_chunk(env.ctx, bob, second, bytes(600)) == 600


def test_one_module_uploaded_twice_is_stored_once(
    deployed: Env, alice: Principal, bob: Principal, counter: bytes
) -> None:
    first, second = upload(deployed, alice, counter), upload(deployed, bob, counter, chunk_size=100)
    with deployed.ctx.store.read() as tx:
        assert tx.modules.count() == 1
        assert tx.counters.read().stored_bytes == len(counter)
    uploads.clear_upload(deployed.ctx, alice, first)
    assert uploads.module_bytes(deployed.ctx, bob, second) == counter
    uploads.clear_upload(deployed.ctx, bob, second)
    with deployed.ctx.store.read() as tx:
        assert (tx.modules.count(), tx.counters.read().stored_bytes) == (0, 0)
    assert admin.get_factory_stats(deployed.ctx).active_uploads == 0


def test_an_idle_open_upload_expires(env: Env, alice: Principal, counter: bytes) -> None:
    env.deploy(InitArg(upload_ttl_seconds=60))
    idle = uploads.create_upload(env.ctx, alice)
    committed = upload(env, alice, counter)
    env.clock.advance(61)
    with pytest.raises(NotFound):
        uploads.get_upload_info(env.ctx, alice, idle)
    with pytest.raises(PermissionDenied, match=ADMIN_REQUIRED):
        uploads.cleanup_expired_uploads_manual(env.ctx, alice)
    assert uploads.cleanup_expired_uploads_manual(env.ctx, env.admin) == 1
    assert uploads.cleanup_expired(env.ctx) == 0
    assert uploads.get_upload_info(env.ctx, alice, committed).committed_hash is not None  # never expires
