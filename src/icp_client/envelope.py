"""Request envelopes: building, signing and (de)coding the CBOR body of ``call``, ``query``, ``read_state``.

::

    #6.55799({ content: {...},                   the request; its hash is the request id
               sender_pubkey?: bytes,            DER key (absent for the anonymous sender)
               sender_sig?: bytes,               over "\\x0Aic-request" · request_id
               sender_delegation?: [{delegation: {pubkey, expiration, targets?}, signature}] })

Verification lives in ``request_id.verify_envelope``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import cbor2

from icp_client.hashtree import SELF_DESCRIBE_TAG
from icp_client.identity import Identity
from icp_client.principal import Principal
from icp_client.request_id import MalformedEnvelope, request_id, sign_delegation, sign_request


def build_envelope(
    content: Mapping[str, Any],
    identity: Identity,
    delegations: Sequence[Mapping[str, Any]] = (),
    *,
    sender_pubkey: bytes | None = None,
) -> dict[str, Any]:
    """Sign ``content`` and wrap it in an envelope.

    ``identity`` signs the request id. With ``delegations`` (signed delegations, first one signed by
    ``sender_pubkey``), ``identity`` must hold the last delegation's key and ``sender_pubkey`` is the chain's
    root key, whose principal must be the content's ``sender``. The anonymous identity gives an envelope with
    no key or signature.
    """
    envelope: dict[str, Any] = {"content": dict(content)}
    if identity.is_anonymous and not delegations:
        return envelope
    envelope["sender_pubkey"] = sender_pubkey if sender_pubkey is not None else identity.der_public_key
    envelope["sender_sig"] = sign_request(identity, request_id(content))
    if delegations:
        envelope["sender_delegation"] = [dict(item) for item in delegations]
    return envelope


def make_signed_delegation(
    signer: Identity,
    pubkey: bytes,
    expiration_ns: int,
    targets: Sequence[Principal] | None = None,
) -> dict[str, Any]:
    """A delegation from ``signer`` to ``pubkey`` until ``expiration_ns``, optionally for ``targets`` only."""
    delegation: dict[str, Any] = {"pubkey": bytes(pubkey), "expiration": expiration_ns}
    if targets is not None:
        delegation["targets"] = [target.raw for target in targets]
    return {"delegation": delegation, "signature": sign_delegation(signer, delegation)}


def encode_envelope(envelope: Mapping[str, Any]) -> bytes:
    """The CBOR body to POST, with the self-describe tag."""
    return bytes(cbor2.dumps(cbor2.CBORTag(SELF_DESCRIBE_TAG, dict(envelope))))


def decode_envelope(data: bytes) -> dict[str, Any]:
    """Decode a request body into a plain dict (tag 55799 optional).

    Raises:
        MalformedEnvelope: not CBOR, or not a map with a ``content`` map.
    """
    try:
        obj = cbor2.loads(bytes(data))
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise MalformedEnvelope(f"request body is not valid CBOR: {exc}") from exc
    while isinstance(obj, cbor2.CBORTag) and obj.tag == SELF_DESCRIBE_TAG:
        obj = obj.value
    if not isinstance(obj, Mapping) or not isinstance(obj.get("content"), Mapping):
        raise MalformedEnvelope("request body must be a map with a 'content' map")
    return {str(key): value for key, value in obj.items()}
