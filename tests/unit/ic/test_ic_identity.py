"""Identities: principals from known keys, every PEM form dfx/icp-cli/ring/OpenSSL write, signatures."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from icp_client.errors import InvalidInput
from icp_client.identity import (
    ED25519_DER_PREFIX,
    P256_DER_PREFIX,
    SECP256K1_DER_PREFIX,
    AnonymousCannotSign,
    AnonymousIdentity,
    Ed25519Identity,
    Identity,
    InvalidIdentity,
    P256Identity,
    Secp256k1Identity,
    generate_identity,
    load_identity_pem,
    load_or_create_identity,
    verify_signature,
)
from icp_client.principal import Principal

# RFC 8032 section 7.1, TEST 1
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIG_EMPTY = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
    "d25bf5f0595bbe24655141438e7a100b"
)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
EC_PARAMS_SECP256K1 = b"-----BEGIN EC PARAMETERS-----\nBgUrgQQACg==\n-----END EC PARAMETERS-----\n"


def _pem(label: str, der: bytes) -> bytes:
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]) + "\n").encode()


def _ring_v2_pem(seed: bytes, public: bytes) -> bytes:
    der = bytes.fromhex("3053020101300506032b657004220420") + seed + bytes.fromhex("a123032100") + public
    return _pem("PRIVATE KEY", der)


def _sec1(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _pkcs8(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _spki(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- known principals (ic-reference.md §3) --------------------------------------------------------


def test_rfc8032_key_principal() -> None:
    identity = Ed25519Identity.from_seed(RFC8032_SEED)
    assert identity.der_public_key == ED25519_DER_PREFIX + RFC8032_PUBLIC
    assert identity.principal.raw.hex() == "3d9bdaa34fe81df16699403f3e17d6030488fc8c9e37ab61036482d202"
    assert identity.principal.to_text() == "e73il-iz5tp-nkgt7-idxyw-ngkah-47bpv-qdase-pzde6-g6vwc-a3eql-jae"
    assert identity.sign(b"") == RFC8032_SIG_EMPTY


def test_secp256k1_private_key_one_principal() -> None:
    identity = Secp256k1Identity.from_private_int(1)
    assert identity.der_public_key.startswith(SECP256K1_DER_PREFIX)
    assert len(identity.der_public_key) == 88
    assert identity.principal.to_text() == "vh5jj-2v5av-uunuh-hbba5-pss3b-vrzng-7dqdp-xcku3-zj2tc-36shc-bqe"


def test_p256_der_shape() -> None:
    identity = P256Identity.from_private_int(12345)
    assert identity.der_public_key.startswith(P256_DER_PREFIX)
    assert len(identity.der_public_key) == 91


@pytest.mark.parametrize("kind", ["ed25519", "secp256k1", "p256"])
def test_principal_is_sha224_of_spki(kind: str) -> None:
    identity = generate_identity(kind)  # type: ignore[arg-type]
    expected = hashlib.sha224(identity.der_public_key).digest() + b"\x02"
    assert identity.principal == Principal(expected)
    assert identity.kind == kind


def test_generate_identity_rejects_unknown_kind() -> None:
    with pytest.raises(InvalidIdentity, match="unknown key type"):
        generate_identity("rsa")  # type: ignore[arg-type]


# --- PEM loading ----------------------------------------------------------------------------------


def _cases() -> list[tuple[str, bytes, bytes, type[Identity]]]:
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(RFC8032_SEED)
    k1 = ec.generate_private_key(ec.SECP256K1())
    p256 = ec.generate_private_key(ec.SECP256R1())
    return [
        ("ed25519 pkcs8 v1", _pkcs8(ed), _spki(ed), Ed25519Identity),
        ("ed25519 pkcs8 v2 (ring)", _ring_v2_pem(RFC8032_SEED, RFC8032_PUBLIC), _spki(ed), Ed25519Identity),
        ("secp256k1 sec1", _sec1(k1), _spki(k1), Secp256k1Identity),
        ("secp256k1 sec1 + params", EC_PARAMS_SECP256K1 + _sec1(k1), _spki(k1), Secp256k1Identity),
        ("secp256k1 pkcs8", _pkcs8(k1), _spki(k1), Secp256k1Identity),
        ("p256 sec1", _sec1(p256), _spki(p256), P256Identity),
        ("p256 pkcs8", _pkcs8(p256), _spki(p256), P256Identity),
    ]


@pytest.mark.parametrize(
    ("name", "pem", "spki", "cls"), _cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_load_pem_forms(name: str, pem: bytes, spki: bytes, cls: type[Identity]) -> None:
    identity = load_identity_pem(pem)
    assert isinstance(identity, cls), name
    assert identity.der_public_key == spki
    assert identity.principal == Principal.self_authenticating(spki)
    again = load_identity_pem(identity.to_pem())
    assert again.principal == identity.principal
    assert identity.to_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert load_identity_pem(pem.decode()).principal == identity.principal


def test_cryptography_itself_rejects_ring_v2() -> None:
    # The reason the v2 form is decoded by hand.
    with pytest.raises((ValueError, TypeError)):
        serialization.load_pem_private_key(_ring_v2_pem(RFC8032_SEED, RFC8032_PUBLIC), password=None)


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (b"", "no PEM private key block"),
        (b"hello world", "no PEM private key block"),
        (EC_PARAMS_SECP256K1, "no PEM private key block"),
        (_pem("PUBLIC KEY", b"\x30\x00"), "unsupported PEM block 'BEGIN PUBLIC KEY'"),
        (_pem("ENCRYPTED PRIVATE KEY", b"\x30\x00"), "encrypted"),
        (b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "not valid base64"),
        (_pem("PRIVATE KEY", b"\x30\x03\x02\x01\x00"), "cannot parse"),
        (_pem("EC PRIVATE KEY", b"\x30\x03\x02\x01\x00"), "cannot parse"),
        (_ring_v2_pem(RFC8032_SEED, b"\x01" * 32), "does not match"),
        (_pkcs8(ec.generate_private_key(ec.SECP384R1())), "unsupported elliptic curve secp384r1"),
        (_pkcs8(rsa.generate_private_key(65537, 2048)), "unsupported key type"),
    ],
)
def test_bad_pems_name_the_problem(pem: bytes, message: str) -> None:
    with pytest.raises(InvalidIdentity, match=message) as info:
        load_identity_pem(pem)
    assert isinstance(info.value, InvalidInput)


def test_truncated_ed25519_der() -> None:
    der = bytes.fromhex("302e020100300506032b657004220420") + RFC8032_SEED[:10]
    with pytest.raises(InvalidIdentity):
        load_identity_pem(_pem("PRIVATE KEY", der))


# --- load_or_create -------------------------------------------------------------------------------


def test_load_or_create_identity(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "identity.pem"
    created = load_or_create_identity(path)
    assert isinstance(created, Ed25519Identity)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_identity(path).principal == created.principal


def test_load_or_create_uses_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    identity = generate_identity("secp256k1")
    path.write_bytes(identity.to_pem())
    assert load_or_create_identity(path).principal == identity.principal


# --- signatures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["ed25519", "secp256k1", "p256"])
def test_sign_and_verify(kind: str) -> None:
    identity = generate_identity(kind)  # type: ignore[arg-type]
    signature = identity.sign(b"payload")
    assert len(signature) == 64
    assert verify_signature(identity.der_public_key, b"payload", signature)
    assert not verify_signature(identity.der_public_key, b"payloaD", signature)
    assert not verify_signature(generate_identity(kind).der_public_key, b"payload", signature)  # type: ignore[arg-type]
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verify_signature(identity.der_public_key, b"payload", flipped)


@pytest.mark.parametrize("cls", [Secp256k1Identity, P256Identity])
def test_ecdsa_signatures_are_low_s_and_checked_by_cryptography(cls: type[Secp256k1Identity]) -> None:
    identity = cls.from_private_int(0xC0FFEE)
    order = identity._order
    for index in range(20):
        signature = identity.sign(bytes([index]))
        s = int.from_bytes(signature[32:], "big")
        assert s <= order // 2
    key = ec.derive_private_key(0xC0FFEE, cls._curve())
    r, s = decode_dss_signature(key.sign(b"x", ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert verify_signature(identity.der_public_key, b"x", raw)  # high S accepted too


@pytest.mark.parametrize(
    ("key", "signature"),
    [
        (b"", b"\x00" * 64),
        (b"garbage", b"\x00" * 64),
        (ED25519_DER_PREFIX + b"\x00" * 31, b"\x00" * 64),
        (ED25519_DER_PREFIX + RFC8032_PUBLIC, RFC8032_SIG_EMPTY[:63]),
        (SECP256K1_DER_PREFIX + b"\x04" + b"\x00" * 64, b"\x01" * 64),
        (SECP256K1_DER_PREFIX + b"\x02" + b"\x00" * 64, b"\x01" * 64),
        (P256_DER_PREFIX + b"\x04" + b"\xff" * 64, b"\x01" * 64),
        (Secp256k1Identity.from_private_int(1).der_public_key, b"\x00" * 64),
        (Secp256k1Identity.from_private_int(1).der_public_key, b"\x01" * 63),
    ],
)
def test_verify_signature_never_raises(key: bytes, signature: bytes) -> None:
    assert verify_signature(key, b"", signature) is False


def test_rfc8032_signature_verifies() -> None:
    assert verify_signature(ED25519_DER_PREFIX + RFC8032_PUBLIC, b"", RFC8032_SIG_EMPTY)


def test_anonymous_identity() -> None:
    anonymous = AnonymousIdentity()
    assert anonymous.principal.to_text() == "2vxsx-fae"
    assert anonymous.is_anonymous and anonymous.der_public_key == b""
    with pytest.raises(AnonymousCannotSign):
        anonymous.sign(b"x")
    with pytest.raises(AnonymousCannotSign):
        anonymous.to_pem()
    assert "2vxsx-fae" in repr(anonymous)
