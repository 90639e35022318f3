"""Installing one 5 MiB module into 10 canisters through the network backend sends its chunks once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from canister_factory._core.config import InitArg
from canister_factory.ic.network import NetworkManagement
from canister_factory.ports import InstallMode
from canister_factory.service import admin
from canister_factory.service.context import Context
from canister_factory.service.installer import Installer
from canister_factory.store.db import Database
from canister_factory.store.sql import SqlUnitOfWork
from icp_local import LocalIc
from icp_local.front import RunningFront
from tests.support.wasm_modules import large_module

T = 1_000_000_000_000
MIB = 1024 * 1024


class _InMemory:
    """A module source holding one module in memory instead of the factory's upload tables."""

    def __init__(self, module: bytes) -> None:
        self._bytes = module

    def size(self, module_hash: bytes) -> int:
        assert module_hash == hashlib.sha256(self._bytes).digest()
        return len(self._bytes)

    def read(self, module_hash: bytes) -> list[bytes]:
        assert module_hash == hashlib.sha256(self._bytes).digest()
        return [self._bytes]


def test_one_module_into_ten_canisters_uploads_each_chunk_once(
    front: RunningFront, network: NetworkManagement, engine: LocalIc, tmp_path: Path
) -> None:
    module = large_module(5 * MIB, seed=11)
    digest = hashlib.sha256(module).digest()
    db = Database.open(f"sqlite:///{tmp_path / 'factory.sqlite3'}")
    ctx = Context(store=SqlUnitOfWork(db), ic=network, clock=engine.clock)
    admin.deploy(ctx, network.sender, InitArg(min_factory_cycles=0), network=front.url)
    installer = Installer(ctx, _InMemory(module))
    targets = [
        network.create_canister(
            amount=network.creation_fee() + T, settings=None, created_at_time=engine.clock.now_ns()
        ).canister_id
        for _ in range(10)
    ]
    for canister in targets:
        installer.install(canister, InstallMode.INSTALL, digest, b"")
    assert all(network.read_module_hash(canister_id=c) == digest for c in targets)
    metrics = httpx.get(f"{front.url}/_front/metrics").json()
    assert metrics["upload_chunk_bytes"] == len(module)
    assert metrics["upload_chunk_calls"] == 5
    db.dispose()
