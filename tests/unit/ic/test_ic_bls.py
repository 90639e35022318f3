"""BLS12-381 (IC min-sig): the agent-js vector, our own key pairs, and malformed input."""

from __future__ import annotations

import pytest

from icp_client.bls import (
    DER_PREFIX,
    BlsKeyPair,
    InvalidBlsKey,
    bls_key_to_der,
    der_to_bls_key,
    verify,
)

# dfinity/agent-js packages/agent/src/utils/bls.test.ts
AGENT_JS_PK = bytes.fromhex(
    "a7623a93cdb56c4d23d99c14216afaab3dfd6d4f9eb3db23d038280b6d5cb2caaee2a19dd92c9df7001dede23bf036bc0f33982d"
    "fb41e8fa9b8e96b5dc3e83d55ca4dd146c7eb2e8b6859cb5a5db815db86810b8d12cee1588b5dbf34a4dc9a5"
)
AGENT_JS_SIG = bytes.fromhex(
    "b89e13a212c830586eaa9ad53946cd968718ebecc27eda849d9232673dcd4f440e8b5df39bf14a88048c15e16cbcaabe"
)


def test_agent_js_vector() -> None:
    assert verify(AGENT_JS_SIG, b"hello", AGENT_JS_PK)
    assert not verify(AGENT_JS_SIG, b"hallo", AGENT_JS_PK)


def test_generated_key_signs_and_verifies() -> None:
    pair = BlsKeyPair.generate()
    signature = pair.sign(b"message")
    assert len(signature) == 48 and len(pair.public_key) == 96
    assert verify(signature, b"message", pair.public_key)
    assert not verify(signature, b"other", pair.public_key)
    assert not verify(signature, b"message", BlsKeyPair.generate().public_key)


def test_from_secret_is_deterministic_and_round_trips() -> None:
    pair = BlsKeyPair.from_secret(b"\x07" * 32)
    assert BlsKeyPair.from_secret(b"\x07" * 32).public_key == pair.public_key
    assert BlsKeyPair.from_secret(pair.secret) == pair
    assert pair.sign(b"m") == BlsKeyPair.from_secret(pair.secret).sign(b"m")
    assert pair.secret.hex() not in repr(pair) and str(pair.secret) not in repr(pair)


@pytest.mark.parametrize("secret", [b"", b"short", b"\x00" * 32])
def test_bad_secrets(secret: bytes) -> None:
    with pytest.raises(InvalidBlsKey):
        BlsKeyPair.from_secret(secret)


def test_der_round_trip() -> None:
    pair = BlsKeyPair.generate()
    assert len(pair.der_public_key) == 133
    assert pair.der_public_key.startswith(DER_PREFIX)
    assert der_to_bls_key(pair.der_public_key) == pair.public_key
    assert bls_key_to_der(pair.public_key) == pair.der_public_key


@pytest.mark.parametrize(
    "der", [b"", DER_PREFIX, DER_PREFIX + b"\x00" * 95, b"\x31" + DER_PREFIX[1:] + b"\x00" * 96]
)
def test_der_to_bls_key_rejects(der: bytes) -> None:
    with pytest.raises(InvalidBlsKey):
        der_to_bls_key(der)
    with pytest.raises(InvalidBlsKey):
        bls_key_to_der(b"\x00" * 95)


@pytest.mark.parametrize(
    ("signature", "public_key"),
    [
        (b"", AGENT_JS_PK),
        (AGENT_JS_SIG[:-1], AGENT_JS_PK),
        (b"\xff" * 48, AGENT_JS_PK),
        (b"\x00" * 48, AGENT_JS_PK),
        (AGENT_JS_SIG, b"\xff" * 96),
        (AGENT_JS_SIG, b"\x00" * 96),
        (AGENT_JS_SIG, AGENT_JS_PK[:-1]),
        (bytes([AGENT_JS_SIG[0] ^ 0x01]) + AGENT_JS_SIG[1:], AGENT_JS_PK),
    ],
)
def test_malformed_input_gives_false(signature: bytes, public_key: bytes) -> None:
    assert verify(signature, b"hello", public_key) is False
