"""``create_app``: the FastAPI application over one opened factory. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route

from canister_factory import auth
from canister_factory._core.errors import FactoryError, InvalidArgument
from canister_factory._version import __version__
from canister_factory.api import errors
from canister_factory.api.access_log import AccessLog
from canister_factory.api.deps import Services
from canister_factory.api.docs_page import docs_html
from canister_factory.api.limits import MAX_JSON_BODY, BodyLimit
from canister_factory.api.metrics import Metrics, RequestCounter
from canister_factory.api.routes import ops
from canister_factory.api.routes.methods import method_router
from canister_factory.bootstrap import App
from canister_factory.store.nonces import NonceStore
from icp_client.errors import InvalidInput

log = logging.getLogger("canister_factory.api")

AppSource = App | Callable[[], App]
"""An opened factory, or a function that opens one when the service starts (and is closed when it stops)."""


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """How the service runs its background work and bounds its input."""

    cleanup_interval_s: float | None = 60.0
    """TTL cleanup of expired uploads (and of old request nonces) every this many seconds; None turns it off."""
    reconcile_on_start: bool = True
    """Run ``factory.reconcile()`` once when the service starts."""
    max_json_bytes: int = MAX_JSON_BODY
    now_s: Callable[[], float] = time.time
    """The clock the signature check uses (Unix seconds)."""
    public_urls: tuple[str, ...] = ()
    """The URLs callers reach the service by (behind a reverse proxy: the proxy's); signed requests must name
    one of them. Empty: the address each request arrived on (right for direct connections)."""

    def __post_init__(self) -> None:
        for url in self.public_urls:
            try:
                auth.authority_of_url(url)
            except ValueError as exc:
                raise InvalidArgument(f"public URL: {exc}") from None
        if len(self.public_urls) > auth.MAX_AUDIENCES:
            raise InvalidArgument(f"public URL: at most {auth.MAX_AUDIENCES}, got {len(self.public_urls)}")


def create_app(source: AppSource, options: ServiceOptions | None = None) -> FastAPI:
    """The HTTP service for ``source``'s factory.

    Args:
        source: an opened ``App`` (the caller keeps ownership and closes it), or a function that opens one at
            start-up (the service then closes it at shutdown; what ``python -m canister_factory.api`` uses).
        options: background work, body caps and clock; the defaults suit production.
    """
    options = options or ServiceOptions()
    metrics = Metrics()
    api = FastAPI(
        title="canister-factory",
        version=__version__,
        description="Create and manage canisters on the Internet Computer. Requests are signed with the "
        "caller's IC key (RFC 9421); see docs/http-api.md.",
        lifespan=_lifespan(source, options, metrics),
        docs_url=None,  # Swagger UI and ReDoc load their assets from a CDN: /docs is our own page instead
        redoc_url=None,
    )
    if isinstance(source, App):
        api.state.services = _services(source, options, metrics)
    for handled in (FactoryError, InvalidInput):
        api.add_exception_handler(handled, errors.factory_error_handler)
    api.add_exception_handler(RequestValidationError, errors.validation_error_handler)
    api.add_exception_handler(StarletteHTTPException, errors.http_error_handler)
    api.add_exception_handler(Exception, errors.unexpected_error_handler)
    api.include_router(method_router())
    api.include_router(ops.router)
    api.add_api_route(
        "/docs", _docs(api), methods=["GET"], include_in_schema=False, response_class=HTMLResponse
    )
    metrics.declare_routes(_served_routes(api))
    api.add_middleware(BodyLimit, json_cap=options.max_json_bytes)
    api.add_middleware(RequestCounter, metrics=metrics)
    api.add_middleware(AccessLog)  # outermost: it sees every reply, a body refused before routing included
    return api


def _docs(api: FastAPI) -> Callable[[], HTMLResponse]:
    def docs() -> HTMLResponse:
        """The API reference, offline (no assets from a CDN)."""
        return HTMLResponse(docs_html(api.openapi()))

    return docs


def _services(app: App, options: ServiceOptions, metrics: Metrics) -> Services:
    return Services(
        app=app,
        nonces=NonceStore(app.db),
        metrics=metrics,
        now_s=options.now_s,
        public_urls=options.public_urls,
    )


def _served_routes(api: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) the app serves: the only route labels its metrics use.

    Read from the OpenAPI description (which names every route of the API, however the routers were included)
    and from the app's own routes (``/openapi.json``, ``/docs``).
    """
    described = [
        (method.upper(), path)
        for path, operations in api.openapi().get("paths", {}).items()
        for method in operations
    ]
    own = [(m, r.path) for r in api.routes if isinstance(r, Route) for m in (r.methods or ())]
    return described + own


def _lifespan(
    source: AppSource, options: ServiceOptions, metrics: Metrics
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        owned = not isinstance(source, App)
        if not isinstance(source, App):
            opened = await run_in_threadpool(source)
            api.state.services = _services(opened, options, metrics)
        services: Services = api.state.services
        if options.reconcile_on_start:
            await run_in_threadpool(_reconcile, services)
        timer = None
        if options.cleanup_interval_s:
            timer = asyncio.create_task(_cleanup_every(options.cleanup_interval_s, services))
        try:
            yield
        finally:
            if timer is not None:
                timer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await timer
            if owned:
                services.app.close()

    return lifespan


def _reconcile(services: Services) -> None:
    try:
        if services.app.is_deployed():
            counts = services.factory.reconcile()
            log.info("reconciled unfinished creations: %s", counts)
    except FactoryError as exc:
        log.warning("reconciliation at start-up failed: %s", exc)


def cleanup_once(services: Services) -> int:
    """One round of the timer's work: expired uploads, then old nonces. Returns the uploads removed."""
    removed = 0
    try:
        if services.app.is_deployed():
            removed = services.factory.cleanup_expired_uploads()
        services.nonces.prune(int(services.now_s()))
    except FactoryError as exc:
        log.warning("cleanup failed: %s", exc)
    return removed


async def _cleanup_every(interval_s: float, services: Services) -> None:
    while True:
        await asyncio.sleep(interval_s)
        removed = await run_in_threadpool(cleanup_once, services)
        if removed:
            log.info("removed %d expired uploads", removed)
