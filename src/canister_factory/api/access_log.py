"""One log line per request: method, route, caller, status, error code and time (``canister_factory.api.access``).

::

    POST /v1/uploads/{upload_id}/commit caller=yavxl-ppty4-... status=409 code=conflict 3.1ms

The route is the matched route's template (the raw path, quoted, for an unknown one); the caller the principal
whose signature checked out (``anonymous`` for an unsigned request, ``-`` when authentication failed); the code
the error reply's ``code`` (``-`` for a success). It replaces uvicorn's access log, which names neither.
"""

from __future__ import annotations

import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("canister_factory.api.access")

_MAX_ERROR_BODY = 8192  # error replies are small JSON objects; a larger body is not read for its code


class AccessLog:
    """ASGI middleware writing the line above when each HTTP request ends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500
        body = bytearray()

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and status >= 400 and len(body) < _MAX_ERROR_BODY:
                body.extend(message.get("body", b"")[:_MAX_ERROR_BODY])
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            log.info(
                "%s %s caller=%s status=%d code=%s %.1fms",
                scope.get("method", "?"),
                _route(scope),
                _caller(scope, status),
                status,
                _code(bytes(body)) if status >= 400 else "-",
                (time.monotonic() - started) * 1000,
            )


def _route(scope: Scope) -> str:
    template = getattr(scope.get("route"), "path", None)
    if template is not None:
        return str(template)
    return json.dumps(str(scope.get("path", ""))[:200])  # quoted: whatever a client sent stays one token


def _caller(scope: Scope, status: int) -> str:
    caller = (scope.get("state") or {}).get("caller")
    if caller is not None:
        return str(caller)
    return "-" if status == 401 else "anonymous"


def _code(body: bytes) -> str:
    try:
        reply = json.loads(body)
    except ValueError:
        return "-"
    return str(reply.get("code", "-")) if isinstance(reply, dict) else "-"
