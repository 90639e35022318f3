"""Module checks for the engine: :mod:`icp_client.wasm`'s checks (the IC's rules, with the replica's texts), and
their refusals as the IC reports them at install (``IC0505 Canister's Wasm module is not valid: ...``).

A module that is not well formed (the walker's or the parser's :class:`~icp_client.wasm.WasmFormatError`, or a
broken gzip stream) is reported as ``Failed to decode wasm module: <what>``, as the replica prefixes decoding
errors; the IC's rules keep the replica's own texts. wasmtime validates the code when the engine compiles it
(:mod:`.modules`).
"""

from __future__ import annotations

from icp_client.errors import InvalidModule
from icp_client.wasm import CheckedModule, ModuleFacts, WasmFormatError, inspect_module

from .errors import ModuleError, user_help

__all__ = ["ModuleInfo", "check", "module_error"]

ModuleInfo = ModuleFacts
"""What the engine needs to know about a valid module (:class:`icp_client.wasm.ModuleFacts`)."""


def check(wasm: bytes) -> CheckedModule:
    """Decompresses and checks a module (raw or gzipped) as the IC does.

    Raises:
        ModuleError: with the replica's text, if the IC would refuse the module.
    """
    try:
        return inspect_module(wasm)
    except InvalidModule as exc:
        raise module_error(exc) from None


def module_error(exc: InvalidModule) -> ModuleError:
    """The engine's :class:`ModuleError` for a refusal of :mod:`icp_client.wasm`."""
    if isinstance(exc, WasmFormatError):
        return ModuleError(f"Failed to decode wasm module: {exc}")
    if exc.suggestion:
        return ModuleError(str(exc), user_help(exc.suggestion, exc.doc_anchor))
    return ModuleError(str(exc))
