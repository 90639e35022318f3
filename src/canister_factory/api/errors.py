"""The HTTP face's one translation of errors: ``FactoryError`` subclasses to status codes and a JSON body.

``create_app`` routes ``FactoryError`` and ``icp_client.errors.InvalidInput`` here (``interface.face_error``
says what a face reports for each), FastAPI's validation and Starlette's routing errors, and anything else (a
bug) to a 500 without a traceback.

Every error reply is ``{"error": <message>, "code": <code>}``; the message is the reference's text where it had
one (``Admin access required``, ...), the code is the error class's stable ``code``. An ``IcReject`` adds its
``reject_code``, ``reject_message`` and ``error_code``.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from canister_factory._core.errors import (
    CallerError,
    Conflict,
    EmergencyStop,
    FactoryError,
    FactoryFault,
    IcError,
    IcReject,
    InvalidArgument,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from canister_factory.interface import face_error

log = logging.getLogger("canister_factory.api")

# The most specific class wins: the table is searched in the order of the exception's MRO.
STATUS: dict[type[FactoryError], int] = {
    InvalidArgument: 400,
    Unauthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    EmergencyStop: 423,
    LimitExceeded: 429,
    CallerError: 400,
    FactoryFault: 503,
    IcError: 502,
    FactoryError: 500,
}


class BodyTooLarge(LimitExceeded):
    """A request body passed its cap; answered with 413 before the rest is read."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"Request body too large (max {cap} bytes)")
        self.cap = cap


def status_of(exc: FactoryError) -> int:
    """The HTTP status for an error: 413 for bodies, else the first of its classes in ``STATUS``."""
    if isinstance(exc, BodyTooLarge):
        return 413
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(exc: FactoryError) -> dict[str, object]:
    body: dict[str, object] = {"error": exc.message, "code": exc.code}
    if isinstance(exc, IcReject):
        body.update(
            reject_code=getattr(exc, "reject_code", None),
            reject_message=getattr(exc, "reject_message", exc.message),
            error_code=getattr(exc, "error_code", None),
        )
    return body


def error_response(exc: FactoryError) -> JSONResponse:
    status = status_of(exc)
    headers = {"WWW-Authenticate": 'Signature realm="canister-factory"'} if status == 401 else None
    return JSONResponse(error_body(exc), status_code=status, headers=headers)


async def factory_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """The one handler: every ``FactoryError`` raised by a route or dependency becomes its JSON reply, and so
    does what ``interface.face_error`` makes one of (an ``icp_client`` ``InvalidInput`` from the caller's input)."""
    error = face_error(exc)
    assert error is not None, exc
    if status_of(error) >= 500:
        log.warning("request failed: %s: %s", error.code, error.message)
    return error_response(error)


async def validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation, in our shape (400, ``invalid_argument``)."""
    assert isinstance(exc, RequestValidationError)
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return error_response(InvalidArgument("invalid request: " + "; ".join(parts)))


async def unexpected_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """The last resort: a bug answers 500 in our shape, without a traceback; the traceback goes to the log."""
    log.error("unexpected error", exc_info=exc)
    return JSONResponse(
        {"error": "internal error: the service failed unexpectedly (logged)", "code": "internal_error"},
        status_code=500,
    )


async def http_error_handler(_: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (unknown route, wrong method) in our shape."""
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse({"error": str(exc.detail), "code": code}, status_code=exc.status_code)
