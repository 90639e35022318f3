"""Principals: the IC's identifiers for users, canisters and subnets.

A principal is a blob of 0 to 29 bytes; its class is the last byte (interface specification, "Principals").
The textual form is ``Grouped(Base32(CRC32(b) · b))``: big-endian CRC-32 in front, RFC 4648 base32 without
padding in lower case, a dash after every five characters. Parsing is case-insensitive and checks the CRC and
that re-encoding gives back the input.

Standard library only: the core depends on this module.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import zlib
from dataclasses import dataclass

from icp_client.errors import InvalidInput

MAX_LENGTH_IN_BYTES = 29
_SELF_AUTHENTICATING_TAG = 0x02
_ANONYMOUS_TAG = 0x04
_MAX_TEXT_LENGTH = 63


class PrincipalError(InvalidInput):
    """A principal's text or bytes are malformed; the message says how."""


@dataclass(frozen=True, order=True, slots=True)
class Principal:
    """An IC principal, held as its raw bytes. Compare, hash and sort as bytes."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) > MAX_LENGTH_IN_BYTES:
            raise PrincipalError(f"principal too long: {len(self.raw)} bytes (max {MAX_LENGTH_IN_BYTES})")

    @classmethod
    def from_text(cls, text: str) -> Principal:
        """Parse the textual form, e.g. ``ryjl3-tyaaa-aaaaa-aaaba-cai``.

        Raises:
            PrincipalError: the text is not a valid principal (bad characters, grouping, checksum or length).
        """
        if not isinstance(text, str):
            raise PrincipalError("principal text must be a string")
        return cls(_raw_of(text))

    def to_text(self) -> str:
        """The textual form, lower case and grouped by five."""
        return _text_of(self.raw)

    @classmethod
    def self_authenticating(cls, der_public_key: bytes) -> Principal:
        """The principal of a DER-encoded public key: SHA-224 of the key, then 0x02."""
        return cls(hashlib.sha224(der_public_key).digest() + bytes([_SELF_AUTHENTICATING_TAG]))

    @classmethod
    def anonymous(cls) -> Principal:
        """The anonymous principal, ``2vxsx-fae``."""
        return cls(bytes([_ANONYMOUS_TAG]))

    @classmethod
    def management_canister(cls) -> Principal:
        """The management canister, ``aaaaa-aa`` (the empty blob)."""
        return cls(b"")

    @classmethod
    def from_canister_index(cls, index: int) -> Principal:
        """A canister id as the IC allocates them: the big-endian u64 index, then 0x01 0x01."""
        if not 0 <= index < 2**64:
            raise PrincipalError(f"canister index out of range: {index}")
        return cls(index.to_bytes(8, "big") + b"\x01\x01")

    @property
    def is_anonymous(self) -> bool:
        return self.raw == bytes([_ANONYMOUS_TAG])

    @property
    def is_self_authenticating(self) -> bool:
        return len(self.raw) == MAX_LENGTH_IN_BYTES and self.raw[-1] == _SELF_AUTHENTICATING_TAG

    def canister_index(self) -> int | None:
        """The allocation index of an opaque canister id, or None if this is not one."""
        if len(self.raw) == 10 and self.raw[8:] == b"\x01\x01":
            return int.from_bytes(self.raw[:8], "big")
        return None

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"Principal({self.to_text()!r})"


@functools.lru_cache(maxsize=4096)
def _raw_of(text: str) -> bytes:
    # Cached like _text_of (a failed parse raises, and is not cached).
    if len(text) > _MAX_TEXT_LENGTH:
        raise PrincipalError(f"principal text too long: {len(text)} characters (max {_MAX_TEXT_LENGTH})")
    lowered = text.strip().lower()
    compact = lowered.replace("-", "")
    if len(compact) < 7:
        raise PrincipalError(f"principal text too short: {text!r}")
    decoded = _b32decode(compact, text)
    checksum, raw = decoded[:4], decoded[4:]
    if int.from_bytes(checksum, "big") != zlib.crc32(raw):
        raise PrincipalError(f"principal checksum mismatch: {text!r}")
    if len(raw) > MAX_LENGTH_IN_BYTES:
        raise PrincipalError(f"principal too long: {len(raw)} bytes (max {MAX_LENGTH_IN_BYTES})")
    if _text_of(raw) != lowered:
        raise PrincipalError(f"principal text is not in canonical form: {text!r}")
    return raw


@functools.lru_cache(maxsize=4096)
def _text_of(raw: bytes) -> str:
    # Cached: the same few principals (callers, the factory, canisters) are written out over and over.
    checksum = zlib.crc32(raw).to_bytes(4, "big")
    encoded = base64.b32encode(checksum + raw).decode("ascii").lower().rstrip("=")
    return "-".join(encoded[i : i + 5] for i in range(0, len(encoded), 5))


def _b32decode(compact: str, original: str) -> bytes:
    padded = compact.upper() + "=" * (-len(compact) % 8)
    try:
        return base64.b32decode(padded)
    except (ValueError, binascii.Error) as exc:
        raise PrincipalError(f"principal text is not valid base32: {original!r}") from exc


def parse_principal(text: str, *, what: str = "principal") -> Principal:
    """Parse a principal given by a user, naming ``what`` it was in the error.

    Raises:
        PrincipalError: with a message that starts with ``what``.
    """
    try:
        return Principal.from_text(text)
    except PrincipalError as exc:
        raise PrincipalError(f"{what}: {exc}") from None
