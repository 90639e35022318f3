"""Installing one 5 MiB module into 10 canisters through the network backend sends its chunks once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx

from canister_factory.ic.network import NetworkManagement
from canister_factory.ports import InstallMode, ManagementPort
from canister_factory.service import admin
from canister_factory.service.context import Context
from canister_factory.service.installer import Installer
from canister_factory.store.db import Database
from canister_factory.store.factory_repo import FactoryStore
from icp_local import LocalIc
from icp_local.front import RunningFront
from tests.support.wasm_modules import large_module

T = 1_000_000_000_000
MIB = 1024 * 1024


class _ModuleInstaller(Installer):
    """The factory's Installer with the module held in memory instead of the factory's upload tables."""

    def __init__(
        self, store: FactoryStore, ic: ManagementPort, now_ns: Callable[[], int], module: bytes
    ) -> None:
        super().__init__(store, ic, now_ns)
        self._bytes = module

    def _module(self, module_hash: bytes) -> bytes:
        assert module_hash == hashlib.sha256(self._bytes).digest()
        return self._bytes


def test_one_module_into_ten_canisters_uploads_each_chunk_once(
    front: RunningFront, network: NetworkManagement, engine: LocalIc, tmp_path: Path
) -> None:
    module = large_module(5 * MIB, seed=11)
    digest = hashlib.sha256(module).digest()
    db = Database.open(f"sqlite:///{tmp_path / 'factory.sqlite3'}")
    ctx = Context(store=FactoryStore(db), ic=network, clock=engine.clock)
    admin.deploy(ctx, network.sender, None, network=front.url)
    installer = _ModuleInstaller(ctx.store, network, engine.clock.now_ns, module)
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
