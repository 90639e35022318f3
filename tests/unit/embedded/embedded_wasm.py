"""Hand-built Wasm modules for the embedded IC's tests."""

from __future__ import annotations

import gzip

HEADER = b"\x00asm\x01\x00\x00\x00"


def leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + leb128(len(payload)) + payload


def custom_section(name: str, content: bytes) -> bytes:
    encoded = name.encode()
    return section(0, leb128(len(encoded)) + encoded + content)


def module(*sections: bytes) -> bytes:
    return HEADER + b"".join(sections)


def module_with_metadata(
    public: dict[str, bytes] | None = None, private: dict[str, bytes] | None = None
) -> bytes:
    sections = [custom_section(f"icp:public {k}", v) for k, v in (public or {}).items()]
    sections += [custom_section(f"icp:private {k}", v) for k, v in (private or {}).items()]
    return module(*sections)


def distinct_module(tag: int) -> bytes:
    """A valid module that differs from every other ``tag``'s."""
    return module(custom_section("name", tag.to_bytes(8, "big")))


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
