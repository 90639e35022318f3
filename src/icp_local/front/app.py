"""The front as an ASGI application (Starlette), and helpers to serve it with uvicorn.

::

    GET  /api/v2/status                              CBOR status with the root key
    POST /api/{v2,v3,v4}/canister/<ecid>/call        update calls (v2 async, v3/v4 sync with a certificate)
    POST /api/{v2,v3}/canister/<ecid>/query          queries, node-signed
    POST /api/{v2,v3}/canister/<ecid>/read_state     certified state for a canister
    POST /api/{v2,v3}/subnet/<sid>/read_state        certified state for the subnet
    GET  /_front/metrics                             debug counters (JSON), e.g. bytes upload_chunk received

The handlers read the body, then run the synchronous ``Front`` method in a worker thread (the embedded IC
does blocking database I/O), so several clients are served at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from icp_local import LocalIc
from icp_local.front.core import Front, FrontOptions, Reply
from icp_local.front.keys import FrontKeys

DEFAULT_PORT = 4943


def _not_found() -> Response:
    return Response(b"not found", status_code=404, media_type="text/plain")


def _response(reply: Reply) -> Response:
    return Response(reply.body, status_code=reply.status, media_type=reply.content_type)


def create_front_app(front: Front) -> Starlette:
    """The ASGI app serving ``front``."""

    async def status(_request: Request) -> Response:
        return _response(front.status())

    async def call(request: Request) -> Response:
        version = int(request.path_params["version"])
        if version not in front.options.call_versions:
            return _not_found()
        body = await request.body()
        return _response(await run_in_threadpool(front.call, version, request.path_params["ecid"], body))

    async def query(request: Request) -> Response:
        if request.path_params["version"] not in (2, 3):
            return _not_found()
        body = await request.body()
        return _response(await run_in_threadpool(front.query, request.path_params["ecid"], body))

    async def read_state(request: Request) -> Response:
        body = await request.body()
        kind, target = request.path_params["kind"], request.path_params["target"]
        if request.path_params["version"] not in (2, 3) or kind not in ("canister", "subnet"):
            return _not_found()
        return _response(await run_in_threadpool(front.read_state, kind, target, body))

    async def metrics(_request: Request) -> Response:
        return JSONResponse(front.metrics.snapshot())

    routes = [
        Route("/api/v2/status", status, methods=["GET"]),
        Route("/api/v{version:int}/canister/{ecid}/call", call, methods=["POST"]),
        Route("/api/v{version:int}/canister/{ecid}/query", query, methods=["POST"]),
        Route("/api/v{version:int}/{kind}/{target}/read_state", read_state, methods=["POST"]),
        Route("/_front/metrics", metrics, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.front = front
    return app


def serve_front(
    engine: LocalIc,
    keys: FrontKeys,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    *,
    options: FrontOptions | None = None,
    log_level: str = "warning",
) -> None:
    """Serve the embedded IC on ``host:port`` until interrupted (``canister-factory local-network``)."""
    app = create_front_app(Front(engine, keys, options))
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


@dataclass(frozen=True)
class RunningFront:
    """A front served in a background thread: its URL and the ``Front`` (metrics, keys)."""

    url: str
    front: Front

    @property
    def root_key_der(self) -> bytes:
        return self.front.keys.root_key_der


@contextlib.contextmanager
def running_front(
    engine: LocalIc,
    keys: FrontKeys,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    options: FrontOptions | None = None,
) -> Iterator[RunningFront]:
    """Serve a front in a daemon thread on ``host:port`` (0 = a free port) for the duration of the block."""
    front = Front(engine, keys, options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(create_front_app(front), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield RunningFront(f"http://{host}:{sock.getsockname()[1]}", front)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


__all__ = ["DEFAULT_PORT", "RunningFront", "create_front_app", "running_front", "serve_front"]
