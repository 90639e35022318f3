"""The one walker of a Wasm module's sections, fed whole or in pieces, in constant memory.

:class:`SectionWalker` reads the header and then each section's header (id, LEB128 u32 size) as bytes arrive,
skipping payloads without keeping them, except the few bytes of a custom section's name and the payloads of the
IC's metadata sections (``icp:public <name>`` / ``icp:private <name>``, at most 1 MiB in all by the IC's rule).
It checks what can be checked on the way: the magic and version, section ids, sizes that fit, non-custom sections
at most once and in the required order, custom section names in UTF-8, and the IC's rules on ``icp:`` sections
(the replica's texts). :func:`walk` runs it over a whole module and returns the sections with their offsets, so a
parser can slice the payloads it wants from the bytes it already holds.
"""

from __future__ import annotations

import codecs
import enum
from dataclasses import dataclass

from icp_client.errors import InvalidModule

__all__ = [
    "ICP_PRIVATE",
    "ICP_PUBLIC",
    "MAX_CUSTOM_SECTIONS",
    "MAX_CUSTOM_SECTIONS_SIZE",
    "WASM_HEADER",
    "WASM_MAGIC",
    "WASM_VERSION",
    "Section",
    "SectionWalker",
    "WasmFormatError",
    "walk",
]

WASM_MAGIC = b"\x00asm"
WASM_VERSION = 1
WASM_HEADER = WASM_MAGIC + WASM_VERSION.to_bytes(4, "little")
GZIP_MAGIC = b"\x1f\x8b\x08"
ICP_PUBLIC = "icp:public "
ICP_PRIVATE = "icp:private "
MAX_CUSTOM_SECTIONS = 16
MAX_CUSTOM_SECTIONS_SIZE = 1024 * 1024
_NAME_KEEP = MAX_CUSTOM_SECTIONS_SIZE + 1

# Non-custom section ids in the order the Wasm spec (with the exception-handling `tag` section) requires.
SECTION_NAMES = {
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
_SECTION_RANK = {section_id: rank for rank, section_id in enumerate(SECTION_NAMES)}


class WasmFormatError(InvalidModule):
    """The bytes are not a well-formed module (or gzip stream): its structure, as opposed to the IC's rules."""


@dataclass(frozen=True, slots=True)
class Section:
    """One section: its id, where its header starts, where its payload starts and how long it is.

    ``name`` is a custom section's name (None for the others); ``payload`` is kept for ``icp:`` sections only
    (the payload without the name, as the IC serves it as metadata).
    """

    id: int
    start: int
    offset: int
    size: int
    name: str | None = None
    payload: bytes | None = None

    @property
    def end(self) -> int:
        """The offset just past the payload."""
        return self.offset + self.size


class _Stage(enum.Enum):
    HEADER = 0
    SECTION_ID = 1
    SECTION_SIZE = 2
    PAYLOAD = 3


class SectionWalker:
    """Feed a raw module's bytes in order with :meth:`feed`; :meth:`finish` checks it ended whole.

    ``where`` is appended to every message (``" (after gzip decompression)"``). ``sections`` lists the
    sections walked so far.

    Raises (from ``feed`` or ``finish``):
        InvalidModule: the bytes are not a well-formed module, as far as section headers and ``icp:`` sections go.
    """

    def __init__(self, where: str = "") -> None:
        self.where = where
        self.sections: list[Section] = []
        self.size = 0
        self._stage = _Stage.HEADER
        self._buffer = bytearray()
        self._section_id = 0
        self._section_start = 0
        self._payload_start = 0
        self._payload_size = 0
        self._remaining = 0
        self._last_rank = -1
        self._custom: _CustomSection | None = None
        self._icp = _IcpSections(where)

    # -- feeding ----------------------------------------------------------------------------------

    def feed(self, data: bytes | memoryview) -> None:
        """The next bytes of the module."""
        view = memoryview(data)
        while view:
            view = self._step(view)

    def _step(self, view: memoryview) -> memoryview:
        if self._stage is _Stage.PAYLOAD:
            return self._payload(view)
        if self._stage is _Stage.SECTION_ID:
            self._start_section(view[0])
            self.size += 1
            return view[1:]
        self._buffer.append(view[0])
        self.size += 1
        if self._stage is _Stage.HEADER:
            self._header_byte()
        else:
            self._size_byte()
        return view[1:]

    def _header_byte(self) -> None:
        if len(self._buffer) == 4:
            _check_magic(bytes(self._buffer), self.where)
        elif len(self._buffer) == 8:
            _check_version(bytes(self._buffer), self.where)
            self._buffer.clear()
            self._stage = _Stage.SECTION_ID

    def _start_section(self, section_id: int) -> None:
        start = self.size
        if section_id != 0:
            rank = _SECTION_RANK.get(section_id)
            if rank is None:
                raise self._error(
                    f"malformed Wasm module{self.where}: unknown section id {section_id} at offset {start}"
                )
            if rank <= self._last_rank:
                raise self._error(
                    f"malformed Wasm module{self.where}: {SECTION_NAMES[section_id]} section (id {section_id}) "
                    f"at offset {start} is duplicated or out of order"
                )
            self._last_rank = rank
        self._section_id, self._section_start = section_id, start
        self._stage = _Stage.SECTION_SIZE

    def _size_byte(self) -> None:
        value = _leb_u32(
            self._buffer, f"size of section {self._section_id}", self._section_start + 1, self.where
        )
        if value is None:
            return
        self._buffer.clear()
        self._payload_start, self._payload_size, self._remaining = self.size, value, value
        self._custom = (
            _CustomSection(self._payload_start, value, self.where) if self._section_id == 0 else None
        )
        self._stage = _Stage.PAYLOAD
        if value == 0:
            self._end_section()

    def _payload(self, view: memoryview) -> memoryview:
        step = min(self._remaining, len(view))
        if self._custom is not None:
            self._custom.feed(view[:step], self._icp)
        self._remaining -= step
        self.size += step
        if self._remaining == 0:
            self._end_section()
        return view[step:]

    def _end_section(self) -> None:
        name = payload = None
        if self._custom is not None:
            name, payload = self._custom.finish()
            if payload is not None:
                self._icp.add(name, payload)
        self.sections.append(
            Section(
                self._section_id, self._section_start, self._payload_start, self._payload_size, name, payload
            )
        )
        self._custom = None
        self._stage = _Stage.SECTION_ID

    # -- the end ----------------------------------------------------------------------------------

    def finish(self) -> list[Section]:
        """Checks the module ended after a whole section; returns the sections."""
        if self._stage is _Stage.HEADER:
            got = bytes(self._buffer)
            _check_magic(got[:4], self.where)
            raise self._error(f"truncated Wasm module{self.where}: {len(got)} bytes, the header alone is 8")
        if self._stage is _Stage.SECTION_SIZE:
            raise self._error(
                f"truncated Wasm module{self.where}: size of section {self._section_id} at offset "
                f"{self._section_start + 1} is cut off"
            )
        if self._stage is _Stage.PAYLOAD:
            raise self._error(
                f"truncated Wasm module{self.where}: section {self._section_id} at offset {self._section_start} "
                f"declares {self._payload_size} bytes but only {self._payload_size - self._remaining} remain"
            )
        return self.sections

    @property
    def icp_sections(self) -> dict[str, bytes]:
        """The ``icp:`` sections walked so far, by full section name."""
        return dict(self._icp.by_full_name)

    @staticmethod
    def _error(message: str) -> WasmFormatError:
        return WasmFormatError(message)


def walk(wasm: bytes | memoryview, where: str = "") -> list[Section]:
    """The sections of a whole raw module (see :class:`SectionWalker`).

    Raises:
        InvalidModule: the module is malformed.
    """
    walker = SectionWalker(where)
    walker.feed(wasm)
    return walker.finish()


def _check_magic(head: bytes, where: str) -> None:
    if head != WASM_MAGIC:
        expected = WASM_MAGIC.hex() if where else f"{WASM_MAGIC.hex()} (or gzip {GZIP_MAGIC.hex()})"
        raise WasmFormatError(
            f"not a Wasm module{where}: expected magic {expected}, got {head.hex() or 'nothing'}"
        )


def _check_version(header: bytes, where: str) -> None:
    version = int.from_bytes(header[4:8], "little")
    if version != WASM_VERSION:
        raise WasmFormatError(
            f"unsupported Wasm version {version}{where}: only version 1 modules are accepted"
        )


def _leb_u32(buffer: bytearray, what: str, offset: int, where: str) -> int | None:
    """The LEB128 u32 in ``buffer`` once complete (None while a continuation bit is set)."""
    last = buffer[-1]
    if last & 0x80:
        if len(buffer) >= 5:
            raise WasmFormatError(
                f"malformed Wasm module{where}: {what} at offset {offset} is longer than 5 bytes"
            )
        return None
    if len(buffer) == 5 and last > 0x0F:
        raise WasmFormatError(
            f"malformed Wasm module{where}: {what} at offset {offset} does not fit in 32 bits"
        )
    return sum((byte & 0x7F) << (7 * i) for i, byte in enumerate(buffer))


class _CustomSection:
    """A custom section's payload as it streams past: its name (UTF-8 checked), and its content if ``icp:``.

    At most ``_NAME_KEEP`` bytes of a name are kept (an ``icp:`` name that long breaks the 1 MiB rule anyway).
    """

    def __init__(self, offset: int, size: int, where: str) -> None:
        self.offset, self.size, self.where = offset, size, where
        self.length_field = bytearray()
        self.name_length: int | None = None
        self.name_bytes = bytearray()
        self.name_seen = 0
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.name: str | None = None
        self.content: bytearray | None = None

    def feed(self, data: memoryview, icp: _IcpSections) -> None:
        pos = 0
        while pos < len(data):
            if self.name_length is None:
                self._length_byte(data[pos])
                pos += 1
                if self.name_length == 0:
                    self._named(icp)
            elif self.name is None:
                take = min(len(data) - pos, self.name_length - self.name_seen)
                self._name_part(data[pos : pos + take])
                pos += take
                if self.name_seen == self.name_length:
                    self._named(icp)
            else:
                if self.content is not None:
                    self.content += data[pos:]
                pos = len(data)

    def _length_byte(self, byte: int) -> None:
        self.length_field.append(byte)
        parsed = _leb_prefix(self.length_field)
        if parsed is None:
            if len(self.length_field) >= 5:
                raise WasmFormatError(
                    f"malformed Wasm module{self.where}: custom section name length at offset {self.offset} "
                    "is longer than 5 bytes"
                )
            return
        value, used = parsed
        if used + value > self.size:
            raise WasmFormatError(
                f"malformed Wasm module{self.where}: custom section name at offset {self.offset + used} declares "
                f"{value} bytes but the section has only {self.size - used} left"
            )
        self.name_length = value

    def _name_part(self, part: memoryview) -> None:
        try:
            self.decoder.decode(bytes(part))
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        self.name_bytes += part[: max(_NAME_KEEP - len(self.name_bytes), 0)]
        self.name_seen += len(part)

    def _not_utf8(self) -> WasmFormatError:
        return WasmFormatError(
            f"malformed Wasm module{self.where}: custom section name at offset "
            f"{self.offset + len(self.length_field)} is not valid UTF-8"
        )

    def _named(self, icp: _IcpSections) -> None:
        try:
            self.decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise self._not_utf8() from None
        self.name = bytes(self.name_bytes).decode("utf-8", "ignore")
        if self.name.startswith("icp:"):
            content_size = self.size - len(self.length_field) - (self.name_length or 0)
            icp.admit(self.name, content_size)
            self.content = bytearray()

    def finish(self) -> tuple[str, bytes | None]:
        if self.name_length is None:
            raise WasmFormatError(
                f"truncated Wasm module{self.where}: custom section name length at offset {self.offset} is cut off"
            )
        assert self.name is not None  # the name's length was checked to fit in the section
        return self.name, None if self.content is None else bytes(self.content)


def _leb_prefix(buffer: bytearray) -> tuple[int, int] | None:
    """(value, bytes used) of the LEB128 u32 at the start of ``buffer``, None if it is not complete yet."""
    value = 0
    for index, byte in enumerate(buffer[:5]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, index + 1
    return None


class _IcpSections:
    """The IC's rules on ``icp:`` sections (the replica's texts): scope, unique names, at most 16, 1 MiB in all."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.by_full_name: dict[str, bytes] = {}
        self.names: set[str] = set()
        self.total = 0

    def admit(self, full_name: str, content_size: int) -> None:
        """Checks a section about to be read (before its content is buffered)."""
        name = _scoped_name(full_name)
        if name in self.names:
            raise InvalidModule(
                f"Wasm module has an invalid custom section. Invalid custom section: name {name} already exists"
            )
        self.names.add(name)
        self.total += content_size + len(name.encode())
        if self.total > MAX_CUSTOM_SECTIONS_SIZE:
            raise InvalidModule(
                "Wasm module has an invalid custom section. Invalid custom sections: total size of the custom "
                f"sections exceeds the maximum allowed: size {self.total} bytes, allowed "
                f"{MAX_CUSTOM_SECTIONS_SIZE} bytes"
            )
        if len(self.names) > MAX_CUSTOM_SECTIONS:
            raise InvalidModule(
                f"Wasm module defined {len(self.names)} custom sections which exceeds the maximum number allowed "
                f"{MAX_CUSTOM_SECTIONS}."
            )

    def add(self, full_name: str, content: bytes) -> None:
        self.by_full_name[full_name] = content


def _scoped_name(section_name: str) -> str:
    """The name of an ``icp:public <name>`` / ``icp:private <name>`` section (the replica's errors otherwise)."""
    for prefix in (ICP_PUBLIC, ICP_PRIVATE):
        if section_name.startswith(prefix):
            return section_name[len(prefix) :]
    if section_name in ("icp:public", "icp:private"):
        raise InvalidModule(
            "Wasm module has an invalid custom section. 'icp:' section names must have a space after the "
            "public/private scope"
        )
    raise InvalidModule(
        "Wasm module has an invalid custom section. Invalid custom section: Custom section "
        f"'{section_name}' has no public/private scope defined."
    )
