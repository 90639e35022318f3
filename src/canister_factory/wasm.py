"""Structural checks on canister modules before the factory stores or installs them.

``install_code`` takes a module either as raw Wasm (starts with ``00 61 73 6D``) or gzip-compressed
(starts with ``1F 8B 08``); the IC reports ``module_hash`` as the SHA-256 of the bytes exactly as
installed, i.e. of the *compressed* bytes for a gzip module. A module, compressed or not, may be at most
100 MiB (:data:`MAX_WASM_SIZE`), and so may its decompressed form.

:func:`check_module` is a cheap gate over the IC library's one section walker (:mod:`icp_client.wasm`), not a
Wasm validator. It checks:

* the magic (raw or gzip) and, for gzip, decompresses with a hard bound so that a gzip bomb never makes
  it allocate more than ``max_size`` plus one block;
* the Wasm header (``\\0asm``, version 1);
* the section headers: known ids, u32 LEB128 sizes that fit in the module, non-custom sections at most
  once and in the order the Wasm spec requires;
* custom-section names (valid UTF-8), and the IC's metadata sections ``icp:public <name>`` /
  ``icp:private <name>`` with the replica's rules and texts: no other ``icp:`` names, no name defined twice,
  at most 16 of them and 1 MiB in all.

Every failure is an :class:`~canister_factory._core.errors.InvalidArgument` whose message says what is
wrong. Function bodies, types, imports etc. are checked by :func:`icp_client.wasm.validate_canister_module`
(at ``commit_upload``, :mod:`canister_factory.wasm_stream`) and by the IC on install.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from canister_factory._core.errors import InvalidArgument
from icp_client import wasm
from icp_client.errors import InvalidModule
from icp_client.wasm import (
    GZIP_MAGIC,
    ICP_PRIVATE,
    ICP_PUBLIC,
    MAX_WASM_SIZE,
    WASM_MAGIC,
    is_gzip,
    module_hash,
)

__all__ = [
    "GZIP_MAGIC",
    "MAX_WASM_SIZE",
    "WASM_MAGIC",
    "ModuleInfo",
    "check_module",
    "decompress_bounded",
    "is_gzip",
    "module_hash",
    "refused_as_invalid_argument",
]


@dataclass(frozen=True)
class ModuleInfo:
    """What :func:`check_module` learned about a module."""

    module_hash: bytes
    """SHA-256 of the module exactly as given (the compressed bytes for gzip), as the IC reports it."""
    compressed: bool
    """True if the module was gzip-compressed."""
    size: int
    """Length of the module as given."""
    wasm_size: int
    """Length of the Wasm module (after decompression; equal to ``size`` for a raw module)."""
    custom_sections: dict[str, bytes] = field(default_factory=dict, hash=False)
    """``icp:public <name>`` / ``icp:private <name>`` sections by full section name -> payload."""

    @property
    def module_hash_hex(self) -> str:
        return self.module_hash.hex()

    def public_metadata(self, name: str) -> bytes | None:
        """Payload of the ``icp:public <name>`` section (e.g. ``candid:service``), or None."""
        return self.custom_sections.get(ICP_PUBLIC + name)

    def private_metadata(self, name: str) -> bytes | None:
        """Payload of the ``icp:private <name>`` section, or None."""
        return self.custom_sections.get(ICP_PRIVATE + name)

    def metadata(self, name: str) -> bytes | None:
        """Payload of the section called ``name`` with either visibility, or None."""
        public = self.public_metadata(name)
        return public if public is not None else self.private_metadata(name)


def decompress_bounded(data: bytes, max_size: int) -> bytes:
    """Decompress the gzip stream ``data``, refusing to produce more than ``max_size`` bytes.

    The output is produced in blocks of at most 1 MiB and counted as it comes, so a gzip bomb costs at
    most ``max_size`` + one block of memory before it is refused. Exactly one gzip member is accepted;
    trailing bytes, a truncated stream and a bad CRC are errors (:class:`InvalidArgument`).
    """
    with refused_as_invalid_argument():
        return wasm.decompress_bounded(data, max_size)


def check_module(data: bytes, *, max_size: int = MAX_WASM_SIZE) -> ModuleInfo:
    """Check that ``data`` is a raw or gzip-compressed Wasm module no larger than ``max_size``.

    ``max_size`` bounds both the bytes as given and the decompressed module. Raises
    :class:`InvalidArgument` with a message saying what is wrong; see the module docstring for what is
    (and is not) checked. It is the same check as :class:`~canister_factory.wasm_stream.ModuleStreamCheck`'s,
    fed the whole module at once.
    """
    if not isinstance(data, bytes):
        data = bytes(data)  # bytearray / memoryview: hash and parse an immutable copy
    stream = wasm.ModuleStream(max_size)
    with refused_as_invalid_argument():
        stream.feed(data)
        stream.finish()
    return ModuleInfo(
        module_hash=module_hash(data),
        compressed=stream.compressed,
        size=len(data),
        wasm_size=stream.wasm_size,
        custom_sections=stream.walker.icp_sections,
    )


@contextlib.contextmanager
def refused_as_invalid_argument() -> Iterator[None]:
    """Turns the IC library's refusal of a module into the factory's :class:`InvalidArgument`, same text."""
    try:
        yield
    except InvalidModule as exc:
        raise InvalidArgument(str(exc)) from None
