"""Uploads through every backend: chunks, indexed retries, commit, info, and the reference's error texts."""

from __future__ import annotations

import hashlib

import pytest

from canister_factory._core.errors import Conflict, NotFound, PermissionDenied
from icp_client.identity import Identity
from tests.scenarios._helpers import request, sha256_hex, upload
from tests.support.backends import Backend
from tests.support.wasm_modules import counter_wasm

WASM = counter_wasm()


def test_upload_in_chunks_with_an_indexed_retry_then_commit_uppercase(
    backend: Backend, alice: Identity
) -> None:
    api = backend.as_caller(alice)
    third = len(WASM) // 3 + 1
    pieces = [WASM[i : i + third] for i in range(0, len(WASM), third)]
    assert len(pieces) == 3
    uid = api.create_upload()
    assert api.put_chunk(uid, pieces[0], 0) == len(pieces[0])
    assert api.put_chunk(uid, pieces[0], 0) == len(pieces[0])  # a retry: not stored twice
    assert api.put_chunk(uid, pieces[1], 1) == len(pieces[0]) + len(pieces[1])
    assert api.put_chunk(uid, pieces[1], 1) == len(pieces[0]) + len(pieces[1])
    assert api.put_chunk(uid, pieces[2], 2) == len(WASM)

    info = api.get_upload_info(uid)
    assert info.owner == alice.principal
    assert info.chunks == tuple(hashlib.sha256(p).digest() for p in pieces)
    assert (info.total_len, info.committed_hash) == (len(WASM), None)

    assert api.commit_upload(uid, sha256_hex(WASM).upper()) == sha256_hex(WASM)
    info = api.get_upload_info(uid)
    assert info.owner == alice.principal
    assert info.total_len == len(WASM)
    assert info.committed_hash == hashlib.sha256(WASM).digest()
    assert info.created_at_time_ns > 0

    created = api.create_and_install_with(request(uid))
    assert created.module_hash_hex == sha256_hex(WASM)
    assert backend.ic_module_hash(created.canister_id) == hashlib.sha256(WASM).digest()


def test_unknown_upload(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    with pytest.raises(NotFound) as err:
        api.put_chunk(4242, b"x", 0)
    assert str(err.value) == "upload_id not found"
    with pytest.raises(NotFound) as err:
        api.commit_upload(4242, sha256_hex(WASM))
    assert str(err.value) == "upload_id not found"
    with pytest.raises(NotFound) as err:
        api.create_and_install_with(request(4242))
    assert str(err.value) == "upload_id not found"
    with pytest.raises(NotFound) as err:
        api.get_upload_info(4242)
    assert str(err.value) == "Upload not found"


def test_someone_elses_upload(backend: Backend, alice: Identity, bob: Identity) -> None:
    mine, theirs = backend.as_caller(alice), backend.as_caller(bob)
    uid = mine.create_upload()
    mine.put_chunk(uid, WASM, 0)
    for attempt in (
        lambda: theirs.put_chunk(uid, b"x", 1),
        lambda: theirs.commit_upload(uid, sha256_hex(WASM)),
        lambda: theirs.clear_upload(uid),
    ):
        with pytest.raises(PermissionDenied) as err:
            attempt()
        assert str(err.value) == "not owner"
    with pytest.raises(PermissionDenied) as err:
        theirs.get_upload_info(uid)
    assert str(err.value) == "Not the owner of this upload"
    mine.commit_upload(uid, sha256_hex(WASM))
    with pytest.raises(PermissionDenied) as err:
        theirs.create_and_install_with(request(uid))
    assert str(err.value) == "not owner of upload"
    assert mine.get_upload_info(uid).total_len == len(WASM)


def test_committed_upload_is_closed(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    uid = upload(api, WASM)
    with pytest.raises(Conflict) as err:
        api.put_chunk(uid, b"x", 1)
    assert str(err.value) == "upload already committed"
    with pytest.raises(Conflict) as err:
        api.commit_upload(uid, sha256_hex(WASM))
    assert str(err.value) == "upload already committed"


def test_hash_mismatch_leaves_the_upload_open(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    uid = api.create_upload()
    api.put_chunk(uid, WASM, 0)
    wrong = "ab" * 32
    with pytest.raises(Conflict) as err:
        api.commit_upload(uid, wrong)
    assert str(err.value) == f"hash mismatch: expected {wrong}, got {sha256_hex(WASM)}"
    assert api.get_upload_info(uid).committed_hash is None
    assert api.commit_upload(uid, sha256_hex(WASM)) == sha256_hex(WASM)


def test_creation_from_an_uncommitted_upload(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    uid = api.create_upload()
    api.put_chunk(uid, WASM, 0)
    balance = backend.ic_balance()
    with pytest.raises(Conflict) as err:
        api.create_and_install_with(request(uid))
    assert str(err.value) == "upload not committed"
    assert api.list_my_canisters().canisters == ()
    assert backend.ic_balance() == balance


def test_cleared_upload_is_gone(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    uid = upload(api, WASM)
    api.clear_upload(uid)
    with pytest.raises(NotFound) as err:
        api.create_and_install_with(request(uid))
    assert str(err.value) == "upload_id not found"
