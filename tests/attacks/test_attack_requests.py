"""Signed requests: bound to the factory they name, refused in the old format, weak keys and odd digits refused."""

from __future__ import annotations

import base64
import contextlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from canister_factory import auth
from canister_factory.api import ServiceOptions
from canister_factory.client import FactoryClient
from icp_client.identity import ED25519_DER_PREFIX, Identity, generate_identity
from icp_client.principal import Principal
from tests.integration.api.serving import free_port
from tests.support.attacks import Attack
from tests.support.backends import open_backend

SERVED = ["http-sqlite", pytest.param("http-postgres", marks=pytest.mark.postgres)]
OPTIONS = ServiceOptions(cleanup_interval_s=None, reconcile_on_start=False)
IDENTITY_POINT = bytes.fromhex("01" + "00" * 31)  # the neutral element: [8]A = A = identity
ORDER_8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
NON_CANONICAL = bytes.fromhex("ee" + "ff" * 30 + "7f")  # y = p + 1, which reduces to the identity


def _reply(http: httpx.Client, request: httpx.Request) -> str:
    reply = http.send(request)
    return f"{reply.status_code} {reply.json().get('code')}: {reply.json().get('error')}"


@pytest.mark.parametrize("name", SERVED)
def test_a_request_signed_for_one_factory_is_refused_by_another(
    name: str, tmp_path: Path, attack: Attack
) -> None:
    attack.tried(
        f"PUT /v1/admin/emergency-stop signed by the admin for factory A, replayed within its 5 minutes to "
        f"factory B where the same key is admin, with A's Host header and with B's ({name})",
        "401 unauthenticated both ways, naming the factory it was signed for; B is not stopped",
    )
    admin = generate_identity()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(open_backend(name, tmp_path / "a", admin=admin, options=OPTIONS))
        b = stack.enter_context(open_backend(name, tmp_path / "b", admin=admin, options=OPTIONS))
        assert a.url and b.url
        http = stack.enter_context(httpx.Client())
        with FactoryClient(a.url, admin) as for_a:
            signed = for_a.build_request("PUT", "/v1/admin/emergency-stop", json_body={"stopped": True})
        target = b.url + "/v1/admin/emergency-stop"
        as_sent = httpx.Request("PUT", target, headers=signed.headers, content=signed.content)
        rehosted = httpx.Request("PUT", target, headers=signed.headers, content=signed.content)
        rehosted.headers["host"] = auth.authority_of_url(b.url)
        first, second = _reply(http, as_sent), _reply(http, rehosted)
        stopped = b.app.factory.get_config().emergency_stop
        names = {auth.authority_of_url(a.url): "<A>", auth.authority_of_url(b.url): "<B>"}
        names[f"localhost:{auth.authority_of_url(b.url).rsplit(':', 1)[1]}"] = "localhost:<B's port>"
        attack.saw(_named(f"with A's Host: {first}; with B's Host: {second}; B stopped: {stopped}", names))
        assert first.startswith("401 unauthenticated: the request was signed for ")
        assert f"signed for {auth.authority_of_url(a.url)}, which is not this factory" in first
        assert second.startswith("401 unauthenticated: signature does not verify")
        assert b.app.factory.get_config().emergency_stop is False
        assert http.send(signed).status_code == 204  # the same request is good at A, the factory it names
        assert a.app.factory.get_config().emergency_stop is True


def _named(text: str, names: dict[str, str]) -> str:
    """``text`` with the test's random addresses replaced by names, so the table reads the same each run."""
    for address, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(address, name)
    return text


def _old_format_headers(identity: Identity, path: str, now: int) -> dict[str, str]:
    params = auth.SignatureParams(
        created=now,
        expires=now + 300,
        nonce=base64.b64encode(b"0123456789abcdef").decode(),
        keyid=identity.principal.to_text(),
        alg="ed25519",
        covered=auth.LEGACY_COVERED,
    )
    digest = auth.content_digest(b"")
    lines = ['"@method": POST', f'"@path": {path}', '"@query": ?', f'"content-digest": {digest}']
    base = "\n".join([*lines, f'"@signature-params": {params.serialize()}']).encode()
    return {
        "Content-Digest": digest,
        "Signature-Input": f"sig1={params.serialize()}",
        "Signature": f"sig1=:{base64.b64encode(identity.sign(base)).decode()}:",
        "Signature-Key": f"sig1=:{base64.b64encode(identity.der_public_key).decode()}:",
    }


def test_an_old_format_request_is_refused_saying_why(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "a request signed in the old format (method, path, query, digest; no @authority)",
        "401 unauthenticated saying the old format does not name the factory and to cover @authority",
    )
    with open_backend("http-sqlite", tmp_path, options=OPTIONS) as backend, httpx.Client() as http:
        assert backend.url
        headers = _old_format_headers(generate_identity(), "/v1/uploads", int(time.time()))
        seen = _reply(http, httpx.Request("POST", backend.url + "/v1/uploads", headers=headers))
        attack.saw(seen)
        assert seen.startswith("401 unauthenticated: this request is signed in the old format")
        assert '"@authority"' in seen
        assert backend.app.factory.get_config().next_upload_id == 1


def _forged_with_key(raw_key: bytes, url: str) -> httpx.Request:
    """A request 'signed' with R = identity, S = 0 under the raw Ed25519 key ``raw_key``."""
    der = ED25519_DER_PREFIX + raw_key
    keyid = Principal.self_authenticating(der).to_text()
    now = int(time.time())
    params = auth.SignatureParams(now, now + 300, "n" * 22, keyid, "ed25519")
    forged = IDENTITY_POINT + bytes(32)
    headers = {
        "Content-Digest": auth.content_digest(b""),
        "Signature-Input": f"sig1={params.serialize()}",
        "Signature": f"sig1=:{base64.b64encode(forged).decode()}:",
        "Signature-Key": f"sig1=:{base64.b64encode(der).decode()}:",
    }
    return httpx.Request("POST", url + "/v1/uploads", headers=headers)


@pytest.mark.parametrize(
    ("what", "raw_key", "reason"),
    [
        ("the identity point (small order)", IDENTITY_POINT, "small order"),
        ("a point of order 8", ORDER_8, "small order"),
        ("a non-canonical encoding of the identity (y = p + 1)", NON_CANONICAL, "not canonically encoded"),
    ],
    ids=["identity", "order8", "noncanonical"],
)  # fmt: skip
def test_a_weak_ed25519_key_is_refused(
    what: str, raw_key: bytes, reason: str, tmp_path: Path, attack: Attack
) -> None:
    attack.tried(
        f"a request whose Signature-Key is {what}, signed R = identity, S = 0 (verifies any message)",
        "401 unauthenticated: the key is refused as the IC refuses it; nothing changes",
    )
    with open_backend("http-sqlite", tmp_path, options=OPTIONS) as backend, httpx.Client() as http:
        assert backend.url
        seen = _reply(http, _forged_with_key(raw_key, backend.url))
        attack.saw(seen)
        assert seen.startswith("401 unauthenticated: Signature-Key refused: ")
        assert reason in seen
        assert backend.app.factory.get_config().next_upload_id == 1


@pytest.mark.parametrize("digit", ["\u00b2", "\u00b3", "\u00b9"], ids=["two", "three", "one"])
def test_a_unicode_digit_in_created_is_a_401(digit: str, tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        f"a Unicode digit ({digit!r}) in the created parameter of Signature-Input",
        "401 unauthenticated (created must be ASCII digits), not a 500",
    )
    user = generate_identity()
    with open_backend("http-sqlite", tmp_path, options=OPTIONS) as backend, httpx.Client() as http:
        assert backend.url
        headers = auth.sign_request(
            user, "POST", auth.authority_of_url(backend.url), "/v1/uploads", "", b"", now_s=int(time.time())
        )
        created = headers["Signature-Input"].split(";created=")[1].split(";")[0]
        value = headers["Signature-Input"].replace(created, created[:-1] + digit)
        headers["Signature-Input"] = value.encode("latin-1")  # type: ignore[assignment]  # as sent: Latin-1
        seen = _reply(http, httpx.Request("POST", backend.url + "/v1/uploads", headers=headers))
        attack.saw(seen)
        assert seen == "401 unauthenticated: Signature-Input needs an integer created parameter"


class _Proxy(http.server.ThreadingHTTPServer):
    """A reverse proxy on loopback that forwards to ``upstream`` with the upstream's Host, as nginx does by
    default (``proxy_set_header Host $proxy_host``)."""

    def __init__(self, port: int, upstream: str) -> None:
        self.upstream = upstream
        super().__init__(("127.0.0.1", port), _ProxyHandler)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: _Proxy

    def _forward(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        with httpx.Client() as client:
            reply = client.request(
                self.command, self.server.upstream + self.path, headers=headers, content=body
            )
        self.send_response(reply.status_code)
        for key, value in reply.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(key, value)
        self.send_header("content-length", str(len(reply.content)))
        self.end_headers()
        self.wfile.write(reply.content)

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, *_: object) -> None:
        pass


@contextlib.contextmanager
def _proxy(port: int, upstream: str) -> Iterator[str]:
    server = _Proxy(port, upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_reverse_proxy_that_rewrites_host_still_works(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        "a caller reaches the factory through a reverse proxy that rewrites Host to the upstream's address",
        "the request is accepted: the service checks @authority against its --public-url, not the Host header",
    )
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    options = ServiceOptions(cleanup_interval_s=None, reconcile_on_start=False, public_urls=(public,))
    with open_backend("http-sqlite", tmp_path, options=options) as backend:
        assert backend.url
        with _proxy(port, backend.url) as proxied, FactoryClient(proxied, generate_identity()) as client:
            upload_id = client.create_upload()
            with FactoryClient(backend.url, client.identity) as direct, pytest.raises(Exception) as err:
                direct.create_upload()  # signed for the service's own address, which is not its public URL
        names = {auth.authority_of_url(public): "<proxy>", auth.authority_of_url(backend.url): "<service>"}
        seen = f"through the proxy: upload {upload_id} created; signed for the service's own address: {err.value}"
        attack.saw(_named(seen, names))
        assert upload_id == 1
        assert "which is not this factory" in str(err.value)
