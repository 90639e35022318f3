"""Shared pieces of the benchmarks: a deployed factory in a temporary folder, timing, module bytes."""

from __future__ import annotations

import hashlib
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from canister_factory._core.config import InitArg
from canister_factory.bootstrap import App, open_app
from icp_client.identity import generate_identity
from icp_client.principal import Principal

FUNDS = 10**18
WASM_HEADER = b"\x00asm\x01\x00\x00\x00"


@dataclass
class Bench:
    app: App
    admin: Principal
    caller: Principal
    folder: Path


@contextmanager
def deployed(init: InitArg | None = None, *, database_url: str | None = None) -> Iterator[Bench]:
    """A factory deployed in a fresh temporary folder (on the same disk as the project), funded."""
    with tempfile.TemporaryDirectory(prefix="cf-bench-", dir=Path(__file__).resolve().parent) as tmp:
        app = open_app(Path(tmp) / "state", database_url=database_url)
        admin, caller = generate_identity().principal, generate_identity().principal
        app.factory.deploy(admin, init or InitArg(min_factory_cycles=0))
        app.fund(FUNDS)
        try:
            yield Bench(app, admin, caller, Path(tmp))
        finally:
            app.close()


def module_chunks(size: int, chunk: int, seed: int = 1) -> Iterator[bytes]:
    """A valid Wasm module of exactly ``size`` bytes (one custom section of random padding), in pieces.

    Generated piece by piece so that the benchmark process never holds the whole module.
    """
    name = b"padding"
    payload = size - len(WASM_HEADER) - 1 - 5 - 1 - len(name)
    header = WASM_HEADER + b"\x00" + _leb128_fixed5(payload + 1 + len(name)) + bytes([len(name)]) + name
    rng = random.Random(seed)
    produced = 0
    first = header + rng.randbytes(max(0, chunk - len(header)))
    yield first[:size]
    produced = len(first)
    while produced < size:
        piece = rng.randbytes(min(chunk, size - produced))
        produced += len(piece)
        yield piece


def module_sha256(size: int, chunk: int, seed: int = 1) -> str:
    digest = hashlib.sha256()
    for piece in module_chunks(size, chunk, seed):
        digest.update(piece)
    return digest.hexdigest()


def _leb128_fixed5(value: int) -> bytes:
    out = bytearray()
    for i in range(5):
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if i < 4 else 0))
    return bytes(out)


def timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def median(values: list[float]) -> float:
    return statistics.median(values)
