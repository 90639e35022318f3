"""Installing a stored module into a canister, whatever its size, holding O(one chunk) of it in memory.

A module that fits one ingress message (2 MiB on an application subnet, with room for the argument and the
envelope) goes in one ``install_code``. A larger one is installed with ``install_chunked_code`` from a store
canister claimed for this install alone (``service.chunk_stores``): the module is read from the database chunk
by chunk and cut into the IC's 1 MiB chunks twice, once to hash them and once to upload those the store does not
hold yet, so an install holds one chunk of it at a time, whatever its size. Installing one module into many
canisters sends its chunks once (the store that last held it is preferred).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Protocol

from canister_factory._core.errors import IcUnexpected, NotFound
from canister_factory.ports import CHUNK_SIZE, MAX_CHUNKS_PER_STORE, InstallMode
from canister_factory.service.chunk_stores import ChunkStores, ClaimedStore
from canister_factory.service.context import Context
from canister_factory.unit_of_work import UnitOfWork
from icp_client.principal import Principal

MAX_INGRESS_BYTES = 2 * 1024 * 1024
ENVELOPE_ALLOWANCE = 64 * 1024  # the envelope, the Candid framing and the rest of install_code's record
MODULE_CACHE_BYTES = 64 * 1024 * 1024  # modules sent whole are small and immutable (keyed by hash): cached
RENEW_EVERY = 16  # chunks sent between renewals of the store's claim


class ModuleSource(Protocol):
    """Where the installer reads modules from, by hash."""

    def size(self, module_hash: bytes) -> int:
        """The module's size in bytes (raises NotFound if there is no such module)."""
        ...

    def read(self, module_hash: bytes) -> Iterable[bytes]:
        """The module's bytes in order, in pieces of any size (each read when it is needed)."""
        ...


class StoredModules:
    """The modules of the factory's database, read one stored chunk per short read transaction."""

    def __init__(self, store: UnitOfWork) -> None:
        self.store = store

    def size(self, module_hash: bytes) -> int:
        with self.store.read() as tx:
            size = tx.modules.size(module_hash)
        if size is None:
            raise NotFound(f"module {module_hash.hex()} is not stored")
        return size

    def read(self, module_hash: bytes) -> Iterator[bytes]:
        with self.store.read() as tx:
            ids = tx.modules.chunk_ids(module_hash)
        for data_id in ids:
            with self.store.read() as tx:
                data = tx.modules.chunk(data_id)
            yield data  # outside the transaction: the consumer may call the IC before asking for more


class Installer:
    """Installs modules read from ``modules`` (the factory's database by default) through ``ctx.ic``."""

    def __init__(self, ctx: Context, modules: ModuleSource | None = None) -> None:
        self.ctx = ctx
        self.ic = ctx.ic
        self.modules = modules or StoredModules(ctx.store)
        self.stores = ChunkStores(ctx)
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()  # hash -> bytes, most recently used last
        self._cached_bytes = 0
        self._lock = threading.Lock()

    def install(self, canister_id: Principal, mode: InstallMode, module_hash: bytes, arg: bytes) -> None:
        """Install the module ``module_hash`` with ``arg`` in ``canister_id``.

        Raises:
            IcError: the IC refused (the install is atomic: nothing changed) or could not be reached.
            StoresBusy, InsufficientCycles: a large module found no store canister to go through.
        """
        size = self.modules.size(module_hash)
        if size + len(arg) + ENVELOPE_ALLOWANCE <= MAX_INGRESS_BYTES:
            module = self._whole(module_hash)
            self.ic.install_code(canister_id=canister_id, mode=mode, wasm_module=module, arg=arg)
            return
        with self.stores.claim(module_hash) as store:
            hashes = self.upload_chunks(store, module_hash)
            self.ic.install_chunked_code(
                target_canister=canister_id,
                store_canister=store.canister_id,
                chunk_hashes=hashes,
                wasm_module_hash=module_hash,
                mode=mode,
                arg=arg,
            )

    def upload_chunks(self, store: ClaimedStore, module_hash: bytes) -> list[bytes]:
        """Put the module's 1 MiB chunks into the claimed store, skipping those it holds; returns their hashes."""
        hashes = [hashlib.sha256(piece).digest() for piece in self._pieces(module_hash)]
        stored = set(self.ic.stored_chunks(canister_id=store.canister_id))
        missing = set(hashes) - stored
        if len(stored) + len(missing) > MAX_CHUNKS_PER_STORE:
            self.ic.clear_chunk_store(canister_id=store.canister_id)
            missing = set(hashes)
        if missing:
            self.stores.fund_for(store, len(missing))
        sent = 0
        for piece in self._pieces(module_hash):
            digest = hashlib.sha256(piece).digest()
            if digest not in missing:
                continue
            answer = self.ic.upload_chunk(canister_id=store.canister_id, chunk=piece)
            if answer != digest:
                raise IcUnexpected(f"upload_chunk returned hash {answer.hex()}, expected {digest.hex()}")
            missing.discard(digest)
            sent += 1
            if sent % RENEW_EVERY == 0:
                self.stores.renew(store)
        return hashes

    def _pieces(self, module_hash: bytes) -> Iterator[bytes]:
        """The module cut into the IC's chunks, reading it as it goes."""
        return rechunk(self.modules.read(module_hash), CHUNK_SIZE)

    def _whole(self, module_hash: bytes) -> bytes:
        """A module small enough for one message; recently installed ones are kept, up to ``MODULE_CACHE_BYTES``."""
        with self._lock:
            if module_hash in self._cache:
                self._cache.move_to_end(module_hash)
                return self._cache[module_hash]
        module = b"".join(self.modules.read(module_hash))
        with self._lock:
            if module_hash not in self._cache:
                self._cache[module_hash] = module
                self._cached_bytes += len(module)
            while self._cached_bytes > MODULE_CACHE_BYTES:
                _, evicted = self._cache.popitem(last=False)
                self._cached_bytes -= len(evicted)
        return module


def rechunk(pieces: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The bytes of ``pieces`` again, in chunks of exactly ``size`` (the last one shorter), holding one chunk."""
    buffer = bytearray()
    for piece in pieces:
        buffer += piece
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)
