"""BLS12-381 signatures as the IC uses them to certify state (the only module that imports arkworks).

The IC uses the *minimal-signature-size* variant: signatures are G1 points (48 bytes compressed), public keys
are G2 points (96 bytes compressed), messages are hashed to G1 with the ciphersuite
``BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_``. Public keys travel DER-wrapped: a fixed 37-byte prefix
(algorithm OID 1.3.6.1.4.1.44668.5.3.1.2.1, curve OID 1.3.6.1.4.1.44668.5.3.2.1) then the 96 key bytes.

Verification never raises on malformed input: it answers ``False``. Points are decoded with subgroup checks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

from icp_client.errors import InvalidInput

DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
DER_PREFIX = bytes.fromhex("308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100")
PUBLIC_KEY_LENGTH = 96
SIGNATURE_LENGTH = 48
_SECRET_LENGTH = 32


class InvalidBlsKey(InvalidInput):
    """A BLS public key or secret is malformed (wrong length, wrong DER prefix, not a curve point)."""


def verify(signature: bytes, message: bytes, public_key: bytes) -> bool:
    """Check an IC-style BLS signature.

    Args:
        signature: 48-byte compressed G1 point.
        message: the signed bytes (for certificates, ``b"\\x0dic-state-root" + root_hash``).
        public_key: 96-byte compressed G2 point (not DER; see ``der_to_bls_key``).

    Returns ``True`` only for a valid signature; any malformed input gives ``False``, never an exception.
    """
    if len(signature) != SIGNATURE_LENGTH or len(public_key) != PUBLIC_KEY_LENGTH:
        return False
    try:
        sig = G1Point.from_compressed_bytes(bytes(signature))
        key = G2Point.from_compressed_bytes(bytes(public_key))
        hashed = G1Point.hash_to_curve(bytes(message), DST)
        return bool(GT.pairing_check([sig, -hashed], [G2Point(), key]))
    except (ValueError, TypeError, OverflowError):
        return False


def der_to_bls_key(der: bytes) -> bytes:
    """Extract the 96-byte key from a DER-encoded IC BLS public key (133 bytes).

    Raises:
        InvalidBlsKey: the prefix or the length is wrong.
    """
    if len(der) != len(DER_PREFIX) + PUBLIC_KEY_LENGTH or not der.startswith(DER_PREFIX):
        raise InvalidBlsKey(f"not a DER-encoded IC BLS12-381 public key ({len(der)} bytes)")
    return bytes(der[len(DER_PREFIX) :])


def bls_key_to_der(public_key: bytes) -> bytes:
    """Wrap a 96-byte BLS public key in the IC's DER prefix.

    Raises:
        InvalidBlsKey: the key is not 96 bytes long.
    """
    if len(public_key) != PUBLIC_KEY_LENGTH:
        raise InvalidBlsKey(f"BLS public key must be {PUBLIC_KEY_LENGTH} bytes, got {len(public_key)}")
    return DER_PREFIX + bytes(public_key)


@dataclass(frozen=True)
class BlsKeyPair:
    """A BLS secret key with its public key, for signing our own certificates (tests, the local front)."""

    secret: bytes = field(repr=False)
    public_key: bytes

    @classmethod
    def generate(cls) -> BlsKeyPair:
        """A fresh random key pair."""
        return cls.from_secret(secrets.token_bytes(48))

    @classmethod
    def from_secret(cls, secret: bytes) -> BlsKeyPair:
        """Derive a key pair from secret bytes (any length ≥ 16; reduced modulo the group order).

        Raises:
            InvalidBlsKey: the secret is too short or reduces to zero.
        """
        if len(secret) < 16:
            raise InvalidBlsKey("BLS secret must be at least 16 bytes")
        scalar = Scalar.from_be_bytes_mod_order(bytes(secret))
        if scalar.is_zero():
            raise InvalidBlsKey("BLS secret reduces to zero")
        canonical = bytes(scalar.to_be_bytes())
        public_key = bytes((G2Point() * scalar).to_compressed_bytes())
        return cls(secret=canonical, public_key=public_key)

    @property
    def der_public_key(self) -> bytes:
        """The public key in the IC's DER form (133 bytes), as found in ``/subnet/<id>/public_key``."""
        return bls_key_to_der(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Sign ``message``; returns a 48-byte compressed G1 signature."""
        if len(self.secret) != _SECRET_LENGTH:
            raise InvalidBlsKey("BLS secret is not a canonical 32-byte scalar")
        scalar = Scalar.from_be_bytes(self.secret)
        hashed = G1Point.hash_to_curve(bytes(message), DST)
        return bytes((hashed * scalar).to_compressed_bytes())
