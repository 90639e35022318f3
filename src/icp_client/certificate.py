"""Certificates: a hash tree plus a BLS signature on its root, perhaps through a subnet delegation.

``verify_certificate`` follows the specification's ``verify_cert`` (and agent-rs / agent-js on the points the
specification leaves to the caller):

1. reconstruct the tree's root hash;
2. with a delegation: decode the delegation certificate, refuse a nested delegation, verify it against the
   root key, take the subnet key from ``/subnet/<subnet_id>/public_key``, and check the request's scope (the
   effective canister id lies in the subnet's canister ranges, or the effective subnet id is the subnet);
3. verify the BLS signature over ``"\\x0Dic-state-root" · root`` with the root or subnet key;
4. when ``now_ns`` is given, check that ``/time`` lies within ``max_age_ns`` of it (either direction).

Canister ranges come in two layouts, and the check falls back from one to the other as agent-rs does: the
sharded ``/canister_ranges/<subnet_id>/<shard>`` (every shard's list concatenated, ``lookup*``) used by v4
calls and v3 reads, and the older ``/subnet/<subnet_id>/canister_ranges``. Each is CBOR
``#6.55799([* [start end]])``, closed intervals of principals compared as bytes.

Every failure raises ``CertificateError``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cbor2

from icp_client import bls
from icp_client.errors import IcpError
from icp_client.hashtree import (
    SELF_DESCRIBE_TAG,
    HashTree,
    LookupResult,
    build_tree,
    from_cbor_obj,
    lookup_path,
    lookup_star,
    lookup_value,
    reconstruct,
    to_cbor_obj,
)
from icp_client.principal import Principal, PrincipalError
from icp_client.request_id import IC_STATE_ROOT, decode_leb128, encode_leb128

MAINNET_ROOT_KEY_DER = bytes.fromhex(
    "308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100814c0e6ec71fab583b08bd81373c255c"
    "3c371b2e84863c98a4f1e08b74235d14fb5d9c0cd546d9685f913a0c0b2cc5341583bf4b4392e467db96d65b9bb4cb717112f8472e"
    "0d5a4d14505ffd7484b01291091c5f87b98883463f98091a0baaae"
)
DEFAULT_MAX_AGE_NS = 5 * 60 * 1_000_000_000

RangesLayout = Literal["v4", "v3", "any"]
CanisterRange = tuple[bytes, bytes]


class CertificateError(IcpError):
    """A certificate is malformed or does not verify (signature, delegation, scope, or freshness)."""


@dataclass(frozen=True, slots=True)
class Delegation:
    """A subnet delegation: the subnet's id and the root-signed certificate that names its key."""

    subnet_id: Principal
    certificate: bytes


@dataclass(frozen=True, slots=True)
class Certificate:
    """A decoded (not necessarily verified) certificate."""

    tree: HashTree
    signature: bytes
    delegation: Delegation | None = None

    @classmethod
    def from_cbor(cls, data: bytes) -> Certificate:
        """Decode a certificate; the self-describe tag 55799 is optional.

        Raises:
            CertificateError: not CBOR, not a map with ``tree`` and ``signature``, or a malformed tree.
        """
        obj = _unwrap(_loads(data, "certificate"))
        if not isinstance(obj, Mapping) or "tree" not in obj or not isinstance(obj.get("signature"), bytes):
            raise CertificateError("certificate must be a map with 'tree' and 'signature'")
        return cls(tree=_tree(obj["tree"]), signature=obj["signature"], delegation=_delegation(obj))

    def to_cbor(self) -> bytes:
        """The CBOR encoding with the self-describe tag."""
        body: dict[str, Any] = {"tree": to_cbor_obj(self.tree), "signature": self.signature}
        if self.delegation is not None:
            body["delegation"] = {
                "subnet_id": self.delegation.subnet_id.raw,
                "certificate": self.delegation.certificate,
            }
        return bytes(cbor2.dumps(cbor2.CBORTag(SELF_DESCRIBE_TAG, body)))

    @property
    def root_hash(self) -> bytes:
        """The reconstructed root hash of the tree."""
        return reconstruct(self.tree)

    def lookup(self, path: Sequence[bytes | str]) -> LookupResult:
        """``lookup_path`` on the tree; text labels are UTF-8 encoded."""
        return lookup_path(self.tree, _labels(path))

    def value(self, path: Sequence[bytes | str]) -> bytes | None:
        """The leaf at ``path``, or ``None`` if it is not FOUND."""
        return lookup_value(self.tree, _labels(path))

    @property
    def time_ns(self) -> int | None:
        """``/time`` in nanoseconds since the epoch, or ``None`` if the tree does not hold it.

        Raises:
            CertificateError: ``/time`` is present but is not LEB128.
        """
        raw = self.value([b"time"])
        if raw is None:
            return None
        try:
            return decode_leb128(raw)
        except IcpError as exc:
            raise CertificateError(f"certificate /time is not a LEB128 number: {exc}") from exc


def _labels(path: Sequence[bytes | str]) -> list[bytes]:
    return [label.encode("utf-8") if isinstance(label, str) else bytes(label) for label in path]


def _loads(data: bytes, what: str) -> Any:
    try:
        return cbor2.loads(bytes(data))
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise CertificateError(f"{what} is not valid CBOR: {exc}") from exc


def _unwrap(obj: Any) -> Any:
    # cbor2 usually strips the self-describe tag itself; unwrap it in case it does not.
    while isinstance(obj, cbor2.CBORTag) and obj.tag == SELF_DESCRIBE_TAG:
        obj = obj.value
    return obj


def _tree(obj: Any) -> HashTree:
    try:
        return from_cbor_obj(obj)
    except IcpError as exc:
        raise CertificateError(f"certificate tree is malformed: {exc}") from exc


def _delegation(obj: Mapping[str, Any]) -> Delegation | None:
    raw = obj.get("delegation")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise CertificateError("certificate delegation must be a map")
    subnet_id, certificate = raw.get("subnet_id"), raw.get("certificate")
    if not isinstance(subnet_id, bytes) or not isinstance(certificate, bytes):
        raise CertificateError("certificate delegation needs subnet_id and certificate blobs")
    try:
        return Delegation(Principal(subnet_id), certificate)
    except PrincipalError as exc:
        raise CertificateError(f"delegation subnet_id is not a principal: {exc}") from exc


# --- verification ---------------------------------------------------------------------------------


def verify_certificate(
    cert_bytes: bytes,
    root_key_der: bytes,
    *,
    effective_canister_id: Principal | None = None,
    effective_subnet_id: Principal | None = None,
    now_ns: int | None = None,
    max_age_ns: int = DEFAULT_MAX_AGE_NS,
    ranges_layout: RangesLayout = "v4",
) -> Certificate:
    """Decode and verify a certificate; return it.

    A certificate without a delegation comes from the root subnet, which may certify any canister or subnet,
    so the scope checks apply only to delegated certificates (as in agent-rs).

    Args:
        cert_bytes: the CBOR certificate (as in a read_state or v3/v4 call reply).
        root_key_der: the DER root key (``MAINNET_ROOT_KEY_DER`` or a local replica's ``/api/v2/status`` key).
        effective_canister_id: if given and the certificate is delegated, it must lie in the subnet's ranges.
        effective_subnet_id: when given and the certificate is delegated, it must be the delegation's subnet.
        now_ns: when given, ``/time`` must be within ``max_age_ns`` of it; ``None`` skips the time check.
        ranges_layout: which canister-range layout to read first: ``"v4"`` the sharded
            ``/canister_ranges/<subnet>``, ``"v3"`` the legacy ``/subnet/<subnet>/canister_ranges``; each
            falls back to the other when its own is absent. ``"any"`` accepts ranges from either.

    Raises:
        CertificateError: malformed, a bad signature (certificate or delegation), a nested delegation, no
            subnet key, the canister outside the ranges, the wrong subnet, or a stale or future ``/time``.
    """
    cert = Certificate.from_cbor(cert_bytes)
    key = _signing_key(cert, root_key_der, effective_canister_id, effective_subnet_id, ranges_layout)
    _check_signature(cert, key, "certificate")
    if now_ns is not None:
        check_time(cert, now_ns, max_age_ns)
    return cert


def _check_signature(cert: Certificate, public_key: bytes, what: str) -> None:
    if not bls.verify(cert.signature, IC_STATE_ROOT + cert.root_hash, public_key):
        raise CertificateError(f"{what} signature does not verify")


def _root_key(root_key_der: bytes) -> bytes:
    try:
        return bls.der_to_bls_key(root_key_der)
    except IcpError as exc:
        raise CertificateError(f"root key is not an IC BLS key: {exc}") from exc


def _signing_key(
    cert: Certificate,
    root_key_der: bytes,
    ecid: Principal | None,
    esid: Principal | None,
    layout: RangesLayout,
) -> bytes:
    """The key that must have signed ``cert``: the root key, or the delegated subnet's key."""
    root_key = _root_key(root_key_der)
    if cert.delegation is None:
        return root_key
    subnet_id = cert.delegation.subnet_id
    inner = Certificate.from_cbor(cert.delegation.certificate)
    if inner.delegation is not None:
        raise CertificateError("delegation certificate must not itself contain a delegation")
    _check_signature(inner, root_key, "delegation certificate")
    subnet_key = _subnet_key(inner, subnet_id)
    if esid is not None and esid != subnet_id:
        raise CertificateError(f"certificate is from subnet {subnet_id.to_text()}, not {esid.to_text()}")
    if ecid is not None:
        _check_canister_in_ranges(inner.tree, subnet_id, ecid, layout)
    return subnet_key


def _subnet_key(inner: Certificate, subnet_id: Principal) -> bytes:
    der = inner.value([b"subnet", subnet_id.raw, b"public_key"])
    if der is None:
        raise CertificateError(f"delegation certificate has no public key for subnet {subnet_id.to_text()}")
    try:
        return bls.der_to_bls_key(der)
    except IcpError as exc:
        raise CertificateError(f"subnet public key is not an IC BLS key: {exc}") from exc


def _check_canister_in_ranges(
    tree: HashTree, subnet_id: Principal, ecid: Principal, layout: RangesLayout
) -> None:
    ranges = canister_ranges(tree, subnet_id, layout)
    if ranges is None:
        raise CertificateError(
            f"delegation certificate has no canister ranges for subnet {subnet_id.to_text()}"
        )
    if not principal_in_ranges(ecid, ranges):
        raise CertificateError(
            f"canister {ecid.to_text()} is outside the ranges of subnet {subnet_id.to_text()}"
        )


def check_time(cert: Certificate, now_ns: int, max_age_ns: int = DEFAULT_MAX_AGE_NS) -> int:
    """Check that ``/time`` is within ``max_age_ns`` of ``now_ns``; return the certificate time.

    Raises:
        CertificateError: no ``/time``, or it is too old or too far in the future.
    """
    time_ns = cert.time_ns
    if time_ns is None:
        raise CertificateError("certificate has no /time")
    if time_ns < now_ns - max_age_ns:
        raise CertificateError(f"certificate is stale: /time is {(now_ns - time_ns) // 10**9} s old")
    if time_ns > now_ns + max_age_ns:
        raise CertificateError(f"certificate /time is {(time_ns - now_ns) // 10**9} s in the future")
    return time_ns


# --- canister ranges ------------------------------------------------------------------------------


def canister_ranges(
    tree: HashTree, subnet_id: Principal, layout: RangesLayout = "v4"
) -> list[CanisterRange] | None:
    """The canister ranges a (delegation) tree grants ``subnet_id``, or ``None`` if it has none.

    ``"v4"`` reads the sharded layout and falls back to the legacy one; ``"v3"`` the reverse; ``"any"`` joins
    both.

    Raises:
        CertificateError: a ranges value is not a CBOR list of ``[start, end]`` blobs.
    """
    sharded = _sharded_ranges(tree, subnet_id)
    legacy = _legacy_ranges(tree, subnet_id)
    if layout == "any":
        if sharded is None and legacy is None:
            return None
        return (sharded or []) + (legacy or [])
    first, second = (sharded, legacy) if layout == "v4" else (legacy, sharded)
    return first if first is not None else second


def _sharded_ranges(tree: HashTree, subnet_id: Principal) -> list[CanisterRange] | None:
    shards = lookup_star(tree, [b"canister_ranges", subnet_id.raw])
    if not shards:
        return None
    return [item for shard in shards for item in decode_ranges(shard)]


def _legacy_ranges(tree: HashTree, subnet_id: Principal) -> list[CanisterRange] | None:
    value = lookup_value(tree, [b"subnet", subnet_id.raw, b"canister_ranges"])
    return None if value is None else decode_ranges(value)


def decode_ranges(data: bytes) -> list[CanisterRange]:
    """Decode a ranges value: CBOR ``#6.55799([* [start end]])`` with principals as blobs.

    Raises:
        CertificateError: it is not that shape.
    """
    obj = _unwrap(_loads(data, "canister ranges"))
    if not isinstance(obj, list | tuple):
        raise CertificateError("canister ranges must be a CBOR array")
    ranges = []
    for item in obj:
        if not (
            isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(p, bytes) for p in item)
        ):
            raise CertificateError("each canister range must be a [start, end] pair of blobs")
        ranges.append((bytes(item[0]), bytes(item[1])))
    return ranges


def encode_ranges(ranges: Sequence[tuple[Principal, Principal]]) -> bytes:
    """Encode ranges as the state tree stores them (tagged CBOR list of ``[start, end]`` blobs)."""
    return bytes(
        cbor2.dumps(cbor2.CBORTag(SELF_DESCRIBE_TAG, [[start.raw, end.raw] for start, end in ranges]))
    )


def principal_in_ranges(principal: Principal, ranges: Sequence[CanisterRange]) -> bool:
    """Whether ``principal`` lies in one of the closed ranges (bytewise comparison)."""
    return any(start <= principal.raw <= end for start, end in ranges)


# --- signing our own certificates -----------------------------------------------------------------


def sign_certificate(tree: HashTree, keypair: bls.BlsKeyPair, delegation: Delegation | None = None) -> bytes:
    """Sign ``tree`` with ``keypair``; encode the certificate (tag 55799, ``{tree, signature, delegation?}``).

    With a delegation, ``keypair`` must be the subnet key that the delegation certificate names.
    """
    signature = keypair.sign(IC_STATE_ROOT + reconstruct(tree))
    return Certificate(tree=tree, signature=signature, delegation=delegation).to_cbor()


def make_delegation(
    subnet_id: Principal,
    subnet_keypair: bls.BlsKeyPair,
    root_keypair: bls.BlsKeyPair,
    ranges: Sequence[tuple[Principal, Principal]],
    *,
    time_ns: int,
    layout: Literal["v4", "v3", "both"] = "v4",
) -> Delegation:
    """A delegation for ``subnet_id``: a root-signed certificate naming the subnet key and its ranges.

    ``layout`` chooses where the ranges go: ``"v4"`` the sharded ``/canister_ranges/<subnet>/<first id>``,
    ``"v3"`` the legacy ``/subnet/<subnet>/canister_ranges``, ``"both"`` both.
    """
    subnet_entry: dict[bytes, Any] = {b"public_key": subnet_keypair.der_public_key}
    data: dict[bytes, Any] = {b"subnet": {subnet_id.raw: subnet_entry}, b"time": encode_leb128(time_ns)}
    if layout in ("v3", "both"):
        subnet_entry[b"canister_ranges"] = encode_ranges(ranges)
    if layout in ("v4", "both") and ranges:
        shards = {start.raw: encode_ranges([(start, end)]) for start, end in ranges}
        data[b"canister_ranges"] = {subnet_id.raw: shards}
    certificate = sign_certificate(build_tree(data), root_keypair)
    return Delegation(subnet_id=subnet_id, certificate=certificate)


__all__ = [
    "DEFAULT_MAX_AGE_NS",
    "MAINNET_ROOT_KEY_DER",
    "Certificate",
    "CertificateError",
    "Delegation",
    "canister_ranges",
    "check_time",
    "decode_ranges",
    "encode_ranges",
    "make_delegation",
    "principal_in_ranges",
    "sign_certificate",
    "verify_certificate",
]
