"""Canister modules as the IC sees them: the magic numbers, the size bound, and the module hash.

``install_code`` takes a module either as raw Wasm (``00 61 73 6D``, version 1) or gzip-compressed
(``1F 8B 08``); the IC reports ``module_hash`` as the SHA-256 of the bytes exactly as installed, i.e. of the
*compressed* bytes for a gzip module. Standard library only.
"""

from __future__ import annotations

import hashlib

MAX_WASM_SIZE = 100 * 1024 * 1024
"""Largest module the IC accepts, compressed or decompressed (104 857 600 bytes)."""

WASM_MAGIC = b"\x00asm"
WASM_VERSION = 1
GZIP_MAGIC = b"\x1f\x8b\x08"
ICP_PUBLIC = "icp:public "
ICP_PRIVATE = "icp:private "


def module_hash(data: bytes) -> bytes:
    """SHA-256 of ``data`` as given: what ``canister_status`` reports as ``module_hash`` after install."""
    return hashlib.sha256(data).digest()


def is_gzip(data: bytes) -> bool:
    """True if ``data`` starts with the gzip magic the IC recognises (``1f 8b 08``, deflate)."""
    return data[:3] == GZIP_MAGIC
