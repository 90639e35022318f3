"""Hostile input: every parser that takes outside bytes or text ends in a value or its own clear error.

Never a crash with another exception, never a hang: each case runs under a Hypothesis deadline.
"""

from __future__ import annotations

import contextlib
import tracemalloc

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from canister_factory import interface
from canister_factory._core.errors import InvalidArgument
from canister_factory.wasm import check_module
from icp_client import candid
from icp_client.errors import InvalidInput
from icp_client.identity import generate_identity, load_identity_pem
from icp_client.principal import Principal, PrincipalError

FAST = settings(max_examples=300, deadline=500, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=256))
def test_candid_binary_against_the_factorys_types(data: bytes) -> None:
    types = interface.method_type("create_and_install_with").args
    with contextlib.suppress(candid.CandidError):
        candid.decode(b"DIDL" + data, types)


@FAST
@given(st.binary(max_size=256))
def test_candid_binary_untyped(data: bytes) -> None:
    with contextlib.suppress(candid.CandidError):
        candid.decode(b"DIDL" + data)


@FAST
@given(st.text(max_size=200))
def test_candid_text_against_the_factorys_types(text: str) -> None:
    with contextlib.suppress(InvalidArgument):
        interface.parse_args("create_and_install_with", text)


@FAST
@given(
    st.from_regex(r"\(record \{ upload_id = [0-9]{1,30}; init_arg = blob \"[a-z\\0-9]{0,20}\"; .{0,40}\}\)")
)
def test_candid_text_near_valid_requests(text: str) -> None:
    with contextlib.suppress(InvalidArgument):
        interface.parse_args("create_and_install_with", text)


def test_a_13_byte_vec_null_bomb_fails_fast() -> None:
    """Refused before any element is made: memory stays far below that of a 10,000,000-element list."""
    bomb = b"DIDL\x01\x6d\x7f\x01\x00" + bytes([0x80, 0xAD, 0xE2, 0x04])  # vec null of length 10,000,000
    tracemalloc.start()
    try:
        candid.decode(bomb)
    except candid.CandidDecodeError as exc:
        assert "limit" in str(exc)
    else:
        raise AssertionError("a 10,000,000-element vec null from 13 bytes must be refused")
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 64 * 1024


@FAST
@given(st.binary(max_size=512))
def test_pem_bytes(data: bytes) -> None:
    with contextlib.suppress(InvalidInput):
        load_identity_pem(data)


@FAST
@given(
    st.sampled_from(["ed25519", "secp256k1", "p256"]), st.integers(0, 400), st.binary(min_size=1, max_size=8)
)
@example("ed25519", 15, b"v")  # found by Hypothesis: OpenSSL raised InternalError, not a clean error
def test_pem_with_a_corrupted_body(kind: str, at: int, junk: bytes) -> None:
    pem = generate_identity(kind).to_pem()  # type: ignore[arg-type]
    lines = pem.split(b"\n")
    body = b"".join(lines[1:-2])
    at %= len(body)
    corrupted = lines[0] + b"\n" + body[:at] + junk + body[at + len(junk) :] + b"\n" + lines[-2] + b"\n"
    with contextlib.suppress(InvalidInput):
        load_identity_pem(corrupted)


@FAST
@given(st.text(max_size=80))
def test_principal_text(text: str) -> None:
    try:
        principal = Principal.from_text(text)
    except PrincipalError:
        return
    assert Principal.from_text(principal.to_text()) == principal


@FAST
@given(st.binary(max_size=29))
def test_principal_round_trip(raw: bytes) -> None:
    assert Principal.from_text(Principal(raw).to_text()) == Principal(raw)


@FAST
@given(st.binary(max_size=512))
def test_wasm_and_gzip_bytes(data: bytes) -> None:
    with contextlib.suppress(InvalidArgument):
        check_module(data, max_size=1024 * 1024)
