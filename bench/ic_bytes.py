"""ic_bytes_ratio_nN: bytes the IC receives through upload_chunk while the factory, on the network backend,
installs one 5 MiB module into N new canisters, over the module's size (at least 1: the bytes must get there)."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.common import FUNDS, module_chunks
from canister_factory._core.config import InitArg
from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.bootstrap import Network, open_app
from icp_client.identity import generate_identity

MODULE_SIZE = 5 * 1024 * 1024
HERE = Path(__file__).resolve().parent
CYCLES = 1_000_000_000_000


@contextmanager
def front() -> Iterator[tuple[str, str]]:
    """``canister-factory local-network`` in its own process; yields its URL and root key (hex)."""
    with tempfile.TemporaryDirectory(prefix="cf-bench-front-", dir=HERE) as tmp:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        command = [
            sys.executable,
            "-m",
            "canister_factory",
            "--state",
            tmp,
            "local-network",
            "--port",
            str(port),
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert process.stdout is not None
            root_key = process.stdout.readline().split()[-1]
            url = f"http://127.0.0.1:{port}"
            _wait(url)
            yield url, root_key
        finally:
            process.terminate()
            process.wait(timeout=60)


def _wait(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(f"{url}/api/v2/status", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"no front at {url}")


def installed_bytes(n: int) -> int:
    """Bytes the front's upload_chunk received for N creations from one 5 MiB module."""
    module = b"".join(module_chunks(MODULE_SIZE, 1024 * 1024, seed=n))
    with front() as (url, root_key), tempfile.TemporaryDirectory(prefix="cf-bench-net-", dir=HERE) as tmp:
        app = open_app(Path(tmp), network=Network(url, root_key))
        try:
            caller = generate_identity().principal
            app.deploy(
                generate_identity().principal, InitArg(min_factory_cycles=0, max_canisters_per_caller=n + 1)
            )
            app.fund(FUNDS)
            factory = app.factory
            upload_id = factory.create_upload(caller)
            for index, start in enumerate(range(0, len(module), 1024 * 1024)):
                factory.put_chunk(caller, upload_id, module[start : start + 1024 * 1024], index)
            factory.commit_upload(caller, upload_id, hashlib.sha256(module).hexdigest())
            request = CreateInstallRequest(upload_id, b"", Mode.INSTALL, CYCLES, handoff=True)
            for _ in range(n):
                factory.create_and_install_with(caller, request)
            metrics = httpx.get(f"{url}/_front/metrics", timeout=10).json()
            return int(metrics["upload_chunk_bytes"])
        finally:
            app.close()


def run(counts: tuple[int, ...] = (1, 10, 100)) -> dict[str, float]:
    return {f"ic_bytes_ratio_n{n}": installed_bytes(n) / MODULE_SIZE for n in counts}
