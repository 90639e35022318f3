"""Hostile HTTP bodies: signed requests with random JSON, random bytes and random headers.

Every answer is a success or a clear error (a 4xx with an ``error`` text; never a 500), and a refused request
changes nothing: the registry and the upload counter stay as they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canister_factory._core.config import InitArg
from canister_factory.api import ServiceOptions, create_app
from canister_factory.bootstrap import App, open_app
from canister_factory.client import FactoryClient
from icp_client.identity import generate_identity
from tests.integration.api.serving import serve_in_thread

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**130), 2**130) | st.text(max_size=40) | st.floats(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=6),
    max_leaves=12,
)
REQUEST_FIELDS = ["upload_id", "init_arg", "mode", "cycles", "handoff", "extra_controllers", "canister_id"]
CLEAR_ERROR = {400, 401, 403, 404, 409, 413, 415, 422, 423, 429}


class Target:
    def __init__(self, url: str, app: App) -> None:
        self.url = url
        self.app = app
        self.client = FactoryClient(url, generate_identity())
        self.http = httpx.Client(timeout=30)

    def signed(
        self, method: str, path: str, body: bytes, content_type: str = "application/json"
    ) -> httpx.Response:
        request = self.client.build_request(method, path, content=body)
        request.headers["content-type"] = content_type
        return self.http.send(request)

    def state(self) -> tuple[int, int]:
        stats = self.app.factory.get_factory_stats()
        return stats.total_uploads, len(self.app.factory.list_canisters(self.admin, None, 1000).canisters)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    folder: Path = tmp_path_factory.mktemp("fuzz-http")
    app = open_app(folder)
    admin = generate_identity()
    app.factory.deploy(admin.principal, InitArg(min_factory_cycles=0))
    app.fund(10**15)
    with serve_in_thread(create_app(app, ServiceOptions(cleanup_interval_s=None))) as url:
        t = Target(url, app)
        t.admin = admin.principal  # type: ignore[attr-defined]
        yield t
        t.http.close()
        t.client.close()
    app.close()


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.status_code in CLEAR_ERROR, response.status_code
        assert response.json()["error"]


@FUZZ
@given(st.fixed_dictionaries({}, optional={k: JSON for k in REQUEST_FIELDS}))
def test_create_requests(target: Target, fields: dict[str, Any]) -> None:
    before = target.state()
    response = target.signed("POST", "/v1/canisters", json.dumps(fields).encode())
    check(response)
    if response.status_code >= 400:
        assert target.state() == before


@FUZZ
@given(JSON)
def test_any_json_on_every_json_route(target: Target, value: Any) -> None:
    body = json.dumps(value).encode()
    before = target.state()
    for method, path in [
        ("POST", "/v1/uploads/1/commit"),
        ("PUT", "/v1/admin/allowlist"),
        ("PUT", "/v1/admin/emergency-stop"),
        ("POST", "/v1/admin/admins"),
    ]:
        check(target.signed(method, path, body))
    assert target.state() == before


@FUZZ
@given(
    st.binary(max_size=2048), st.sampled_from(["application/json", "application/octet-stream", "text/plain"])
)
def test_raw_bytes(target: Target, body: bytes, content_type: str) -> None:
    before = target.state()
    check(target.signed("POST", "/v1/canisters", body, content_type))
    check(target.signed("PUT", "/v1/uploads/999/chunks/0", body, content_type))
    assert target.state() == before


@FUZZ
@given(st.dictionaries(st.sampled_from(["signature", "signature-input", "signature-key", "content-digest"]),
                       st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=200)))  # fmt: skip
def test_garbage_signature_headers_are_refused(target: Target, headers: dict[str, str]) -> None:
    before = target.state()
    response = target.http.post(f"{target.url}/v1/uploads", headers=headers, content=b"")
    assert response.status_code == 401, response.text
    assert response.json()["error"]
    assert target.state() == before
