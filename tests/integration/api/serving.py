"""Helpers for tests that serve the factory over HTTP: uvicorn on a free loopback port, PostgreSQL databases.

Shared by ``tests/integration/api`` and ``tests/e2e``. Everything is real: uvicorn, sockets, SQLite files and a
PostgreSQL server (skipped, with the reason shown, when none can be had).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
COUNTER_ARG = bytes.fromhex("4449444c00017d2a")  # Candid (nat) 42: the counter's init argument


def postgres_url() -> str:
    """The test server's URL: ``$CANISTER_FACTORY_TEST_PG``, else what ``scripts/ensure-postgres.sh`` prints."""
    explicit = os.environ.get("CANISTER_FACTORY_TEST_PG") or os.environ.get("CANISTER_FACTORY_TEST_POSTGRES")
    if explicit:
        return explicit
    script = ROOT / "scripts" / "ensure-postgres.sh"
    if script.exists():
        try:
            found = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=300).stdout
        except (OSError, subprocess.TimeoutExpired):
            found = ""
        if found.strip():
            return found.strip().splitlines()[-1]
    return DEFAULT_PG


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database ``cf_test_<random>`` on the test server; dropped afterwards. Skips if unreachable."""
    psycopg = pytest.importorskip("psycopg")
    admin_url = postgres_url()
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {admin_url}: {exc}")
    name = f"cf_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve_in_thread(api: FastAPI) -> Iterator[str]:
    """Run ``api`` with uvicorn in a background thread; yields its base URL and stops it afterwards."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(api, log_level="warning", ws="none", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextlib.contextmanager
def serve_in_subprocess(database_url: str, *extra: str) -> Iterator[str]:
    """Run ``python -m canister_factory.api`` on ``database_url`` in a child process; yields its URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [
        sys.executable,
        "-m",
        "canister_factory.api",
        "--port",
        str(port),
        "--database",
        database_url,
        "--log-level",
        "warning",
        *extra,
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"service exited with {proc.returncode}:\n{output}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"service at {url} did not become healthy")
