"""Module validation as the IC does it, with the replica's error texts, and what the engine learns.

:func:`validate` checks a (decompressed) module against the interface specification's module
requirements and the limits of ``resource-limits.md`` and returns a :class:`ModuleInfo`: the width of its
pointers, its methods by kind, its system entry points, its mutable globals and whether it asks for
enhanced orthogonal persistence.  Compilation by wasmtime (which also checks the Wasm itself) is the
engine's job (:mod:`.modules`).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

from .api_table import API, signature
from .errors import ModuleError
from .wasm_binary import (
    EXPORT_GLOBAL_PREFIX,
    EXPORT_MEMORY,
    EXPORT_START,
    EXPORT_TABLE,
    ExportKind,
    FuncType,
    WasmFormatError,
    WasmModule,
    parse,
)

__all__ = ["MAX_MODULE_SIZE", "ModuleInfo", "decompress", "validate"]

GZIP_MAGIC = b"\x1f\x8b\x08"
MAX_MODULE_SIZE = 100 * 1024 * 1024
MAX_CODE_SECTION_SIZE = 10 * 1024 * 1024
MAX_FUNCTIONS = 50_000
MAX_GLOBALS = 1_000
MAX_EXPORTED_METHODS = 1_000
MAX_EXPORTED_NAME_LENGTHS = 20_000
MAX_CUSTOM_SECTIONS = 16
MAX_CUSTOM_SECTIONS_SIZE = 1024 * 1024
EOP_SECTION = "enhanced-orthogonal-persistence"

_SYSTEM_EXPORTS = frozenset(
    {
        "canister_init",
        "canister_pre_upgrade",
        "canister_post_upgrade",
        "canister_inspect_message",
        "canister_heartbeat",
        "canister_global_timer",
        "canister_on_low_wasm_memory",
    }
)
_METHOD_PREFIXES = ("canister_update ", "canister_query ", "canister_composite_query ")
_RESERVED = frozenset({"canister counter_instructions", EXPORT_START, EXPORT_MEMORY, EXPORT_TABLE})
_UNIT = FuncType((), ())


@dataclass(frozen=True)
class ModuleInfo:
    """What the engine needs to know about a valid module.

    Attributes:
        is64: pointers are ``i64`` (the module's memory is a memory64).
        updates, queries, composite_queries: method names by kind.
        system: the system entry points it exports (``canister_init``, ...).
        has_start: it has a start function (run as ``canister_start``).
        has_memory: it declares a memory.
        mutable_globals: indices of its mutable globals (saved and restored with the state).
        enhanced_persistence: it carries ``icp:private enhanced-orthogonal-persistence`` (or public).
        custom_sections: ``icp:public``/``icp:private`` sections as (name, public, payload).
    """

    is64: bool
    updates: frozenset[str]
    queries: frozenset[str]
    composite_queries: frozenset[str]
    system: frozenset[str]
    has_start: bool
    has_memory: bool
    mutable_globals: tuple[int, ...]
    enhanced_persistence: bool
    custom_sections: tuple[tuple[str, bool, bytes], ...]


def decompress(data: bytes) -> bytes:
    """The raw module: ``data`` itself, or its gzip-decompressed content if it starts with gzip magic.

    Raises:
        ModuleError: if the gzip stream is broken or the result exceeds the module size limit.
    """
    if data[:3] != GZIP_MAGIC:
        return data
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ModuleError(f"Failed to decode wasm module: gzip decompression failed: {exc}") from exc
    return raw


def validate(data: bytes) -> tuple[WasmModule, ModuleInfo]:
    """Checks a raw (decompressed) module as the IC does and returns its parse and what it exposes.

    Raises:
        ModuleError: with the replica's text, if the IC would refuse the module.
    """
    _check_size(data)
    try:
        module = parse(data)
    except WasmFormatError as exc:
        raise ModuleError(f"Failed to decode wasm module: {exc}") from exc
    if module.code_section_size > MAX_CODE_SECTION_SIZE:
        raise ModuleError.user(
            f"Wasm module code section size of {module.code_section_size} exceeds the maximum allowed size of "
            f"{MAX_CODE_SECTION_SIZE}.",
            "Try shrinking the module code section using tools like `ic-wasm` or splitting the logic across "
            "multiple canisters.",
            "wasm-module-code-section-too-large",
        )
    is64 = _check_memories(module)
    _check_imports(module, is64)
    methods = _check_exports(module)
    _check_counts(module)
    sections = _check_custom_sections(module)
    return module, _info(module, is64, methods, sections)


def _check_size(data: bytes) -> None:
    if len(data) > MAX_MODULE_SIZE:
        raise ModuleError.user(
            f"Wasm module size of {len(data)} exceeds the maximum allowed size of {MAX_MODULE_SIZE}.",
            "Try shrinking the module using tools like `ic-wasm` or splitting the logic across multiple canisters.",
            "wasm-module-too-large",
        )


def _check_memories(module: WasmModule) -> bool:
    """At most one memory; returns whether it is a memory64 (pointers ``i64``)."""
    memories = module.all_memories()
    if len(memories) > 1:
        raise ModuleError(f"Wasm module has {len(memories)} memory sections but should have had 1")
    return bool(memories) and memories[0].is64


def _check_imports(module: WasmModule, is64: bool) -> None:
    for entry in module.imports:
        if entry.kind == ExportKind.GLOBAL:
            raise ModuleError("Wasm module has an invalid import section. Importing globals is not allowed.")
        if entry.kind != ExportKind.FUNC:
            raise ModuleError(
                f"Wasm module has an invalid import section. Module imports {entry.module}.{entry.name}, "
                "but only function imports from ic0 are supported here."
            )
        _check_function_import(module, entry.module, entry.name, entry.type_index, is64)


def _check_function_import(module: WasmModule, source: str, name: str, type_index: int, is64: bool) -> None:
    function = API.get(name)
    if function is None or (function.only32 and is64):
        raise ModuleError(
            f"Wasm module has an invalid import section. Module imports function '{name}' from '{source}' "
            "that is not exported by the runtime."
        )
    if source != "ic0":
        raise ModuleError(
            f'Wasm module has an invalid import section. Module imports function "{name}" from "{source}", '
            'expected to be imported from one of ["ic0"] instead.'
        )
    _check_signature(signature(function, is64), name, module.types[type_index])


def _check_signature(expected: FuncType, name: str, actual: FuncType) -> None:
    if actual.params != expected.params:
        raise ModuleError(
            f"Wasm module has an invalid function signature. Expected input params {_types(expected.params)} "
            f"for '{name}', got {_types(actual.params)}."
        )
    if actual.results != expected.results:
        raise ModuleError(
            f"Wasm module has an invalid function signature. Expected return type {_types(expected.results)} "
            f"for '{name}', got {_types(actual.results)}."
        )


def _types(values: tuple[str, ...]) -> str:
    """Value types as the replica prints them (``[I32, I64]``)."""
    return "[" + ", ".join(v.upper() for v in values) + "]"


def _check_exports(module: WasmModule) -> dict[str, set[str]]:
    """Checks the export rules; returns the method names by kind prefix."""
    methods: dict[str, set[str]] = {prefix: set() for prefix in _METHOD_PREFIXES}
    seen: set[str] = set()
    for name, kind, index in module.exports:
        if name in _RESERVED or name.startswith(EXPORT_GLOBAL_PREFIX):
            raise ModuleError(
                f"Wasm module has an invalid export section. Exporting reserved symbol {name} not allowed."
            )
        if kind == ExportKind.FUNC:
            _check_function_export(module, name, index, methods, seen)
    _check_method_limits(seen)
    return methods


def _check_function_export(
    module: WasmModule, name: str, index: int, methods: dict[str, set[str]], seen: set[str]
) -> None:
    prefix = next((p for p in _METHOD_PREFIXES if name.startswith(p)), None)
    if prefix is not None:
        method = name[len(prefix) :]
        if method in seen:
            raise ModuleError.user(
                f"Duplicate function '{method}' exported multiple times with different call types: update, query, "
                "or composite_query.",
                f"Try defining different versions of the function for each call type, e.g. `{method}_update`, "
                f"`{method}_query`, etc.",
                "wasm-module-duplicate-exports",
            )
        seen.add(method)
        methods[prefix].add(method)
    elif name.startswith("canister_") and name not in _SYSTEM_EXPORTS:
        raise ModuleError(
            f"Wasm module has an invalid export section. Exporting reserved function '{name}' with \"canister_\" prefix"
        )
    if prefix is not None or name in _SYSTEM_EXPORTS:
        _check_signature(_UNIT, name, module.function_type(index))


def _check_method_limits(seen: set[str]) -> None:
    if len(seen) > MAX_EXPORTED_METHODS:
        raise ModuleError.user(
            "The number of exported functions called `canister_update <name>`, `canister_query <name>`, or "
            f"`canister_composite_query <name>` is {len(seen)} which exceeds {MAX_EXPORTED_METHODS}.",
            "Try combining multiple endpoints into a single endpoint.",
            "wasm-module-exports-too-many-methods",
        )
    total = sum(len(name.encode()) for name in seen)
    if total > MAX_EXPORTED_NAME_LENGTHS:
        raise ModuleError.user(
            "The sum of `<name>` lengths in exported functions called `canister_update <name>`, "
            f"`canister_query <name>`, or `canister_composite_query <name>` is {total} which exceeds the allowed "
            f"limit of {MAX_EXPORTED_NAME_LENGTHS}.",
            "Try using shorter method names.",
            "wasm-module-sum-of-exported-name-lengths-too-large",
        )


def _check_counts(module: WasmModule) -> None:
    if len(module.globals) > MAX_GLOBALS:
        raise ModuleError.user(
            f"Wasm module defined {len(module.globals)} globals which exceeds the maximum number allowed "
            f"{MAX_GLOBALS}.",
            "Try collecting multiple globals into a single structured which can be stored on the heap.",
            "wasm-module-too-many-globals",
        )
    if len(module.functions) > MAX_FUNCTIONS:
        raise ModuleError.user(
            f"Wasm module defined {len(module.functions)} functions which exceeds the maximum number allowed "
            f"{MAX_FUNCTIONS}.",
            "Try spliting this canister into multiple canisters.",
            "wasm-module-too-many-functions",
        )


def _check_custom_sections(module: WasmModule) -> list[tuple[str, bool, bytes]]:
    """Checks the ``icp:`` custom sections; returns them as (name, public, payload)."""
    sections: dict[str, tuple[bool, bytes]] = {}
    total = 0
    for section_name, payload in module.custom_sections:
        parsed = _icp_section_name(section_name)
        if parsed is None:
            continue
        name, public = parsed
        if name in sections:
            raise ModuleError(
                f"Wasm module has an invalid custom section. Invalid custom section: name {name} already exists"
            )
        total += len(payload) + len(name.encode())
        if total > MAX_CUSTOM_SECTIONS_SIZE:
            raise ModuleError(
                "Wasm module has an invalid custom section. Invalid custom sections: total size of the custom "
                f"sections exceeds the maximum allowed: size {total} bytes, allowed {MAX_CUSTOM_SECTIONS_SIZE} bytes"
            )
        sections[name] = (public, payload)
        if len(sections) > MAX_CUSTOM_SECTIONS:
            raise ModuleError(
                f"Wasm module defined {len(sections)} custom sections which exceeds the maximum number allowed "
                f"{MAX_CUSTOM_SECTIONS}."
            )
    return [(name, public, payload) for name, (public, payload) in sections.items()]


def _icp_section_name(section_name: str) -> tuple[str, bool] | None:
    """(name, public) of an ``icp:public <name>``/``icp:private <name>`` section; None for others."""
    if not section_name.startswith("icp:"):
        return None
    for prefix, public in (("icp:public ", True), ("icp:private ", False)):
        if section_name.startswith(prefix):
            return section_name[len(prefix) :], public
    if section_name in ("icp:public", "icp:private"):
        raise ModuleError(
            "Wasm module has an invalid custom section. 'icp:' section names must have a space after the "
            "public/private scope"
        )
    raise ModuleError(
        "Wasm module has an invalid custom section. Invalid custom section: Custom section "
        f"'{section_name}' has no public/private scope defined."
    )


def _info(
    module: WasmModule, is64: bool, methods: dict[str, set[str]], sections: list[tuple[str, bool, bytes]]
) -> ModuleInfo:
    exported = {name for name, kind, _ in module.exports if kind == ExportKind.FUNC}
    return ModuleInfo(
        is64=is64,
        updates=frozenset(methods["canister_update "]),
        queries=frozenset(methods["canister_query "]),
        composite_queries=frozenset(methods["canister_composite_query "]),
        system=frozenset(exported & _SYSTEM_EXPORTS),
        has_start=module.start is not None,
        has_memory=bool(module.all_memories()),
        mutable_globals=tuple(i for i, g in enumerate(module.globals) if g.mutable),
        enhanced_persistence=any(name == EOP_SECTION for name, _, _ in sections),
        custom_sections=tuple(sections),
    )
