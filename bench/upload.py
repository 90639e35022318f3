"""upload_inproc_ratio, upload_http_ratio, upload_*_mbps, upload_peak_mib.

The floor is the least any verifying, durable upload must do on this machine: hash the same bytes with SHA-256
and write them to a plain file, fsync after each 1 MiB chunk, in a simple loop.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import deployed, module_chunks, module_sha256
from canister_factory._core.config import InitArg

MODULE_SIZE = 50_000_000
PEAK_MODULE_SIZE = 100_000_000
CHUNK = 1024 * 1024
HERE = Path(__file__).resolve().parent


def floor_seconds(size: int = MODULE_SIZE) -> float:
    with tempfile.NamedTemporaryFile(dir=HERE) as f:
        started = time.perf_counter()
        digest = hashlib.sha256()
        for piece in module_chunks(size, CHUNK):
            digest.update(piece)
            f.write(piece)
            f.flush()
            os.fsync(f.fileno())
        digest.hexdigest()
        return time.perf_counter() - started - _generation_seconds(size)


def _generation_seconds(size: int) -> float:
    """Generating the pseudo-random module costs time too; it is subtracted from every measurement alike."""
    started = time.perf_counter()
    for _ in module_chunks(size, CHUNK):
        pass
    return time.perf_counter() - started


def inproc_seconds(size: int = MODULE_SIZE) -> float:
    init = InitArg(min_factory_cycles=0, max_upload_size=size)
    sha = module_sha256(size, CHUNK)
    with deployed(init) as b:
        factory, caller = b.app.factory, b.caller
        started = time.perf_counter()
        upload_id = factory.create_upload(caller)
        for index, piece in enumerate(module_chunks(size, CHUNK)):
            factory.put_chunk(caller, upload_id, piece, index)
        factory.commit_upload(caller, upload_id, sha)
        return time.perf_counter() - started - _generation_seconds(size)


def http_seconds(size: int = MODULE_SIZE) -> float:
    """The same upload through the HTTP service on loopback (a separate process), signed requests."""
    from bench.service import served

    sha = module_sha256(size, CHUNK)
    with served(InitArg(min_factory_cycles=0, max_upload_size=size)) as (client, _url):
        started = time.perf_counter()
        upload_id = client.create_upload()
        for index, piece in enumerate(module_chunks(size, CHUNK)):
            client.put_chunk(upload_id, piece, index)
        client.commit_upload(upload_id, sha)
        return time.perf_counter() - started - _generation_seconds(size)


PEAK_CHILD = """
import sys, time
from bench.common import deployed, module_chunks, module_sha256
from canister_factory._core.config import InitArg

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024

size, chunk = int(sys.argv[1]), int(sys.argv[2])
sha = module_sha256(size, chunk)
with deployed(InitArg(min_factory_cycles=0, max_upload_size=size)) as b:
    factory, caller = b.app.factory, b.caller
    warm = factory.create_upload(caller)                   # warm the code paths first
    factory.put_chunk(caller, warm, next(module_chunks(chunk, chunk)), 0)
    idle = status("VmRSS:")
    open("/proc/self/clear_refs", "w").write("5")          # reset the peak (VmHWM) to the current size
    upload_id = factory.create_upload(caller)
    for index, piece in enumerate(module_chunks(size, chunk)):
        factory.put_chunk(caller, upload_id, piece, index)
    factory.commit_upload(caller, upload_id, sha)
    print(status("VmHWM:") - idle)
"""


def peak_mib(size: int = PEAK_MODULE_SIZE) -> float:
    """Peak memory of a factory process above its idle size while it takes a ``size``-byte upload."""
    out = subprocess.run(
        [sys.executable, "-c", PEAK_CHILD, str(size), str(CHUNK)],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
    )
    return float(out.stdout.strip().splitlines()[-1])


def run() -> dict[str, float]:
    floor = floor_seconds()
    inproc = inproc_seconds()
    http = http_seconds()
    return {
        "upload_floor_mbps": MODULE_SIZE / floor / 1e6,
        "upload_inproc_mbps": MODULE_SIZE / inproc / 1e6,
        "upload_http_mbps": MODULE_SIZE / http / 1e6,
        "upload_inproc_ratio": floor / inproc,
        "upload_http_ratio": floor / http,
        "upload_peak_mib": peak_mib(),
    }
