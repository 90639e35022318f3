"""The one rule the faces share for errors: what a face reports for an exception that reaches it."""

from __future__ import annotations

from canister_factory._core.errors import FactoryError, InvalidArgument
from icp_client.errors import InvalidInput


def face_error(exc: BaseException) -> FactoryError | None:
    """The ``FactoryError`` a face reports for ``exc``; None for an exception no face expects (a bug).

    A ``FactoryError`` is itself. An ``icp_client`` ``InvalidInput`` (a principal, Candid text, a key, hex that
    the IC library refused) can reach a face only from the caller's input, so it is the caller's
    ``InvalidArgument``; the IC adapters translate the IC libraries' other errors before they reach a face.
    """
    if isinstance(exc, FactoryError):
        return exc
    if isinstance(exc, InvalidInput):
        error = InvalidArgument(str(exc))
        error.__cause__ = exc
        return error
    return None
