"""Request body caps, enforced while the body streams in (pure ASGI, so nothing reads past the cap).

A declared ``Content-Length`` over the cap is refused with 413 before a byte of the body is read; a body sent
without one (chunked) is refused as soon as it passes the cap. Chunk uploads get ``MAX_CHUNK_BODY``; every other
request gets the JSON cap.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canister_factory._core.config import MAX_CHUNK_SIZE
from canister_factory.api.errors import BodyTooLarge, error_body

MAX_CHUNK_BODY = MAX_CHUNK_SIZE
MAX_JSON_BODY = 64 * 1024
_CHUNK_PATH = re.compile(r"^/v1/uploads/[^/]+/chunks(/[^/]+)?/?$")


def cap_for(path: str, json_cap: int) -> int:
    """The body cap for a request path."""
    return MAX_CHUNK_BODY if _CHUNK_PATH.match(path) else json_cap


class BodyLimit:
    """ASGI middleware: refuse bodies over their cap with 413 ``limit_exceeded``."""

    def __init__(self, app: ASGIApp, *, json_cap: int = MAX_JSON_BODY) -> None:
        self.app = app
        self.json_cap = json_cap

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = cap_for(scope["path"], self.json_cap)
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await _refuse(send, cap)
            return
        await self.app(scope, _limited(receive, cap), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _limited(receive: Receive, cap: int) -> Receive:
    seen = 0

    async def limited() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                raise BodyTooLarge(cap)
        return message

    return limited


async def _refuse(send: Send, cap: int) -> None:
    body = json.dumps(error_body(BodyTooLarge(cap))).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
