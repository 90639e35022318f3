"""Checking a Wasm module as its bytes stream past, in constant memory, and validating it as the IC will.

``commit_upload`` reads a module of up to 100 MiB chunk by chunk; holding it whole would make the factory's memory
grow with the module. :class:`ModuleStreamCheck` accepts exactly what ``wasm.check_module`` accepts, with the same
texts (it is the same walker, :class:`icp_client.wasm.SectionWalker`, fed in pieces): a raw module or a
gzip-compressed one, whose decompressed size is bounded by ``max_size`` however small the compressed input.

:func:`ic_refusal` then runs :func:`icp_client.wasm.validate_canister_module` (the IC's rules on imports, exports and
limits, and wasmtime's validation of the code) on a committed upload of at most :data:`FULL_CHECK_MAX` bytes
(decompressed), so that a module the IC would refuse at install is refused at commit, naming what is wrong. A
larger module gets the streamed checks only (holding it whole would break the constant-memory bound); the IC
validates it at install.
"""

from __future__ import annotations

from collections.abc import Iterable

from canister_factory._core.errors import InvalidArgument
from canister_factory.wasm import refused_as_invalid_argument
from icp_client import wasm
from icp_client.errors import InvalidModule

__all__ = ["FULL_CHECK_MAX", "ModuleStreamCheck", "ic_refusal"]

FULL_CHECK_MAX = 16 * 1024 * 1024
"""The largest module (decompressed) that ``commit_upload`` validates whole, with wasmtime."""


class ModuleStreamCheck:
    """Feed a module's bytes in order with ``feed``; ``finish`` raises if they are not an acceptable module.

    Raises (from ``feed`` or ``finish``):
        InvalidArgument: not a Wasm module, a wrong version, truncated or malformed sections, bad ``icp:``
            sections, corrupt gzip, or decompression past ``max_size``.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._stream = wasm.ModuleStream(max_size)

    @property
    def compressed(self) -> bool:
        return self._stream.compressed

    def feed(self, data: bytes) -> None:
        with refused_as_invalid_argument():
            self._stream.feed(data)

    def finish(self) -> None:
        with refused_as_invalid_argument():
            self._stream.finish()


def ic_refusal(chunks: Iterable[bytes], size: int) -> InvalidArgument | None:
    """Why the IC would refuse the module made of ``chunks`` (``size`` bytes), or None.

    Only a module of at most :data:`FULL_CHECK_MAX` bytes, decompressed, is checked (see the module docstring);
    it must already have passed :class:`ModuleStreamCheck`.
    """
    if size > FULL_CHECK_MAX:
        return None
    module = b"".join(chunks)
    if wasm.is_gzip(module):
        try:
            wasm.decompress_bounded(module, FULL_CHECK_MAX)
        except InvalidModule:
            return None  # larger than we hold whole (or broken, which the streamed check reported)
    try:
        wasm.validate_canister_module(module)
    except InvalidModule as exc:
        return InvalidArgument(f"the IC would refuse this module: {exc}")
    return None
