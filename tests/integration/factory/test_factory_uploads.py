"""Uploads through ``Factory`` on SQLite: the reference's methods and texts, defect 8 and 4, TTL and cleanup."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canister_factory._core.config import InitArg
from canister_factory._core.errors import (
    Conflict,
    EmergencyStop,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    PermissionDenied,
)
from canister_factory.service.factory import Factory
from icp_client.principal import Principal
from tests.support.factory import Harness, new_principal, request, sha256_hex, upload_module
from tests.support.wasm_modules import (
    counter_wasm,
    custom_section,
    gzip_module,
    minimal_module,
    wasm_gzip_bomb,
)

WASM = counter_wasm()


def count_modules(factory: Factory) -> int:
    with factory.ctx.store.read() as tx:
        return tx.modules.count()


def test_create_upload_ids_are_monotonic_from_1(factory: Factory, alice: Principal, bob: Principal) -> None:
    assert [factory.create_upload(alice), factory.create_upload(bob), factory.create_upload(alice)] == [
        1,
        2,
        3,
    ]
    assert factory.get_config().next_upload_id == 4


def test_put_chunk_returns_total_length(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    assert factory.put_chunk(alice, uid, b"\x00asm") == 4
    assert factory.put_chunk(alice, uid, b"\x01\x00\x00\x00") == 8


def test_commit_returns_lowercase_hash_and_info_shows_it(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    factory.put_chunk(alice, uid, WASM[:1000], 0)
    factory.put_chunk(alice, uid, WASM[1000:], 1)
    assert factory.commit_upload(alice, uid, sha256_hex(WASM)) == sha256_hex(WASM)
    info = factory.get_upload_info(alice, uid)
    assert info.owner == alice
    assert info.total_len == len(WASM)
    assert info.committed_hash == hashlib.sha256(WASM).digest()
    assert info.chunks == (hashlib.sha256(WASM[:1000]).digest(), hashlib.sha256(WASM[1000:]).digest())
    assert info.created_at_time_ns == factory.ctx.now()


def test_open_upload_info(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    factory.put_chunk(alice, uid, b"abc")
    info = factory.get_upload_info(alice, uid)
    assert (info.total_len, info.committed_hash, info.chunks) == (3, None, (hashlib.sha256(b"abc").digest(),))


def test_uppercase_hex_commit_works(factory: Factory, alice: Principal) -> None:
    """Defect 8: the reference compared hex strings, so uppercase failed."""
    uid = factory.create_upload(alice)
    factory.put_chunk(alice, uid, WASM)
    assert factory.commit_upload(alice, uid, sha256_hex(WASM).upper()) == sha256_hex(WASM)


def test_chunk_too_large(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    with pytest.raises(LimitExceeded) as err:
        factory.put_chunk(alice, uid, bytes(2_000_001))
    assert str(err.value) == "Chunk too large: 2000001 bytes (max 2000000)"


def test_put_chunk_unknown_upload(factory: Factory, alice: Principal) -> None:
    with pytest.raises(NotFound) as err:
        factory.put_chunk(alice, 99, b"x")
    assert str(err.value) == "upload_id not found"


def test_not_owner_texts(factory: Factory, alice: Principal, bob: Principal) -> None:
    uid = factory.create_upload(alice)
    factory.put_chunk(alice, uid, WASM)
    with pytest.raises(PermissionDenied, match=r"^not owner$"):
        factory.put_chunk(bob, uid, b"x")
    with pytest.raises(PermissionDenied, match=r"^not owner$"):
        factory.commit_upload(bob, uid, sha256_hex(WASM))
    with pytest.raises(PermissionDenied, match=r"^not owner$"):
        factory.clear_upload(bob, uid)
    with pytest.raises(PermissionDenied, match=r"^Not the owner of this upload$"):
        factory.get_upload_info(bob, uid)
    with pytest.raises(NotFound, match=r"^Upload not found$"):
        factory.get_upload_info(alice, 42)


def test_committed_upload_refuses_more_chunks_and_a_second_commit(factory: Factory, alice: Principal) -> None:
    uid = upload_module(factory, alice, WASM)
    with pytest.raises(Conflict, match=r"^upload already committed$"):
        factory.put_chunk(alice, uid, b"x")
    with pytest.raises(Conflict, match=r"^upload already committed$"):
        factory.commit_upload(alice, uid, sha256_hex(WASM))


def test_upload_too_large(make: Callable[..., Harness]) -> None:
    h = make(InitArg(max_upload_size=100))
    alice = new_principal()
    uid = h.factory.create_upload(alice)
    assert h.factory.put_chunk(alice, uid, bytes(60)) == 60
    with pytest.raises(LimitExceeded) as err:
        h.factory.put_chunk(alice, uid, bytes(41))
    assert str(err.value) == "Upload too large: 101 bytes (max 100)"


def test_hash_mismatch_leaves_the_upload_open(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    factory.put_chunk(alice, uid, WASM)
    wrong = "0" * 64
    with pytest.raises(Conflict) as err:
        factory.commit_upload(alice, uid, wrong)
    assert str(err.value) == f"hash mismatch: expected {wrong}, got {sha256_hex(WASM)}"
    assert factory.get_upload_info(alice, uid).committed_hash is None
    assert factory.commit_upload(alice, uid, sha256_hex(WASM)) == sha256_hex(WASM)


def test_commit_refuses_what_is_not_a_wasm_module(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    factory.put_chunk(alice, uid, b"hello world")
    with pytest.raises(InvalidArgument, match=r"not a valid Wasm module|Wasm"):
        factory.commit_upload(alice, uid, sha256_hex(b"hello world"))


def test_gzip_module_accepted_and_gzip_bomb_refused(factory: Factory, alice: Principal) -> None:
    upload_module(factory, alice, gzip_module(WASM))
    bomb = wasm_gzip_bomb(64 * 1024 * 1024)
    uid = factory.create_upload(alice)
    factory.put_chunk(alice, uid, bomb)
    with pytest.raises(InvalidArgument, match=r"^gzip module decompresses to more than 50000000 bytes$"):
        factory.commit_upload(alice, uid, sha256_hex(bomb))


def test_clear_upload(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    factory.clear_upload(alice, uid)
    with pytest.raises(NotFound, match=r"^upload_id not found$"):
        factory.clear_upload(alice, uid)
    assert factory.get_factory_stats().active_uploads == 0


def test_create_with_open_upload_is_refused(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    factory.put_chunk(alice, uid, WASM)
    with pytest.raises(Conflict) as err:
        factory.create_and_install_with(alice, request(uid))
    assert str(err.value) == "upload not committed"


# defect 8: put_chunk is guarded, an indexed retry is not appended twice


def test_put_chunk_refused_during_emergency_stop(h: Harness, alice: Principal) -> None:
    uid = h.factory.create_upload(alice)
    h.factory.set_emergency_stop(h.admin, True)
    with pytest.raises(EmergencyStop) as err:
        h.factory.put_chunk(alice, uid, b"x")
    assert str(err.value) == "Factory is in emergency stop mode"


def test_put_chunk_refused_when_not_in_allowlist(h: Harness, alice: Principal) -> None:
    uid = h.factory.create_upload(alice)
    h.factory.set_allowlist(h.admin, [new_principal()])
    with pytest.raises(PermissionDenied) as err:
        h.factory.put_chunk(alice, uid, b"x")
    assert str(err.value) == "Caller not in allowlist"


def test_indexed_retry_is_not_appended_twice(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    assert factory.put_chunk(alice, uid, WASM[:500], 0) == 500
    assert factory.put_chunk(alice, uid, WASM[:500], 0) == 500
    assert factory.put_chunk(alice, uid, WASM[500:], 1) == len(WASM)
    assert factory.put_chunk(alice, uid, WASM[500:], 1) == len(WASM)
    assert factory.put_chunk(alice, uid, WASM[:500], 0) == len(WASM)
    assert len(factory.get_upload_info(alice, uid).chunks) == 2
    assert factory.commit_upload(alice, uid, sha256_hex(WASM)) == sha256_hex(WASM)


def test_indexed_retry_with_other_bytes_and_gaps_refused(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    factory.put_chunk(alice, uid, b"ab", 0)
    with pytest.raises(Conflict, match=r"chunk 0 was already received with different bytes"):
        factory.put_chunk(alice, uid, b"ac", 0)
    with pytest.raises(InvalidArgument, match=r"chunk index 2 leaves a gap"):
        factory.put_chunk(alice, uid, b"cd", 2)


def test_two_argument_form_still_appends(factory: Factory, alice: Principal) -> None:
    uid = factory.create_upload(alice)
    assert factory.put_chunk(alice, uid, b"ab") == 2
    assert factory.put_chunk(alice, uid, b"ab") == 4
    assert len(factory.get_upload_info(alice, uid).chunks) == 2


# defect 4: committed uploads are reusable modules, stored once


def test_same_bytes_committed_twice_are_stored_once(
    factory: Factory, alice: Principal, bob: Principal
) -> None:
    first = upload_module(factory, alice, WASM)
    second = upload_module(factory, bob, WASM, chunk_size=700)
    assert count_modules(factory) == 1
    assert (
        factory.get_upload_info(bob, second).committed_hash
        == factory.get_upload_info(alice, first).committed_hash
    )
    factory.clear_upload(alice, first)
    assert count_modules(factory) == 1, "bob's upload still uses the module"
    factory.clear_upload(bob, second)
    assert count_modules(factory) == 0


def test_two_creations_from_one_upload(h: Harness, alice: Principal) -> None:
    uid = upload_module(h.factory, alice, WASM)
    first = h.factory.create_and_install_with(alice, request(uid))
    second = h.factory.create_and_install_with(alice, request(uid))
    assert first.canister_id != second.canister_id
    assert first.module_hash_hex == second.module_hash_hex == sha256_hex(WASM)
    assert h.factory.get_upload_info(alice, uid).committed_hash is not None, "the upload is kept"


def test_module_limit_per_caller(make: Callable[..., Harness]) -> None:
    h = make(InitArg(max_modules_per_caller=1, max_active_uploads_per_caller=1))
    alice = new_principal()
    upload_module(h.factory, alice, WASM)
    uid = h.factory.create_upload(alice)
    with pytest.raises(LimitExceeded, match=r"^Too many open uploads: 1"):
        h.factory.create_upload(alice)
    h.factory.put_chunk(alice, uid, minimal_module())
    with pytest.raises(LimitExceeded, match=r"^Too many committed uploads: 1"):
        h.factory.commit_upload(alice, uid, sha256_hex(minimal_module()))


# TTL and cleanup


def test_open_upload_expires_ttl_after_its_last_activity(make: Callable[..., Harness]) -> None:
    h = make(InitArg(upload_ttl_seconds=60))
    alice = new_principal()
    uid = h.factory.create_upload(alice)
    h.clock.advance(50)
    h.factory.put_chunk(alice, uid, b"\x00asm")  # activity resets the clock
    h.clock.advance(50)  # 100 s after creation, 50 s after the last activity
    assert h.factory.put_chunk(alice, uid, b"\x01\x00\x00\x00") == 8
    h.clock.advance(61)
    with pytest.raises(NotFound, match=r"^upload_id not found$"):
        h.factory.put_chunk(alice, uid, b"")
    assert h.factory.cleanup_expired_uploads_manual(h.admin) == 1
    with pytest.raises(NotFound):
        h.factory.get_upload_info(alice, uid)


def test_committed_upload_never_expires(make: Callable[..., Harness]) -> None:
    h = make(InitArg(upload_ttl_seconds=60))
    alice = new_principal()
    uid = upload_module(h.factory, alice, WASM)
    h.clock.advance(365 * 86_400)
    assert h.factory.cleanup_expired_uploads_manual(h.admin) == 0
    assert h.factory.get_upload_info(alice, uid).committed_hash is not None
    assert h.factory.create_and_install_with(alice, request(uid)).module_hash_hex == sha256_hex(WASM)


def test_cleanup_manual_is_admin_only_and_returns_the_count(make: Callable[..., Harness]) -> None:
    h = make(InitArg(upload_ttl_seconds=60, max_active_uploads_per_caller=100))
    alice = new_principal()
    for _ in range(40):  # more than one cleanup batch (32)
        h.factory.create_upload(alice)
    upload_module(h.factory, alice, WASM)
    with pytest.raises(PermissionDenied, match=r"^Admin access required$"):
        h.factory.cleanup_expired_uploads_manual(alice)
    assert h.factory.cleanup_expired_uploads_manual(h.admin) == 0
    h.clock.advance(61)
    assert h.factory.cleanup_expired_uploads_manual(h.admin) == 40
    stats = h.factory.get_factory_stats()
    assert (stats.active_uploads, stats.total_uploads) == (1, 41)


def test_create_upload_cleans_up_opportunistically(make: Callable[..., Harness]) -> None:
    h = make(InitArg(upload_ttl_seconds=60))
    alice, bob = new_principal(), new_principal()
    old = h.factory.create_upload(alice)
    h.clock.advance(61)
    h.factory.create_upload(bob)
    with h.factory.ctx.store.read() as tx:
        assert tx.uploads.get(old) is None
    assert h.factory.cleanup_expired_uploads_manual(h.admin) == 0


def test_timer_cleanup_needs_no_caller(make: Callable[..., Harness]) -> None:
    h = make(InitArg(upload_ttl_seconds=60))
    h.factory.create_upload(new_principal())
    h.clock.advance(61)
    assert h.factory.cleanup_expired_uploads() == 1


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_chunking_and_retries_through_the_factory(factory: Factory, data: st.DataObject) -> None:
    """Random chunking of random bytes, indexed retries sprinkled in: the commit hash is the bytes' SHA-256."""
    caller = new_principal()  # a fresh caller per example: examples share the fixture's factory, not uploads
    body = data.draw(st.binary(max_size=3000))
    module = b"\x00asm\x01\x00\x00\x00" + (custom_section("x", body) if body else b"")
    cuts = sorted(data.draw(st.lists(st.integers(0, len(module)), max_size=6)))
    bounds = [0, *cuts, len(module)]
    pieces = [module[a:b] for a, b in itertools.pairwise(bounds)]
    uid = factory.create_upload(caller)
    for i, piece in enumerate(pieces):
        factory.put_chunk(caller, uid, piece, i)
        if data.draw(st.booleans()):
            j = data.draw(st.integers(0, i))
            factory.put_chunk(caller, uid, pieces[j], j)
    assert factory.get_upload_info(caller, uid).total_len == len(module)
    assert factory.commit_upload(caller, uid, sha256_hex(module).upper()) == sha256_hex(module)


def test_an_expired_upload_is_gone_for_get_upload_info_too(h: Harness, alice: Principal) -> None:
    upload_id = h.factory.create_upload(alice)
    h.factory.put_chunk(alice, upload_id, b"\x00asm")
    h.clock.advance(h.factory.get_config().upload_ttl_ns / 1e9 + 1)
    with pytest.raises(NotFound, match=r"^Upload not found$"):
        h.factory.get_upload_info(alice, upload_id)
