"""LEB128 helpers and the bounded byte reader used by the decoder."""

from __future__ import annotations

from icp_client.candid.errors import CandidDecodeError

_MAX_SIZE_LEB_BYTES = 10  # a u64 needs at most 10 LEB128 bytes


def leb128(n: int) -> bytes:
    """Unsigned LEB128 of ``n`` (``n >= 0``)."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb128(n: int) -> bytes:
    """Signed LEB128 of ``n``."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        done = (n == 0 and not byte & 0x40) or (n == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


class Reader:
    """A cursor over the input that fails cleanly (CandidDecodeError) instead of reading past the end."""

    __slots__ = ("data", "max_number_bytes", "pos")

    def __init__(self, data: bytes, pos: int = 0, max_number_bytes: int = 1024) -> None:
        self.data = data
        self.pos = pos
        self.max_number_bytes = max_number_bytes

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def byte(self) -> int:
        """Read one byte."""
        if self.pos >= len(self.data):
            raise CandidDecodeError(f"unexpected end of input at byte {self.pos}")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int) -> bytes:
        """Read exactly ``n`` bytes."""
        if n > self.remaining:
            raise CandidDecodeError(f"need {n} bytes at byte {self.pos}, only {self.remaining} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def skip(self, n: int) -> None:
        """Advance over ``n`` bytes."""
        if n > self.remaining:
            raise CandidDecodeError(f"need {n} bytes at byte {self.pos}, only {self.remaining} left")
        self.pos += n

    def _leb_bytes(self) -> bytes:
        """The bytes of one LEB128 number, at most ``max_number_bytes`` of them (bounds the work)."""
        start = end = self.pos
        limit = min(len(self.data), start + self.max_number_bytes)
        while end < limit and self.data[end] & 0x80:
            end += 1
        if end >= len(self.data):
            raise CandidDecodeError(f"unexpected end of input in a LEB128 number at byte {start}")
        if end >= limit:
            raise CandidDecodeError(
                f"LEB128 number at byte {start} is longer than {self.max_number_bytes} bytes"
            )
        self.pos = end + 1
        return self.data[start : end + 1]

    def leb(self) -> int:
        """An unsigned LEB128 number (for ``nat`` values)."""
        result = 0
        for b in reversed(self._leb_bytes()):
            result = (result << 7) | (b & 0x7F)
        return result

    def sleb(self) -> int:
        """A signed LEB128 number (for ``int`` values)."""
        raw = self._leb_bytes()
        result = 0
        for b in reversed(raw):
            result = (result << 7) | (b & 0x7F)
        return result - (1 << (7 * len(raw))) if raw[-1] & 0x40 else result

    def size(self, what: str) -> int:
        """An unsigned LEB128 length, count or id that must fit in 64 bits."""
        start = self.pos
        value = self.leb()
        if self.pos - start > _MAX_SIZE_LEB_BYTES or value >= 2**64:
            raise CandidDecodeError(f"{what}: LEB128 number too large at byte {start}")
        return value

    def type_code(self) -> int:
        """A signed LEB128 type code or table index (fits in 64 bits)."""
        start = self.pos
        value = self.sleb()
        if self.pos - start > _MAX_SIZE_LEB_BYTES:
            raise CandidDecodeError(f"type code too long at byte {start}")
        return value
