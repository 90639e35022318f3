"""The command line against a served factory (`--url`): same commands, same output, signed with --identity."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from canister_factory.cli import cli
from icp_client.identity import generate_identity
from tests.support.wasm_modules import counter_wasm


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    admin, alice = tmp_path / "admin.pem", tmp_path / "alice.pem"
    admin.write_bytes(generate_identity().to_pem())
    alice.write_bytes(generate_identity("secp256k1").to_pem())
    state = tmp_path / "state"
    deployed = CliRunner().invoke(
        cli, ["--state", str(state), "--identity", str(admin), "deploy", "--cycles", "10" + "0" * 14]
    )
    assert deployed.exit_code == 0, deployed.output
    port = _free_port()
    command = [sys.executable, "-m", "canister_factory", "--state", str(state), "serve", "--port", str(port)]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy()
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("the service did not start")
        yield url, admin, alice
    finally:
        server.terminate()
        server.wait(timeout=30)


def run(url: str, pem: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--url", url, "--identity", str(pem), "--json", *args])


def test_the_quick_start_through_the_service(served: tuple[str, Path, Path], tmp_path: Path) -> None:
    url, _, alice = served
    wasm = tmp_path / "counter.wasm"
    wasm.write_bytes(counter_wasm())
    uploaded = run(url, alice, "upload", str(wasm))
    assert uploaded.exit_code == 0, uploaded.output
    assert json.loads(uploaded.stdout)["upload_id"] == 1
    created = run(url, alice, "create-and-install-with", "--upload-id", "1", "--cycles", "2000000000000",
                  "--init-arg-hex", "4449444c00017d2a")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert set(json.loads(created.stdout)) == {"canister_id", "module_hash_hex", "cycles_used"}
    mine = json.loads(run(url, alice, "list-my-canisters").stdout)
    assert [c["state"] for c in mine["canisters"]] == ["READY"]
    assert json.loads(run(url, alice, "call", "my_stats").stdout)["created_count"] == 1


def test_errors_keep_their_text_and_exit_status(served: tuple[str, Path, Path]) -> None:
    url, admin, alice = served
    refused = run(url, alice, "set-emergency-stop", "true")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout) == {"error": "Admin access required", "code": "permission_denied"}
    assert run(url, admin, "set-emergency-stop", "true").exit_code == 0
    stopped = run(url, alice, "create-upload")
    assert (stopped.exit_code, json.loads(stopped.stdout)["error"]) == (
        1,
        "Factory is in emergency stop mode",
    )


def test_state_commands_say_they_need_the_state(served: tuple[str, Path, Path]) -> None:
    url, admin, _ = served
    result = run(url, admin, "deploy")
    assert result.exit_code == 1
    assert "without --url" in result.stderr
