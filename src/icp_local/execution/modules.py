"""Module preparation: the deterministic wasmtime configuration, validation, rewriting, compilation
and a cache of compiled modules keyed by the module's hash.

:class:`ModuleCache` turns the bytes a user installs into a :class:`PreparedModule` once per distinct
module: it validates (:mod:`.validation`), rewrites (:mod:`.wasm_binary`), compiles with wasmtime and
keeps the result in memory; with a directory it also keeps ``Module.serialize()`` output there, so a
restarted process deserializes (about 1 ms) instead of compiling (about 200 ms for the counter).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import wasmtime

from icp_client.wasm import wasm_features, wasmtime_refusal

from .errors import ModuleError
from .validation import ModuleInfo, check
from .wasm_binary import rewrite

__all__ = ["MEMORY_RESERVATION", "ModuleCache", "PreparedModule", "engine_config"]

MEMORY_RESERVATION = 8 << 30
"""Address space wasmtime reserves per linear memory: the memory never moves (6 GiB Wasm64 limit fits)."""

_CACHE_FORMAT = "icp-local-exec-1"
DEFAULT_CACHED_MODULES = 64
"""Compiled modules an engine keeps in memory (least recently used dropped first)."""


def engine_config() -> wasmtime.Config:
    """wasmtime settings for deterministic canister execution with fuel and fixed, file-mappable memories.

    The IC's Wasm features (:func:`icp_client.wasm.wasm_features`: NaN canonicalisation, no threads, relaxed
    SIMD, multi-memory, tail calls, GC, exceptions or function references; SIMD, bulk memory, reference
    types, multi-value and memory64).  Memories are reserved once and never move, and not initialised copy-on-write
    by wasmtime, so that :class:`.heap.Heap` can map its memory file over them.
    """
    config = wasm_features(wasmtime.Config())
    config.consume_fuel = True
    config.memory_reservation = MEMORY_RESERVATION
    config.memory_may_move = False
    config.memory_init_cow = False
    return config


@dataclass(frozen=True)
class PreparedModule:
    """A validated, rewritten and compiled module, ready to instantiate.

    Attributes:
        module_hash: SHA-256 of the module as installed (what ``canister_status`` reports).
        info: what validation learned (methods, entry points, globals, persistence).
        imports: the ``ic0`` functions it imports, in order.
        compiled: the wasmtime module (rewritten: ``canister_start`` and reserved exports).
    """

    module_hash: bytes
    info: ModuleInfo
    imports: tuple[str, ...]
    compiled: wasmtime.Module


class ModuleCache:
    """Prepares modules once per hash (the ``capacity`` most recently used kept in memory; thread-safe);
    compiled code can also be cached on disk (``directory``)."""

    def __init__(
        self, engine: wasmtime.Engine, directory: Path | None = None, capacity: int = DEFAULT_CACHED_MODULES
    ) -> None:
        self.engine = engine
        self._directory = directory
        self._capacity = capacity
        self._prepared: OrderedDict[bytes, PreparedModule] = OrderedDict()
        self._lock = threading.Lock()

    def prepare(self, wasm: bytes) -> PreparedModule:
        """Validates, rewrites and compiles ``wasm`` (raw or gzipped), or returns the cached result.

        Raises:
            ModuleError: if the IC would refuse the module (with the replica's text).
        """
        module_hash = hashlib.sha256(wasm).digest()
        with self._lock:
            cached = self._prepared.get(module_hash)
            if cached is not None:
                self._prepared.move_to_end(module_hash)
                return cached
        checked = check(wasm)
        rewritten = rewrite(checked.wasm, checked.parsed)
        imports = tuple(i.name for i in checked.parsed.imported_functions())
        prepared = PreparedModule(module_hash, checked.facts, imports, self._compile(rewritten))
        with self._lock:
            self._prepared[module_hash] = prepared
            while len(self._prepared) > self._capacity:
                self._prepared.popitem(last=False)
        return prepared

    def _compile(self, wasm: bytes) -> wasmtime.Module:
        path = self._cache_path(wasm)
        if path is not None and path.exists():
            try:
                return wasmtime.Module.deserialize_file(self.engine, str(path))
            except wasmtime.WasmtimeError:
                path.unlink(missing_ok=True)
        try:
            compiled = wasmtime.Module(self.engine, wasm)
        except wasmtime.WasmtimeError as exc:
            raise ModuleError(wasmtime_refusal(exc)) from exc
        if path is not None:
            _write_atomically(path, bytes(compiled.serialize()))
        return compiled

    def _cache_path(self, wasm: bytes) -> Path | None:
        if self._directory is None:
            return None
        version = metadata.version("wasmtime")
        key = hashlib.sha256(f"{_CACHE_FORMAT}/{version}/".encode() + wasm).hexdigest()
        return self._directory / f"{key}.cwasm"


def _write_atomically(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file and a rename (concurrent processes are safe)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
