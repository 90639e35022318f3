"""Tokens of Candid text (types, values, .did files and the conformance test grammar)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from icp_client.candid.errors import CandidParseError

_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*(?:\.(?:[0-9a-fA-F](?:_?[0-9a-fA-F])*)?)?(?:[pP][+-]?[0-9](?:_?[0-9])*)?"
    r"|[0-9](?:_?[0-9])*(?:\.(?:[0-9](?:_?[0-9])*)?)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PUNCT = ("->", "!:", "==", "!=", "(", ")", "{", "}", ";", ",", ":", "=", ".", "-", "+")
_SIMPLE_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\", '"': b'"', "'": b"'"}
_HEX = "0123456789abcdefABCDEF"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is id, text, num, punct or eof; ``value`` is str, except bytes for text."""

    kind: str
    value: str | bytes
    pos: int

    @property
    def text(self) -> str:
        assert isinstance(self.value, str)
        return self.value


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens, dropping whitespace and comments (block comments nest).

    Raises:
        CandidParseError: an unterminated comment or string, a bad escape, or an unexpected character.
    """
    tokens: list[Token] = []
    pos = 0
    while True:
        pos = _skip_blank(source, pos)
        if pos >= len(source):
            tokens.append(Token("eof", "", pos))
            return tokens
        token, pos = _next_token(source, pos)
        tokens.append(token)


def _skip_blank(source: str, pos: int) -> int:
    while pos < len(source):
        if source[pos].isspace():
            pos += 1
        elif source.startswith("//", pos):
            end = source.find("\n", pos)
            pos = len(source) if end < 0 else end + 1
        elif source.startswith("/*", pos):
            pos = _skip_block_comment(source, pos)
        else:
            break
    return pos


def _skip_block_comment(source: str, pos: int) -> int:
    depth, i = 0, pos
    while i < len(source):
        if source.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif source.startswith("*/", i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        else:
            i += 1
    raise CandidParseError(f"unterminated block comment starting at offset {pos}")


def _next_token(source: str, pos: int) -> tuple[Token, int]:
    ch = source[pos]
    if ch == '"':
        return _string(source, pos)
    if (
        "0" <= ch <= "9"
    ):  # ASCII only: str.isdigit() is also true for "²" and other digits _NUMBER won't match
        m = _NUMBER.match(source, pos)
        assert m is not None
        return Token("num", m.group(), pos), m.end()
    m = _IDENT.match(source, pos)
    if m:
        return Token("id", m.group(), pos), m.end()
    for punct in _PUNCT:
        if source.startswith(punct, pos):
            return Token("punct", punct, pos), pos + len(punct)
    raise CandidParseError(f"unexpected character {ch!r} at offset {pos}")


def _string(source: str, start: int) -> tuple[Token, int]:
    out = bytearray()
    i = start + 1
    while i < len(source):
        ch = source[i]
        if ch == '"':
            return Token("text", bytes(out), start), i + 1
        if ch == "\\":
            chunk, i = _escape(source, i + 1)
            out += chunk
        else:
            out += ch.encode("utf-8", "surrogatepass")
            i += 1
    raise CandidParseError(f"unterminated string starting at offset {start}")


def _escape(source: str, i: int) -> tuple[bytes, int]:
    ch = source[i : i + 1]
    if ch in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[ch], i + 1
    if ch == "u" and source[i + 1 : i + 2] == "{":
        end = source.find("}", i + 2)
        digits = source[i + 2 : end].replace("_", "") if end >= 0 else ""
        if end < 0 or not digits or any(c not in _HEX for c in digits) or len(digits) > 6:
            raise CandidParseError(f"bad unicode escape at offset {i - 1}")
        code = int(digits, 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise CandidParseError(f"unicode escape \\u{{{digits}}} is not a scalar value")
        return chr(code).encode("utf-8"), end + 1
    pair = source[i : i + 2]
    if len(pair) == 2 and all(c in _HEX for c in pair):
        return bytes([int(pair, 16)]), i + 2
    raise CandidParseError(f"bad escape sequence at offset {i - 1}")


class TokenStream:
    """A cursor over tokens with the small helpers recursive-descent parsers need."""

    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.i = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return token

    def at(self, kind: str, value: str | None = None, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == kind and (value is None or token.value == value)

    def at_punct(self, value: str, ahead: int = 0) -> bool:
        return self.at("punct", value, ahead)

    def at_keyword(self, value: str, ahead: int = 0) -> bool:
        return self.at("id", value, ahead)

    def accept(self, value: str) -> bool:
        """Consume the punctuation or keyword ``value`` if it is next."""
        token = self.peek()
        if token.kind in ("punct", "id") and token.value == value:
            self.next()
            return True
        return False

    def expect(self, value: str) -> Token:
        token = self.peek()
        if token.kind in ("punct", "id") and token.value == value:
            return self.next()
        raise self.error(f"expected {value!r}")

    def expect_kind(self, kind: str, what: str) -> Token:
        if self.peek().kind != kind:
            raise self.error(f"expected {what}")
        return self.next()

    def error(self, message: str) -> CandidParseError:
        token = self.peek()
        found = "end of input" if token.kind == "eof" else repr(token.value)
        return CandidParseError(f"{message} at offset {token.pos}, found {found}")


def text_value(token: Token) -> str:
    """The string of a text token.

    Raises:
        CandidParseError: the bytes are not valid UTF-8.
    """
    assert isinstance(token.value, bytes)
    try:
        return token.value.decode("utf-8")
    except UnicodeDecodeError:
        raise CandidParseError(f"text at offset {token.pos} is not valid UTF-8") from None
