"""Installing a stored module into a canister, whatever its size.

A module that fits one ingress message (2 MiB on an application subnet, with room for the argument and the
envelope) goes in one ``install_code``. A larger one is cut into 1 MiB chunks that are uploaded into the chunk
store of a **store canister** the factory controls, then installed with ``install_chunked_code``. Chunks stay in
the store between installs, and ``stored_chunks`` tells which are already there, so installing one module into
many canisters sends its bytes to the IC once. When the store would overflow (100 chunks), it is cleared first.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator

from canister_factory._core.errors import IcReject
from canister_factory.ports import (
    CHUNK_SIZE,
    MAX_CHUNKS_PER_STORE,
    CanisterSettings,
    InstallMode,
    ManagementPort,
)
from canister_factory.store.factory_repo import FactoryStore
from icp_client.principal import Principal

MAX_INGRESS_BYTES = 2 * 1024 * 1024
ENVELOPE_ALLOWANCE = 64 * 1024  # the envelope, the Candid framing and the rest of install_code's record
STORE_CANISTER_CYCLES = 1_000_000_000_000  # on top of the creation fee: pays for the chunks it keeps
MODULE_CACHE_BYTES = 64 * 1024 * 1024  # modules are immutable (keyed by their hash), so caching them is safe


class Installer:
    """Installs modules kept in ``store`` through ``ic``."""

    def __init__(self, store: FactoryStore, ic: ManagementPort, now_ns: Callable[[], int]) -> None:
        self.store = store
        self.ic = ic
        self._now = now_ns
        self._modules: OrderedDict[bytes, bytes] = OrderedDict()  # hash -> bytes, most recently used last
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def install(self, canister_id: Principal, mode: InstallMode, module_hash: bytes, arg: bytes) -> None:
        """Install the module ``module_hash`` with ``arg`` in ``canister_id``.

        Raises:
            IcError: the IC refused (the install is atomic: nothing changed) or could not be reached.
        """
        module = self._module(module_hash)
        if len(module) + len(arg) + ENVELOPE_ALLOWANCE <= MAX_INGRESS_BYTES:
            self.ic.install_code(canister_id=canister_id, mode=mode, wasm_module=module, arg=arg)
            return
        self._install_chunked(canister_id, mode, module, module_hash, arg)

    def _install_chunked(
        self, target: Principal, mode: InstallMode, module: bytes, module_hash: bytes, arg: bytes
    ) -> None:
        store = self.store_canister()
        hashes = self.upload_chunks(store, module)
        try:
            self._install_from_store(target, store, hashes, module_hash, mode, arg)
        except IcReject as exc:
            if "not found" not in exc.reject_message:
                raise
            # Another process cleared the store between our upload and the install: upload again, once.
            hashes = self.upload_chunks(store, module)
            self._install_from_store(target, store, hashes, module_hash, mode, arg)

    def _install_from_store(
        self,
        target: Principal,
        store: Principal,
        hashes: list[bytes],
        module_hash: bytes,
        mode: InstallMode,
        arg: bytes,
    ) -> None:
        self.ic.install_chunked_code(
            target_canister=target,
            store_canister=store,
            chunk_hashes=hashes,
            wasm_module_hash=module_hash,
            mode=mode,
            arg=arg,
        )

    def upload_chunks(self, store: Principal, module: bytes) -> list[bytes]:
        """Put the module's 1 MiB chunks into ``store``'s chunk store, skipping those already there."""
        pieces = list(_pieces(module))
        hashes = [hashlib.sha256(p).digest() for p in pieces]
        stored = set(self.ic.stored_chunks(canister_id=store))
        missing = [(h, p) for h, p in zip(hashes, pieces, strict=True) if h not in stored]
        if len(stored) + len({h for h, _ in missing}) > MAX_CHUNKS_PER_STORE:
            self.ic.clear_chunk_store(canister_id=store)
            stored = set()
            missing = list(zip(hashes, pieces, strict=True))
        for digest, piece in missing:
            if digest in stored:
                continue
            answer = self.ic.upload_chunk(canister_id=store, chunk=piece)
            if answer != digest:
                raise IcReject(5, f"upload_chunk returned hash {answer.hex()}, expected {digest.hex()}")
            stored.add(digest)
        return hashes

    def store_canister(self) -> Principal:
        """The factory's store canister, created on first use (paid from the factory's balance)."""
        with self.store.read() as repo:
            existing = repo.store_canister()
        if existing is not None:
            return existing
        amount = self.ic.creation_fee() + STORE_CANISTER_CYCLES
        created = self.ic.create_canister(
            amount=amount,
            settings=CanisterSettings(controllers=(self.ic.sender,)),
            created_at_time=self._now(),
        )
        with self.store.write() as repo:
            repo.bump(overhead_cycles_used=amount + self.ic.ledger_fee())
            existing = repo.store_canister()
            if existing is not None:
                # Another process won the race: ours joins the spare pool, to be reused by a creation.
                repo.add_spare(created.canister_id, 0, self._now())
                return existing
            repo.set_store_canister(created.canister_id)
        return created.canister_id

    def _module(self, module_hash: bytes) -> bytes:
        """The module's bytes; recently installed modules are kept in memory, up to ``MODULE_CACHE_BYTES``."""
        with self._lock:
            if module_hash in self._modules:
                self._modules.move_to_end(module_hash)
                return self._modules[module_hash]
        with self.store.read() as repo:
            module = repo.module_bytes(module_hash)
        if len(module) <= MODULE_CACHE_BYTES // 4:
            with self._lock:
                if module_hash not in self._modules:
                    self._modules[module_hash] = module
                    self._cached_bytes += len(module)
                while self._cached_bytes > MODULE_CACHE_BYTES:
                    _, evicted = self._modules.popitem(last=False)
                    self._cached_bytes -= len(evicted)
        return module


def _pieces(module: bytes) -> Iterator[bytes]:
    for start in range(0, len(module), CHUNK_SIZE):
        yield module[start : start + CHUNK_SIZE]
