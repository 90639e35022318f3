"""A module, raw or gzip-compressed, checked as its bytes stream past: the walker behind a bounded inflate.

:class:`ModuleStream` is what a whole-module check and a chunk-by-chunk check both run, so they accept exactly
the same modules with the same texts: the size bound, gzip with a hard bound on the output, then
:class:`~icp_client.wasm.SectionWalker` on the raw module. Memory stays constant whatever the module's size.
"""

from __future__ import annotations

from icp_client.wasm._gzip import GZIP_MAGIC, GzipStream, is_gzip
from icp_client.wasm._sections import WASM_MAGIC, Section, SectionWalker, WasmFormatError

__all__ = ["AFTER_GZIP", "EMPTY_MODULE", "ModuleStream"]

EMPTY_MODULE = (
    f"empty module: expected a Wasm module ({WASM_MAGIC.hex()}) or a gzip-compressed one ({GZIP_MAGIC.hex()})"
)
AFTER_GZIP = " (after gzip decompression)"


class ModuleStream:
    """Feed a module's bytes in order with :meth:`feed`; :meth:`finish` returns its sections.

    ``max_size`` bounds both the bytes given and the decompressed module.

    Raises (from ``feed`` or ``finish``):
        WasmFormatError: empty or too large, not a Wasm module, a wrong version, truncated or malformed sections,
            corrupt gzip, or decompression past ``max_size``.
        InvalidModule: ``icp:`` sections that break the IC's rules.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.size = 0
        self._prefix = b""
        self._gzip: GzipStream | None = None
        self.walker = SectionWalker()
        self._decided = False

    @property
    def compressed(self) -> bool:
        """Whether the module is gzip-compressed (known after its first 3 bytes)."""
        return self._gzip is not None

    @property
    def wasm_size(self) -> int:
        """The raw module's size so far (after decompression)."""
        return self.walker.size

    def feed(self, data: bytes | memoryview) -> None:
        """The next bytes of the module."""
        self.size += len(data)
        if self.size > self.max_size:
            raise WasmFormatError(
                f"module is {self.size} bytes, more than the limit of {self.max_size} bytes"
            )
        if not self._decided:
            self._prefix += bytes(data)
            if len(self._prefix) < len(GZIP_MAGIC):
                return
            data, self._prefix = self._prefix, b""
            self._decide(data)
        self._feed(data)

    def _decide(self, head: bytes) -> None:
        self._decided = True
        if is_gzip(head):
            self._gzip = GzipStream(self.max_size)
            self.walker = SectionWalker(AFTER_GZIP)

    def _feed(self, data: bytes | memoryview) -> None:
        if self._gzip is None:
            self.walker.feed(data)
            return
        for block in self._gzip.feed(data):
            self.walker.feed(block)

    def finish(self) -> list[Section]:
        """Checks the module ended whole; returns its sections."""
        if self.size == 0:
            raise WasmFormatError(EMPTY_MODULE)
        if not self._decided:
            self._decided = True
            self.walker.feed(self._prefix)
        if self._gzip is not None:
            self._gzip.finish()
        return self.walker.finish()
