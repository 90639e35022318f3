"""Canister modules: the checks the IC makes on ``wasm_module`` before installing it, and its metadata.

A module is raw Wasm (``00 61 73 6D`` then version 1) or gzip (``1F 8B 08``), decompressed here with a bound
so that a small gzip bomb cannot expand beyond the maximum module size. The module hash is the SHA-256 of the
bytes as given (the compressed bytes for a gzipped module), as the interface specification says.

We parse the section structure only (ids, sizes, custom section names), not the Wasm code: enough to reject
what is not a module and to read the ``icp:public <name>`` / ``icp:private <name>`` custom sections that
``read_state`` serves as canister metadata. Standard library only.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from icp_client.wasm import GZIP_MAGIC, WASM_MAGIC, WASM_VERSION, module_hash

__all__ = ["InvalidWasm", "MetadataSection", "ParsedModule", "module_hash", "parse_module"]

WASM_VERSION_BYTES = WASM_VERSION.to_bytes(4, "little")
MAX_CODE_SECTION = 10 * 1024 * 1024
MAX_CUSTOM_SECTIONS = 16
MAX_CUSTOM_SECTIONS_SIZE = 1024 * 1024
_CUSTOM = 0
_CODE = 10
_MAX_SECTION_ID = 13
_PUBLIC = "icp:public "
_PRIVATE = "icp:private "


class InvalidWasm(ValueError):
    """``wasm_module`` is not a module the IC would install; the message is the replica's reason."""


@dataclass(frozen=True, slots=True)
class MetadataSection:
    """One ``icp:public`` or ``icp:private`` custom section; ``name`` is without the ``icp:...`` prefix."""

    name: str
    public: bool
    content: bytes


@dataclass(frozen=True, slots=True)
class ParsedModule:
    module_hash: bytes
    gzipped: bool
    wasm_size: int
    metadata: tuple[MetadataSection, ...]


def parse_module(module: bytes, *, max_size: int, known_hash: bytes | None = None) -> ParsedModule:
    """Check ``module`` the way the IC does before installing it and collect its metadata sections.

    Raises:
        InvalidWasm: not raw Wasm nor gzip, larger than ``max_size`` (compressed or not), malformed
            sections, or invalid ``icp:`` custom sections.
    """
    if len(module) > max_size:
        raise InvalidWasm(_too_large(len(module), max_size))
    gzipped = module.startswith(GZIP_MAGIC)
    wasm = _gunzip(module, max_size) if gzipped else module
    if not wasm.startswith(WASM_MAGIC):
        raise InvalidWasm("Failed to decode wasm module: the module does not start with the Wasm magic bytes")
    if wasm[4:8] != WASM_VERSION_BYTES:
        raise InvalidWasm("Failed to decode wasm module: unsupported Wasm version")
    sections = _metadata(wasm)
    return ParsedModule(known_hash or module_hash(module), gzipped, len(wasm), sections)


def _too_large(size: int, max_size: int) -> str:
    return f"Wasm module size of {size} exceeds the maximum allowed size of {max_size}."


def _gunzip(module: bytes, max_size: int) -> bytes:
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        wasm = decompressor.decompress(module, max_size + 1)
    except zlib.error as exc:
        raise InvalidWasm(f"Failed to decompress Wasm module: {exc}") from None
    if len(wasm) > max_size:
        raise InvalidWasm(_too_large(len(wasm), max_size))
    if not decompressor.eof:
        raise InvalidWasm("Failed to decompress Wasm module: truncated gzip stream")
    return wasm


def _metadata(wasm: bytes) -> tuple[MetadataSection, ...]:
    found: dict[str, MetadataSection] = {}
    total = 0
    for section_id, start, size in _sections(wasm):
        if section_id == _CODE and size > MAX_CODE_SECTION:
            raise InvalidWasm(
                f"Wasm module code section size of {size} exceeds the maximum allowed "
                f"size of {MAX_CODE_SECTION}."
            )
        if section_id != _CUSTOM:
            continue
        name, content = _custom_section(wasm[start : start + size])
        section = _icp_section(name, content)
        if section is None:
            continue
        if section.name in found:
            raise InvalidWasm(f"Invalid custom section: Duplicate custom section named {section.name}")
        found[section.name] = section
        total += len(section.name) + len(content)
    if len(found) > MAX_CUSTOM_SECTIONS:
        raise InvalidWasm(
            f"Invalid custom section: Exceeded the maximum allowed number of custom sections: "
            f"{len(found)} > {MAX_CUSTOM_SECTIONS}"
        )
    if total > MAX_CUSTOM_SECTIONS_SIZE:
        raise InvalidWasm(
            f"Invalid custom section: Exceeded the maximum allowed size of custom sections: "
            f"{total} > {MAX_CUSTOM_SECTIONS_SIZE}"
        )
    return tuple(found.values())


def _icp_section(name: str, content: bytes) -> MetadataSection | None:
    if not name.startswith("icp:"):
        return None
    if name.startswith(_PUBLIC):
        return MetadataSection(name[len(_PUBLIC) :], True, content)
    if name.startswith(_PRIVATE):
        return MetadataSection(name[len(_PRIVATE) :], False, content)
    raise InvalidWasm(
        f"Invalid custom section: Custom section named {name} has no public/private scope defined."
    )


def _sections(wasm: bytes) -> Iterator[tuple[int, int, int]]:
    """Each section of the module as (id, payload start, payload size)."""
    pos = 8
    while pos < len(wasm):
        section_id = wasm[pos]
        if section_id > _MAX_SECTION_ID:
            raise InvalidWasm(f"Failed to decode wasm module: unknown section id {section_id}")
        size, pos = _leb128(wasm, pos + 1)
        if pos + size > len(wasm):
            raise InvalidWasm("Failed to decode wasm module: section extends past the end of the module")
        yield section_id, pos, size
        pos += size


def _custom_section(payload: bytes) -> tuple[str, bytes]:
    length, pos = _leb128(payload, 0)
    if pos + length > len(payload):
        raise InvalidWasm("Failed to decode wasm module: custom section name extends past its section")
    try:
        name = payload[pos : pos + length].decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidWasm("Failed to decode wasm module: custom section name is not UTF-8") from None
    return name, payload[pos + length :]


def _leb128(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an unsigned LEB128 (at most 5 bytes, a u32) at ``pos``; return it and the position after it."""
    result = 0
    for shift in range(0, 35, 7):
        if pos >= len(data):
            raise InvalidWasm("Failed to decode wasm module: unexpected end of module")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
    raise InvalidWasm("Failed to decode wasm module: invalid LEB128 integer")
