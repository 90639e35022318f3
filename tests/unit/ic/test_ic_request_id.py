"""Request ids, LEB128, domain separators, request signatures and envelope verification."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from icp_client.envelope import (
    build_envelope,
    decode_envelope,
    encode_envelope,
    make_signed_delegation,
)
from icp_client.errors import InvalidInput, SignatureRejected
from icp_client.identity import AnonymousIdentity, Identity, generate_identity
from icp_client.principal import Principal
from icp_client.request_id import (
    IC_REQUEST,
    IC_REQUEST_AUTH_DELEGATION,
    IC_RESPONSE,
    IC_STATE_ROOT,
    MalformedEnvelope,
    decode_leb128,
    encode_leb128,
    encode_sleb128,
    hash_of_map,
    hash_value,
    request_id,
    sign_request,
    verify_delegation_chain,
    verify_envelope,
)

# interface specification, https-interface.md "Request ids" (ic-reference.md §4.4)
SPEC_CONTENT: dict[str, Any] = {
    "request_type": "call",
    "sender": b"\x04",
    "ingress_expiry": 1685570400000000000,
    "canister_id": bytes.fromhex("00000000000004D2"),
    "method_name": "hello",
    "arg": b"DIDL\x00\xfd*",
}
SPEC_REQUEST_ID = "1d1091364d6bb8a6c16b203ee75467d59ead468f523eb058880ae8ec80e2b101"
NOW = 1_700_000_000_000_000_000
CANISTER = Principal.from_canister_index(7)


def test_spec_request_id() -> None:
    assert request_id(SPEC_CONTENT).hex() == SPEC_REQUEST_ID
    assert hash_of_map(SPEC_CONTENT).hex() == SPEC_REQUEST_ID


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"\x04", "e52d9c508c502347344d8c07ad91cbd6068afc75ff6292f062a09ca381c89e71"),
        (1685570400000000000, "db8e57abc8cda1525d45fdd2637af091bc1f28b35819a40df71517d1501f2c76"),
        ("hello", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        ("call", "7edb360f06acaef2cc80dba16cf563f199d347db4443da04da0c8173e3f9e4ed"),
    ],
)
def test_spec_value_hashes(value: object, expected: str) -> None:
    assert hash_value(value).hex() == expected


def test_leb128_examples() -> None:
    assert encode_leb128(624485).hex() == "e58e26"
    assert encode_leb128(0) == b"\x00"
    assert encode_sleb128(-123456).hex() == "c0bb78"
    assert (
        encode_sleb128(0) == b"\x00" and encode_sleb128(-1) == b"\x7f" and encode_sleb128(64) == b"\xc0\x00"
    )
    assert decode_leb128(bytes.fromhex("e58e26")) == 624485
    with pytest.raises(InvalidInput):
        encode_leb128(-1)
    for bad in (b"", b"\x80", b"\x01\x02"):
        with pytest.raises(InvalidInput):
            decode_leb128(bad)


@given(st.integers(min_value=0, max_value=2**130))
def test_leb128_round_trip(value: int) -> None:
    assert decode_leb128(encode_leb128(value)) == value


def test_negative_ints_use_sleb128() -> None:
    assert hash_value(-123456) == hashlib.sha256(bytes.fromhex("c0bb78")).digest()


def test_nested_arrays_and_maps() -> None:
    paths = [[b"request_status", b"\x01" * 32], [b"time"]]
    h = hashlib.sha256
    inner = [
        h(h(b"request_status").digest() + h(b"\x01" * 32).digest()).digest(),
        h(h(b"time").digest()).digest(),
    ]
    assert hash_value(paths) == h(b"".join(inner)).digest()
    assert hash_value({"a": 1}) == hash_of_map({"a": 1})
    assert hash_value(Principal.anonymous()) == hash_value(b"\x04")


def test_none_fields_are_absent_and_order_does_not_matter() -> None:
    assert request_id({**SPEC_CONTENT, "nonce": None}).hex() == SPEC_REQUEST_ID
    assert request_id(dict(reversed(list(SPEC_CONTENT.items())))).hex() == SPEC_REQUEST_ID


@pytest.mark.parametrize("value", [True, 1.5, None, object()])
def test_unhashable_values(value: object) -> None:
    with pytest.raises(InvalidInput):
        hash_value(value)


def test_map_keys_must_be_text() -> None:
    with pytest.raises(InvalidInput):
        hash_of_map({b"k": 1})  # type: ignore[dict-item]


def test_domain_separators() -> None:
    assert IC_REQUEST == b"\x0aic-request" and len(IC_REQUEST) == 11
    assert (
        IC_REQUEST_AUTH_DELEGATION == b"\x1aic-request-auth-delegation"
        and len(IC_REQUEST_AUTH_DELEGATION) == 27
    )
    assert IC_RESPONSE == b"\x0bic-response" and len(IC_RESPONSE) == 12
    assert IC_STATE_ROOT == b"\x0dic-state-root" and len(IC_STATE_ROOT) == 14


# --- envelopes ------------------------------------------------------------------------------------


def _content(sender: Principal, **extra: Any) -> dict[str, Any]:
    return {
        "request_type": "call",
        "sender": sender.raw,
        "ingress_expiry": NOW + 60 * 10**9,
        "canister_id": CANISTER.raw,
        "method_name": "greet",
        "arg": b"DIDL\x00\x00",
        **extra,
    }


@pytest.mark.parametrize("kind", ["ed25519", "secp256k1", "p256"])
def test_signed_envelope_round_trip(kind: str) -> None:
    identity = generate_identity(kind)  # type: ignore[arg-type]
    envelope = build_envelope(_content(identity.principal), identity)
    decoded = decode_envelope(encode_envelope(envelope))
    assert verify_envelope(decoded, now_ns=NOW) == identity.principal


def test_sign_request_uses_domain_separator() -> None:
    identity = generate_identity()
    rid = request_id(_content(identity.principal))
    assert sign_request(identity, rid) == identity.sign(IC_REQUEST + rid)


def test_anonymous_envelope() -> None:
    envelope = build_envelope(_content(Principal.anonymous()), AnonymousIdentity())
    assert set(envelope) == {"content"}
    assert verify_envelope(envelope) == Principal.anonymous()
    with_key = {**envelope, "sender_pubkey": generate_identity().der_public_key}
    with pytest.raises(SignatureRejected, match="anonymous"):
        verify_envelope(with_key)


def test_rejections() -> None:
    identity, other = generate_identity(), generate_identity()
    envelope = build_envelope(_content(identity.principal), identity)
    tampered = {**envelope, "content": {**envelope["content"], "method_name": "steal"}}
    with pytest.raises(SignatureRejected, match="sender_sig"):
        verify_envelope(tampered)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_envelope({**envelope, "content": {**envelope["content"], "sender": other.principal.raw}})
    with pytest.raises(SignatureRejected, match="needs sender_pubkey"):
        verify_envelope({"content": envelope["content"]})
    with pytest.raises(SignatureRejected):
        verify_envelope({**envelope, "sender_sig": other.sign(b"x")})


@pytest.mark.parametrize(
    "envelope",
    [{}, {"content": 1}, {"content": {"sender": "text"}}, {"content": {}}],
)
def test_malformed_envelopes(envelope: dict[str, Any]) -> None:
    with pytest.raises(MalformedEnvelope):
        verify_envelope(envelope)


def test_decode_envelope_rejects_bad_bodies() -> None:
    for body in (b"\xff", encode_envelope({"x": 1})[3:], b"\xa0"):
        with pytest.raises(MalformedEnvelope):
            decode_envelope(body)


def _chain(length: int, **kwargs: Any) -> tuple[Identity, Identity, list[dict[str, Any]]]:
    """A root identity, the session identity at the end of the chain, and the chain."""
    root = generate_identity("ed25519")
    signer, chain = root, []
    for _ in range(length):
        nxt = generate_identity("ed25519")
        chain.append(make_signed_delegation(signer, nxt.der_public_key, NOW + 10**12, **kwargs))
        signer = nxt
    return root, signer, chain


def _delegated_envelope(length: int, **kwargs: Any) -> dict[str, Any]:
    root, session, chain = _chain(length, **kwargs)
    return build_envelope(_content(root.principal), session, chain, sender_pubkey=root.der_public_key)


@pytest.mark.parametrize("length", [1, 2, 20])
def test_delegation_chain_accepted(length: int) -> None:
    envelope = _delegated_envelope(length)
    decoded = decode_envelope(encode_envelope(envelope))
    assert (
        verify_envelope(decoded, now_ns=NOW, effective_canister_id=CANISTER).raw
        == envelope["content"]["sender"]
    )


def test_delegation_chain_too_long() -> None:
    with pytest.raises(SignatureRejected, match="longer than 20"):
        verify_envelope(_delegated_envelope(21))


def test_delegation_expired() -> None:
    envelope = _delegated_envelope(1)
    assert verify_envelope(envelope, now_ns=NOW)
    with pytest.raises(SignatureRejected, match="expired"):
        verify_envelope(envelope, now_ns=NOW + 10**13)


def test_delegation_targets() -> None:
    assert verify_envelope(_delegated_envelope(1, targets=[CANISTER]))
    with pytest.raises(SignatureRejected, match="does not allow canister"):
        verify_envelope(_delegated_envelope(1, targets=[Principal.from_canister_index(8)]))
    envelope = _delegated_envelope(1, targets=[CANISTER])
    with pytest.raises(SignatureRejected, match="does not allow"):
        verify_envelope(envelope, effective_canister_id=Principal.from_canister_index(9))


def test_delegation_bad_signature() -> None:
    envelope = _delegated_envelope(2)
    envelope["sender_delegation"][1]["signature"] = b"\x00" * 64
    with pytest.raises(SignatureRejected, match="delegation 1 signature"):
        verify_envelope(envelope)


def test_delegation_to_wrong_session_key() -> None:
    root, _, chain = _chain(1)
    stranger = generate_identity()
    envelope = build_envelope(_content(root.principal), stranger, chain, sender_pubkey=root.der_public_key)
    with pytest.raises(SignatureRejected, match="sender_sig"):
        verify_envelope(envelope)


def test_delegation_cycle_rejected() -> None:
    root = generate_identity()
    chain = [make_signed_delegation(root, root.der_public_key, NOW + 10**12)]
    envelope = build_envelope(_content(root.principal), root, chain, sender_pubkey=root.der_public_key)
    with pytest.raises(SignatureRejected, match="repeats a key"):
        verify_envelope(envelope)


def test_queries_only_delegation_cannot_call() -> None:
    root, session = generate_identity(), generate_identity()
    delegation = {"pubkey": session.der_public_key, "expiration": NOW + 10**12, "permissions": "queries"}
    from icp_client.request_id import sign_delegation

    chain = [{"delegation": delegation, "signature": sign_delegation(root, delegation)}]
    with pytest.raises(SignatureRejected, match="queries only"):
        verify_delegation_chain(root.der_public_key, chain, content={"request_type": "call"})
    assert verify_delegation_chain(root.der_public_key, chain, content={"request_type": "query"})


@pytest.mark.parametrize(
    "chain",
    [
        "not a list",
        [1],
        [{"delegation": {}}],
        [{"delegation": {"pubkey": b"k", "expiration": 1}}],
        [{"delegation": {"pubkey": b"k", "expiration": "soon"}, "signature": b"s"}],
    ],
)
def test_malformed_delegations(chain: Any) -> None:
    with pytest.raises(MalformedEnvelope):
        verify_delegation_chain(generate_identity().der_public_key, chain)
