"""Wasm modules for tests: tiny hand-built ones, big valid ones, the packaged counter, gzip bombs.

Everything here is deterministic: the same arguments give the same bytes (and so the same module hash).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import random
import struct
import zlib
from importlib import resources

__all__ = [
    "counter_did",
    "counter_wasm",
    "custom_section",
    "data_module",
    "gzip_bomb",
    "gzip_module",
    "large_module",
    "leb128",
    "minimal_module",
    "module_with_custom_section",
    "sha256",
    "wasm_gzip_bomb",
]

WASM_HEADER = b"\x00asm\x01\x00\x00\x00"


def leb128(value: int) -> bytes:
    """Unsigned LEB128 encoding of ``value``."""
    if value < 0:
        raise ValueError("leb128 takes a non-negative integer")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def section(section_id: int, body: bytes) -> bytes:
    """One section: id, LEB128 size, body."""
    return bytes([section_id]) + leb128(len(body)) + body


def custom_section(name: str, payload: bytes) -> bytes:
    """A custom section (id 0) called ``name`` carrying ``payload``."""
    encoded = name.encode("utf-8")
    return section(0, leb128(len(encoded)) + encoded + payload)


def minimal_module() -> bytes:
    """The smallest valid Wasm module: just the header (8 bytes)."""
    return WASM_HEADER


def module_with_custom_section(name: str, payload: bytes) -> bytes:
    """A valid module with one custom section, e.g. ``("icp:public candid:service", b"service : {}")``."""
    return WASM_HEADER + custom_section(name, payload)


def large_module(size: int, seed: int = 0) -> bytes:
    """A valid Wasm module of exactly ``size`` bytes (at least 22), padded with incompressible bytes.

    The padding is a custom section ``padding`` of pseudo-random bytes from ``seed``, so gzip does not
    shrink it and different seeds give different module hashes. The section size is written as a
    5-byte LEB128 (allowed by the Wasm spec), which makes every size from 22 up reachable.
    """
    name = b"padding"
    fixed = len(WASM_HEADER) + 1 + 5 + 1 + len(name)  # header, id, padded size, name length, name
    if size < fixed:
        raise ValueError(f"large_module needs size >= {fixed}, got {size}")
    padding = random.Random(seed).randbytes(size - fixed)
    body = bytes([len(name)]) + name + padding
    module = WASM_HEADER + b"\x00" + _leb128_5(len(body)) + body
    assert len(module) == size
    return module


def _leb128_5(value: int) -> bytes:
    """``value`` (< 2**32) as a 5-byte, non-minimal unsigned LEB128."""
    return bytes([(value >> (7 * i)) & 0x7F | (0x80 if i < 4 else 0) for i in range(5)])


@functools.cache
def counter_wasm() -> bytes:
    """The packaged counter module (``canister_factory/_data/counter.wasm``, see examples/counter)."""
    return resources.files("canister_factory._data").joinpath("counter.wasm").read_bytes()


@functools.cache
def counter_did() -> str:
    """The counter's Candid service (the module's ``icp:public candid:service`` text)."""
    return resources.files("canister_factory._data").joinpath("counter.did").read_text(encoding="utf-8")


def gzip_module(data: bytes) -> bytes:
    """``data`` gzip-compressed deterministically (mtime 0), as ``install_code`` accepts it."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@functools.cache
def gzip_bomb(decompressed_size: int = 1 << 30, prefix: bytes = b"") -> bytes:
    """A valid gzip stream of ``prefix`` then ``decompressed_size`` zero bytes (a multiple of 1 MiB), about 1000x
    smaller.

    Built without compressing the whole thing: after a full flush, deflating another MiB of zeros gives
    the same bytes again, so one segment is repeated. The default (1 GiB) takes ~0.3 s and is ~1 MiB.
    """
    mib = 1 << 20
    if decompressed_size <= 0 or decompressed_size % mib:
        raise ValueError("gzip_bomb size must be a positive multiple of 1 MiB")
    zeros = bytes(mib)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH) if prefix else b""
    segment = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert segment == again, "zlib did not repeat itself after a full flush"
    crc = zlib.crc32(prefix)
    for _ in range(decompressed_size // mib):
        crc = zlib.crc32(zeros, crc)
    header = (
        b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\xff"
    )  # deflate, no flags, mtime 0, max compression
    trailer = struct.pack("<II", crc, (len(prefix) + decompressed_size) & 0xFFFFFFFF)
    return header + head + segment * (decompressed_size // mib) + deflate.flush() + trailer


def wasm_gzip_bomb(zeros: int = 1 << 30) -> bytes:
    """A gzip bomb that is a Wasm module: a header, then a custom section ``pad`` of ``zeros`` zero bytes."""
    prefix = WASM_HEADER + b"\x00" + leb128(4 + zeros) + b"\x03pad"
    return gzip_bomb(zeros, prefix)


def data_module(size: int, seed: int = 0) -> bytes:
    """A valid Wasm module of about ``size`` bytes whose bulk is one active data segment of random bytes.

    Unlike ``large_module`` (a custom section, which the IC limits to 1 MiB per canister), the IC accepts it at
    any size up to its module limit: a memory large enough for the segment, initialised at instantiation.
    """
    payload = random.Random(seed).randbytes(max(size - 64, 0))
    pages = len(payload) // 65536 + 1
    memory = section(5, b"\x01\x00" + leb128(pages))
    segment = b"\x00\x41\x00\x0b" + leb128(len(payload)) + payload  # memory 0, offset (i32.const 0)
    return WASM_HEADER + memory + section(11, b"\x01" + segment)
