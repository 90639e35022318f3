"""Certificates: real mainnet certificates, tampering, scope, time, and our own signed certificates."""

from __future__ import annotations

import datetime
from typing import Any

import cbor2
import pytest
import vectors as v

from icp_client.bls import BlsKeyPair
from icp_client.certificate import (
    MAINNET_ROOT_KEY_DER,
    Certificate,
    CertificateError,
    Delegation,
    canister_ranges,
    check_time,
    decode_ranges,
    encode_ranges,
    make_delegation,
    principal_in_ranges,
    sign_certificate,
    verify_certificate,
)
from icp_client.errors import IcpError
from icp_client.hashtree import (
    Fork,
    HashTree,
    Labeled,
    Leaf,
    build_tree,
    list_paths,
    prune_to,
    to_cbor_obj,
)
from icp_client.principal import Principal
from icp_client.request_id import encode_leb128

MINUTE = 60 * 10**9
SAMPLE_ECID = Principal.from_text("ivg37-qiaaa-aaaab-aaaga-cai")
UZR34 = Principal.from_text("uzr34-akd3s-xrdag-3ql62-ocgoh-ld2ao-tamcv-54e7j-krwgb-2gm4z-oqe")
O3OW2 = Principal.from_text("o3ow2-2ipam-6fcjo-3j5vt-fzbge-2g7my-5fz2m-p4o2t-dwlc4-gt2q7-5ae")

REAL = {
    "SAMPLE_CERT": (v.SAMPLE_CERT, 1645601880652705378),  # 2022-02-23T07:38:00.652Z
    "MAINNET_SYSTEM": (v.MAINNET_SYSTEM, 1695844699412007908),
    "MAINNET_APPLICATION_LEGACY": (v.MAINNET_APPLICATION_LEGACY, 1695843538129082710),
    "MAINNET_APPLICATION_UZR34": (v.MAINNET_APPLICATION_UZR34, 1763597425871913552),
    "MAINNET_APPLICATION_O3OW2": (
        v.MAINNET_APPLICATION_O3OW2,
        1763597289536590252,
    ),  # 2025-11-20T00:07:23.446Z
    "WITH_SUBNET_KEY": (v.WITH_SUBNET_KEY, 1702377590371109404),
}


def _reencode(data: bytes, **changes: Any) -> bytes:
    obj = dict(cbor2.loads(data))
    obj.update(changes)
    return bytes(cbor2.dumps(cbor2.CBORTag(55799, obj)))


# --- real certificates ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_certificates_verify(name: str) -> None:
    data, time_ns = REAL[name]
    cert = verify_certificate(data, MAINNET_ROOT_KEY_DER)
    assert cert.time_ns == time_ns
    assert verify_certificate(data, MAINNET_ROOT_KEY_DER, now_ns=time_ns + MINUTE).time_ns == time_ns


def test_sample_cert_request_status_and_delegation_time() -> None:
    cert = Certificate.from_cbor(v.SAMPLE_CERT)
    assert cert.delegation is not None
    delegation_time = Certificate.from_cbor(cert.delegation.certificate).time_ns or 0
    assert _iso(delegation_time) == "2022-02-17T10:17:49.668"  # as agent-js's test says
    assert _iso(cert.time_ns or 0) == "2022-02-23T07:38:00.652"
    statuses = [cert.value([b"request_status", path[1], b"status"]) for path in _request_paths(cert)]
    assert statuses == [b"rejected"]


def _iso(time_ns: int) -> str:
    moment = datetime.datetime.fromtimestamp(time_ns / 1e9, tz=datetime.UTC)
    return moment.isoformat(timespec="milliseconds")[:-6]


def _request_paths(cert: Certificate) -> list[tuple[bytes, ...]]:
    return [p for p in list_paths(cert.tree) if p[0] == b"request_status" and p[-1] == b"status"]


@pytest.mark.parametrize("ecid_hex", ["00000000002000000101", "000000000020000C0101", "00000000002FFFFF0101"])
def test_sample_cert_ecid_in_range(ecid_hex: str) -> None:
    ecid = Principal(bytes.fromhex(ecid_hex))
    for layout in ("v4", "v3", "any"):
        verify_certificate(
            v.SAMPLE_CERT, MAINNET_ROOT_KEY_DER, effective_canister_id=ecid, ranges_layout=layout
        )  # type: ignore[arg-type]
    verify_certificate(v.SAMPLE_CERT, MAINNET_ROOT_KEY_DER, effective_canister_id=SAMPLE_ECID)


@pytest.mark.parametrize("ecid_hex", ["00000000000000020101", "00000000003000020101"])
def test_sample_cert_ecid_out_of_range(ecid_hex: str) -> None:
    with pytest.raises(CertificateError, match="outside the ranges"):
        verify_certificate(
            v.SAMPLE_CERT, MAINNET_ROOT_KEY_DER, effective_canister_id=Principal(bytes.fromhex(ecid_hex))
        )


def test_legacy_application_certificate_ranges() -> None:
    inside = Principal.from_text("fs35c-jyaaa-aaaab-qaaaa-cai")
    verify_certificate(v.MAINNET_APPLICATION_LEGACY, MAINNET_ROOT_KEY_DER, effective_canister_id=inside)
    with pytest.raises(CertificateError, match="outside"):
        verify_certificate(
            v.MAINNET_APPLICATION_LEGACY, MAINNET_ROOT_KEY_DER, effective_canister_id=SAMPLE_ECID
        )


def test_real_sharded_ranges_in_subnet_read_state() -> None:
    cert = Certificate.from_cbor(v.MAINNET_APPLICATION_UZR34)
    ranges = canister_ranges(cert.tree, UZR34, "v4")
    assert ranges == [
        (
            Principal.from_text("rdmx6-jaaaa-aaaaa-aaadq-cai").raw,
            Principal.from_text("rdmx6-jaaaa-aaaaa-aaadq-cai").raw,
        ),
        (
            Principal.from_text("uc7f6-kaaaa-aaaaq-qaaaa-cai").raw,
            Principal.from_text("ijz7v-ziaaa-aaaaq-7777q-cai").raw,
        ),
    ]
    assert principal_in_ranges(Principal.from_text("rdmx6-jaaaa-aaaaa-aaadq-cai"), ranges)
    assert not principal_in_ranges(SAMPLE_ECID, ranges)


def test_real_subnet_certificates_check_subnet_id() -> None:
    verify_certificate(v.MAINNET_APPLICATION_O3OW2, MAINNET_ROOT_KEY_DER, effective_subnet_id=O3OW2)
    verify_certificate(v.MAINNET_APPLICATION_UZR34, MAINNET_ROOT_KEY_DER, effective_subnet_id=UZR34)
    with pytest.raises(CertificateError, match="not uzr34"):
        verify_certificate(v.MAINNET_APPLICATION_O3OW2, MAINNET_ROOT_KEY_DER, effective_subnet_id=UZR34)


def test_delegation_without_ranges_cannot_vouch_for_a_canister() -> None:
    # Subnet read_state delegations carry only the subnet key; a canister-scoped check must fail.
    with pytest.raises(CertificateError, match="no canister ranges"):
        verify_certificate(
            v.MAINNET_APPLICATION_O3OW2, MAINNET_ROOT_KEY_DER, effective_canister_id=SAMPLE_ECID
        )


def test_bit_flipped_signature_rejected() -> None:
    cert = Certificate.from_cbor(v.SAMPLE_CERT)
    flipped = bytearray(cert.signature)
    flipped[10] ^= 0x01
    with pytest.raises(CertificateError, match="signature"):
        verify_certificate(_reencode(v.SAMPLE_CERT, signature=bytes(flipped)), MAINNET_ROOT_KEY_DER)
    with pytest.raises(CertificateError, match="signature"):
        verify_certificate(_reencode(v.MAINNET_SYSTEM, signature=b"\x00" * 48), MAINNET_ROOT_KEY_DER)


def test_tampered_leaf_rejected() -> None:
    cert = Certificate.from_cbor(v.MAINNET_SYSTEM)
    tampered = _replace_time(cert.tree, encode_leb128((cert.time_ns or 0) + 1))
    assert tampered != cert.tree
    with pytest.raises(CertificateError, match="certificate signature"):
        verify_certificate(_reencode(v.MAINNET_SYSTEM, tree=to_cbor_obj(tampered)), MAINNET_ROOT_KEY_DER)


def _replace_time(tree: HashTree, value: bytes) -> HashTree:
    if isinstance(tree, Fork):
        return Fork(_replace_time(tree.left, value), _replace_time(tree.right, value))
    if isinstance(tree, Labeled) and tree.label == b"time":
        return Labeled(b"time", Leaf(value))
    return tree


def test_tampered_delegation_rejected() -> None:
    cert = Certificate.from_cbor(v.SAMPLE_CERT)
    assert cert.delegation is not None
    inner = cbor2.loads(cert.delegation.certificate)
    bad_inner = _reencode(cert.delegation.certificate, signature=b"\x00" * 48)
    assert inner["signature"] != b"\x00" * 48
    delegation = {"subnet_id": cert.delegation.subnet_id.raw, "certificate": bad_inner}
    with pytest.raises(CertificateError, match="delegation certificate signature"):
        verify_certificate(_reencode(v.SAMPLE_CERT, delegation=delegation), MAINNET_ROOT_KEY_DER)


def test_wrong_subnet_id_in_delegation_rejected() -> None:
    cert = Certificate.from_cbor(v.SAMPLE_CERT)
    assert cert.delegation is not None
    delegation = {"subnet_id": UZR34.raw, "certificate": cert.delegation.certificate}
    with pytest.raises(CertificateError, match="no public key for subnet"):
        verify_certificate(_reencode(v.SAMPLE_CERT, delegation=delegation), MAINNET_ROOT_KEY_DER)


def test_wrong_root_key_rejected() -> None:
    other = BlsKeyPair.generate().der_public_key
    for name in ("SAMPLE_CERT", "MAINNET_SYSTEM"):
        with pytest.raises(CertificateError, match="signature"):
            verify_certificate(REAL[name][0], other)
    with pytest.raises(CertificateError, match="root key"):
        verify_certificate(v.MAINNET_SYSTEM, b"\x30\x00")


def test_nested_delegation_rejected() -> None:
    # agent-js certificate.test.ts "certificate verification fails on nested delegations"
    cert = cbor2.loads(v.WITH_SUBNET_KEY)
    overly_nested = _reencode(
        v.WITH_SUBNET_KEY,
        tree=cert["tree"],
        delegation={"subnet_id": UZR34.raw, "certificate": v.WITH_SUBNET_KEY},
    )
    with pytest.raises(CertificateError, match="must not itself contain a delegation"):
        verify_certificate(overly_nested, MAINNET_ROOT_KEY_DER)


@pytest.mark.parametrize(
    ("offset", "ok"), [(-10 * MINUTE, False), (-4 * MINUTE, True), (4 * MINUTE, True), (10 * MINUTE, False)]
)
def test_time_window(offset: int, ok: bool) -> None:
    data, time_ns = REAL["SAMPLE_CERT"]
    if ok:
        verify_certificate(data, MAINNET_ROOT_KEY_DER, now_ns=time_ns + offset)
        return
    with pytest.raises(CertificateError, match=r"stale|future"):
        verify_certificate(data, MAINNET_ROOT_KEY_DER, now_ns=time_ns + offset)


def test_max_age_is_configurable() -> None:
    data, time_ns = REAL["MAINNET_SYSTEM"]
    with pytest.raises(CertificateError, match="stale"):
        verify_certificate(data, MAINNET_ROOT_KEY_DER, now_ns=time_ns + 2 * MINUTE, max_age_ns=MINUTE)


def test_certificate_error_is_under_the_client_root() -> None:
    assert issubclass(CertificateError, IcpError)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xff",
        cbor2.dumps({"tree": [0]}),
        cbor2.dumps({"tree": [9], "signature": b"s"}),
        cbor2.dumps([1, 2]),
        cbor2.dumps({"tree": [0], "signature": b"s", "delegation": {"subnet_id": "x"}}),
        cbor2.dumps(
            {"tree": [0], "signature": b"s", "delegation": {"subnet_id": b"\x00" * 30, "certificate": b""}}
        ),
    ],
)
def test_malformed_certificates(data: bytes) -> None:
    with pytest.raises(CertificateError):
        verify_certificate(data, MAINNET_ROOT_KEY_DER)


# --- our own certificates -------------------------------------------------------------------------

T0 = 1_760_000_000_000_000_000
SUBNET = Principal(b"\x11" * 28 + b"\x02")
RANGE = (Principal.from_canister_index(0x100000), Principal.from_canister_index(0x1FFFFF))
INSIDE = Principal.from_canister_index(0x100123)
OUTSIDE = Principal.from_canister_index(0x200000)


def _state(time_ns: int = T0) -> Any:
    return build_tree(
        {
            b"request_status": {b"\x01" * 32: {b"status": b"replied", b"reply": b"DIDL\x00\x00"}},
            b"canister": {INSIDE.raw: {b"module_hash": b"\x02" * 32}},
            b"time": encode_leb128(time_ns),
        }
    )


def test_sign_certificate_round_trip_without_delegation() -> None:
    root = BlsKeyPair.generate()
    data = sign_certificate(_state(), root)
    assert data[:3] == b"\xd9\xd9\xf7"
    cert = verify_certificate(data, root.der_public_key, now_ns=T0, effective_canister_id=OUTSIDE)
    assert cert.value([b"request_status", b"\x01" * 32, b"status"]) == b"replied"
    assert cert.lookup(["time"]).value == encode_leb128(T0)


def test_pruned_certificate_still_verifies() -> None:
    root = BlsKeyPair.generate()
    tree = prune_to(_state(), [[b"request_status", b"\x01" * 32], [b"time"]])
    cert = verify_certificate(sign_certificate(tree, root), root.der_public_key, now_ns=T0)
    assert cert.value([b"canister", INSIDE.raw, b"module_hash"]) is None
    assert cert.value([b"request_status", b"\x01" * 32, b"reply"]) == b"DIDL\x00\x00"


@pytest.mark.parametrize("layout", ["v4", "v3", "both"])
def test_delegated_round_trip(layout: str) -> None:
    root, subnet_key = BlsKeyPair.generate(), BlsKeyPair.generate()
    delegation = make_delegation(SUBNET, subnet_key, root, [RANGE], time_ns=T0 - 10**12, layout=layout)  # type: ignore[arg-type]
    data = sign_certificate(_state(), subnet_key, delegation)
    for ranges_layout in ("v4", "v3", "any"):
        cert = verify_certificate(
            data,
            root.der_public_key,
            effective_canister_id=INSIDE,
            effective_subnet_id=SUBNET,
            now_ns=T0,
            ranges_layout=ranges_layout,  # type: ignore[arg-type]
        )
        assert cert.delegation == delegation
        with pytest.raises(CertificateError, match="outside the ranges"):
            verify_certificate(
                data, root.der_public_key, effective_canister_id=OUTSIDE, ranges_layout=ranges_layout
            )  # type: ignore[arg-type]
    for edge in RANGE:
        verify_certificate(data, root.der_public_key, effective_canister_id=edge)


def test_delegation_ranges_are_where_the_layout_puts_them() -> None:
    root, subnet_key = BlsKeyPair.generate(), BlsKeyPair.generate()
    v4 = Certificate.from_cbor(make_delegation(SUBNET, subnet_key, root, [RANGE], time_ns=T0).certificate)
    v3 = Certificate.from_cbor(
        make_delegation(SUBNET, subnet_key, root, [RANGE], time_ns=T0, layout="v3").certificate
    )
    assert v4.value([b"subnet", SUBNET.raw, b"canister_ranges"]) is None
    assert v4.value([b"canister_ranges", SUBNET.raw, RANGE[0].raw]) == encode_ranges([RANGE])
    assert v3.value([b"subnet", SUBNET.raw, b"canister_ranges"]) == encode_ranges([RANGE])
    assert canister_ranges(v3.tree, SUBNET, "v4") == [(RANGE[0].raw, RANGE[1].raw)]


def test_sharded_ranges_concatenate_across_shards() -> None:
    second = (Principal.from_canister_index(0x500000), Principal.from_canister_index(0x5FFFFF))
    root, subnet_key = BlsKeyPair.generate(), BlsKeyPair.generate()
    delegation = make_delegation(SUBNET, subnet_key, root, [RANGE, second], time_ns=T0)
    data = sign_certificate(_state(), subnet_key, delegation)
    verify_certificate(
        data, root.der_public_key, effective_canister_id=Principal.from_canister_index(0x500001)
    )
    inner = Certificate.from_cbor(delegation.certificate)
    assert len(canister_ranges(inner.tree, SUBNET) or []) == 2


def test_any_layout_joins_both() -> None:
    legacy_only = (Principal.from_canister_index(0x700000), Principal.from_canister_index(0x7FFFFF))
    root, subnet_key = BlsKeyPair.generate(), BlsKeyPair.generate()
    tree = build_tree(
        {
            b"canister_ranges": {SUBNET.raw: {RANGE[0].raw: encode_ranges([RANGE])}},
            b"subnet": {
                SUBNET.raw: {
                    b"public_key": subnet_key.der_public_key,
                    b"canister_ranges": encode_ranges([legacy_only]),
                }
            },
            b"time": encode_leb128(T0),
        }
    )
    delegation = Delegation(SUBNET, sign_certificate(tree, root))
    data = sign_certificate(_state(), subnet_key, delegation)
    target = Principal.from_canister_index(0x700001)
    verify_certificate(data, root.der_public_key, effective_canister_id=target, ranges_layout="v3")
    verify_certificate(data, root.der_public_key, effective_canister_id=target, ranges_layout="any")
    with pytest.raises(CertificateError, match="outside"):
        verify_certificate(data, root.der_public_key, effective_canister_id=target, ranges_layout="v4")


def test_certificate_signed_by_wrong_subnet_key() -> None:
    root, subnet_key = BlsKeyPair.generate(), BlsKeyPair.generate()
    delegation = make_delegation(SUBNET, subnet_key, root, [RANGE], time_ns=T0)
    data = sign_certificate(_state(), BlsKeyPair.generate(), delegation)
    with pytest.raises(CertificateError, match="certificate signature"):
        verify_certificate(data, root.der_public_key)


def test_missing_time_with_now() -> None:
    root = BlsKeyPair.generate()
    cert = verify_certificate(sign_certificate(build_tree({b"a": b"b"}), root), root.der_public_key)
    with pytest.raises(CertificateError, match="no /time"):
        check_time(cert, T0)
    bad = sign_certificate(build_tree({b"time": b"\x80"}), root)
    with pytest.raises(CertificateError, match="LEB128"):
        verify_certificate(bad, root.der_public_key, now_ns=T0)


@pytest.mark.parametrize(
    "data", [cbor2.dumps({"a": 1}), cbor2.dumps([[b"a"]]), cbor2.dumps([[b"a", "b"]]), b"\xff"]
)
def test_decode_ranges_rejects(data: bytes) -> None:
    with pytest.raises(CertificateError):
        decode_ranges(data)


def test_mainnet_root_key_constant() -> None:
    assert len(MAINNET_ROOT_KEY_DER) == 133
    # ic-reference.md §4.10; the same as agent-js / agent-rs IC_ROOT_KEY
    assert MAINNET_ROOT_KEY_DER.hex() == (
        "308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100814c0e6ec71fab583b08bd81373c"
        "255c3c371b2e84863c98a4f1e08b74235d14fb5d9c0cd546d9685f913a0c0b2cc5341583bf4b4392e467db96d65b9bb4cb"
        "717112f8472e0d5a4d14505ffd7484b01291091c5f87b98883463f98091a0baaae"
    )
