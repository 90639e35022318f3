"""Request signing with IC identity keys: RFC 9421 HTTP Message Signatures over an RFC 9530 Content-Digest.

Used by both sides: ``FactoryClient`` signs with :func:`sign_request`, the HTTP service checks with
:func:`verify_request`. Standard library and ``ic.identity`` only, so any face can use it.

A signed request carries four headers (label ``sig1``; the verifier accepts any one label)::

    Content-Digest:  sha-256=:<base64 SHA-256 of the exact body bytes>:
    Signature-Input: sig1=("@method" "@authority" "@path" "@query" "content-digest");created=1700000000;
                     expires=1700000300;nonce="<random>";keyid="<principal text>";alg="ed25519"
    Signature:       sig1=:<base64 signature over the signature base>:
    Signature-Key:   sig1=:<base64 DER SubjectPublicKeyInfo of the signing key>:

The signature base is RFC 9421 section 2.5: one line per covered component, ``"<name>": <value>``, then the
``"@signature-params"`` line, joined by ``\\n`` with no trailing newline. The caller's principal is derived from
the key exactly as the IC does (``SHA-224(DER) · 0x02``) and must equal ``keyid``. Algorithms: ``ed25519``
(RFC 8032), ``ecdsa-p256-sha256`` and ``ecdsa-secp256k1-sha256`` (64-byte ``r‖s`` over SHA-256, as the IC).
``docs/http-api.md`` has a worked example.

The audience: ``@authority`` (the host and port the client addressed, RFC 9421 section 2.2.3) is covered, and
the service accepts a request only if it verifies for one of the service's own authorities (its configured
public URLs, else the address it was reached on): a request signed for one factory is refused by every other,
even one that shares the caller's key as admin, and a reverse proxy that rewrites ``Host`` still works because
the verifier uses its own authority, not the header. A request in the old format (without ``@authority``) is
refused with a 401 that says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from canister_factory._core.errors import Unauthenticated
from icp_client.identity import (
    ED25519_DER_PREFIX,
    P256_DER_PREFIX,
    SECP256K1_DER_PREFIX,
    Identity,
    public_key_problem,
    verify_signature,
)
from icp_client.principal import Principal, PrincipalError

LABEL = "sig1"
COVERED = ("@method", "@authority", "@path", "@query", "content-digest")
LEGACY_COVERED = ("@method", "@path", "@query", "content-digest")
"""The format before the audience was signed: refused with a 401 that says what changed."""
MAX_AUDIENCES = 16
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_VALIDITY_S = 300
"""``expires`` may be at most this many seconds after ``created``."""
MAX_CLOCK_SKEW_S = 60
"""``created`` may be at most this many seconds in the future (clocks differ)."""
ALGORITHMS = {
    "ed25519": ED25519_DER_PREFIX,
    "ecdsa-p256-sha256": P256_DER_PREFIX,
    "ecdsa-secp256k1-sha256": SECP256K1_DER_PREFIX,
}
_KIND_TO_ALG = {"ed25519": "ed25519", "p256": "ecdsa-p256-sha256", "secp256k1": "ecdsa-secp256k1-sha256"}
_NONCE = re.compile(r"[A-Za-z0-9_\-.~+/=]{16,128}")
_SIGNATURE_HEADERS = ("signature", "signature-input", "signature-key")

NonceGuard = Callable[[str, str, int], bool]
"""``remember(keyid, nonce, expires)``: True the first time a nonce is seen, False for a replay."""


@dataclass(frozen=True, slots=True)
class SignatureParams:
    """The signature parameters of RFC 9421 section 2.3, in the order they are serialized."""

    created: int
    expires: int
    nonce: str
    keyid: str
    alg: str
    covered: tuple[str, ...] = COVERED
    received: str = ""
    """The member's text exactly as received (verification signs over that, as RFC 9421 section 2.3 says)."""

    def serialize(self) -> str:
        """The ``@signature-params`` value: the inner list of covered components, then the parameters."""
        if self.received:
            return self.received
        components = " ".join(f'"{name}"' for name in self.covered)
        return (
            f"({components});created={self.created};expires={self.expires}"
            f';nonce="{self.nonce}";keyid="{self.keyid}";alg="{self.alg}"'
        )


# --- shared pieces ----------------------------------------------------------------------------------------------


def content_digest(body: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` value for ``body``: ``sha-256=:<base64>:``."""
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def authority(scheme: str, host: str, port: int | None) -> str:
    """The ``@authority`` value (RFC 9421 section 2.2.3) of a target: lower-case host, port unless the default.

    An IPv6 address is bracketed, as in a URL. ``port`` None means the scheme's default.
    """
    name = host.lower()
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"
    if port is None or port == DEFAULT_PORTS.get(scheme.lower()):
        return name
    return f"{name}:{port}"


def authority_of_url(url: str) -> str:
    """The ``@authority`` of an absolute ``http``/``https`` URL.

    Raises:
        ValueError: not an absolute http(s) URL with a host.
    """
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    return authority(parts.scheme, parts.hostname, parts.port)


def authority_of_host_header(scheme: str, value: str) -> str:
    """The ``@authority`` named by a ``Host`` header (normalised as :func:`authority` does)."""
    try:
        return authority_of_url(f"{scheme}://{value.strip()}")
    except ValueError:
        return value.strip().lower()


def signature_base(
    method: str, authority: str, path: str, query: str, digest: str, params: SignatureParams
) -> bytes:
    """The RFC 9421 section 2.5 signature base for our covered components.

    ``authority`` is the target's host and port as :func:`authority` normalises them; ``path`` is the request
    target's absolute path as sent (percent-encoding kept; empty becomes ``/``); ``query`` is the query string
    without ``?`` (``@query`` is then ``?`` followed by it, as section 2.2.7 says).
    """
    values = {
        "@method": method.upper(),
        "@authority": authority,
        "@path": path or "/",
        "@query": "?" + query,
        "content-digest": digest.strip(),
    }
    lines = [f'"{name}": {values[name]}' for name in params.covered]
    lines.append(f'"@signature-params": {params.serialize()}')
    return "\n".join(lines).encode()


def algorithm_for(identity: Identity) -> str:
    """The RFC 9421 ``alg`` name for an identity's key type."""
    try:
        return _KIND_TO_ALG[identity.kind]
    except KeyError:
        raise Unauthenticated(f"a {identity.kind} identity cannot sign requests") from None


# --- signing ----------------------------------------------------------------------------------------------------


def sign_request(
    identity: Identity,
    method: str,
    authority: str,
    path: str,
    query: str,
    body: bytes,
    *,
    now_s: int,
    ttl_s: int = MAX_VALIDITY_S,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers that authenticate one request as ``identity``'s principal, for one factory.

    Args:
        identity: the caller's key (not the anonymous identity: anonymous requests are sent unsigned).
        method, authority, path, query, body: the request exactly as it will be sent (``authority`` as
            :func:`authority_of_url` gives it for the factory's URL; ``query`` without ``?``).
        now_s: the current Unix time in seconds (``created``); ``expires`` is ``now_s + ttl_s``.
        nonce: a unique value; a random 128-bit one by default.

    Raises:
        Unauthenticated: ``identity`` cannot sign (anonymous).
    """
    digest = content_digest(body)
    params = SignatureParams(
        created=now_s,
        expires=now_s + min(ttl_s, MAX_VALIDITY_S),
        nonce=nonce or secrets.token_urlsafe(16),
        keyid=identity.principal.to_text(),
        alg=algorithm_for(identity),
    )
    signature = identity.sign(signature_base(method, authority, path, query, digest, params))
    return {
        "Content-Digest": digest,
        "Signature-Input": f"{LABEL}={params.serialize()}",
        "Signature": f"{LABEL}=:{base64.b64encode(signature).decode()}:",
        "Signature-Key": f"{LABEL}=:{base64.b64encode(identity.der_public_key).decode()}:",
    }


# --- verifying --------------------------------------------------------------------------------------------------


def is_signed(headers: Mapping[str, str]) -> bool:
    """Whether a request carries any signature header (an unsigned request is the anonymous caller)."""
    return any(name in headers for name in _SIGNATURE_HEADERS)


@dataclass(frozen=True, slots=True)
class Target:
    """The request as the service received it: what the signature base is rebuilt from.

    ``audiences`` are the service's own authorities (its public URLs' ``@authority``); ``host`` is the
    ``@authority`` the ``Host`` header names, used only to say why a request for another factory is refused.
    """

    method: str
    path: str
    query: str
    audiences: tuple[str, ...]
    host: str | None = None


def verify_request(
    target: Target,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now_s: int,
    remember_nonce: NonceGuard,
) -> Principal:
    """Check a signed request and return the principal that signed it.

    ``headers`` must look names up case-insensitively (lower-case keys are enough). The signature must verify
    with ``@authority`` set to one of ``target.audiences``. The nonce is recorded through ``remember_nonce`` only
    after everything else checked out, so a bad request burns nothing.

    Raises:
        Unauthenticated: a missing or malformed header, the old format, a body that does not match its digest,
            a key that does not give ``keyid`` or that the IC refuses, an algorithm that does not fit the key, a
            request not yet valid or expired, a request signed for another factory, a wrong signature, or a nonce
            already used.
    """
    label, params = _parse_signature_input(_header(headers, "signature-input"))
    signature = _dictionary_bytes(_header(headers, "signature"), label, "Signature")
    der = _dictionary_bytes(_header(headers, "signature-key"), label, "Signature-Key")
    digest = _header(headers, "content-digest")
    _check_digest(digest, body)
    principal = _check_key(der, params)
    _check_time(params, now_s)
    _check_signature(target, der, digest, params, signature)
    if not remember_nonce(params.keyid, params.nonce, params.expires):
        raise Unauthenticated("nonce already used: the request is a replay")
    return principal


def _check_signature(
    target: Target, der: bytes, digest: str, params: SignatureParams, signature: bytes
) -> None:
    """The signature verifies for one of the service's authorities, or the 401 says why not."""

    def verifies(for_authority: str) -> bool:
        base = signature_base(target.method, for_authority, target.path, target.query, digest, params)
        return verify_signature(der, base, signature)

    audiences = target.audiences[:MAX_AUDIENCES]
    first = [target.host] if target.host in audiences else []
    if any(verifies(a) for a in dict.fromkeys([*first, *audiences])):
        return
    if target.host and target.host not in audiences and verifies(target.host):
        raise Unauthenticated(
            f"the request was signed for {target.host}, which is not this factory (it answers as "
            f"{', '.join(audiences)}): a signed request is valid only at the factory it names in @authority"
        )
    raise Unauthenticated(
        "signature does not verify (wrong key, a request meant for another factory, or the request was "
        "altered after signing)"
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        raise Unauthenticated(
            f"missing {name} header (signed requests need Signature, Signature-Input, "
            "Signature-Key and Content-Digest)"
        )
    return value


def _check_digest(header: str, body: bytes) -> None:
    members = _split_dictionary(header, "Content-Digest")
    if "sha-256" not in members:
        raise Unauthenticated("Content-Digest has no sha-256 member")
    if _sf_bytes(members["sha-256"], "Content-Digest") != hashlib.sha256(body).digest():
        raise Unauthenticated("Content-Digest does not match the body (the body was altered)")


def _check_key(der: bytes, params: SignatureParams) -> Principal:
    prefix = ALGORITHMS.get(params.alg)
    if prefix is None:
        raise Unauthenticated(f"unsupported alg {params.alg!r}; expected one of {', '.join(ALGORITHMS)}")
    if not der.startswith(prefix):
        raise Unauthenticated(f"Signature-Key is not a {params.alg} public key")
    problem = public_key_problem(der)
    if problem is not None:  # the IC's rules: a weak key could sign for anyone (icp_client.identity)
        raise Unauthenticated(f"Signature-Key refused: {problem}")
    principal = Principal.self_authenticating(der)
    try:
        claimed = Principal.from_text(params.keyid)
    except PrincipalError as exc:
        raise Unauthenticated(f"keyid is not a principal: {exc}") from exc
    if claimed != principal:
        raise Unauthenticated(
            f"keyid {params.keyid} is not the principal of the Signature-Key ({principal.to_text()})"
        )
    return principal


def _check_time(params: SignatureParams, now_s: int) -> None:
    if params.expires <= params.created or params.expires - params.created > MAX_VALIDITY_S:
        raise Unauthenticated(f"expires must be after created and at most {MAX_VALIDITY_S} s later")
    if params.created > now_s + MAX_CLOCK_SKEW_S:
        raise Unauthenticated(f"created is in the future ({params.created} > now {now_s})")
    if params.expires <= now_s:
        raise Unauthenticated(f"the request expired at {params.expires} (now {now_s})")


# --- a small parser for the structured fields we use (RFC 8941) --------------------------------------------------

_MEMBER = re.compile(r"\s*([a-z*][a-z0-9_\-.*]*)=((?:\([^)]*\))(?:;[^,]*)?|[^,]*)\s*(?:,|$)")
_INNER = re.compile(r'^\(((?:\s*"[^"\\]*"\s*)*)\)((?:;.*)?)$')
_PARAM = re.compile(r';\s*([a-z*][a-z0-9_\-.*]*)(?:=("(?:[^"\\]|\\.)*"|[^;]*))?')


def _split_dictionary(value: str, what: str) -> dict[str, str]:
    members: dict[str, str] = {}
    pos = 0
    text = value.strip()
    while pos < len(text):
        match = _MEMBER.match(text, pos)
        if match is None or match.end() == pos:
            raise Unauthenticated(f"{what} is not a structured-field dictionary")
        members.setdefault(match.group(1), match.group(2).strip())
        pos = match.end()
    return members


def _sf_bytes(item: str, what: str) -> bytes:
    if len(item) < 2 or item[0] != ":" or item[-1] != ":":
        raise Unauthenticated(f"{what} must be a byte sequence (:base64:)")
    try:
        return base64.b64decode(item[1:-1], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Unauthenticated(f"{what} is not valid base64") from exc


def _dictionary_bytes(value: str, label: str, what: str) -> bytes:
    members = _split_dictionary(value, what)
    if label not in members:
        raise Unauthenticated(f"{what} has no member {label!r} (the label used in Signature-Input)")
    return _sf_bytes(members[label], what)


def _parse_signature_input(value: str) -> tuple[str, SignatureParams]:
    members = _split_dictionary(value, "Signature-Input")
    if not members:
        raise Unauthenticated("Signature-Input is empty")
    label, item = next(iter(members.items()))
    match = _INNER.match(item)
    if match is None:
        raise Unauthenticated("Signature-Input member is not an inner list of component names")
    covered = tuple(re.findall(r'"([^"\\]*)"', match.group(1)))
    if covered == LEGACY_COVERED:
        raise Unauthenticated(
            "this request is signed in the old format, which does not name the factory it is for: "
            'cover "@authority" too, as ("@method" "@authority" "@path" "@query" "content-digest") '
            "(docs/http-api.md, Authentication); update the client"
        )
    if covered != COVERED:
        raise Unauthenticated(f"Signature-Input must cover exactly {' '.join(repr(c) for c in COVERED)}")
    raw = {name: val for name, val in _PARAM.findall(match.group(2))}
    return label, SignatureParams(
        created=_int_param(raw, "created"),
        expires=_int_param(raw, "expires"),
        nonce=_nonce_param(raw),
        keyid=_str_param(raw, "keyid"),
        alg=_str_param(raw, "alg"),
        received=item,
    )


def _int_param(raw: dict[str, str], name: str) -> int:
    value = raw.get(name, "")
    # ASCII digits only: str.isdigit() also accepts "²" and other Unicode digits that int() refuses.
    if not (value.isascii() and value.isdigit()) or len(value) > 15:
        raise Unauthenticated(f"Signature-Input needs an integer {name} parameter")
    return int(value)


def _str_param(raw: dict[str, str], name: str) -> str:
    value = raw.get(name, "")
    if len(value) < 2 or value[0] != '"' or value[-1] != '"' or "\\" in value:
        raise Unauthenticated(f"Signature-Input needs a string {name} parameter")
    return value[1:-1]


def _nonce_param(raw: dict[str, str]) -> str:
    nonce = _str_param(raw, "nonce")
    if not _NONCE.fullmatch(nonce):
        raise Unauthenticated("nonce must be 16 to 128 characters of base64, base64url or hex")
    return nonce
