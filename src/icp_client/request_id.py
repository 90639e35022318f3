"""Request ids, domain separators, and request signatures (interface specification, "Request ids").

The request id is the *representation-independent hash* of the request content, a map with text keys:

::

    hash_of_map(m) = SHA-256( concat( sorted( SHA-256(utf8 key) · hash(value)  for each present field ) ) )

    hash(blob) = SHA-256(bytes)            hash(text) = SHA-256(utf8)
    hash(nat)  = SHA-256(LEB128)           hash(int)  = SHA-256(SLEB128)
    hash(array) = SHA-256(concat of the elements' hashes)       hash(map) = hash_of_map

Every signature the IC checks is over ``domain separator · payload``, the separator being one length byte
followed by ASCII. This module also verifies a request envelope's authentication: the sender matches its key,
the delegation chain is sound, and the signature covers the domain-separated request id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from icp_client.errors import InvalidInput, SignatureRejected
from icp_client.identity import Identity, verify_signature
from icp_client.principal import Principal

IC_REQUEST = b"\x0aic-request"
IC_REQUEST_AUTH_DELEGATION = b"\x1aic-request-auth-delegation"
IC_RESPONSE = b"\x0bic-response"
IC_STATE_ROOT = b"\x0dic-state-root"
IC_SENDER_INFO = b"\x0eic-sender-info"
MAX_DELEGATIONS = 20
_ANONYMOUS = b"\x04"


class MalformedEnvelope(InvalidInput):
    """A request envelope or its content does not have the shape the specification requires."""


# --- LEB128 ---------------------------------------------------------------------------------------


def encode_leb128(value: int) -> bytes:
    """Unsigned LEB128, shortest form (624485 → ``e58e26``).

    Raises:
        InvalidInput: ``value`` is negative.
    """
    if value < 0:
        raise InvalidInput(f"LEB128 needs a natural number, got {value}")
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if value == 0:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def encode_sleb128(value: int) -> bytes:
    """Signed LEB128, shortest form (−123456 → ``c0bb78``)."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


def decode_leb128(data: bytes) -> int:
    """Decode an unsigned LEB128 number that fills ``data`` exactly.

    Raises:
        InvalidInput: ``data`` is empty, truncated, or has bytes after the number.
    """
    value = shift = 0
    for index, byte in enumerate(data):
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if index != len(data) - 1:
                raise InvalidInput("trailing bytes after LEB128 number")
            return value
    raise InvalidInput("truncated or empty LEB128 number")


# --- representation-independent hashing ---------------------------------------------------------


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def hash_value(value: Any) -> bytes:
    """The representation-independent hash of one value (blob, text, nat/int, array, map, principal).

    Raises:
        InvalidInput: the value has a type the encoding does not define (float, bool, None, ...).
    """
    if isinstance(value, bytes | bytearray | memoryview):
        return _sha256(bytes(value))
    if isinstance(value, str):
        return _sha256(value.encode("utf-8"))
    if isinstance(value, bool):
        raise InvalidInput("booleans have no representation-independent hash")
    if isinstance(value, int):
        return _sha256(encode_leb128(value) if value >= 0 else encode_sleb128(value))
    if isinstance(value, Principal):
        return _sha256(value.raw)
    if isinstance(value, Mapping):
        return hash_of_map(value)
    if isinstance(value, list | tuple):
        return _sha256(b"".join(hash_value(item) for item in value))
    raise InvalidInput(f"no representation-independent hash for {type(value).__name__}")


def hash_of_map(content: Mapping[str, Any]) -> bytes:
    """``hash_of_map``: fields whose value is ``None`` count as absent and are left out.

    Raises:
        InvalidInput: a key is not text or a value has no defined hash.
    """
    pairs = []
    for key, value in content.items():
        if not isinstance(key, str):
            raise InvalidInput(f"request fields must have text keys, got {type(key).__name__}")
        if value is not None:
            pairs.append(_sha256(key.encode("utf-8")) + hash_value(value))
    return _sha256(b"".join(sorted(pairs)))


def request_id(content: Mapping[str, Any]) -> bytes:
    """The 32-byte request id of a request's content map (the same as ``hash_of_map``)."""
    return hash_of_map(content)


# --- signing --------------------------------------------------------------------------------------


def sign_request(identity: Identity, request_id_: bytes) -> bytes:
    """The ``sender_sig`` for a request: ``identity`` signs ``"\\x0Aic-request" · request_id``.

    Raises:
        AnonymousCannotSign: ``identity`` is anonymous (anonymous requests carry no signature).
    """
    return identity.sign(IC_REQUEST + bytes(request_id_))


def sign_delegation(identity: Identity, delegation: Mapping[str, Any]) -> bytes:
    """A delegation's signature: ``identity`` signs ``"\\x1Aic-request-auth-delegation" · hash_of_map``."""
    return identity.sign(IC_REQUEST_AUTH_DELEGATION + hash_of_map(delegation))


# --- envelope verification ------------------------------------------------------------------------


def verify_envelope(
    envelope: Mapping[str, Any],
    *,
    now_ns: int | None = None,
    effective_canister_id: Principal | None = None,
) -> Principal:
    """Authenticate a decoded envelope ``{content, sender_pubkey?, sender_sig?, sender_delegation?}``.

    Checks that an anonymous sender carries no key, signature or delegation; that any other sender
    equals ``selfauth(sender_pubkey)``; that the delegation chain (at most 20) is signed link by link, has
    no repeated key, has not expired (when ``now_ns`` is given), names the target canister in its
    ``targets`` (the content's ``canister_id`` and ``effective_canister_id``), and grants ``/call`` when
    the request is a call; and that the last key signed ``"\\x0Aic-request" · request_id(content)``.

    Returns the authenticated sender.

    Raises:
        MalformedEnvelope: missing content or sender, or fields of the wrong type.
        SignatureRejected: any authentication check fails.
    """
    content = envelope.get("content")
    if not isinstance(content, Mapping):
        raise MalformedEnvelope("envelope has no content map")
    sender = _blob_field(content, "sender")
    key, sig, chain = (
        envelope.get("sender_pubkey"),
        envelope.get("sender_sig"),
        envelope.get("sender_delegation"),
    )
    if sender == _ANONYMOUS:
        if key is not None or sig is not None or chain is not None:
            raise SignatureRejected("anonymous requests must not carry a public key, signature or delegation")
        return Principal.anonymous()
    if not isinstance(key, bytes) or not isinstance(sig, bytes):
        raise SignatureRejected("a non-anonymous request needs sender_pubkey and sender_sig")
    if Principal.self_authenticating(key).raw != sender:
        raise SignatureRejected("sender does not match the principal of sender_pubkey")
    targets = _request_targets(content, effective_canister_id)
    signing_key = verify_delegation_chain(key, chain or [], now_ns=now_ns, targets=targets, content=content)
    if not verify_signature(signing_key, IC_REQUEST + request_id(content), sig):
        raise SignatureRejected("sender_sig does not verify against the request id")
    return Principal(sender)


def _blob_field(content: Mapping[str, Any], name: str) -> bytes:
    value = content.get(name)
    if not isinstance(value, bytes):
        raise MalformedEnvelope(f"content field {name!r} must be a blob")
    return value


def _request_targets(content: Mapping[str, Any], ecid: Principal | None) -> list[bytes]:
    targets = [ecid.raw] if ecid is not None else []
    canister_id = content.get("canister_id")
    if isinstance(canister_id, bytes):
        targets.append(canister_id)
    return targets


def verify_delegation_chain(
    sender_pubkey: bytes,
    chain: Sequence[Any],
    *,
    now_ns: int | None = None,
    targets: Sequence[bytes] = (),
    content: Mapping[str, Any] | None = None,
) -> bytes:
    """Walk ``sender_delegation`` from ``sender_pubkey``; return the key that must sign the request.

    Raises:
        MalformedEnvelope: the chain or one of its delegations has the wrong shape.
        SignatureRejected: too long, a bad signature, a repeated key, expired, a target not allowed, or a
            ``queries``-only delegation on a call.
    """
    if not isinstance(chain, list | tuple):
        raise MalformedEnvelope("sender_delegation must be an array")
    if len(chain) > MAX_DELEGATIONS:
        raise SignatureRejected(f"delegation chain longer than {MAX_DELEGATIONS}")
    key, seen = bytes(sender_pubkey), {bytes(sender_pubkey)}
    for index, signed in enumerate(chain):
        delegation = _verify_link(key, signed, index)
        _check_delegation_scope(delegation, index, now_ns, targets, content)
        key = delegation["pubkey"]
        if key in seen:
            raise SignatureRejected(f"delegation {index} repeats a key already in the chain")
        seen.add(key)
    return key


def _verify_link(key: bytes, signed: Any, index: int) -> Mapping[str, Any]:
    if not isinstance(signed, Mapping) or not isinstance(signed.get("delegation"), Mapping):
        raise MalformedEnvelope(f"delegation {index} must be a map with a 'delegation' map")
    delegation: Mapping[str, Any] = signed["delegation"]
    signature = signed.get("signature")
    if not isinstance(delegation.get("pubkey"), bytes) or not isinstance(signature, bytes):
        raise MalformedEnvelope(f"delegation {index} needs a pubkey blob and a signature blob")
    if not isinstance(delegation.get("expiration"), int):
        raise MalformedEnvelope(f"delegation {index} needs a nat expiration")
    if not verify_signature(key, IC_REQUEST_AUTH_DELEGATION + hash_of_map(delegation), signature):
        raise SignatureRejected(f"delegation {index} signature does not verify")
    return delegation


def _check_delegation_scope(
    delegation: Mapping[str, Any],
    index: int,
    now_ns: int | None,
    targets: Sequence[bytes],
    content: Mapping[str, Any] | None,
) -> None:
    if now_ns is not None and delegation["expiration"] < now_ns:
        raise SignatureRejected(f"delegation {index} expired")
    allowed = delegation.get("targets")
    if allowed is not None:
        if not isinstance(allowed, list | tuple):
            raise MalformedEnvelope(f"delegation {index} targets must be an array")
        outside = [target for target in targets if target not in allowed]
        if outside:
            text = Principal(outside[0]).to_text()
            raise SignatureRejected(f"delegation {index} does not allow canister {text}")
    is_call = content is not None and content.get("request_type") == "call"
    if is_call and delegation.get("permissions") == "queries":
        raise SignatureRejected(f"delegation {index} allows queries only")
