"""The IC's own rules on a canister module, with the replica's texts: sizes, imports, exports, counts.

:func:`check_rules` checks a (decompressed) module against the interface specification's module requirements
and the limits of ``resource-limits.md`` and returns its :class:`ModuleFacts`: the width of its pointers, its
methods by kind, its system entry points, its mutable globals, its ``icp:`` sections and whether it asks for
enhanced orthogonal persistence. The Wasm itself (function bodies, types) is wasmtime's to validate
(:func:`icp_client.wasm.validate_canister_module`).
"""

from __future__ import annotations

from dataclasses import dataclass

from icp_client.errors import InvalidModule
from icp_client.management import MAX_WASM_SIZE
from icp_client.wasm._binary import ExportKind, FuncType, WasmModule, parse
from icp_client.wasm._sections import ICP_PRIVATE, ICP_PUBLIC, Section, walk
from icp_client.wasm._system_api import API, signature

__all__ = [
    "EOP_SECTION",
    "EXPORT_GLOBAL_PREFIX",
    "EXPORT_MEMORY",
    "EXPORT_START",
    "EXPORT_TABLE",
    "MAX_CODE_SECTION_SIZE",
    "MAX_EXPORTED_METHODS",
    "MAX_FUNCTIONS",
    "MAX_GLOBALS",
    "MAX_WASM_SIZE",
    "RESERVED_EXPORTS",
    "SYSTEM_EXPORTS",
    "ModuleFacts",
    "check_rules",
    "check_size",
]

MAX_CODE_SECTION_SIZE = 10 * 1024 * 1024
MAX_FUNCTIONS = 50_000
MAX_GLOBALS = 1_000
MAX_EXPORTED_METHODS = 1_000
MAX_EXPORTED_NAME_LENGTHS = 20_000
EOP_SECTION = "enhanced-orthogonal-persistence"
EXPORT_START = "canister_start"
EXPORT_MEMORY = "canister memory"
EXPORT_TABLE = "canister table"
EXPORT_GLOBAL_PREFIX = "canister global "
"""Names the replica's rewriting uses (the start function, the memory, the table, mutable globals)."""


@dataclass(frozen=True)
class ModuleFacts:
    """What the IC learns about a valid module.

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

    @property
    def methods(self) -> frozenset[str]:
        """Every method name, whatever its kind."""
        return self.updates | self.queries | self.composite_queries


def check_size(size: int) -> None:
    """Raises InvalidModule (the replica's text) if a module of ``size`` bytes is over the IC's limit."""
    if size > MAX_WASM_SIZE:
        raise InvalidModule(
            f"Wasm module size of {size} exceeds the maximum allowed size of {MAX_WASM_SIZE}.",
            "Try shrinking the module using tools like `ic-wasm` or splitting the logic across multiple canisters.",
            "wasm-module-too-large",
        )


def check_rules(data: bytes, sections: list[Section] | None = None) -> tuple[WasmModule, ModuleFacts]:
    """Checks a raw (decompressed) module as the IC does; returns its parse and its facts.

    Raises:
        InvalidModule: with the replica's text, if the IC would refuse the module.
    """
    check_size(len(data))
    sections = sections if sections is not None else walk(data)
    module = parse(data, sections)
    if module.code_section_size > MAX_CODE_SECTION_SIZE:
        raise InvalidModule(
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
    return module, _info(module, is64, methods, _icp_sections(sections))


def _icp_sections(sections: list[Section]) -> list[tuple[str, bool, bytes]]:
    """The ``icp:`` sections (already checked by the walker) as (name, public, payload)."""
    found = []
    for section in sections:
        if section.payload is None or section.name is None:
            continue
        public = section.name.startswith(ICP_PUBLIC)
        prefix = ICP_PUBLIC if public else ICP_PRIVATE
        found.append((section.name[len(prefix) :], public, section.payload))
    return found


SYSTEM_EXPORTS = frozenset(
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
RESERVED_EXPORTS = frozenset({"canister counter_instructions", EXPORT_START, EXPORT_MEMORY, EXPORT_TABLE})
_UNIT = FuncType((), ())


def _check_memories(module: WasmModule) -> bool:
    """At most one memory; returns whether it is a memory64 (pointers ``i64``)."""
    memories = module.all_memories()
    if len(memories) > 1:
        raise InvalidModule(f"Wasm module has {len(memories)} memory sections but should have had 1")
    return bool(memories) and memories[0].is64


def _check_imports(module: WasmModule, is64: bool) -> None:
    for entry in module.imports:
        if entry.kind == ExportKind.GLOBAL:
            raise InvalidModule(
                "Wasm module has an invalid import section. Importing globals is not allowed."
            )
        if entry.kind != ExportKind.FUNC:
            raise InvalidModule(
                f"Wasm module has an invalid import section. Module imports {entry.module}.{entry.name}, "
                "but only function imports from ic0 are supported here."
            )
        _check_function_import(module, entry.module, entry.name, entry.type_index, is64)


def _check_function_import(module: WasmModule, source: str, name: str, type_index: int, is64: bool) -> None:
    function = API.get(name)
    if function is None or (function.only32 and is64):
        raise InvalidModule(
            f"Wasm module has an invalid import section. Module imports function '{name}' from '{source}' "
            "that is not exported by the runtime."
        )
    if source != "ic0":
        raise InvalidModule(
            f'Wasm module has an invalid import section. Module imports function "{name}" from "{source}", '
            'expected to be imported from one of ["ic0"] instead.'
        )
    _check_signature(signature(function, is64), name, module.types[type_index])


def _check_signature(expected: FuncType, name: str, actual: FuncType) -> None:
    if actual.params != expected.params:
        raise InvalidModule(
            f"Wasm module has an invalid function signature. Expected input params {_types(expected.params)} "
            f"for '{name}', got {_types(actual.params)}."
        )
    if actual.results != expected.results:
        raise InvalidModule(
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
        if name in RESERVED_EXPORTS or name.startswith(EXPORT_GLOBAL_PREFIX):
            raise InvalidModule(
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
            raise InvalidModule(
                f"Duplicate function '{method}' exported multiple times with different call types: update, query, "
                "or composite_query.",
                f"Try defining different versions of the function for each call type, e.g. `{method}_update`, "
                f"`{method}_query`, etc.",
                "wasm-module-duplicate-exports",
            )
        seen.add(method)
        methods[prefix].add(method)
    elif name.startswith("canister_") and name not in SYSTEM_EXPORTS:
        raise InvalidModule(
            f"Wasm module has an invalid export section. Exporting reserved function '{name}' with \"canister_\" prefix"
        )
    if prefix is not None or name in SYSTEM_EXPORTS:
        _check_signature(_UNIT, name, module.function_type(index))


def _check_method_limits(seen: set[str]) -> None:
    if len(seen) > MAX_EXPORTED_METHODS:
        raise InvalidModule(
            "The number of exported functions called `canister_update <name>`, `canister_query <name>`, or "
            f"`canister_composite_query <name>` is {len(seen)} which exceeds {MAX_EXPORTED_METHODS}.",
            "Try combining multiple endpoints into a single endpoint.",
            "wasm-module-exports-too-many-methods",
        )
    total = sum(len(name.encode()) for name in seen)
    if total > MAX_EXPORTED_NAME_LENGTHS:
        raise InvalidModule(
            "The sum of `<name>` lengths in exported functions called `canister_update <name>`, "
            f"`canister_query <name>`, or `canister_composite_query <name>` is {total} which exceeds the allowed "
            f"limit of {MAX_EXPORTED_NAME_LENGTHS}.",
            "Try using shorter method names.",
            "wasm-module-sum-of-exported-name-lengths-too-large",
        )


def _check_counts(module: WasmModule) -> None:
    if len(module.globals) > MAX_GLOBALS:
        raise InvalidModule(
            f"Wasm module defined {len(module.globals)} globals which exceeds the maximum number allowed "
            f"{MAX_GLOBALS}.",
            "Try collecting multiple globals into a single structured which can be stored on the heap.",
            "wasm-module-too-many-globals",
        )
    if len(module.functions) > MAX_FUNCTIONS:
        raise InvalidModule(
            f"Wasm module defined {len(module.functions)} functions which exceeds the maximum number allowed "
            f"{MAX_FUNCTIONS}.",
            "Try spliting this canister into multiple canisters.",
            "wasm-module-too-many-functions",
        )


def _info(
    module: WasmModule, is64: bool, methods: dict[str, set[str]], sections: list[tuple[str, bool, bytes]]
) -> ModuleFacts:
    exported = {name for name, kind, _ in module.exports if kind == ExportKind.FUNC}
    return ModuleFacts(
        is64=is64,
        updates=frozenset(methods["canister_update "]),
        queries=frozenset(methods["canister_query "]),
        composite_queries=frozenset(methods["canister_composite_query "]),
        system=frozenset(exported & SYSTEM_EXPORTS),
        has_start=module.start is not None,
        has_memory=bool(module.all_memories()),
        mutable_globals=tuple(i for i, g in enumerate(module.globals) if g.mutable),
        enhanced_persistence=any(name == EOP_SECTION for name, _, _ in sections),
        custom_sections=tuple(sections),
    )
