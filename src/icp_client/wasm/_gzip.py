"""Gzip-compressed modules, decompressed with a hard bound, whole or as the bytes stream past.

The IC takes a module gzip-compressed (``1f 8b 08``) and refuses one that decompresses to more than the
module size limit; a gzip bomb must never make us allocate more than that bound plus one block.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from icp_client.wasm._sections import WasmFormatError

__all__ = ["GZIP_MAGIC", "GzipStream", "decompress_bounded", "is_gzip"]

GZIP_MAGIC = b"\x1f\x8b\x08"
_IN_BLOCK = 64 * 1024  # compressed bytes fed to zlib per call
_OUT_BLOCK = 1024 * 1024  # most decompressed bytes asked of zlib per call


def is_gzip(data: bytes | memoryview) -> bool:
    """True if ``data`` starts with the gzip magic the IC recognises (``1f 8b 08``, deflate)."""
    return bytes(data[:3]) == GZIP_MAGIC


class GzipStream:
    """Inflates one gzip member fed in pieces, refusing to produce more than ``max_size`` bytes in all.

    Raises (from ``feed`` or ``finish``):
        WasmFormatError: a corrupt or truncated stream, trailing data, or more than ``max_size`` bytes.
    """

    def __init__(self, max_size: int) -> None:
        if max_size < 0:
            raise ValueError(f"max_size must be >= 0, got {max_size}")
        self.max_size = max_size
        self.produced = 0
        self._inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer only

    def feed(self, data: bytes | memoryview) -> Iterator[bytes]:
        """The decompressed blocks that ``data`` yields (each at most 1 MiB)."""
        view = memoryview(data)
        for start in range(0, len(view), _IN_BLOCK):
            yield from self._inflate_block(view[start : start + _IN_BLOCK])

    def _inflate_block(self, chunk: bytes | memoryview) -> Iterator[bytes]:
        while chunk:
            if self._inflate.eof:
                raise WasmFormatError("invalid gzip module: trailing data after the gzip stream")
            budget = self.max_size - self.produced
            try:
                block = self._inflate.decompress(chunk, min(_OUT_BLOCK, budget + 1))
            except zlib.error as exc:
                raise WasmFormatError(f"invalid gzip module: {exc}") from None
            self.produced += len(block)
            if self.produced > self.max_size:
                raise WasmFormatError(f"gzip module decompresses to more than {self.max_size} bytes")
            if block:
                yield block
            chunk = self._inflate.unconsumed_tail
            if self._inflate.eof and self._inflate.unused_data:
                raise WasmFormatError("invalid gzip module: trailing data after the gzip stream")

    def finish(self) -> None:
        """Checks the stream ended with its end marker."""
        if not self._inflate.eof:
            raise WasmFormatError("truncated gzip module: the stream ends before its end marker")


def decompress_bounded(data: bytes | memoryview, max_size: int) -> bytes:
    """Decompress the gzip stream ``data``, refusing to produce more than ``max_size`` bytes.

    Exactly one gzip member is accepted; trailing bytes, a truncated stream and a bad CRC are errors.

    Raises:
        WasmFormatError: not gzip, or any of the errors of :class:`GzipStream`.
    """
    if not is_gzip(data):
        raise WasmFormatError(
            f"not a gzip stream: expected magic {GZIP_MAGIC.hex()}, got {bytes(data[:3]).hex()}"
        )
    stream = GzipStream(max_size)
    blocks = list(stream.feed(data))
    stream.finish()
    return b"".join(blocks)
