"""Reading the parts of a Wasm module the IC looks at: types, imports, functions, tables, memories, globals,
exports, the start function and custom sections (function bodies are not decoded).

:func:`parse` walks the module with the one section walker (:mod:`._sections`) and reads the payloads of the
sections it needs into a :class:`WasmModule`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from icp_client.wasm._sections import Section, WasmFormatError, walk

__all__ = [
    "SECTION_CODE",
    "SECTION_EXPORT",
    "SECTION_START",
    "ExportKind",
    "FuncType",
    "Global",
    "Import",
    "Limits",
    "WasmFormatError",
    "WasmModule",
    "parse",
]

SECTION_EXPORT = 7
SECTION_START = 8
SECTION_CODE = 10
_VALTYPES = {
    0x7F: "i32",
    0x7E: "i64",
    0x7D: "f32",
    0x7C: "f64",
    0x7B: "v128",
    0x70: "funcref",
    0x6F: "externref",
}


class ExportKind(enum.IntEnum):
    """The kinds of an import or export."""

    FUNC = 0
    TABLE = 1
    MEMORY = 2
    GLOBAL = 3
    TAG = 4


@dataclass(frozen=True)
class FuncType:
    """A function type: parameter and result value types (``"i32"``, ``"i64"``, ...)."""

    params: tuple[str, ...]
    results: tuple[str, ...]


@dataclass(frozen=True)
class Limits:
    """A memory's or table's limits; ``is64`` for memory64 or table64."""

    minimum: int
    maximum: int | None
    is64: bool


@dataclass(frozen=True)
class Import:
    """One import: ``type_index`` for a function, ``limits`` for a memory or table."""

    module: str
    name: str
    kind: ExportKind
    type_index: int = -1
    limits: Limits | None = None


@dataclass(frozen=True)
class Global:
    """A global defined by the module."""

    valtype: str
    mutable: bool


@dataclass(frozen=True)
class WasmModule:
    """The parts of a module the IC looks at.

    ``functions`` holds the type index of each function defined (not imported); ``exports`` maps a name
    to its kind and index; ``custom_sections`` keeps name and payload in order of appearance.
    """

    types: tuple[FuncType, ...]
    imports: tuple[Import, ...]
    functions: tuple[int, ...]
    tables: tuple[Limits, ...]
    memories: tuple[Limits, ...]
    globals: tuple[Global, ...]
    exports: tuple[tuple[str, ExportKind, int], ...]
    start: int | None
    custom_sections: tuple[tuple[str, bytes], ...]
    code_section_size: int

    def imported_functions(self) -> tuple[Import, ...]:
        """The function imports, in function-index order."""
        return tuple(i for i in self.imports if i.kind == ExportKind.FUNC)

    def function_type(self, index: int) -> FuncType:
        """The type of the function at ``index`` in the function index space (imports first).

        Raises:
            WasmFormatError: if there is no such function.
        """
        imported = self.imported_functions()
        try:
            if index < len(imported):
                return self.types[imported[index].type_index]
            return self.types[self.functions[index - len(imported)]]
        except IndexError as exc:
            raise WasmFormatError(f"no function at index {index}") from exc

    def all_memories(self) -> tuple[Limits, ...]:
        """The memories imported and defined."""
        imported = tuple(i.limits for i in self.imports if i.kind == ExportKind.MEMORY and i.limits)
        return imported + self.memories


class _Reader:
    """A cursor over bytes with the Wasm encodings (LEB128, names, vectors)."""

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def at_end(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise WasmFormatError("unexpected end of data")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def bytes(self, size: int) -> bytes:
        if self.pos + size > self.end:
            raise WasmFormatError("unexpected end of data")
        value = self.data[self.pos : self.pos + size]
        self.pos += size
        return value

    def uleb(self) -> int:
        result = shift = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise WasmFormatError("integer representation too long")

    def sleb(self) -> int:
        result = shift = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result - (1 << shift) if byte & 0x40 else result
            if shift > 70:
                raise WasmFormatError("integer representation too long")

    def name(self) -> str:
        raw = self.bytes(self.uleb())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WasmFormatError("malformed UTF-8 encoding") from exc

    def valtype(self) -> str:
        code = self.byte()
        if code not in _VALTYPES:
            raise WasmFormatError(f"invalid value type 0x{code:x}")
        return _VALTYPES[code]


def _limits(reader: _Reader) -> Limits:
    flags = reader.uleb()
    minimum = reader.uleb()
    maximum = reader.uleb() if flags & 0x01 else None
    return Limits(minimum, maximum, bool(flags & 0x04))


def _table_type(reader: _Reader) -> Limits:
    reader.valtype()
    return _limits(reader)


def _skip_const_expr(reader: _Reader) -> None:
    """Skips a constant expression up to and including its ``end``."""
    while True:
        op = reader.byte()
        if op == 0x0B:
            return
        if op in (0x41, 0x42):
            reader.sleb()
        elif op == 0x43:
            reader.bytes(4)
        elif op == 0x44:
            reader.bytes(8)
        elif op in (0x23, 0xD2):
            reader.uleb()
        elif op == 0xD0:
            reader.byte()
        elif op == 0xFD:
            reader.uleb()
            reader.bytes(16)
        elif op not in (0x6A, 0x6B, 0x6C, 0x7C, 0x7D, 0x7E):
            raise WasmFormatError(f"unsupported opcode 0x{op:x} in a constant expression")


def _func_types(reader: _Reader) -> list[FuncType]:
    types = []
    for _ in range(reader.uleb()):
        if reader.byte() != 0x60:
            raise WasmFormatError("only function types are supported")
        params = tuple(reader.valtype() for _ in range(reader.uleb()))
        results = tuple(reader.valtype() for _ in range(reader.uleb()))
        types.append(FuncType(params, results))
    return types


def _import(reader: _Reader) -> Import:
    module, name = reader.name(), reader.name()
    kind = ExportKind(reader.byte())
    if kind == ExportKind.FUNC:
        return Import(module, name, kind, type_index=reader.uleb())
    if kind == ExportKind.TABLE:
        return Import(module, name, kind, limits=_table_type(reader))
    if kind == ExportKind.MEMORY:
        return Import(module, name, kind, limits=_limits(reader))
    if kind == ExportKind.GLOBAL:
        reader.valtype()
        reader.byte()
        return Import(module, name, kind)
    reader.byte()
    reader.uleb()
    return Import(module, name, kind)


def _globals(reader: _Reader) -> list[Global]:
    result = []
    for _ in range(reader.uleb()):
        valtype = reader.valtype()
        mutable = reader.byte() == 1
        _skip_const_expr(reader)
        result.append(Global(valtype, mutable))
    return result


def _exports(reader: _Reader) -> list[tuple[str, ExportKind, int]]:
    result = []
    for _ in range(reader.uleb()):
        name = reader.name()
        try:
            kind = ExportKind(reader.byte())
        except ValueError as exc:
            raise WasmFormatError("invalid export kind") from exc
        result.append((name, kind, reader.uleb()))
    return result


@dataclass
class _Parts:
    """The sections read so far (mutable while parsing)."""

    types: list[FuncType] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    functions: list[int] = field(default_factory=list)
    tables: list[Limits] = field(default_factory=list)
    memories: list[Limits] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)
    exports: list[tuple[str, ExportKind, int]] = field(default_factory=list)
    start: int | None = None
    custom: list[tuple[str, bytes]] = field(default_factory=list)
    code_size: int = 0


def parse(data: bytes, sections: list[Section] | None = None) -> WasmModule:
    """Reads the sections of a raw Wasm binary (``sections``: its walk, if already made).

    Raises:
        InvalidModule: if the binary is malformed where this reader looks (:class:`WasmFormatError` for a
            section's payload).
    """
    parts = _Parts()
    for section in sections if sections is not None else walk(data):
        _read_section(parts, section, _Reader(data, section.offset, section.end))
    return WasmModule(
        types=tuple(parts.types),
        imports=tuple(parts.imports),
        functions=tuple(parts.functions),
        tables=tuple(parts.tables),
        memories=tuple(parts.memories),
        globals=tuple(parts.globals),
        exports=tuple(parts.exports),
        start=parts.start,
        custom_sections=tuple(parts.custom),
        code_section_size=parts.code_size,
    )


def _read_section(parts: _Parts, section: Section, reader: _Reader) -> None:
    """Reads one section's payload into ``parts``."""
    section_id = section.id
    if section_id == 0:
        name = reader.name()
        parts.custom.append((name, reader.data[reader.pos : reader.end]))
    elif section_id == 1:
        parts.types = _func_types(reader)
    elif section_id == 2:
        parts.imports = [_import(reader) for _ in range(reader.uleb())]
    elif section_id == 3:
        parts.functions = [reader.uleb() for _ in range(reader.uleb())]
    elif section_id == 4:
        parts.tables = [_table_type(reader) for _ in range(reader.uleb())]
    elif section_id == 5:
        parts.memories = [_limits(reader) for _ in range(reader.uleb())]
    elif section_id == 6:
        parts.globals = _globals(reader)
    elif section_id == SECTION_EXPORT:
        parts.exports = _exports(reader)
    elif section_id == SECTION_START:
        parts.start = reader.uleb()
    elif section_id == SECTION_CODE:
        parts.code_size = reader.end - reader.pos
