"""The service around the methods: body caps (413), exact big numbers, metrics, OpenAPI, background work."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from canister_factory._core.config import InitArg
from canister_factory._core.errors import NotFound
from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.api import ServiceOptions
from tests.integration.api.conftest import Served, ServeFactory, T
from tests.integration.api.serving import COUNTER_ARG
from tests.support.wasm_modules import counter_wasm

CAP = 2_000_000


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def test_a_chunk_of_exactly_the_cap_is_accepted(served: Served, http: httpx.Client) -> None:
    with served.client() as client:
        upload_id = client.create_upload()
        assert client.put_chunk(upload_id, b"\x00" * CAP, 0) == CAP


def test_a_declared_oversized_chunk_is_refused_before_the_body_is_read(served: Served) -> None:
    with served.client() as client:
        upload_id = client.create_upload()
        request = client.build_request("PUT", f"/v1/uploads/{upload_id}/chunks/0", content=b"")
    address = urlsplit(served.url)
    with socket.create_connection((address.hostname, address.port or 80), timeout=10) as sock:
        head = [
            f"PUT {request.url.raw_path.decode()} HTTP/1.1",
            f"Host: {address.netloc}",
            f"Content-Length: {CAP + 1}",
            "Content-Type: application/octet-stream",
        ]
        head += [
            f"{k}: {v}"
            for k, v in request.headers.items()
            if k.lower().startswith(("signature", "content-d"))
        ]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b"\x00" * 1000)  # 1,000 of 2,000,001 bytes
        received = b""
        while b'"code"' not in received:
            data = sock.recv(65536)
            if not data:
                break
            received += data
        reply = received.decode(errors="replace")
    assert reply.startswith("HTTP/1.1 413")
    assert '"code":"limit_exceeded"' in reply.replace(" ", "")
    assert served.app.factory.get_upload_info(client.principal, upload_id).total_len == 0


def test_a_streamed_oversized_chunk_is_cut_off(served: Served, http: httpx.Client) -> None:
    with served.client() as client:
        upload_id = client.create_upload()

    def body() -> Iterator[bytes]:
        for _ in range(40):
            yield b"\x00" * 100_000  # 4 MB, no Content-Length (chunked transfer)

    try:
        reply = http.put(f"{served.url}/v1/uploads/{upload_id}/chunks/0", content=body())
    except httpx.HTTPError:
        pass  # the server may close the connection while we are still sending: also a refusal
    else:
        assert reply.status_code in (401, 413)  # the cap is checked while reading, before the signature
        if reply.status_code == 413:
            assert reply.json()["code"] == "limit_exceeded"
    assert served.app.factory.get_upload_info(client.principal, upload_id).total_len == 0


def test_json_bodies_are_capped(served: Served, http: httpx.Client) -> None:
    with served.client(served.admin) as admin:
        request = admin.build_request(
            "PUT", "/v1/admin/allowlist", json_body={"allowlist": ["aaaaa-aa"] * 8000}
        )
        reply = http.send(request)
    assert reply.status_code == 413
    assert reply.json() == {"error": "Request body too large (max 65536 bytes)", "code": "limit_exceeded"}
    assert served.app.factory.get_config().allowlist is None


def test_big_numbers_are_exact_decimal_strings(serve: ServeFactory, http: httpx.Client) -> None:
    huge = 2**64 + 12345
    served = serve(InitArg(min_factory_cycles=huge), fund=2**70 + 1)
    config = http.get(served.url + "/v1/config").json()
    assert config["min_factory_cycles"] == str(huge)
    stats = http.get(served.url + "/v1/stats").json()
    assert stats["factory_cycles_balance"] == str(2**70 + 1)
    with served.client() as client:
        assert client.get_config().min_factory_cycles == huge
        assert client.get_factory_stats().factory_cycles_balance == 2**70 + 1
        uploaded = client.upload(counter_wasm())
        created = client.create_and_install_with(
            CreateInstallRequest(uploaded.upload_id, COUNTER_ARG, Mode.INSTALL, 2**60 + 7, handoff=True)
        )
        record = http.send(client.build_request("GET", "/v1/canisters/mine")).json()["canisters"][0]
    assert record["cycles"] == str(2**60 + 7)
    assert isinstance(record["created_at_ns"], str) and int(record["created_at_ns"]) > 2**60
    assert int(record["cycles_used"]) == created.cycles_used


def test_cycles_may_be_sent_as_a_string_or_an_integer(served: Served) -> None:
    with served.client() as client:
        uploaded = client.upload(counter_wasm())
        body = {
            "upload_id": uploaded.upload_id,
            "init_arg": COUNTER_ARG.hex(),
            "mode": "Install",
            "handoff": True,
        }
        first = client.request("POST", "/v1/canisters", json_body={**body, "cycles": str(T)})
        second = client.request("POST", "/v1/canisters", json_body={**body, "cycles": T})
    assert first["cycles_used"] == second["cycles_used"]


def test_metrics(served: Served, http: httpx.Client) -> None:
    with served.client() as client:
        uploaded = client.upload(counter_wasm())
        client.create_and_install_with(
            CreateInstallRequest(uploaded.upload_id, COUNTER_ARG, Mode.INSTALL, T, True)
        )
    http.post(served.url + "/v1/uploads")  # a 401
    reply = http.get(served.url + "/metrics")
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(reply.text)
        for s in family.samples
    }
    requests = "cf_http_requests_total"
    assert samples[(requests, (("method", "POST"), ("route", "/v1/canisters"), ("status", "2xx")))] == 1
    assert samples[(requests, (("method", "POST"), ("route", "/v1/uploads"), ("status", "4xx")))] == 1
    assert samples[("cf_creations_total", (("outcome", "ok"),))] == 1
    assert samples[("cf_upload_bytes_total", ())] == len(counter_wasm())
    assert samples[("cf_auth_failures_total", ())] == 1
    balance = served.app.factory.get_factory_stats().factory_cycles_balance
    assert samples[("cf_factory_cycles_balance", ())] == float(balance)  # Prometheus values are float64
    assert samples[("cf_canisters_created", ())] == 1


def test_openapi_and_liveness(served: Served, http: httpx.Client) -> None:
    spec = http.get(served.url + "/openapi.json").json()
    for path in (
        "/v1/uploads",
        "/v1/uploads/{upload_id}/chunks/{index}",
        "/v1/canisters",
        "/v1/canisters/mine",
        "/v1/admin/emergency-stop",
        "/v1/config",
        "/v1/stats",
        "/v1/my-stats",
        "/v1/health",
        "/v1/version",
        "/metrics",
    ):
        assert path in spec["paths"], path
    cycles = spec["components"]["schemas"]["CreateBody"]["properties"]["cycles"]
    assert cycles["type"] == "string"
    assert http.get(served.url + "/healthz").json() == {"ok": True}


def test_expired_uploads_are_cleaned_up_on_a_timer(serve: ServeFactory) -> None:
    served = serve(InitArg(upload_ttl_seconds=1), options=ServiceOptions(cleanup_interval_s=0.2))
    with served.client() as client:
        upload_id = client.create_upload()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                client.get_upload_info(upload_id)
            except NotFound:
                return
            time.sleep(0.2)
    pytest.fail("the expired upload was not cleaned up")
