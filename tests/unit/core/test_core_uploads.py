"""Upload rules: chunk size, ownership, commit state, size limit, hash check (any case), expiry."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canister_factory._core import uploads as rules
from canister_factory._core.config import InitArg, resolve_init
from canister_factory._core.errors import Conflict, InvalidArgument, LimitExceeded, NotFound, PermissionDenied
from icp_client.principal import Principal

ALICE = Principal.self_authenticating(b"alice key")
BOB = Principal.self_authenticating(b"bob key")
SETTINGS = resolve_init(InitArg(max_upload_size=1000, upload_ttl_seconds=60), ALICE)
TTL = 60 * 1_000_000_000


def upload(**fields: object) -> rules.Upload:
    base = rules.Upload(
        id=1, owner=ALICE, created_at_ns=0, last_activity_ns=0, total_len=0, chunk_count=0, module_hash=None
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_chunk_of_2_000_000_bytes_is_accepted_one_more_is_not() -> None:
    rules.check_chunk_size(2_000_000)
    with pytest.raises(LimitExceeded) as err:
        rules.check_chunk_size(2_000_001)
    assert str(err.value) == "Chunk too large: 2000001 bytes (max 2000000)"


def test_missing_upload() -> None:
    for check in (rules.writable, rules.owned):
        with pytest.raises(NotFound) as err:
            check(None, ALICE)
        assert str(err.value) == "upload_id not found"


def test_not_owner() -> None:
    for check in (rules.writable, rules.owned):
        with pytest.raises(PermissionDenied) as err:
            check(upload(), BOB)
        assert str(err.value) == "not owner"


def test_committed_upload_is_not_writable_but_is_owned() -> None:
    done = upload(module_hash=b"\x01" * 32)
    assert done.committed
    with pytest.raises(Conflict) as err:
        rules.writable(done, ALICE)
    assert str(err.value) == "upload already committed"
    assert rules.owned(done, ALICE) is done


def test_upload_info_uses_the_references_texts_for_that_method() -> None:
    with pytest.raises(NotFound, match=r"^Upload not found$"):
        rules.readable(None, ALICE)
    with pytest.raises(PermissionDenied, match=r"^Not the owner of this upload$"):
        rules.readable(upload(), BOB)
    assert rules.readable(upload(), ALICE).owner == ALICE


def test_plan_chunk_append_without_index_and_at_next_index() -> None:
    u = upload(total_len=10, chunk_count=2)
    assert rules.plan_chunk(u, None, 5, None, SETTINGS) is rules.ChunkAction.APPEND
    assert rules.plan_chunk(u, 2, 5, None, SETTINGS) is rules.ChunkAction.APPEND


def test_plan_chunk_retry_of_same_bytes_is_a_repeat() -> None:
    u = upload(total_len=10, chunk_count=2)
    assert rules.plan_chunk(u, 1, 5, True, SETTINGS) is rules.ChunkAction.REPEAT


def test_plan_chunk_retry_with_different_bytes_conflicts() -> None:
    with pytest.raises(Conflict, match=r"chunk 0 was already received with different bytes"):
        rules.plan_chunk(upload(total_len=10, chunk_count=2), 0, 5, False, SETTINGS)


def test_plan_chunk_gap_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"chunk index 3 leaves a gap: the next chunk is 1"):
        rules.plan_chunk(upload(total_len=10, chunk_count=1), 3, 5, None, SETTINGS)


def test_upload_too_large_text() -> None:
    u = upload(total_len=900, chunk_count=1)
    assert rules.plan_chunk(u, None, 100, None, SETTINGS) is rules.ChunkAction.APPEND  # exactly the max
    with pytest.raises(LimitExceeded) as err:
        rules.plan_chunk(u, None, 101, None, SETTINGS)
    assert str(err.value) == "Upload too large: 1001 bytes (max 1000)"


def test_parse_expected_hash_accepts_upper_and_lower_case() -> None:
    digest = hashlib.sha256(b"x").digest()
    assert rules.parse_expected_hash(digest.hex()) == digest
    assert rules.parse_expected_hash(digest.hex().upper()) == digest


@pytest.mark.parametrize("text", ["", "abc", "g" * 64, "a" * 63, "a" * 65])
def test_parse_expected_hash_refuses_non_hex(text: str) -> None:
    with pytest.raises(
        InvalidArgument, match=r"^hash mismatch: expected_sha256_hex must be 64 hexadecimal characters"
    ):
        rules.parse_expected_hash(text)


def test_hash_mismatch_text() -> None:
    e, g = hashlib.sha256(b"e").digest(), hashlib.sha256(b"g").digest()
    rules.check_hash(e, e)
    with pytest.raises(Conflict) as err:
        rules.check_hash(e, g)
    assert str(err.value) == f"hash mismatch: expected {e.hex()}, got {g.hex()}"


def test_open_upload_and_module_limits() -> None:
    s = resolve_init(InitArg(max_active_uploads_per_caller=2, max_modules_per_caller=1), ALICE)
    rules.check_open_upload_limit(1, s)
    with pytest.raises(LimitExceeded, match=r"^Too many open uploads: 2 \(max 2\)"):
        rules.check_open_upload_limit(2, s)
    rules.check_module_limit(0, s)
    with pytest.raises(LimitExceeded, match=r"^Too many committed uploads: 1 \(max 1\)"):
        rules.check_module_limit(1, s)


def test_open_upload_expires_ttl_after_last_activity() -> None:
    u = upload(created_at_ns=0, last_activity_ns=50 * 1_000_000_000)
    assert not rules.is_expired(u, u.last_activity_ns + TTL, SETTINGS)
    assert rules.is_expired(u, u.last_activity_ns + TTL + 1, SETTINGS)
    assert rules.expiry_cutoff(u.last_activity_ns + TTL + 1, SETTINGS) > u.last_activity_ns


def test_committed_upload_never_expires() -> None:
    assert not rules.is_expired(upload(module_hash=b"\x00" * 32), 10**30, SETTINGS)


# Property: any chunking of any bytes, with indexed retries sprinkled in, assembles to the same bytes.


class Assembler:
    """A minimal in-memory upload driven only by the core rules (what the service does with a database)."""

    def __init__(self, max_size: int) -> None:
        self.settings = resolve_init(InitArg(max_upload_size=max_size), ALICE)
        self.upload = upload()
        self.chunks: list[bytes] = []

    def put(self, chunk: bytes, index: int | None) -> int:
        rules.check_chunk_size(len(chunk))
        u = rules.writable(self.upload, ALICE)
        same = None if index is None or index >= u.chunk_count else self.chunks[index] == chunk
        if rules.plan_chunk(u, index, len(chunk), same, self.settings) is rules.ChunkAction.APPEND:
            self.chunks.append(chunk)
            self.upload = replace(u, total_len=u.total_len + len(chunk), chunk_count=u.chunk_count + 1)
        return self.upload.total_len

    def commit(self, expected_hex: str) -> str:
        u = rules.writable(self.upload, ALICE)
        actual = hashlib.sha256(b"".join(self.chunks)).digest()
        rules.check_hash(rules.parse_expected_hash(expected_hex), actual)
        self.upload = replace(u, module_hash=actual)
        return actual.hex()


@st.composite
def chunked(draw: st.DrawFn) -> tuple[bytes, list[int], list[int]]:
    data = draw(st.binary(min_size=0, max_size=400))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    retries = draw(st.lists(st.integers(0, 20), max_size=6))
    return data, cuts, retries


@settings(max_examples=150, deadline=None)
@given(chunked(), st.booleans(), st.booleans())
def test_any_chunking_with_retries_commits_to_the_sha256_of_the_bytes(
    case: tuple[bytes, list[int], list[int]], indexed: bool, upper: bool
) -> None:
    data, cuts, retries = case
    bounds = [0, *cuts, len(data)]
    pieces = [data[a:b] for a, b in itertools.pairwise(bounds)]
    asm = Assembler(max_size=max(len(data), 8))
    for i, piece in enumerate(pieces):
        total = asm.put(piece, i if indexed else None)
        for r in retries:
            if indexed and r <= i:
                assert asm.put(pieces[r], r) == total, "a retried indexed chunk is not appended again"
    assert b"".join(asm.chunks) == data
    expected = hashlib.sha256(data).hexdigest()
    assert asm.commit(expected.upper() if upper else expected) == expected


def test_two_argument_form_appends_a_repeated_chunk() -> None:
    asm = Assembler(max_size=100)
    asm.put(b"ab", None)
    assert asm.put(b"ab", None) == 4
