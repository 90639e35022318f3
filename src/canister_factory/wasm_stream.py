"""Checking a Wasm module as its bytes stream past, in constant memory. Standard library only.

``commit_upload`` reads a module of up to 100 MiB chunk by chunk; holding it whole would make the factory's memory
grow with the module. ``ModuleStreamCheck`` accepts the same inputs as ``wasm.check_module``: a raw module
(magic ``\\0asm``, version 1, then well-formed section headers) or a gzip-compressed one, whose decompressed size
is bounded by ``max_size`` however small the compressed input (a gzip bomb stops at the bound).
"""

from __future__ import annotations

import zlib

from canister_factory._core.errors import InvalidArgument
from icp_client.wasm import GZIP_MAGIC, WASM_MAGIC, WASM_VERSION

WASM_VERSION_BYTES = WASM_VERSION.to_bytes(4, "little")
_MAX_SECTION_ID = 13


class _SectionWalker:
    """Walks section headers (id byte, LEB128 u32 size) of a raw module fed in pieces."""

    def __init__(self) -> None:
        self._header = b""
        self._pending = bytearray()  # an incomplete section header
        self._skip = 0  # payload bytes of the current section still to pass
        self.size = 0

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        view = memoryview(data)
        if len(self._header) < 8:
            need = 8 - len(self._header)
            self._header += bytes(view[:need])
            view = view[need:]
            if len(self._header) == 8:
                _check_header(self._header)
        while view:
            if self._skip:
                step = min(self._skip, len(view))
                self._skip -= step
                view = view[step:]
                continue
            self._pending.append(view[0])
            view = view[1:]
            self._parse_header()

    def _parse_header(self) -> None:
        section_id = self._pending[0]
        if section_id > _MAX_SECTION_ID:
            raise InvalidArgument(f"not a valid Wasm module: unknown section id {section_id}")
        if len(self._pending) == 1:
            return
        size, shift = 0, 0
        for i, byte in enumerate(self._pending[1:]):
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                if size > 0xFFFFFFFF:
                    raise InvalidArgument("not a valid Wasm module: section size overflows u32")
                self._skip = size
                self._pending.clear()
                return
            if i >= 4:
                raise InvalidArgument("not a valid Wasm module: section size is not a valid LEB128 u32")

    def finish(self) -> None:
        if len(self._header) < 8:
            if self._header and not WASM_MAGIC.startswith(self._header[:4]):
                _check_header(self._header.ljust(8, b"\x00"))
            raise InvalidArgument(
                f"not a Wasm module: only {len(self._header)} bytes (a module needs at least 8)"
            )
        if self._pending or self._skip:
            raise InvalidArgument("not a valid Wasm module: the last section is truncated")


def _check_header(header: bytes) -> None:
    if header[:4] != WASM_MAGIC:
        raise InvalidArgument(
            f"not a Wasm module: expected magic 0061736d (or gzip 1f8b08), got {header[:4].hex()}"
        )
    if header[4:8] != WASM_VERSION_BYTES:
        raise InvalidArgument(
            f"unsupported Wasm version {int.from_bytes(header[4:8], 'little')} (expected 1)"
        )


class ModuleStreamCheck:
    """Feed a module's bytes in order with ``feed``; ``finish`` raises if they are not an acceptable module.

    Raises (from ``feed`` or ``finish``):
        InvalidArgument: not a Wasm module, a wrong version, truncated or malformed sections, corrupt gzip, or
            decompression past ``max_size``.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._prefix = b""
        self._gzip: zlib._Decompress | None = None
        self._walker = _SectionWalker()
        self._decided = False

    @property
    def compressed(self) -> bool:
        return self._gzip is not None

    def feed(self, data: bytes) -> None:
        if not self._decided:
            self._prefix += data
            if len(self._prefix) < 3:
                return
            data, self._prefix = self._prefix, b""
            self._decided = True
            if data.startswith(GZIP_MAGIC):
                self._gzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._gzip is None:
            self._walker.feed(data)
        else:
            self._inflate(data)

    def _inflate(self, data: bytes) -> None:
        assert self._gzip is not None
        budget = self.max_size - self._walker.size
        while data:
            try:
                out = self._gzip.decompress(data, budget + 1)
            except zlib.error as exc:
                raise InvalidArgument(f"corrupt gzip module: {exc}") from None
            if len(out) > budget:
                raise InvalidArgument(f"gzip module decompresses to more than {self.max_size} bytes")
            self._walker.feed(out)
            budget -= len(out)
            data = self._gzip.unconsumed_tail
            if self._gzip.eof and self._gzip.unused_data:
                raise InvalidArgument("corrupt gzip module: data after the end of the gzip stream")

    def finish(self) -> None:
        if not self._decided:
            self._decided = True
            self._walker.feed(self._prefix)
        if self._gzip is not None and not self._gzip.eof:
            raise InvalidArgument("corrupt gzip module: the gzip stream is truncated")
        self._walker.finish()
