"""Structural checks on canister modules before the factory stores or installs them.

``install_code`` takes a module either as raw Wasm (starts with ``00 61 73 6D``) or gzip-compressed
(starts with ``1F 8B 08``); the IC reports ``module_hash`` as the SHA-256 of the bytes exactly as
installed, i.e. of the *compressed* bytes for a gzip module. A module, compressed or not, may be at most
100 MiB (:data:`MAX_WASM_SIZE`), and so may its decompressed form.

:func:`check_module` is a cheap, standard-library-only gate, not a Wasm validator. It checks:

* the magic (raw or gzip) and, for gzip, decompresses with a hard bound so that a gzip bomb never makes
  it allocate more than ``max_size`` plus one block;
* the Wasm header (``\\0asm``, version 1);
* the section headers: known ids, u32 LEB128 sizes that fit in the module, non-custom sections at most
  once and in the order the Wasm spec requires;
* custom-section names (valid UTF-8), and the IC's metadata sections ``icp:public <name>`` /
  ``icp:private <name>``: no other ``icp:`` names, no name defined twice (as the replica does).

Every failure is an :class:`~canister_factory._core.errors.InvalidArgument` whose message says what is
wrong. Function bodies, types, imports etc. are not validated; the IC does that on install.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from canister_factory._core.errors import InvalidArgument
from icp_client.wasm import (
    GZIP_MAGIC,
    ICP_PRIVATE,
    ICP_PUBLIC,
    MAX_WASM_SIZE,
    WASM_MAGIC,
    WASM_VERSION,
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
]


_IN_BLOCK = 64 * 1024  # compressed bytes fed to zlib per call
_OUT_BLOCK = 1024 * 1024  # most decompressed bytes asked of zlib per call

# Non-custom section ids in the order the Wasm spec (with the exception-handling `tag` section) requires.
_SECTION_NAMES = {
    1: "type",
    2: "import",
    3: "function",
    4: "table",
    5: "memory",
    13: "tag",
    6: "global",
    7: "export",
    8: "start",
    9: "element",
    12: "datacount",
    10: "code",
    11: "data",
}
_SECTION_RANK = {section_id: rank for rank, section_id in enumerate(_SECTION_NAMES)}


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
    trailing bytes, a truncated stream and a bad CRC are errors.
    """
    if max_size < 0:
        raise ValueError(f"max_size must be >= 0, got {max_size}")
    if not is_gzip(data):
        raise InvalidArgument(f"not a gzip stream: expected magic {GZIP_MAGIC.hex()}, got {data[:3].hex()}")
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip header and trailer only
    view = memoryview(data)
    pos = 0
    total = 0
    blocks: list[bytes] = []
    try:
        while not decompressor.eof:
            if decompressor.unconsumed_tail:
                chunk: bytes | memoryview = decompressor.unconsumed_tail
            elif pos < len(view):
                chunk = view[pos : pos + _IN_BLOCK]
                pos += len(chunk)
            else:
                chunk = b""
            # Ask for one byte more than still allowed, so that "exactly max_size" is fine and more is seen.
            block = decompressor.decompress(chunk, min(_OUT_BLOCK, max_size - total + 1))
            if not block and not chunk and not decompressor.eof:
                raise InvalidArgument("truncated gzip module: the stream ends before its end marker")
            total += len(block)
            if total > max_size:
                raise InvalidArgument(f"gzip module decompresses to more than {max_size} bytes")
            blocks.append(block)
    except zlib.error as exc:
        raise InvalidArgument(f"invalid gzip module: {exc}") from None
    if decompressor.unused_data or pos < len(view):
        raise InvalidArgument("invalid gzip module: trailing data after the gzip stream")
    return b"".join(blocks)


def check_module(data: bytes, *, max_size: int = MAX_WASM_SIZE) -> ModuleInfo:
    """Check that ``data`` is a raw or gzip-compressed Wasm module no larger than ``max_size``.

    ``max_size`` bounds both the bytes as given and the decompressed module. Raises
    :class:`InvalidArgument` with a message saying what is wrong; see the module docstring for what is
    (and is not) checked.
    """
    if not isinstance(data, bytes):
        data = bytes(data)  # bytearray / memoryview: hash and parse an immutable copy
    size = len(data)
    if size == 0:
        raise InvalidArgument(
            "empty module: expected a Wasm module (0061736d) or a gzip-compressed one (1f8b08)"
        )
    if size > max_size:
        raise InvalidArgument(f"module is {size} bytes, more than the limit of {max_size} bytes")
    compressed = is_gzip(data)
    if compressed:
        wasm = decompress_bounded(data, max_size)
        sections = _parse_wasm(wasm, where=" (after gzip decompression)")
    else:
        wasm = data
        sections = _parse_wasm(wasm, where="")
    return ModuleInfo(
        module_hash=module_hash(data),
        compressed=compressed,
        size=size,
        wasm_size=len(wasm),
        custom_sections=sections,
    )


def _read_u32(data: bytes, pos: int, end: int, what: str, where: str) -> tuple[int, int]:
    """Read an unsigned LEB128 u32 from ``data[pos:end]``; return (value, position after it)."""
    result = 0
    for i in range(5):
        if pos + i >= end:
            raise InvalidArgument(f"truncated Wasm module{where}: {what} at offset {pos} is cut off")
        byte = data[pos + i]
        result |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            if i == 4 and byte > 0x0F:
                raise InvalidArgument(
                    f"malformed Wasm module{where}: {what} at offset {pos} does not fit in 32 bits"
                )
            return result, pos + i + 1
    raise InvalidArgument(f"malformed Wasm module{where}: {what} at offset {pos} is longer than 5 bytes")


def _parse_wasm(wasm: bytes, *, where: str) -> dict[str, bytes]:
    """Check the header and walk the sections of ``wasm``; return its ``icp:`` custom sections."""
    if wasm[:4] != WASM_MAGIC:
        got = wasm[:4].hex() or "nothing"
        expected = f"{WASM_MAGIC.hex()}" if where else f"{WASM_MAGIC.hex()} (or gzip {GZIP_MAGIC.hex()})"
        raise InvalidArgument(f"not a Wasm module{where}: expected magic {expected}, got {got}")
    if len(wasm) < 8:
        raise InvalidArgument(f"truncated Wasm module{where}: {len(wasm)} bytes, the header alone is 8")
    version = int.from_bytes(wasm[4:8], "little")
    if version != WASM_VERSION:
        raise InvalidArgument(
            f"unsupported Wasm version {version}{where}: only version 1 modules are accepted"
        )

    custom: dict[str, bytes] = {}
    scoped_names: set[str] = set()
    last_rank = -1
    pos = 8
    end = len(wasm)
    while pos < end:
        start = pos
        section_id = wasm[pos]
        size, pos = _read_u32(wasm, pos + 1, end, f"size of section {section_id}", where)
        if size > end - pos:
            raise InvalidArgument(
                f"truncated Wasm module{where}: section {section_id} at offset {start} declares {size} bytes "
                f"but only {end - pos} remain"
            )
        body_end = pos + size
        if section_id == 0:
            name_len, name_pos = _read_u32(wasm, pos, body_end, "custom section name length", where)
            if name_len > body_end - name_pos:
                raise InvalidArgument(
                    f"malformed Wasm module{where}: custom section name at offset {name_pos} declares "
                    f"{name_len} bytes but the section has only {body_end - name_pos} left"
                )
            try:
                name = wasm[name_pos : name_pos + name_len].decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidArgument(
                    f"malformed Wasm module{where}: custom section name at offset {name_pos} "
                    "is not valid UTF-8"
                ) from None
            if name.startswith("icp:"):
                if name.startswith(ICP_PUBLIC):
                    short = name[len(ICP_PUBLIC) :]
                elif name.startswith(ICP_PRIVATE):
                    short = name[len(ICP_PRIVATE) :]
                else:
                    raise InvalidArgument(
                        f"invalid custom section {name!r}{where}: "
                        "an icp: section must be 'icp:public <name>' or 'icp:private <name>'"
                    )
                if short in scoped_names:
                    raise InvalidArgument(
                        f"invalid custom section {name!r}{where}: {short!r} is defined twice"
                    )
                scoped_names.add(short)
                custom[name] = wasm[name_pos + name_len : body_end]
        else:
            rank = _SECTION_RANK.get(section_id)
            if rank is None:
                raise InvalidArgument(
                    f"malformed Wasm module{where}: unknown section id {section_id} at offset {start}"
                )
            if rank <= last_rank:
                raise InvalidArgument(
                    f"malformed Wasm module{where}: {_SECTION_NAMES[section_id]} section (id {section_id}) "
                    f"at offset {start} is duplicated or out of order"
                )
            last_rank = rank
        pos = body_end
    return custom
