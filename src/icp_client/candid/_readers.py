"""The decoder's cursor and its primitive readers: one small function per primitive type, picked by opcode.

A reader is a function ``read(state) -> value``. The common cases are inlined (a one-byte LEB128 length, a
fixed-width number read with one ``struct`` call); anything unusual, and every error, goes through the
:class:`~icp_client.candid._wire.Reader` methods, so the messages and limits are those of the reader.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from icp_client.candid._wire import Reader
from icp_client.candid.errors import CandidDecodeError
from icp_client.candid.values import FuncRef
from icp_client.principal import Principal, PrincipalError

#: struct format of each fixed-width number type, by opcode.
FIXED_FORMATS: dict[int, str] = {
    -5: "B",
    -6: "H",
    -7: "I",
    -8: "Q",
    -9: "b",
    -10: "h",
    -11: "i",
    -12: "q",
    -13: "f",
    -14: "d",
}
NAT8_CODE = -5
NULL_CODE, RESERVED_CODE, EMPTY_CODE = -1, -16, -17


class State(Reader):
    """The cursor of one message, with what is left of its cost budget and the current nesting depth."""

    __slots__ = ("budget", "depth", "end", "max_depth")

    def __init__(self, data: bytes, pos: int, max_number_bytes: int, budget: int, max_depth: int) -> None:
        super().__init__(data, pos, max_number_bytes)
        self.end = len(data)
        self.budget = budget
        self.depth = 0
        self.max_depth = max_depth

    def charge(self, units: int) -> None:
        self.budget -= units
        if self.budget < 0:
            raise CandidDecodeError("decoding cost limit exceeded (too many values for the message size)")

    def too_deep(self) -> CandidDecodeError:
        return CandidDecodeError(f"nesting depth limit ({self.max_depth}) exceeded")


Read = Callable[[State], Any]


def size(st: State, what: str) -> int:
    """A length or count: the one-byte case inline, the rest (and every error) by ``Reader.size``."""
    pos = st.pos
    if pos < st.end:
        b = st.data[pos]
        if b < 0x80:
            st.pos = pos + 1
            return b
    return st.size(what)


def take(st: State, n: int) -> bytes:
    pos = st.pos
    end = pos + n
    if end > st.end:
        return st.take(n)  # raises with the reader's message
    st.pos = end
    return st.data[pos:end]


def read_nat(st: State) -> int:
    pos = st.pos
    if pos < st.end:
        b = st.data[pos]
        if b < 0x80:
            st.pos = pos + 1
            return b
    return st.leb()


def read_int(st: State) -> int:
    pos = st.pos
    if pos < st.end:
        b = st.data[pos]
        if b < 0x80:
            st.pos = pos + 1
            return b - 0x80 if b & 0x40 else b
    return st.sleb()


def fixed_reader(code: int) -> Read:
    """The reader of a fixed-width number type (nat8..nat64, int8..int64, float32, float64)."""
    packed = struct.Struct("<" + FIXED_FORMATS[code])
    unpack, width = packed.unpack_from, packed.size

    def read(st: State) -> Any:
        pos = st.pos
        if pos + width > st.end:
            st.take(width)  # raises
        st.pos = pos + width
        return unpack(st.data, pos)[0]

    return read


def read_bool(st: State) -> bool:
    b = st.byte()
    if b > 1:
        raise CandidDecodeError(f"invalid bool byte {b:#04x}")
    return b == 1


def read_text(st: State) -> str:
    raw = take(st, size(st, "text length"))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CandidDecodeError("text is not valid UTF-8") from None


def read_principal(st: State) -> Principal:
    tag = st.byte()
    if tag != 1:
        raise CandidDecodeError(f"principal: {_reference_tag(tag)}")
    raw = take(st, size(st, "principal length"))
    try:
        return Principal(raw)
    except PrincipalError as exc:
        raise CandidDecodeError(str(exc)) from None


def read_func(st: State) -> FuncRef:
    tag = st.byte()
    if tag != 1:
        raise CandidDecodeError(f"func: {_reference_tag(tag)}")
    principal = read_principal(st)
    return FuncRef(principal, read_text(st))


def read_none(st: State) -> None:
    return None


def read_empty(st: State) -> None:
    raise CandidDecodeError("cannot decode a value of type empty")


def _reference_tag(tag: int) -> str:
    return "opaque references are not supported" if tag == 0 else f"invalid reference tag {tag}"


_READERS: dict[int, Read] = {
    -1: read_none,
    -2: read_bool,
    -3: read_nat,
    -4: read_int,
    -15: read_text,
    -16: read_none,
    -17: read_empty,
    -24: read_principal,
    **{code: fixed_reader(code) for code in FIXED_FORMATS},
}


def primitive_reader(code: int) -> Read:
    """The reader of the primitive type with this opcode."""
    return _READERS[code]


def fixed_vector(code: int, n: int, st: State) -> list[Any]:
    """``n`` fixed-width numbers in one ``struct`` call."""
    fmt = FIXED_FORMATS[code]
    raw_size = n * struct.calcsize("<" + fmt)
    pos = st.pos
    if pos + raw_size > st.end:
        st.take(raw_size)  # raises
    st.pos = pos + raw_size
    return list(struct.unpack_from(f"<{n}{fmt}", st.data, pos))
