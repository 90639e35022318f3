"""Hand-built Wasm modules for the embedded IC's tests."""

from __future__ import annotations

import gzip

from tests.support.wasm_modules import WASM_HEADER as HEADER
from tests.support.wasm_modules import custom_section, leb128, section

__all__ = [
    "HEADER",
    "custom_section",
    "distinct_module",
    "gzipped",
    "leb128",
    "module",
    "module_with_metadata",
    "section",
]


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
