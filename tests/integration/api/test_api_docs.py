"""docs/http-api.md's signing recipes are right: the worked example, the curl + OpenSSL script, the Node snippet."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from canister_factory import auth
from canister_factory.api import create_app
from canister_factory.bootstrap import App
from icp_client.identity import Ed25519Identity, generate_identity
from tests.integration.api.conftest import Served
from tests.integration.api.serving import ROOT

DOC = (ROOT / "docs" / "http-api.md").read_text()
BODY = b'{"expected_sha256_hex":"abababababababababababababababababababababababababababababababab"}'


def _block_after(marker: str, fence: str = "```") -> str:
    """The first fenced block after ``marker`` in the doc."""
    after = DOC.split(marker, 1)[1]
    opening = after.index(fence)
    start = after.index("\n", opening) + 1
    return after[start : after.index("```", start)]


def _example_headers() -> dict[str, str]:
    identity = Ed25519Identity.from_seed(bytes(range(32)))
    return auth.sign_request(
        identity,
        "POST",
        "127.0.0.1:8080",
        "/v1/uploads/1/commit",
        "",
        BODY,
        now_s=1700000000,
        nonce="hQ3n0Jx9TnqVdJ2m1cY7wA",
    )


def test_the_worked_example_is_what_the_code_signs() -> None:
    headers = _example_headers()
    request = _block_after("and the request is")
    for name, value in headers.items():
        assert f"{name}: {value}\n" in request, name
    base = _block_after("the signature base is").strip()
    params = headers["Signature-Input"].split("=", 1)[1]
    assert base.endswith(f'"@signature-params": {params}')
    assert '"@authority": 127.0.0.1:8080' in base


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_curl_script_prints_the_worked_example(tmp_path: Path) -> None:
    script = tmp_path / "sign.sh"
    script.write_text(_block_after("### Signing with curl and OpenSSL (Ed25519)"))
    key = tmp_path / "key.pem"
    key.write_text(_block_after("The Ed25519 key with the 32-byte seed"))
    body = tmp_path / "body"
    body.write_bytes(BODY)
    args = [str(key), "POST", "http://127.0.0.1:8080", "/v1/uploads/1/commit", "", str(body)]
    done = subprocess.run(
        ["bash", str(script), *args, "1700000000", "hQ3n0Jx9TnqVdJ2m1cY7wA"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{k}: {v}" for k, v in _example_headers().items()]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_node_snippet_signs_requests_the_service_accepts(served: Served, tmp_path: Path) -> None:
    user = generate_identity("ed25519")
    (tmp_path / "sign.mjs").write_text(_block_after("### Signing in JavaScript (Node 18+, Ed25519)"))
    (tmp_path / "key.pem").write_bytes(user.to_pem())
    (tmp_path / "main.mjs").write_text(
        """import { readFileSync } from "node:fs";
import { signRequest } from "./sign.mjs";
const [url, principal] = process.argv.slice(2);
const body = Buffer.alloc(0);
const headers = signRequest(readFileSync(new URL("./key.pem", import.meta.url)), principal, url,
                            "POST", "/v1/uploads", "", body);
const reply = await fetch(url + "/v1/uploads", { method: "POST", headers, body });
console.log(reply.status, await reply.text());
"""
    )
    done = subprocess.run(
        ["node", str(tmp_path / "main.mjs"), served.url, user.principal.to_text()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '200 {"upload_id":1}'


def test_the_openapi_description_documents_the_errors_the_service_sends() -> None:
    """Errors are ``{"error", "code"}`` with 4xx/5xx statuses (400 for bad input, never FastAPI's 422)."""
    spec = create_app(_never_started).openapi()
    error = {"$ref": "#/components/schemas/ErrorReply"}
    for path, operations in spec["paths"].items():
        for verb, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (verb, path)
            if path not in ("/healthz", "/metrics"):
                for status in ("4XX", "5XX"):
                    assert responses[status]["content"]["application/json"]["schema"] == error, (verb, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def _never_started() -> App:
    raise AssertionError("the description is read without starting the service")
