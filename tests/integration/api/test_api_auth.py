"""Authentication at the edge: each bad request is refused with 401 and changes nothing."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator

import httpx
import pytest

from canister_factory import auth
from canister_factory.client import FactoryClient
from canister_factory.store.nonces import NonceStore
from icp_client.identity import generate_identity
from tests.integration.api.conftest import Served


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def _aud(served: Served) -> str:
    """The ``@authority`` a request to ``served`` is signed for."""
    return auth.authority_of_url(served.url)


def _state(served: Served) -> tuple[object, ...]:
    """Everything a refused request might have changed."""
    factory = served.app.factory
    return (factory.get_config(), factory.get_factory_stats(), NonceStore(served.app.db).count())


def _refused(http: httpx.Client, request: httpx.Request, served: Served, reason: str) -> None:
    before = _state(served)
    reply = http.send(request)
    assert reply.status_code == 401, reply.text
    assert reply.json()["code"] == "unauthenticated"
    assert reason in reply.json()["error"]
    assert reply.headers["www-authenticate"].startswith("Signature")
    assert _state(served) == before


def test_a_valid_signature_is_accepted(served: Served, http: httpx.Client) -> None:
    with served.client() as client:
        reply = http.send(client.build_request("POST", "/v1/uploads"))
        assert reply.status_code == 200 and reply.json() == {"upload_id": 1}


def test_forged_signature(served: Served, http: httpx.Client) -> None:
    victim, forger = generate_identity("secp256k1"), generate_identity("secp256k1")
    with served.client(victim) as client:
        request = client.build_request("POST", "/v1/uploads")
    label, _, _ = request.headers["signature"].partition("=")
    forged = forger.sign(b"anything")
    request.headers["signature"] = f"{label}=:{base64.b64encode(forged).decode()}:"
    _refused(http, request, served, "signature does not verify")


def test_body_changed_after_signing(served: Served, http: httpx.Client) -> None:
    with served.client() as client:
        upload_id = client.create_upload()
        request = client.build_request("POST", f"/v1/uploads/{upload_id}/chunks", content=b"\x00asm")
        altered = httpx.Request("POST", request.url, headers=request.headers, content=b"\x00asX")
        _refused(http, altered, served, "Content-Digest does not match the body")
        # ... and with the digest recomputed to match, the signature no longer verifies
        rehashed = httpx.Request("POST", request.url, headers=request.headers, content=b"\x00asX")
        rehashed.headers["content-digest"] = auth.content_digest(b"\x00asX")
        _refused(http, rehashed, served, "signature does not verify")
        assert client.get_upload_info(upload_id).total_len == 0


def test_path_or_query_changed_after_signing(served: Served, http: httpx.Client) -> None:
    with served.client() as client:
        request = client.build_request("GET", "/v1/canisters/mine", params={"limit": 1})
        moved = httpx.Request("GET", str(request.url).replace("limit=1", "limit=2"), headers=request.headers)
        _refused(http, moved, served, "signature does not verify")


def test_expired_and_future_requests(served: Served, http: httpx.Client) -> None:
    user = generate_identity()
    for created, reason in ((int(time.time()) - 400, "expired"), (int(time.time()) + 600, "in the future")):
        headers = auth.sign_request(user, "POST", _aud(served), "/v1/uploads", "", b"", now_s=created)
        _refused(http, httpx.Request("POST", served.url + "/v1/uploads", headers=headers), served, reason)


def test_validity_longer_than_five_minutes(served: Served, http: httpx.Client) -> None:
    user = generate_identity()
    now = int(time.time())
    params = auth.SignatureParams(
        created=now, expires=now + 301, nonce="n" * 22, keyid=user.principal.to_text(), alg="ed25519"
    )
    digest = auth.content_digest(b"")
    signature = user.sign(auth.signature_base("POST", _aud(served), "/v1/uploads", "", digest, params))
    headers = {
        "Content-Digest": digest,
        "Signature-Input": f"sig1={params.serialize()}",
        "Signature": f"sig1=:{base64.b64encode(signature).decode()}:",
        "Signature-Key": f"sig1=:{base64.b64encode(user.der_public_key).decode()}:",
    }
    _refused(
        http, httpx.Request("POST", served.url + "/v1/uploads", headers=headers), served, "at most 300 s"
    )


def test_replayed_request(served: Served, http: httpx.Client) -> None:
    with served.client() as client:
        request = client.build_request("POST", "/v1/uploads")
        assert http.send(request).status_code == 200
        replay = httpx.Request("POST", request.url, headers=request.headers)
        _refused(http, replay, served, "nonce already used")
        assert served.app.factory.get_config().next_upload_id == 2


def test_principal_claimed_without_its_key(served: Served, http: httpx.Client) -> None:
    victim, attacker = generate_identity(), generate_identity()
    now = int(time.time())
    # the attacker signs with its own key but names the victim as keyid
    headers = auth.sign_request(attacker, "POST", _aud(served), "/v1/uploads", "", b"", now_s=now)
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        attacker.principal.to_text(), victim.principal.to_text()
    )
    request = httpx.Request("POST", served.url + "/v1/uploads", headers=headers)
    _refused(http, request, served, "is not the principal of the Signature-Key")
    # and without any key at all
    headers = auth.sign_request(victim, "POST", _aud(served), "/v1/uploads", "", b"", now_s=now)
    del headers["Signature-Key"]
    _refused(
        http, httpx.Request("POST", served.url + "/v1/uploads", headers=headers), served, "signature-key"
    )


def test_key_of_another_algorithm(served: Served, http: httpx.Client) -> None:
    user = generate_identity("p256")
    headers = auth.sign_request(user, "POST", _aud(served), "/v1/uploads", "", b"", now_s=int(time.time()))
    headers["Signature-Input"] = headers["Signature-Input"].replace("ecdsa-p256-sha256", "ed25519")
    _refused(
        http, httpx.Request("POST", served.url + "/v1/uploads", headers=headers), served, "not a ed25519"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/uploads"),
        ("PUT", "/v1/admin/emergency-stop"),
        ("POST", "/v1/canisters"),
        ("GET", "/v1/my-stats"),
        ("GET", "/v1/canisters/mine"),
        ("POST", "/v1/admin/cleanup"),
    ],
)
def test_anonymous_writes_are_refused_at_the_edge(
    served: Served, http: httpx.Client, method: str, path: str
) -> None:
    body = {"stopped": True} if "emergency" in path else None
    request = http.build_request(method, served.url + path, json=body)
    _refused(http, request, served, "needs a signed request")
    with FactoryClient(served.url, anonymous=True) as anonymous, pytest.raises(Exception, match="anonymous"):
        anonymous.create_upload()


def test_unit_signature_base_is_rfc9421() -> None:
    params = auth.SignatureParams(
        created=1700000000, expires=1700000300, nonce="abcdefghijklmnop", keyid="2vxsx-fae", alg="ed25519"
    )
    base = auth.signature_base(
        "post", "factory.example.com", "/v1/uploads", "", auth.content_digest(b""), params
    )
    assert base.decode() == (
        '"@method": POST\n'
        '"@authority": factory.example.com\n'
        '"@path": /v1/uploads\n'
        '"@query": ?\n'
        '"content-digest": sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:\n'
        '"@signature-params": ("@method" "@authority" "@path" "@query" "content-digest");'
        'created=1700000000;expires=1700000300;nonce="abcdefghijklmnop";keyid="2vxsx-fae";alg="ed25519"'
    )
