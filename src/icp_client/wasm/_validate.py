"""A canister module checked as the IC will check it: decompressed, walked, the IC's rules, and wasmtime.

:func:`inspect_module` does everything but validating the Wasm code (what a local IC that compiles the module
anyway needs); :func:`validate_canister_module` adds wasmtime's ``Module.validate`` with the Wasm features the IC
enables (:func:`wasm_features`).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

import wasmtime

from icp_client.errors import InvalidModule
from icp_client.wasm._binary import WasmModule
from icp_client.wasm._gzip import decompress_bounded, is_gzip
from icp_client.wasm._rules import MAX_WASM_SIZE, ModuleFacts, check_rules, check_size
from icp_client.wasm._sections import walk

__all__ = ["CheckedModule", "inspect_module", "validate_canister_module", "wasm_features"]


@dataclass(frozen=True)
class CheckedModule:
    """A module that passed the checks.

    Attributes:
        module_hash: SHA-256 of the bytes as given (the compressed bytes for gzip), as the IC reports it.
        compressed: it was given gzip-compressed.
        wasm: the raw module.
        parsed: its sections as read (types, imports, exports, ...).
        facts: what the IC learns about it (methods, entry points, persistence, ``icp:`` sections).
    """

    module_hash: bytes
    compressed: bool
    wasm: bytes
    parsed: WasmModule
    facts: ModuleFacts


def wasm_features(config: wasmtime.Config) -> wasmtime.Config:
    """``config`` with the Wasm features the IC enables, and deterministic floats; returns it.

    NaN canonicalisation on; threads, relaxed SIMD, multi-memory, tail calls, GC, exceptions and function
    references off; SIMD, bulk memory, reference types, multi-value and memory64 on; compilation on the
    calling thread only (fork-safe).
    """
    config.cranelift_nan_canonicalization = True
    config.wasm_threads = False
    config.wasm_relaxed_simd = False
    config.wasm_multi_memory = False
    config.wasm_tail_call = False
    config.wasm_gc = False
    config.wasm_function_references = False
    config.wasm_exceptions = False
    config.wasm_simd = True
    config.wasm_bulk_memory = True
    config.wasm_reference_types = True
    config.wasm_multi_value = True
    config.wasm_memory64 = True
    # No compilation threads: wasmtime's thread pool does not survive fork(), and a forked process that
    # compiles (a factory worker, a test's child process) would wait for threads that are not there.
    config.parallel_compilation = False
    return config


def inspect_module(data: bytes) -> CheckedModule:
    """Decompresses (bounded), walks and checks ``data`` against the IC's rules, without validating the code.

    Raises:
        InvalidModule: what the IC would refuse, in the replica's words where it has them.
    """
    check_size(len(data))
    compressed = is_gzip(data)
    wasm = decompress_bounded(data, MAX_WASM_SIZE) if compressed else data
    check_size(len(wasm))
    where = " (after gzip decompression)" if compressed else ""
    parsed, facts = check_rules(wasm, walk(wasm, where))
    return CheckedModule(hashlib.sha256(data).digest(), compressed, wasm, parsed, facts)


def validate_canister_module(data: bytes) -> CheckedModule:
    """Checks ``data`` (raw or gzipped) as the IC will at install: :func:`inspect_module`, then wasmtime.

    Raises:
        InvalidModule: with a message saying what is wrong.
    """
    checked = inspect_module(data)
    try:
        wasmtime.Module.validate(_engine(), checked.wasm)
    except wasmtime.WasmtimeError as exc:
        raise InvalidModule(wasmtime_refusal(exc)) from None
    return checked


def wasmtime_refusal(exc: Exception) -> str:
    """The replica's text for a module wasmtime refuses."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"Wasmtime failed to validate wasm module wasmtime::Module::validate() failed with {first}"


@functools.cache
def _engine() -> wasmtime.Engine:
    return wasmtime.Engine(wasm_features(wasmtime.Config()))
