"""A factory served over HTTP in a separate process, for the benchmarks that go through the service."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import FUNDS
from canister_factory._core.config import InitArg
from canister_factory.bootstrap import open_app
from canister_factory.client import FactoryClient
from icp_client.identity import generate_identity

HERE = Path(__file__).resolve().parent


@contextmanager
def served(init: InitArg) -> Iterator[tuple[FactoryClient, str]]:
    """Deploy a factory in a temporary state folder, serve it, and yield a client signed by a fresh caller."""
    with tempfile.TemporaryDirectory(prefix="cf-bench-http-", dir=HERE) as tmp:
        state = Path(tmp) / "state"
        app = open_app(state)
        app.deploy(generate_identity().principal, init)
        app.fund(FUNDS)
        app.close()
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "canister_factory",
            "--state",
            str(state),
            "serve",
            "--port",
            str(port),
        ]
        command += ["--log-level", "warning"]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url)
            with FactoryClient(url, generate_identity(), timeout=300) as client:
                yield client, url
        finally:
            server.terminate()
            server.wait(timeout=60)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the service at {url} did not start")
