"""A small IC agent: signed envelopes over HTTP, verified certificates, node-signed queries.

Why our own and not icp-py-core (``research/python-ic-tools.md`` §1): its certificate check ignores the root
key it is given (a local network cannot be verified without a monkeypatch) and has no ``fetch_root_key``; it
needs the ``blst`` SWIG module, which has no PyPI wheel; it rejects delegations that carry only the older
``/subnet/<id>/canister_ranges`` layout; its management wrapper cannot set the effective canister id and uses
an outdated DID; its Candid decoder has no limits; it posts updates with a fixed 360 s timeout, with no
connection reuse and no fallback to ``/api/v2``. The pieces we need are small and already ours
(``request_id``, ``envelope``, ``certificate``, ``hashtree``, ``bls`` on py-arkworks-bls12381), so the agent is
httpx + cbor2 + those.

::

    call   POST /api/v4/canister/<ecid>/call   200 {status: replied, certificate}  -> verify, read request_status
           (404/405 -> /api/v3, then /api/v2)   202 -> poll read_state request_status/<rid> until terminal
                                                200 {reject_code, ...} (non-replicated) -> Reject
    query  POST /api/v3/canister/<ecid>/query   replied/rejected, node signatures checked against the subnet's
                                                node keys (read_state ["subnet"], cached per subnet)
    read_state /api/v3/{canister,subnet}/<id>/read_state -> verified Certificate

Retries are safe only: on a transport error the *same signed envelope* (same request id) is re-sent, which the
IC deduplicates; a new request is never made for an update. Errors: ``Reject`` (the IC refused),
``Unavailable`` (no answer; an update may or may not have run), ``CertificateError`` (a certificate or a
query signature does not verify), ``HttpRefused`` (the IC refused the HTTP request itself, 4xx).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cbor2
import httpx

from icp_client.certificate import (
    Certificate,
    CertificateError,
    RangesLayout,
    canister_ranges,
    principal_in_ranges,
    verify_certificate,
)
from icp_client.envelope import build_envelope, encode_envelope
from icp_client.errors import HttpRefused, IcpError, Reject, Unavailable
from icp_client.hashtree import SELF_DESCRIBE_TAG, Labeled, flatten_forks, lookup_subtree
from icp_client.identity import Identity, verify_signature
from icp_client.principal import Principal
from icp_client.request_id import IC_RESPONSE, decode_leb128, hash_of_map, request_id

DEFAULT_INGRESS_EXPIRY_S = 180
MAX_CERTIFICATE_AGE_NS = 5 * 60 * 1_000_000_000
_CBOR_HEADERS = {"content-type": "application/cbor"}


@dataclass(frozen=True, slots=True)
class SubnetInfo:
    """What a query's signatures are checked against: the subnet, its node keys and canister ranges."""

    subnet_id: Principal
    node_keys: Mapping[bytes, bytes]
    ranges: Sequence[tuple[bytes, bytes]]


class Agent:
    """Talks to one IC endpoint as ``identity``; certificates are verified against ``root_key_der``.

    Args:
        url: the endpoint, e.g. ``https://icp-api.io`` or ``http://127.0.0.1:4943``.
        identity: signs every request.
        root_key_der: the DER root key (``MAINNET_ROOT_KEY_DER``, a pinned key, or ``fetch_root_key``).
        timeout: seconds for one HTTP exchange.
        poll_timeout: seconds an update may take in total (bounded by its ingress expiry).
        retries: how many times an envelope is re-sent after a transport error.
        verify_query_signatures: check node signatures on query replies.
        transport: an httpx transport (tests: ``httpx.MockTransport``).
    """

    def __init__(
        self,
        url: str,
        identity: Identity,
        root_key_der: bytes,
        *,
        timeout: float = 30.0,
        poll_timeout: float = 300.0,
        retries: int = 3,
        verify_query_signatures: bool = True,
        ingress_expiry_s: int = DEFAULT_INGRESS_EXPIRY_S,
        transport: httpx.BaseTransport | None = None,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.url = url.rstrip("/")
        self.identity = identity
        self.root_key_der = bytes(root_key_der)
        self.poll_timeout = poll_timeout
        self.retries = retries
        self.verify_query_signatures = verify_query_signatures
        self.ingress_expiry_s = ingress_expiry_s
        self._now = now_ns
        self._client = httpx.Client(base_url=self.url, timeout=timeout, transport=transport)
        self._call_versions = [4, 3, 2]
        self._subnets: dict[bytes, SubnetInfo] = {}

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def sender(self) -> Principal:
        return self.identity.principal

    # --- status -------------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """``GET /api/v2/status`` as a dict. Raises Unavailable, HttpRefused."""
        response = self._send("GET", "/api/v2/status", None)
        obj = _unwrap(_loads(response.content, "status"))
        if not isinstance(obj, dict):
            raise Unavailable("status reply is not a CBOR map")
        return obj

    def fetch_root_key(self) -> bytes:
        """The endpoint's root key from ``/api/v2/status``, trusted on first use (local networks only)."""
        key = self.status().get("root_key")
        if not isinstance(key, bytes):
            raise Unavailable(f"{self.url} does not publish a root key")
        return key

    # --- update calls -------------------------------------------------------------------------------------

    def call(
        self,
        canister_id: Principal,
        method: str,
        arg: bytes,
        *,
        effective_canister_id: Principal | None = None,
    ) -> bytes:
        """Make an update call and return its Candid reply.

        Raises:
            Reject: the call was rejected (certified, or non-replicated).
            Unavailable: no certified outcome before the deadline; the call may or may not have run.
            CertificateError: a certificate does not verify.
            HttpRefused: the request was refused (4xx).
        """
        ecid = effective_canister_id or canister_id
        content = self._content("call", canister_id=canister_id.raw, method_name=method, arg=bytes(arg))
        body = encode_envelope(build_envelope(content, self.identity))
        rid = request_id(content)
        deadline = min(time.monotonic() + self.poll_timeout, time.monotonic() + self.ingress_expiry_s)
        for version in list(self._call_versions):
            response = self._send("POST", f"/api/v{version}/canister/{ecid.to_text()}/call", body, soft=True)
            if response.status_code in (404, 405) and version != 2:
                self._call_versions.remove(version)
                continue
            return self._call_outcome(version, response, ecid, rid, deadline)
        raise Unavailable(f"{self.url} has no call endpoint")

    def _call_outcome(
        self, version: int, response: httpx.Response, ecid: Principal, rid: bytes, deadline: float
    ) -> bytes:
        _raise_for_status(response)
        if response.status_code == 202:
            return self._poll(ecid, rid, deadline)
        obj = _unwrap(_loads(response.content, "call reply"))
        if not isinstance(obj, dict):
            raise Unavailable("call reply is not a CBOR map")
        if "reject_code" in obj:
            raise _reject(obj)
        if obj.get("status") == "replied" and isinstance(obj.get("certificate"), bytes):
            layout: RangesLayout = "v4" if version == 4 else "v3"
            cert = self._verify(obj["certificate"], ecid=ecid, layout=layout)
            outcome = _request_outcome(cert, rid)
            if outcome is not None:
                return outcome
        return self._poll(ecid, rid, deadline)

    def _poll(self, ecid: Principal, rid: bytes, deadline: float) -> bytes:
        delay = 0.05
        while True:
            cert = self.read_state(ecid, [[b"request_status", rid]])
            outcome = _request_outcome(cert, rid)
            if outcome is not None:
                return outcome
            if time.monotonic() + delay > deadline:
                raise Unavailable(f"no reply to request 0x{rid.hex()} before the deadline; it may still run")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    # --- queries ------------------------------------------------------------------------------------------

    def query(
        self,
        canister_id: Principal,
        method: str,
        arg: bytes,
        *,
        effective_canister_id: Principal | None = None,
    ) -> bytes:
        """Make a query call and return its Candid reply (node signatures checked when enabled).

        Raises:
            Reject, Unavailable, HttpRefused, CertificateError (a bad or unknown node signature).
        """
        ecid = effective_canister_id or canister_id
        content = self._content("query", canister_id=canister_id.raw, method_name=method, arg=bytes(arg))
        body = encode_envelope(build_envelope(content, self.identity))
        response = self._send("POST", f"/api/v3/canister/{ecid.to_text()}/query", body, soft=True)
        if response.status_code in (404, 405):
            response = self._send("POST", f"/api/v2/canister/{ecid.to_text()}/query", body, soft=True)
        _raise_for_status(response)
        obj = _unwrap(_loads(response.content, "query reply"))
        if not isinstance(obj, dict):
            raise Unavailable("query reply is not a CBOR map")
        if self.verify_query_signatures:
            self._check_query_signatures(obj, request_id(content), ecid)
        if obj.get("status") == "replied":
            reply = obj.get("reply")
            if isinstance(reply, dict) and isinstance(reply.get("arg"), bytes):
                return bytes(reply["arg"])
        if "reject_code" in obj:
            raise _reject(obj)
        raise Unavailable(f"query reply has an unknown shape: status {obj.get('status')!r}")

    def _check_query_signatures(self, obj: dict[str, Any], rid: bytes, ecid: Principal) -> None:
        signatures = obj.get("signatures")
        if not isinstance(signatures, list) or not signatures:
            raise CertificateError("query reply carries no node signatures")
        subnet = self.subnet_for(ecid)
        if not principal_in_ranges(ecid, subnet.ranges):
            raise CertificateError(f"canister {ecid} is outside the ranges of subnet {subnet.subnet_id}")
        fields = {key: value for key, value in obj.items() if key != "signatures"}
        for entry in signatures:
            self._check_node_signature(entry, fields, rid, subnet, ecid)

    def _check_node_signature(
        self, entry: Any, fields: dict[str, Any], rid: bytes, subnet: SubnetInfo, ecid: Principal
    ) -> None:
        if not isinstance(entry, dict):
            raise CertificateError("node signature entry is not a map")
        node, timestamp, signature = entry.get("identity"), entry.get("timestamp"), entry.get("signature")
        if not isinstance(node, bytes) or not isinstance(timestamp, int) or not isinstance(signature, bytes):
            raise CertificateError("node signature entry needs identity, timestamp and signature")
        key = subnet.node_keys.get(node)
        if key is None:
            subnet = self.subnet_for(ecid, refresh=True)
            key = subnet.node_keys.get(node)
        if key is None:
            raise CertificateError(f"query signed by node {Principal(node)}, which is not in the subnet")
        if abs(self._now() - timestamp) > MAX_CERTIFICATE_AGE_NS:
            raise CertificateError("query signature timestamp is not recent")
        signable = IC_RESPONSE + hash_of_map({**fields, "timestamp": timestamp, "request_id": rid})
        if not verify_signature(key, signable, signature):
            raise CertificateError("query node signature does not verify")

    def subnet_for(self, ecid: Principal, *, refresh: bool = False) -> SubnetInfo:
        """The subnet that hosts ``ecid`` (node keys, ranges), from a verified read_state, cached."""
        if not refresh:
            for info in self._subnets.values():
                if principal_in_ranges(ecid, info.ranges):
                    return info
        cert = self.read_state(ecid, [[b"subnet"]])
        info = _subnet_info(cert, self.root_key_der)
        self._subnets[info.subnet_id.raw] = info
        return info

    # --- read_state ---------------------------------------------------------------------------------------

    def read_state(self, effective_canister_id: Principal, paths: Sequence[Sequence[bytes]]) -> Certificate:
        """A verified certificate for ``paths`` at ``/api/v3/canister/<ecid>/read_state`` (v2 as fallback)."""
        return self._read_state("canister", effective_canister_id, paths)

    def canister_controllers(self, canister_id: Principal) -> tuple[Principal, ...]:
        """``/canister/<id>/controllers`` from the certified state tree (public information).

        Raises:
            Reject: 3/IC0301, no such canister.
            CertificateError: the certificate does not verify, or the value is not a list of principals.
        """
        path = [b"canister", canister_id.raw, b"controllers"]
        value = self.read_state(canister_id, [path]).value(path)
        if value is None:
            raise Reject(3, f"Canister {canister_id} not found.", "IC0301")
        obj = _unwrap(_loads(value, "the controllers in the state tree"))
        if not isinstance(obj, list) or not all(isinstance(item, bytes) for item in obj):
            raise CertificateError("controllers in the state tree are not a list of principals")
        return tuple(Principal(item) for item in obj)

    def canister_module_hash(self, canister_id: Principal) -> bytes | None:
        """``/canister/<id>/module_hash`` from the certified state tree; None for an empty canister."""
        path = [b"canister", canister_id.raw, b"module_hash"]
        return self.read_state(canister_id, [path]).value(path)

    def read_subnet_state(self, subnet_id: Principal, paths: Sequence[Sequence[bytes]]) -> Certificate:
        """A verified certificate for ``paths`` at ``/api/v3/subnet/<sid>/read_state`` (v2 as fallback)."""
        return self._read_state("subnet", subnet_id, paths)

    def _read_state(self, kind: str, target: Principal, paths: Sequence[Sequence[bytes]]) -> Certificate:
        content = self._content("read_state", paths=[[bytes(label) for label in path] for path in paths])
        body = encode_envelope(build_envelope(content, self.identity))
        layout: RangesLayout = "v4"
        response = self._send("POST", f"/api/v3/{kind}/{target.to_text()}/read_state", body, soft=True)
        if response.status_code in (404, 405):
            layout = "v3"
            response = self._send("POST", f"/api/v2/{kind}/{target.to_text()}/read_state", body, soft=True)
        _raise_for_status(response)
        obj = _unwrap(_loads(response.content, "read_state reply"))
        if not isinstance(obj, dict) or not isinstance(obj.get("certificate"), bytes):
            raise Unavailable("read_state reply has no certificate")
        if kind == "canister":
            return self._verify(obj["certificate"], ecid=target, layout=layout)
        return self._verify(obj["certificate"], esid=target, layout=layout)

    def _verify(
        self,
        cert_bytes: bytes,
        *,
        ecid: Principal | None = None,
        esid: Principal | None = None,
        layout: RangesLayout,
    ) -> Certificate:
        return verify_certificate(
            cert_bytes,
            self.root_key_der,
            effective_canister_id=ecid,
            effective_subnet_id=esid,
            now_ns=self._now(),
            max_age_ns=MAX_CERTIFICATE_AGE_NS,
            ranges_layout=layout,
        )

    # --- transport ----------------------------------------------------------------------------------------

    def _content(self, request_type: str, **fields: Any) -> dict[str, Any]:
        return {
            "request_type": request_type,
            "sender": self.identity.principal.raw,
            "ingress_expiry": self._now() + self.ingress_expiry_s * 1_000_000_000,
            "nonce": secrets.token_bytes(16),
            **fields,
        }

    def _send(self, method: str, path: str, body: bytes | None, *, soft: bool = False) -> httpx.Response:
        """One exchange; the same bytes are re-sent after a transport error or a 5xx/429 (``retries`` times)."""
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(0.2 * 2**attempt, 2.0))
            try:
                response = self._client.request(method, path, content=body, headers=_CBOR_HEADERS)
            except httpx.TransportError as exc:
                last = exc
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last = HttpRefused(response.status_code, response.text, f"{self.url}{path}")
                continue
            if not soft:
                _raise_for_status(response)
            return response
        raise Unavailable(
            f"{self.url}{path} did not answer after {self.retries + 1} attempts: {last}"
        ) from last


# --- helpers --------------------------------------------------------------------------------------------------


def _loads(data: bytes, what: str) -> Any:
    try:
        return cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise Unavailable(f"{what} is not valid CBOR: {exc}") from exc


def _unwrap(obj: Any) -> Any:
    """Strip the self-describe tag; cbor2 gives tagged maps and arrays as frozendict and tuple: thaw them."""
    while isinstance(obj, cbor2.CBORTag) and obj.tag == SELF_DESCRIBE_TAG:
        obj = obj.value
    if isinstance(obj, Mapping):
        return {key: _unwrap(value) for key, value in obj.items()}
    if isinstance(obj, tuple):
        return [_unwrap(item) for item in obj]
    return obj


def _raise_for_status(response: httpx.Response) -> None:
    if 400 <= response.status_code < 500:
        raise HttpRefused(response.status_code, response.text, str(response.url))
    if response.status_code not in (200, 202):
        raise Unavailable(f"unexpected HTTP {response.status_code} from {response.url}")


def _reject(obj: Mapping[str, Any]) -> Reject:
    code, message, error_code = obj.get("reject_code"), obj.get("reject_message"), obj.get("error_code")
    return Reject(
        code if isinstance(code, int) else 0,
        message if isinstance(message, str) else "",
        error_code if isinstance(error_code, str) else None,
    )


def _request_outcome(cert: Certificate, rid: bytes) -> bytes | None:
    """The reply for ``rid`` in ``cert``; None while not terminal. Raises Reject, Unavailable."""
    status = cert.value([b"request_status", rid, b"status"])
    if status in (None, b"received", b"processing"):
        return None
    if status == b"replied":
        reply = cert.value([b"request_status", rid, b"reply"])
        if reply is None:
            raise CertificateError("replied request has no reply in the certificate")
        return reply
    if status == b"rejected":
        raise _certified_reject(cert, rid)
    if status == b"done":
        raise Unavailable(f"request 0x{rid.hex()} is done; its reply is no longer available")
    raise CertificateError(f"unknown request status {status!r}")


def _certified_reject(cert: Certificate, rid: bytes) -> Reject:
    code = cert.value([b"request_status", rid, b"reject_code"])
    message = cert.value([b"request_status", rid, b"reject_message"]) or b""
    error_code = cert.value([b"request_status", rid, b"error_code"])
    try:
        reject_code = decode_leb128(code) if code is not None else 0
    except IcpError as exc:
        raise CertificateError(f"reject_code is not LEB128: {exc}") from exc
    return Reject(
        reject_code,
        message.decode("utf-8", "replace"),
        error_code.decode("utf-8", "replace") if error_code is not None else None,
    )


def _subnet_info(cert: Certificate, root_key_der: bytes) -> SubnetInfo:
    if cert.delegation is not None:
        subnet_id = cert.delegation.subnet_id
        inner = Certificate.from_cbor(cert.delegation.certificate)
        ranges = canister_ranges(inner.tree, subnet_id, "any")
    else:
        subnet_id = Principal.self_authenticating(root_key_der)
        ranges = canister_ranges(cert.tree, subnet_id, "any")
    if ranges is None:
        raise CertificateError(f"no canister ranges for subnet {subnet_id}")
    return SubnetInfo(subnet_id, _node_keys(cert, subnet_id), ranges)


def _node_keys(cert: Certificate, subnet_id: Principal) -> dict[bytes, bytes]:
    found = lookup_subtree(cert.tree, [b"subnet", subnet_id.raw, b"node"])
    tree = found.tree
    if tree is None:
        raise CertificateError(f"no node keys for subnet {subnet_id}")
    keys: dict[bytes, bytes] = {}
    for node in flatten_forks(tree):
        if isinstance(node, Labeled):
            key = cert.value([b"subnet", subnet_id.raw, b"node", node.label, b"public_key"])
            if key is not None:
                keys[node.label] = key
    return keys


__all__ = ["Agent", "HttpRefused", "SubnetInfo"]
