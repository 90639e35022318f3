"""Rewriting a module as the replica does before instantiating it.

:func:`rewrite` produces the module we instantiate: the start section removed and exported as
``canister_start`` (the replica runs it as its own step), and the memory, the table and every mutable global
exported under reserved names, so that the engine can reach them. Reading the module (the one section walker,
the parser) is :mod:`icp_client.wasm`'s.
"""

from __future__ import annotations

from icp_client.wasm import (
    EXPORT_GLOBAL_PREFIX,
    EXPORT_MEMORY,
    EXPORT_START,
    EXPORT_TABLE,
    WASM_HEADER,
    ExportKind,
    WasmModule,
    walk,
)
from icp_client.wasm._binary import SECTION_EXPORT, SECTION_START

__all__ = ["EXPORT_GLOBAL_PREFIX", "EXPORT_MEMORY", "EXPORT_START", "EXPORT_TABLE", "rewrite"]


def _uleb_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _name_bytes(name: str) -> bytes:
    raw = name.encode("utf-8")
    return _uleb_bytes(len(raw)) + raw


def _extra_exports(module: WasmModule) -> list[tuple[str, ExportKind, int]]:
    """The exports the engine adds: start, memory, table and the mutable globals."""
    extra: list[tuple[str, ExportKind, int]] = []
    if module.start is not None:
        extra.append((EXPORT_START, ExportKind.FUNC, module.start))
    if module.all_memories():
        extra.append((EXPORT_MEMORY, ExportKind.MEMORY, 0))
    imported_tables = sum(1 for i in module.imports if i.kind == ExportKind.TABLE)
    if module.tables or imported_tables:
        extra.append((EXPORT_TABLE, ExportKind.TABLE, 0))
    for index, glob in enumerate(module.globals):
        if glob.mutable:
            extra.append((f"{EXPORT_GLOBAL_PREFIX}{index}", ExportKind.GLOBAL, index))
    return extra


def _export_section(exports: list[tuple[str, ExportKind, int]]) -> bytes:
    body = _uleb_bytes(len(exports))
    for name, kind, index in exports:
        body += _name_bytes(name) + bytes([kind]) + _uleb_bytes(index)
    return bytes([SECTION_EXPORT]) + _uleb_bytes(len(body)) + body


def rewrite(data: bytes, module: WasmModule) -> bytes:
    """The module as the engine instantiates it: no start section, and the reserved exports added.

    The export section keeps its place in the section order (one is inserted where it belongs if the
    module had none).  Raises:
        InvalidModule: if the binary is malformed.
    """
    exports = list(module.exports) + _extra_exports(module)
    out = bytearray(WASM_HEADER)
    placed = False
    for section in walk(data):
        section_id = section.id
        if section_id == SECTION_START:
            continue
        if not placed and section_id != 0 and _order(section_id) > _order(SECTION_EXPORT):
            out += _export_section(exports)
            placed = True
        if section_id == SECTION_EXPORT:
            continue
        out += bytes([section_id]) + _uleb_bytes(section.size) + data[section.offset : section.end]
    if not placed:
        out += _export_section(exports)
    return bytes(out)


def _order(section_id: int) -> int:
    """The position of a known section in the required order (data count sits before code)."""
    order = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}
    return order.get(section_id, 0)
