"""Identities: key pairs that sign IC requests, and the principals they stand for.

::

    Identity                      der_public_key, principal, sign(message), to_pem()
    ├── Ed25519Identity           raw 64-byte Ed25519 signatures
    ├── Secp256k1Identity         64-byte r‖s ECDSA over SHA-256, low-S   (dfx's default key type)
    ├── P256Identity              64-byte r‖s ECDSA over SHA-256, low-S
    └── AnonymousIdentity         principal 2vxsx-fae; no key, cannot sign

A key's principal is self-authenticating: ``SHA-224(DER SubjectPublicKeyInfo) · 0x02``. PEM files are read in
every form that dfx, icp-cli, ring and OpenSSL write (PKCS#8 v1 and v2, SEC1 with or without an
``EC PARAMETERS`` block) and always written as unencrypted PKCS#8. ``cryptography`` is the only crypto
library used; the ring-style Ed25519 PKCS#8 v2 that it refuses is decoded by hand.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path
from typing import Literal, Self

from cryptography.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from icp_client._edwards import key_problem
from icp_client.errors import InvalidInput
from icp_client.principal import Principal

ED25519_DER_PREFIX = bytes.fromhex("302a300506032b6570032100")
SECP256K1_DER_PREFIX = bytes.fromhex("3056301006072a8648ce3d020106052b8104000a034200")
P256_DER_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
_ED25519_OID = bytes.fromhex("06032b6570")
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)

KeyKind = Literal["ed25519", "secp256k1", "p256"]


class InvalidIdentity(InvalidInput):
    """A PEM or key could not be used as an identity; the message says what was wrong."""


class AnonymousCannotSign(InvalidInput):
    """The anonymous identity has no key; requests from it carry no signature."""


class Identity:
    """A signer of IC requests. Subclasses hold the key; the anonymous identity holds none."""

    kind: str = "abstract"

    @property
    def der_public_key(self) -> bytes:
        """The DER SubjectPublicKeyInfo of the public key (empty for the anonymous identity)."""
        raise NotImplementedError

    @property
    def principal(self) -> Principal:
        """The principal this identity signs as."""
        return Principal.self_authenticating(self.der_public_key)

    @property
    def is_anonymous(self) -> bool:
        return False

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` (the caller adds any domain separator); returns a 64-byte signature."""
        raise NotImplementedError

    def to_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (``BEGIN PRIVATE KEY``)."""
        raise NotImplementedError

    @classmethod
    def from_pem_file(cls, path: str | os.PathLike[str]) -> Identity:
        """The identity whose key is in the PEM file at ``path`` (as dfx and icp-cli write them).

        Accepts what :func:`load_identity_pem` accepts: Ed25519, secp256k1 and P-256 keys, PKCS#8 or SEC1.

        Raises:
            InvalidIdentity: the file cannot be read, or holds no usable key; the message names the file.
        """
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise InvalidIdentity(f"cannot read the identity file {path}: {exc.strerror or exc}") from None
        try:
            identity = load_identity_pem(data)
        except InvalidIdentity as exc:
            raise InvalidIdentity(f"{path}: {exc}") from exc
        if not isinstance(identity, cls):
            raise InvalidIdentity(f"{path}: holds a {identity.kind} key, not a {cls.kind} one")
        return identity

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.principal.to_text()})"


class Ed25519Identity(Identity):
    """An Ed25519 key pair."""

    kind = "ed25519"

    def __init__(self, private_key: ed25519.Ed25519PrivateKey) -> None:
        self._key = private_key
        self._der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519Identity:
        """The identity whose 32-byte Ed25519 private key is ``seed``.

        Raises:
            InvalidIdentity: the seed is not 32 bytes.
        """
        if len(seed) != 32:
            raise InvalidIdentity(f"Ed25519 private key must be 32 bytes, got {len(seed)}")
        return cls(ed25519.Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    @property
    def der_public_key(self) -> bytes:
        return self._der

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(bytes(message))

    def to_pem(self) -> bytes:
        return _pkcs8_pem(self._key)


class _EcdsaIdentity(Identity):
    """An ECDSA key pair on one fixed curve; signatures are r‖s over SHA-256 with low S."""

    _curve: type[ec.EllipticCurve] = ec.SECP256K1
    _order: int = 0

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, self._curve):
            raise InvalidIdentity(
                f"{type(self).__name__} needs a {self._curve.name} key, got {private_key.curve.name}"
            )
        self._key = private_key
        self._der = private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @classmethod
    def from_private_int(cls, value: int) -> Self:
        """The identity whose private scalar is ``value`` (for tests and known vectors)."""
        return cls(ec.derive_private_key(value, cls._curve()))

    @property
    def der_public_key(self) -> bytes:
        return self._der

    def sign(self, message: bytes) -> bytes:
        r, s = decode_dss_signature(self._key.sign(bytes(message), ec.ECDSA(hashes.SHA256())))
        if s > self._order // 2:
            s = self._order - s
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def to_pem(self) -> bytes:
        return _pkcs8_pem(self._key)


class Secp256k1Identity(_EcdsaIdentity):
    """An ECDSA secp256k1 key pair (dfx's default)."""

    kind = "secp256k1"
    _curve = ec.SECP256K1
    _order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class P256Identity(_EcdsaIdentity):
    """An ECDSA P-256 (secp256r1, prime256v1) key pair."""

    kind = "p256"
    _curve = ec.SECP256R1
    _order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class AnonymousIdentity(Identity):
    """The anonymous caller ``2vxsx-fae``: no key, no signature."""

    kind = "anonymous"

    @property
    def der_public_key(self) -> bytes:
        return b""

    @property
    def principal(self) -> Principal:
        return Principal.anonymous()

    @property
    def is_anonymous(self) -> bool:
        return True

    def sign(self, message: bytes) -> bytes:
        raise AnonymousCannotSign("the anonymous identity cannot sign")

    def to_pem(self) -> bytes:
        raise AnonymousCannotSign("the anonymous identity has no key to export")


def _pkcs8_pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# --- creating and loading -------------------------------------------------------------------------


def generate_identity(kind: KeyKind = "ed25519") -> Identity:
    """A fresh random identity of the given key type.

    Raises:
        InvalidIdentity: ``kind`` is not one of ``ed25519``, ``secp256k1``, ``p256``.
    """
    if kind == "ed25519":
        return Ed25519Identity(ed25519.Ed25519PrivateKey.generate())
    if kind == "secp256k1":
        return Secp256k1Identity(ec.generate_private_key(ec.SECP256K1()))
    if kind == "p256":
        return P256Identity(ec.generate_private_key(ec.SECP256R1()))
    raise InvalidIdentity(f"unknown key type {kind!r}; expected ed25519, secp256k1 or p256")


def load_identity_pem(data: bytes | str) -> Identity:
    """Load an identity from PEM text.

    Accepts Ed25519 PKCS#8 (v1, and the v2 that ring and old dfx write), secp256k1 and P-256 in SEC1
    (``BEGIN EC PRIVATE KEY``, optionally after a ``BEGIN EC PARAMETERS`` block) or PKCS#8.

    Raises:
        InvalidIdentity: no PEM block, an encrypted key, an unsupported key type or curve, or bad DER.
    """
    text = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    label, der = _first_key_block(text)
    if label == "ENCRYPTED PRIVATE KEY":
        raise InvalidIdentity("encrypted PEM keys are not supported; export the key without a password")
    if label not in ("PRIVATE KEY", "EC PRIVATE KEY"):
        raise InvalidIdentity(f"unsupported PEM block 'BEGIN {label}'; expected a private key")
    if label == "PRIVATE KEY" and _is_ed25519_pkcs8(der):
        return _load_ed25519_pkcs8(der)
    return _identity_from_key(_load_der_key(der, label))


def _first_key_block(text: bytes) -> tuple[str, bytes]:
    blocks = [(m.group(1).decode("ascii"), m.group(2)) for m in _PEM_BLOCK.finditer(text)]
    keys = [(label, body) for label, body in blocks if label != "EC PARAMETERS"]
    if not keys:
        raise InvalidIdentity("no PEM private key block found (expected '-----BEGIN PRIVATE KEY-----')")
    label, body = keys[0]
    try:
        return label, base64.b64decode(b"".join(body.split()), validate=True)
    except ValueError as exc:
        raise InvalidIdentity(f"PEM block 'BEGIN {label}' is not valid base64") from exc


def _load_der_key(der: bytes, label: str) -> object:
    try:
        return serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, InternalError) as exc:  # OpenSSL: some bad keys
        raise InvalidIdentity(f"cannot parse the 'BEGIN {label}' key: {exc}") from exc


def _identity_from_key(key: object) -> Identity:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return Ed25519Identity(key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if isinstance(key.curve, ec.SECP256K1):
            return Secp256k1Identity(key)
        if isinstance(key.curve, ec.SECP256R1):
            return P256Identity(key)
        raise InvalidIdentity(f"unsupported elliptic curve {key.curve.name}; expected secp256k1 or P-256")
    raise InvalidIdentity(f"unsupported key type {type(key).__name__}; expected Ed25519, secp256k1 or P-256")


# --- hand-decoding of Ed25519 PKCS#8 (v1 and ring's v2) -----------------------------------------------------


def _read_tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """One DER element at ``pos``: (tag, contents, position after it)."""
    if pos + 2 > len(data):
        raise InvalidIdentity("truncated DER in Ed25519 key")
    tag, length, pos = data[pos], data[pos + 1], pos + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 2 or pos + count > len(data):
            raise InvalidIdentity("bad DER length in Ed25519 key")
        length, pos = int.from_bytes(data[pos : pos + count], "big"), pos + count
    if pos + length > len(data):
        raise InvalidIdentity("truncated DER in Ed25519 key")
    return tag, data[pos : pos + length], pos + length


def _is_ed25519_pkcs8(der: bytes) -> bool:
    return _ED25519_OID in der[:20]


def _load_ed25519_pkcs8(der: bytes) -> Ed25519Identity:
    """Decode ``SEQ { INT 0|1, SEQ { OID 1.3.101.112 }, OCTET { OCTET seed }, [0] attrs?, [1] pubkey? }``."""
    tag, body, end = _read_tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise InvalidIdentity("Ed25519 PKCS#8 key is not a single DER SEQUENCE")
    tag, version, pos = _read_tlv(body, 0)
    if tag != 0x02 or version not in (b"\x00", b"\x01"):
        raise InvalidIdentity("Ed25519 PKCS#8 key has an unknown version")
    tag, algorithm, pos = _read_tlv(body, pos)
    if tag != 0x30 or algorithm != _ED25519_OID:
        raise InvalidIdentity("PKCS#8 key is not an Ed25519 key")
    tag, wrapped, pos = _read_tlv(body, pos)
    inner_tag, seed, _ = _read_tlv(wrapped, 0) if tag == 0x04 else (0, b"", 0)
    if inner_tag != 0x04 or len(seed) != 32:
        raise InvalidIdentity("Ed25519 PKCS#8 key does not hold a 32-byte private key")
    identity = Ed25519Identity.from_seed(seed)
    _check_embedded_public_key(body, pos, identity)
    return identity


def _check_embedded_public_key(body: bytes, pos: int, identity: Ed25519Identity) -> None:
    """ring's v2 form appends ``[1] BIT STRING pubkey``; it must match the private key."""
    while pos < len(body):
        tag, contents, pos = _read_tlv(body, pos)
        if tag == 0xA1:
            _, bits, _ = _read_tlv(contents, 0)
            if bits[1:] != identity.der_public_key[len(ED25519_DER_PREFIX) :]:
                raise InvalidIdentity("the public key in the Ed25519 PEM does not match its private key")


def load_or_create_identity(path: Path) -> Identity:
    """Load the identity PEM at ``path``; if there is none, create an Ed25519 one there (mode 0600).

    Raises:
        InvalidIdentity: the existing file is not a usable key.
        OSError: the file cannot be read or created.
    """
    path = Path(path)
    if path.exists():
        return load_identity_pem(path.read_bytes())
    identity = generate_identity("ed25519")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_identity_pem(path.read_bytes())
    with os.fdopen(fd, "wb") as handle:
        handle.write(identity.to_pem())
    return identity


# --- verification ---------------------------------------------------------------------------------


def public_key_problem(der_public_key: bytes) -> str | None:
    """Why a DER public key cannot sign IC requests, or None when it can.

    Ed25519 keys follow the IC's rules: the IC's Ed25519 library (``ic-ed25519``, ``packages/ic-ed25519`` in
    dfinity/ic) judges a public key by ``PublicKey::is_canonical`` (the 32 bytes are the canonical encoding of
    their point) and ``PublicKey::is_torsion_free`` (the point is in the prime-order subgroup), and the replica's
    key validation (``ic_crypto_internal_basic_sig_ed25519::api::verify_public_key``) accepts only "a point on the
    curve and in the right subgroup". We refuse the same keys, and the identity and the other small-order points
    explicitly: with such a key, ``R = identity, S = 0`` verifies every message, so anyone could act as its
    principal. secp256k1 and P-256 keys must be uncompressed points on their curve (``cryptography`` checks it).
    """
    key = bytes(der_public_key)
    if key.startswith(ED25519_DER_PREFIX):
        return key_problem(key[len(ED25519_DER_PREFIX) :])
    for prefix, curve in ((SECP256K1_DER_PREFIX, ec.SECP256K1()), (P256_DER_PREFIX, ec.SECP256R1())):
        if key.startswith(prefix):
            point = key[len(prefix) :]
            if len(point) != 65 or point[:1] != b"\x04":
                return f"a {curve.name} public key must be an uncompressed point (65 bytes starting 04)"
            try:
                ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
            except ValueError:
                return f"the {curve.name} public key is not a point on the curve"
            return None
    return "unsupported public key: expected Ed25519, secp256k1 or P-256 (DER SubjectPublicKeyInfo)"


def check_public_key(der_public_key: bytes) -> None:
    """Raises InvalidIdentity, saying why, unless the key is one the IC accepts (see :func:`public_key_problem`)."""
    problem = public_key_problem(der_public_key)
    if problem is not None:
        raise InvalidIdentity(problem)


def verify_signature(der_public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Check a request signature made by an Ed25519, secp256k1 or P-256 key given as DER SPKI.

    The algorithm is recognised from the DER prefix. ECDSA signatures are 64-byte r‖s over SHA-256 (high S is
    accepted too). Returns ``False`` for a wrong signature and for any malformed, unsupported or weak key
    (canister signatures, BLS, compressed points, Ed25519 keys the IC refuses: :func:`public_key_problem`); it
    never raises on bad input.
    """
    key, sig, msg = bytes(der_public_key), bytes(signature), bytes(message)
    if public_key_problem(key) is not None:
        return False
    try:
        if key.startswith(ED25519_DER_PREFIX) and len(key) == len(ED25519_DER_PREFIX) + 32:
            raw = key[len(ED25519_DER_PREFIX) :]
            ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(sig, msg)
            return len(sig) == 64
        if key.startswith(SECP256K1_DER_PREFIX) and len(key) == len(SECP256K1_DER_PREFIX) + 65:
            return _verify_ecdsa(ec.SECP256K1(), key[len(SECP256K1_DER_PREFIX) :], msg, sig)
        if key.startswith(P256_DER_PREFIX) and len(key) == len(P256_DER_PREFIX) + 65:
            return _verify_ecdsa(ec.SECP256R1(), key[len(P256_DER_PREFIX) :], msg, sig)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm, InternalError):
        return False
    return False


def _verify_ecdsa(curve: ec.EllipticCurve, point: bytes, message: bytes, signature: bytes) -> bool:
    if len(signature) != 64 or point[:1] != b"\x04":
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if r == 0 or s == 0:
        return False
    public_key = ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    public_key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    return True
