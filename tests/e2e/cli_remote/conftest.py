"""Fixtures for the command line against a served factory: ``canister-factory serve`` in a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from canister_factory.cli import cli
from icp_client.identity import generate_identity


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """A deployed factory served by `canister-factory serve` (its stderr in ``tmp_path / "serve.log"``): its URL,
    an admin's PEM and alice's."""
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
    log = (tmp_path / "serve.log").open("wb")  # the service's log: one line per request
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=os.environ.copy())
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
        log.close()
