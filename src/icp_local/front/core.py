"""The front's protocol core: the IC's HTTP interface on the embedded IC, without the HTTP server.

Each method takes the URL's parts and the request body and returns a ``Reply`` (status, body, content type);
``app.py`` only moves bytes. What a replica does, and what this does:

* ``call`` (v2, v3, v4): decode the envelope; check ``request_type``, ``ingress_expiry`` (now .. now + 5 min
  + 30 s drift), the sender's signature and delegations (``verify_envelope`` with the ECID); run the ingress
  filter (canister id vs. ECID, the management method exists, its argument decodes, canister-only methods);
  failures of these checks are HTTP 400, or a *non-replicated rejection* for the filter's rejects. Then the call
  is executed once per request id (``requests.RequestLog``): re-sending the same envelope returns the first
  outcome. v2 answers 202; v3 and v4 answer ``{status: "replied", certificate}`` with
  ``/request_status/<rid>`` and ``/time``.
* ``read_state`` (canister and subnet forms): the path rules of the specification (§"Request: Read state"):
  ``canister/<id>/...`` only for the ECID, ``request_status/<rid>`` only for its sender (403 otherwise) and one
  request id per read, ``canister_ranges/<sid>`` only at the subnet endpoint; the answer is the state tree pruned
  to the requested paths plus ``/time``, signed with the root key.
* ``query``: as ``call`` but executed directly, with one node signature over
  ``"\\x0Bic-response" · hash_of_map({status, reply | reject_*, timestamp, request_id})``.

Deliberate differences from a replica: one subnet, which is the root subnet (no delegation); the ingress filter
does not check controllers (those rejects come certified from execution instead, same codes); a fault that makes
the engine unavailable answers HTTP 503 and forgets the call, so a re-sent envelope runs again. A lost reply
(``FrontOptions.lose_reply``, a test hook) is taken here: the call runs and its outcome is kept under its request
id, and only the HTTP reply is lost (202), so the agent learns the outcome by polling ``read_state``, as on the IC.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cbor2

from icp_client.certificate import encode_ranges, sign_certificate
from icp_client.envelope import decode_envelope
from icp_client.errors import IcpError, Reject, SignatureRejected, Unavailable
from icp_client.hashtree import SELF_DESCRIBE_TAG, NestedDict, build_tree, prune_to
from icp_client.interfaces import CMC, CYCLES_LEDGER, MANAGEMENT_CANISTER
from icp_client.principal import Principal, PrincipalError
from icp_client.request_id import (
    IC_RESPONSE,
    MalformedEnvelope,
    encode_leb128,
    hash_of_map,
    request_id,
    verify_envelope,
)
from icp_local import LocalIc
from icp_local.clock import Clock
from icp_local.front.dispatch import NNS_ROOT, Dispatcher, FrontMetrics
from icp_local.front.keys import FrontKeys
from icp_local.front.requests import CallRecord, RequestLog

_LOG = logging.getLogger(__name__)
MAX_INGRESS_TTL_NS = 5 * 60 * 1_000_000_000
PERMITTED_DRIFT_NS = 30 * 1_000_000_000
MAX_BODY_BYTES = 5 * 1024 * 1024
IMPL_VERSION = "canister-factory-front/0.1.0"
CBOR = "application/cbor"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer: status code, body, content type."""

    status: int
    body: bytes = b""
    content_type: str = CBOR


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.reply = Reply(status, message.encode(), TEXT)


def _cbor(obj: Any) -> bytes:
    return bytes(cbor2.dumps(cbor2.CBORTag(SELF_DESCRIBE_TAG, obj)))


@dataclass
class FrontOptions:
    """Tunables: ``dev_mint`` enables the cycles ledger's development ``dev_mint``; ``sync_call_wait_s`` is how
    long a v3/v4 call waits for a concurrent execution of the same request before answering 202;
    ``call_versions`` the call endpoints served (``(2,)`` plays an older replica, for tests);
    ``extra_ranges`` more canister ranges to claim; ``lose_reply`` (a test hook, see ``icp_local.testing``) is
    asked for each call's method: True makes the front run the call, keep its outcome for ``read_state`` and lose
    only the HTTP reply (202), as a reply lost on the way back."""

    dev_mint: bool = True
    sync_call_wait_s: float = 10.0
    call_versions: tuple[int, ...] = (2, 3, 4)
    extra_ranges: tuple[tuple[Principal, Principal], ...] = field(default_factory=tuple)
    lose_reply: Callable[[str], bool] | None = None


class Front:
    """The embedded IC behind the IC's HTTP interface. Thread-safe; one per process serves every client."""

    def __init__(self, engine: LocalIc, keys: FrontKeys, options: FrontOptions | None = None) -> None:
        self.engine = engine
        self.keys = keys
        self.options = options or FrontOptions()
        self.metrics = FrontMetrics()
        self.requests = RequestLog()
        self.dispatcher = Dispatcher(engine, keys.subnet_id, self.metrics, dev_mint=self.options.dev_mint)
        engine.router.runtime.root_key = keys.root_key_der  # what ic0.root_key_copy gives canisters
        self._ranges = _subnet_ranges(engine) + list(self.options.extra_ranges)

    @property
    def clock(self) -> Clock:
        return self.engine.clock

    @property
    def subnet_id(self) -> Principal:
        return self.keys.subnet_id

    # --- /api/v2/status ----------------------------------------------------------------------------------

    def status(self) -> Reply:
        return Reply(
            200,
            _cbor(
                {
                    "ic_api_version": "0.18.0",
                    "impl_version": IMPL_VERSION,
                    "root_key": self.keys.root_key_der,
                    "replica_health_status": "healthy",
                    "certified_height": 1,
                }
            ),
        )

    # --- call ---------------------------------------------------------------------------------------------

    def call(self, version: int, ecid_text: str, body: bytes) -> Reply:
        try:
            return self._call(version, ecid_text, body)
        except _HttpError as exc:
            return exc.reply

    def _call(self, version: int, ecid_text: str, body: bytes) -> Reply:
        ecid = _principal(ecid_text, "effective canister id")
        envelope, content, now = self._open(body, "call")
        sender = self._authenticate(envelope, now, ecid)
        canister_id, method, arg = _call_fields(content)
        rid = request_id(content)
        if self.requests.get(rid) is None:
            try:
                self._ingress_filter(canister_id, ecid, method, arg)
            except Reject as exc:
                return self._non_replicated(version, exc)
        lost = self.options.lose_reply is not None and self.options.lose_reply(method)
        record = self._run_once(
            rid, CallRecord(sender, ecid, int(content["ingress_expiry"])), canister_id, method, arg
        )
        if version == 2 or lost or record is None or not record.terminal:
            return Reply(202)
        certificate = self._certify([[b"request_status", rid]], {b"request_status": {rid: record.tree()}})
        return Reply(200, _cbor({"status": "replied", "certificate": certificate}))

    def _run_once(
        self, rid: bytes, record: CallRecord, canister_id: Principal, method: str, arg: bytes
    ) -> CallRecord | None:
        existing = self.requests.begin(rid, record, self.clock.now_ns())
        if existing is not None:
            return (
                existing
                if existing.terminal
                else self.requests.wait_terminal(rid, self.options.sync_call_wait_s)
            )
        self.metrics.add(calls=1)
        try:
            reply = self.dispatcher.call(record.sender, canister_id, method, arg, query=False)
        except Reject as exc:
            self.requests.finish(rid, reject=exc)
        except Unavailable as exc:
            self.requests.forget(rid)
            raise _HttpError(503, f"the embedded IC is unavailable: {exc}") from exc
        except Exception as exc:
            _LOG.exception("call %s.%s failed", canister_id, method)
            self.requests.forget(rid)
            raise _HttpError(500, f"internal error: {type(exc).__name__}") from exc
        else:
            self.requests.finish(rid, reply=reply)
        return self.requests.get(rid)

    def _ingress_filter(self, canister_id: Principal, ecid: Principal, method: str, arg: bytes) -> None:
        if len(arg) + len(method) > self.engine.config.max_ingress_bytes:
            raise _HttpError(
                413,
                f"Request is too large. Message byte size {len(arg) + len(method)} is larger than the max "
                f"allowed {self.engine.config.max_ingress_bytes}.",
            )
        if canister_id != MANAGEMENT_CANISTER:
            if canister_id != ecid:
                raise _HttpError(
                    400,
                    f"Specified CanisterId {canister_id} does not match effective canister id in URL {ecid}",
                )
            return
        decoded = self.dispatcher.decode_management_arg(method, arg)
        if method == "provisional_create_canister_with_cycles":
            return
        target = (
            decoded.get("target_canister", decoded.get("canister_id")) if isinstance(decoded, dict) else None
        )
        if target != ecid:
            raise _HttpError(
                400, f"Specified CanisterId {target} does not match effective canister id in URL {ecid}"
            )

    def _non_replicated(self, version: int, exc: Reject) -> Reply:
        body: dict[str, Any] = {"reject_code": exc.reject_code, "reject_message": exc.reject_message}
        if exc.error_code:
            body["error_code"] = exc.error_code
        if version >= 3:
            body["status"] = "non_replicated_rejection"
        return Reply(200, _cbor(body))

    # --- query --------------------------------------------------------------------------------------------

    def query(self, ecid_text: str, body: bytes) -> Reply:
        try:
            return self._query(ecid_text, body)
        except _HttpError as exc:
            return exc.reply

    def _query(self, ecid_text: str, body: bytes) -> Reply:
        ecid = _principal(ecid_text, "effective canister id")
        envelope, content, now = self._open(body, "query")
        sender = self._authenticate(envelope, now, ecid)
        canister_id, method, arg = _call_fields(content)
        self.metrics.add(queries=1)
        response: dict[str, Any]
        try:
            self._ingress_filter(canister_id, ecid, method, arg)
            reply = self.dispatcher.call(sender, canister_id, method, arg, query=True)
            response = {"status": "replied", "reply": {"arg": reply}}
        except Reject as exc:
            response = {
                "status": "rejected",
                "reject_code": exc.reject_code,
                "reject_message": exc.reject_message,
            }
            if exc.error_code:
                response["error_code"] = exc.error_code
        except Unavailable as exc:
            raise _HttpError(503, f"the embedded IC is unavailable: {exc}") from exc
        response["signatures"] = [self._node_signature(response, request_id(content), now)]
        return Reply(200, _cbor(response))

    def _node_signature(self, response: dict[str, Any], rid: bytes, now: int) -> dict[str, Any]:
        signable = {key: value for key, value in response.items() if key != "signatures"}
        signable.update(timestamp=now, request_id=rid)
        signature = self.keys.node.sign(IC_RESPONSE + hash_of_map(signable))
        return {"timestamp": now, "signature": signature, "identity": self.keys.node_id.raw}

    # --- read_state ---------------------------------------------------------------------------------------

    def read_state(self, kind: str, id_text: str, body: bytes) -> Reply:
        """``kind`` is ``"canister"`` or ``"subnet"``; ``id_text`` the URL's principal."""
        try:
            return self._read_state(kind, id_text, body)
        except _HttpError as exc:
            return exc.reply

    def _read_state(self, kind: str, id_text: str, body: bytes) -> Reply:
        target = _principal(id_text, f"effective {kind} id")
        if kind == "subnet" and target != self.subnet_id:
            raise _HttpError(404, f"subnet {target} not found (this front serves subnet {self.subnet_id})")
        envelope, content, now = self._open(body, "read_state")
        ecid = target if kind == "canister" else None
        sender = self._authenticate(envelope, now, ecid)
        paths = _paths(content.get("paths"))
        self.metrics.add(read_states=1)
        data = self._state_data(paths, sender, kind, target)
        return Reply(200, _cbor({"certificate": self._certify(paths, data)}))

    def _state_data(
        self, paths: list[list[bytes]], sender: Principal, kind: str, target: Principal
    ) -> dict[bytes, Any]:
        data: dict[bytes, Any] = {}
        rids: set[bytes] = set()
        for path in paths:
            head = path[0] if path else b""
            if head in (b"time", b"api_boundary_nodes"):
                continue
            if head == b"subnet":
                data[b"subnet"] = self._subnet_subtree()
            elif head == b"canister_ranges":
                if kind != "subnet" or (len(path) > 1 and path[1] != self.subnet_id.raw):
                    raise _HttpError(
                        400, "canister_ranges may only be read at its subnet's read_state endpoint"
                    )
                data[b"canister_ranges"] = self._ranges_subtree()
            elif head == b"request_status" and len(path) >= 2:
                rids.add(path[1])
                self._add_request_status(data, path[1], sender, kind, target)
            elif head == b"canister" and len(path) >= 2:
                self._add_canister(data, path, sender, kind, target)
            else:
                raise _HttpError(400, f"path {[label.hex() for label in path]} may not be read")
        if len(rids) > 1:
            raise _HttpError(400, "a read_state request may ask for the status of one request id only")
        return data

    def _add_request_status(
        self, data: dict[bytes, Any], rid: bytes, sender: Principal, kind: str, target: Principal
    ) -> None:
        record = self.requests.get(rid)
        if record is None:
            return
        if record.sender != sender or (kind == "canister" and record.effective_canister_id != target):
            raise _HttpError(403, "request_status may only be read by the request's sender, at its canister")
        data.setdefault(b"request_status", {})[rid] = record.tree()

    def _add_canister(
        self, data: dict[bytes, Any], path: list[bytes], sender: Principal, kind: str, target: Principal
    ) -> None:
        if kind != "canister" or path[1] != target.raw:
            raise _HttpError(400, "canister paths may only name the effective canister id")
        node = self._canister_subtree(target, path, sender)
        if node is not None:
            canisters = data.setdefault(b"canister", {})
            merged = canisters.setdefault(target.raw, {})
            for key, value in node.items():
                if key == b"metadata":
                    merged.setdefault(b"metadata", {}).update(value)
                else:
                    merged[key] = value

    def _canister_subtree(
        self, canister_id: Principal, path: list[bytes], sender: Principal
    ) -> dict[bytes, Any] | None:
        if self.dispatcher.is_system_canister(canister_id):
            controllers: Sequence[Principal] = (NNS_ROOT,)
            module_hash: bytes | None = None
        else:
            try:
                controllers = self.engine.read_controllers(canister_id)
                module_hash = self.engine.read_module_hash(canister_id)
            except Reject:
                return None
        node: dict[bytes, Any] = {b"controllers": _cbor([c.raw for c in controllers])}
        if module_hash is not None:
            node[b"module_hash"] = module_hash
        if len(path) >= 4 and path[2] == b"metadata":
            content = self._metadata(canister_id, path[3], sender)
            if content is not None:
                node[b"metadata"] = {path[3]: content}
        if (
            len(path) >= 3
            and path[2] == b"certified_data"
            and not self.dispatcher.is_system_canister(canister_id)
        ):
            certified = self.engine.read_certified_data(canister_id)
            if certified is not None:
                node[b"certified_data"] = certified
        return node

    def _metadata(self, canister_id: Principal, name: bytes, sender: Principal) -> bytes | None:
        try:
            text = name.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if self.dispatcher.is_system_canister(canister_id):
            return self.dispatcher.system_metadata(canister_id, text)
        try:
            return self.engine.read_metadata(canister_id, text, sender)
        except Reject:
            return None

    def _subnet_subtree(self) -> dict[bytes, Any]:
        node_key = {b"public_key": self.keys.node.der_public_key}
        return {
            self.subnet_id.raw: {
                b"public_key": self.keys.root_key_der,
                b"canister_ranges": encode_ranges(self._ranges),
                b"node": {self.keys.node_id.raw: node_key},
                b"type": b"application",
            }
        }

    def _ranges_subtree(self) -> dict[bytes, Any]:
        return {self.subnet_id.raw: {self._ranges[0][0].raw: encode_ranges(self._ranges)}}

    # --- shared -------------------------------------------------------------------------------------------

    def _certify(self, paths: Sequence[Sequence[bytes]], data: dict[bytes, Any]) -> bytes:
        data[b"time"] = encode_leb128(self.clock.now_ns())
        tree = build_tree(_as_nested(data))
        return sign_certificate(prune_to(tree, [*paths, [b"time"]]), self.keys.root)

    def _open(self, body: bytes, request_type: str) -> tuple[dict[str, Any], dict[str, Any], int]:
        if len(body) > MAX_BODY_BYTES:
            raise _HttpError(413, f"request body of {len(body)} bytes is over the limit of {MAX_BODY_BYTES}")
        try:
            envelope = decode_envelope(body)
        except MalformedEnvelope as exc:
            raise _HttpError(400, str(exc)) from exc
        content = dict(envelope["content"])
        if content.get("request_type") != request_type:
            raise _HttpError(
                400, f"expected request_type {request_type!r}, got {content.get('request_type')!r}"
            )
        now = self.clock.now_ns()
        self._check_expiry(content, now, anonymous_ok=request_type != "call")
        return envelope, content, now

    def _check_expiry(self, content: dict[str, Any], now: int, *, anonymous_ok: bool) -> None:
        expiry = content.get("ingress_expiry")
        if not isinstance(expiry, int) or isinstance(expiry, bool):
            raise _HttpError(400, "ingress_expiry must be a nat")
        if anonymous_ok and content.get("sender") == b"\x04":
            return
        latest = now + MAX_INGRESS_TTL_NS + PERMITTED_DRIFT_NS
        if not now <= expiry <= latest:
            raise _HttpError(
                400,
                f"Invalid request expiry: Specified ingress_expiry not within expected range: "
                f"Minimum allowed expiry: {now}, Maximum allowed expiry: {latest}, Provided expiry: {expiry}",
            )

    def _authenticate(self, envelope: dict[str, Any], now: int, ecid: Principal | None) -> Principal:
        try:
            return verify_envelope(envelope, now_ns=now, effective_canister_id=ecid)
        except (MalformedEnvelope, SignatureRejected) as exc:
            raise _HttpError(400, f"Failed to authenticate request: {exc}") from exc
        except IcpError as exc:
            raise _HttpError(400, f"Invalid request: {exc}") from exc


def _principal(text: str, what: str) -> Principal:
    try:
        return Principal.from_text(text)
    except PrincipalError as exc:
        raise _HttpError(400, f"invalid {what} {text!r}: {exc}") from exc


def _call_fields(content: dict[str, Any]) -> tuple[Principal, str, bytes]:
    canister_id, method, arg = content.get("canister_id"), content.get("method_name"), content.get("arg")
    if not isinstance(canister_id, bytes) or not isinstance(method, str) or not isinstance(arg, bytes):
        raise _HttpError(400, "a call needs canister_id (blob), method_name (text) and arg (blob)")
    try:
        return Principal(canister_id), method, arg
    except PrincipalError as exc:
        raise _HttpError(400, f"invalid canister_id: {exc}") from exc


def _paths(raw: Any) -> list[list[bytes]]:
    if not isinstance(raw, list | tuple) or len(raw) > 1000:
        raise _HttpError(400, "paths must be an array (at most 1000)")
    paths = []
    for path in raw:
        if (
            not isinstance(path, list | tuple)
            or len(path) > 127
            or not all(isinstance(label, bytes) for label in path)
        ):
            raise _HttpError(400, "each path must be an array of blobs")
        paths.append([bytes(label) for label in path])
    return paths


def _as_nested(data: dict[bytes, Any]) -> NestedDict:
    return data


def _subnet_ranges(engine: LocalIc) -> list[tuple[Principal, Principal]]:
    """The canister ranges the front claims: the engine's automatic range and the system canisters it answers
    for (on mainnet these live on other subnets; here everything is one subnet)."""
    config = engine.config
    ranges = [
        (CMC, CMC),
        (Principal.from_canister_index(config.first_index), Principal.from_canister_index(config.last_index)),
        (CYCLES_LEDGER, CYCLES_LEDGER),
    ]
    return sorted(ranges, key=lambda pair: pair[0].raw)


__all__ = ["Front", "FrontOptions", "Reply"]
