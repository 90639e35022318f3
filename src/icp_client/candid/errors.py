"""The Candid error tree, rooted at :class:`CandidError`.

::

    CandidError (InvalidInput)     every error this package raises on purpose (a ValueError too)
    ├── CandidDecodeError          binary input is malformed, over a limit, or does not fit the expected type
    ├── CandidEncodeError          a Python value does not fit the type it is encoded at
    └── CandidParseError           Candid text (values, types, .did files) is malformed or ill-typed

Messages name the place and what was wrong, e.g. ``field upload_id: expected nat64, got text``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from icp_client.errors import InvalidInput


class CandidError(InvalidInput):
    """Root of every error raised by the Candid package."""


class CandidDecodeError(CandidError):
    """Binary Candid could not be decoded: malformed, over a decoding limit, or not of the expected type."""


class CandidEncodeError(CandidError):
    """A Python value could not be encoded at the given Candid type."""


class CandidParseError(CandidError):
    """Candid text (a value, a type or a .did file) could not be parsed or type-checked."""


@contextmanager
def too_deep_as(error: type[CandidError], what: str) -> Iterator[None]:
    """Turn Python's RecursionError (hostile nesting) into ``error`` naming ``what``."""
    try:
        yield
    except RecursionError:
        raise error(f"{what} is too deeply nested") from None


class _MismatchError(CandidDecodeError):
    """A well-formed value does not coerce to the expected type (recoverable under ``opt``)."""
