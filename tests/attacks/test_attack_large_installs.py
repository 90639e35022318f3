"""Three callers' 40 MB modules installed at the same moment: all succeed, and the service stays small.

The factory service runs as its own process on the network backend, talking over HTTP to the embedded IC served
by ``canister-factory local-network`` in another process, as it would to a replica; the test measures the
service's resident memory from ``/proc`` (its high-water mark, reset just before the installs).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.client import FactoryClient
from icp_client.identity import generate_identity
from tests.integration.api.serving import free_port, wait_healthy
from tests.support.attacks import Attack
from tests.support.factory import T, write_identity
from tests.support.wasm_modules import data_module, sha256

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).with_name("canister-factory")
MODULE_SIZE = 40 * 1000 * 1000
CALLERS = 3
MIB = 1024 * 1024
RSS_BOUND = 96 * MIB


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


@contextlib.contextmanager
def _process(args: list[str]) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@contextlib.contextmanager
def _local_network(state: Path) -> Iterator[tuple[str, str]]:
    """``canister-factory local-network`` on a free port; yields its URL and root key."""
    port = free_port()
    with _process([str(BIN), "--state", str(state), "local-network", "--port", str(port)]) as proc:
        assert proc.stdout is not None
        root_key = ""
        for line in proc.stdout:
            if line.startswith("root key: "):
                root_key = line.split(": ", 1)[1].strip()
                break
        assert root_key, "local-network printed no root key"
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
        url = f"http://127.0.0.1:{port}"
        wait_healthy_front(url, proc)
        yield url, root_key


def wait_healthy_front(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "local-network exited"
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/api/v2/status", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError("local-network did not answer")


def test_three_forty_megabyte_installs_at_once(tmp_path: Path, attack: Attack) -> None:
    attack.tried(
        f"{CALLERS} callers create canisters from {CALLERS} different 40 MB modules at the same moment "
        "(factory service on the network backend, the IC in another process)",
        "all succeed (each install has its own store canister, claimed in the database); the service's resident "
        "memory rises by at most 96 MiB",
    )
    admin = write_identity(tmp_path / "admin.pem")
    database = f"sqlite:///{tmp_path / 'factory.sqlite3'}"
    with _local_network(tmp_path / "ic") as (ic_url, root_key):
        deploy = subprocess.run(
            [str(BIN), "--database", database, "--identity", str(admin.pem), "--network", ic_url,
             "--root-key", root_key, "deploy", "--cycles", str(1000 * T)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert deploy.returncode == 0, deploy.stderr
        port = free_port()
        serve = [str(BIN), "--database", database, "serve", "--port", str(port), "--log-level", "warning"]
        with _process(serve) as service:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, service)  # type: ignore[arg-type]
            assert service.stdout is not None
            threading.Thread(target=service.stdout.read, daemon=True).start()  # keep its pipe drained
            modules = [data_module(MODULE_SIZE, seed=i) for i in range(CALLERS)]
            clients = [FactoryClient(url, generate_identity(), timeout=600) for _ in range(CALLERS)]
            with ThreadPoolExecutor(CALLERS) as pool:
                uploads = list(pool.map(lambda c, m: c.upload(m).upload_id, clients, modules))
            expected = [sha256(m).hex() for m in modules]
            del modules
            before_kib = _status_kib(service.pid, "VmRSS")
            Path(f"/proc/{service.pid}/clear_refs").write_text("5")  # the high-water mark starts again here
            start = threading.Barrier(CALLERS)

            def create(i: int) -> str:
                start.wait()
                request = CreateInstallRequest(uploads[i], b"", Mode.INSTALL, 2 * T, handoff=True)
                return clients[i].create_and_install_with(request).module_hash_hex

            with ThreadPoolExecutor(CALLERS) as pool:
                hashes = list(pool.map(create, range(CALLERS)))
            peak_kib = _status_kib(service.pid, "VmHWM")
            for client in clients:
                client.close()
    rise = (peak_kib - before_kib) * 1024
    with contextlib.closing(sqlite3.connect(tmp_path / "factory.sqlite3")) as db:
        stores = db.execute("SELECT count(*) FROM store_canisters WHERE canister_id IS NOT NULL").fetchone()[
            0
        ]
    attack.saw(
        f"{len(hashes)} of {CALLERS} installed through {stores} store canisters; resident memory "
        f"{before_kib // 1024} MiB before, peak {peak_kib // 1024} MiB during the installs (+{rise // MIB} MiB)"
    )
    assert hashes == expected
    assert rise <= RSS_BOUND, f"the service grew by {rise // MIB} MiB"
