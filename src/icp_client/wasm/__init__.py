"""Canister modules as the IC sees them: one section walker, bounded gzip, the IC's rules, and validation.

``install_code`` takes a module either as raw Wasm (``00 61 73 6D``, version 1) or gzip-compressed
(``1F 8B 08``); the IC reports ``module_hash`` as the SHA-256 of the bytes exactly as installed, i.e. of the
*compressed* bytes for a gzip module, and refuses a module (compressed or not) over 100 MiB.

::

    _sections   SectionWalker / walk        the one walker of section headers, whole or streamed, constant memory;
                                            icp: metadata sections and their rules (at most 16, 1 MiB in all)
    _gzip       GzipStream / decompress_bounded   gzip with a hard bound on the output
    _stream     ModuleStream                a module, raw or gzip, fed in pieces: bounded inflate, then the walker
    _binary     parse -> WasmModule         types, imports, functions, memories, globals, exports, start
    _system_api API, signature              every ic0 function with its 32/64-bit signature and availability
    _rules      check_rules -> ModuleFacts  the IC's rules on imports, exports and limits (the replica's texts)
    _validate   validate_canister_module    all of the above, then wasmtime's Module.validate with the IC's features

Every refusal is an :class:`~icp_client.errors.InvalidModule` whose message says what is wrong. The local IC's
install and the factory's upload commit both use :func:`validate_canister_module` (the local IC through
:func:`inspect_module`, as it compiles the module anyway).
"""

from __future__ import annotations

import hashlib

from icp_client.errors import InvalidModule
from icp_client.management import UpgradeFlags, WasmMemoryPersistence
from icp_client.wasm._binary import (
    ExportKind,
    FuncType,
    Global,
    Import,
    Limits,
    WasmModule,
    parse,
)
from icp_client.wasm._gzip import GZIP_MAGIC, GzipStream, decompress_bounded, is_gzip
from icp_client.wasm._rules import (
    EOP_SECTION,
    EXPORT_GLOBAL_PREFIX,
    EXPORT_MEMORY,
    EXPORT_START,
    EXPORT_TABLE,
    MAX_WASM_SIZE,
    ModuleFacts,
    check_rules,
    check_size,
)
from icp_client.wasm._sections import (
    ICP_PRIVATE,
    ICP_PUBLIC,
    MAX_CUSTOM_SECTIONS,
    MAX_CUSTOM_SECTIONS_SIZE,
    WASM_HEADER,
    WASM_MAGIC,
    WASM_VERSION,
    Section,
    SectionWalker,
    WasmFormatError,
    walk,
)
from icp_client.wasm._stream import ModuleStream
from icp_client.wasm._system_api import API, ApiFunction, signature
from icp_client.wasm._validate import (
    CheckedModule,
    inspect_module,
    validate_canister_module,
    wasm_features,
    wasmtime_refusal,
)

__all__ = [
    "API",
    "EOP_SECTION",
    "EXPORT_GLOBAL_PREFIX",
    "EXPORT_MEMORY",
    "EXPORT_START",
    "EXPORT_TABLE",
    "GZIP_MAGIC",
    "ICP_PRIVATE",
    "ICP_PUBLIC",
    "MAX_CUSTOM_SECTIONS",
    "MAX_CUSTOM_SECTIONS_SIZE",
    "MAX_WASM_SIZE",
    "WASM_HEADER",
    "WASM_MAGIC",
    "WASM_VERSION",
    "ApiFunction",
    "CheckedModule",
    "ExportKind",
    "FuncType",
    "Global",
    "GzipStream",
    "Import",
    "InvalidModule",
    "Limits",
    "ModuleFacts",
    "ModuleStream",
    "Section",
    "SectionWalker",
    "WasmFormatError",
    "WasmModule",
    "check_rules",
    "check_size",
    "decompress_bounded",
    "inspect_module",
    "is_gzip",
    "module_hash",
    "parse",
    "signature",
    "upgrade_flags",
    "validate_canister_module",
    "walk",
    "wasm_features",
    "wasmtime_refusal",
]


def upgrade_flags(module: bytes) -> UpgradeFlags | None:
    """The upgrade options that installing ``module`` as an upgrade needs, as dfx and icp-cli choose them.

    A module with enhanced orthogonal persistence (``icp:private enhanced-orthogonal-persistence``) keeps its
    Wasm memory (``wasm_memory_persistence = keep``; the IC refuses such an upgrade without the option); any
    other module replaces it (``replace``: what an upgrade does to a classic module anyway, and what the IC asks
    for when the module it replaces had enhanced orthogonal persistence). A module that is not readable gets None
    (the install will say why).
    """
    stream = ModuleStream(MAX_WASM_SIZE)
    try:
        stream.feed(module)
        stream.finish()
    except InvalidModule:
        return None
    names = stream.walker.icp_sections
    if any(name.endswith(" " + EOP_SECTION) for name in names):
        return UpgradeFlags(wasm_memory_persistence=WasmMemoryPersistence.KEEP)
    return UpgradeFlags(wasm_memory_persistence=WasmMemoryPersistence.REPLACE)


def module_hash(data: bytes) -> bytes:
    """SHA-256 of ``data`` as given: what ``canister_status`` reports as ``module_hash`` after install."""
    return hashlib.sha256(data).digest()
