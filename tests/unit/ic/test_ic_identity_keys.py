"""Public keys the IC refuses are refused here too: small-order, non-canonical and mixed-order Ed25519 points."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from icp_client._edwards import P, key_problem
from icp_client.identity import (
    ED25519_DER_PREFIX,
    P256_DER_PREFIX,
    InvalidIdentity,
    check_public_key,
    generate_identity,
    public_key_problem,
    verify_signature,
)

# The eight points of small order, canonically encoded ("Taming the many EdDSAs", Chalkias et al., table 6).
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity (order 1)
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
]
NON_CANONICAL = [
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p (an order-4 point)
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1 (the identity)
    "0100000000000000000000000000000000000000000000000000000000000080",  # x = 0 with the sign bit set
]


@pytest.mark.parametrize("hex_key", SMALL_ORDER)
def test_small_order_points_are_refused(hex_key: str) -> None:
    raw = bytes.fromhex(hex_key)
    assert key_problem(raw) == "the Ed25519 public key is a point of small order (anyone could sign for it)"
    with pytest.raises(InvalidIdentity, match="small order"):
        check_public_key(ED25519_DER_PREFIX + raw)


@pytest.mark.parametrize("hex_key", NON_CANONICAL)
def test_non_canonical_encodings_are_refused(hex_key: str) -> None:
    assert key_problem(bytes.fromhex(hex_key)) == "the Ed25519 public key is not canonically encoded"


def test_a_point_off_the_curve_and_a_wrong_length() -> None:
    assert (
        key_problem(bytes.fromhex("02" + "00" * 31)) == "the Ed25519 public key is not a point on the curve"
    )
    assert key_problem(b"\x01" * 31) == "an Ed25519 public key is 32 bytes, got 31"


def test_a_mixed_order_point_is_refused() -> None:
    """A real key plus the point of order 2: not small order, but with a torsion component."""
    raw = generate_identity("ed25519").der_public_key[len(ED25519_DER_PREFIX) :]
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    mixed = (((P - y) % P) | ((sign ^ 1) << 255)).to_bytes(32, "little")  # (x, y) + (0, -1) = (-x, -y)
    assert key_problem(mixed) == (
        "the Ed25519 public key is not in the prime-order subgroup (it has a torsion component)"
    )


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_every_real_key_is_accepted(seed: bytes) -> None:
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    assert key_problem(key) is None


def test_the_forgery_that_openssl_accepts_is_refused() -> None:
    """With the identity as key, R = identity and S = 0 verify any message under cofactorless verification."""
    identity_point = bytes.fromhex(SMALL_ORDER[0])
    forged = identity_point + bytes(32)
    ed25519.Ed25519PublicKey.from_public_bytes(identity_point).verify(forged, b"any message")  # OpenSSL: fine
    assert verify_signature(ED25519_DER_PREFIX + identity_point, b"any message", forged) is False


def test_ecdsa_keys_must_be_points_on_their_curve() -> None:
    good = generate_identity("p256")
    assert public_key_problem(good.der_public_key) is None
    off_curve = P256_DER_PREFIX + b"\x04" + b"\x01" * 64
    assert public_key_problem(off_curve) == "the secp256r1 public key is not a point on the curve"
    compressed = P256_DER_PREFIX + b"\x02" + b"\x01" * 32
    assert public_key_problem(compressed) == (
        "a secp256r1 public key must be an uncompressed point (65 bytes starting 04)"
    )
    assert public_key_problem(b"\x30\x00") is not None
