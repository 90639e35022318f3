"""What the routes depend on: the opened factory and the authenticated caller, as ``Annotated`` aliases."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from canister_factory import auth
from canister_factory._core.errors import FactoryFault, Unauthenticated
from canister_factory.api.metrics import Metrics
from canister_factory.bootstrap import App
from canister_factory.service.factory import Factory
from canister_factory.store.nonces import NonceStore
from icp_client.principal import Principal


@dataclass
class Services:
    """The service's dependencies, built once per app (at ``create_app`` or at start-up).

    ``public_urls``: the URLs callers use to reach this service (``https://factory.example.com``); a signed
    request must name one of them in ``@authority``. Empty: the address the request arrived on (and
    ``localhost`` for a loopback address), which is right when callers connect directly.
    """

    app: App
    nonces: NonceStore
    metrics: Metrics = field(default_factory=Metrics)
    now_s: Callable[[], float] = time.time
    public_urls: tuple[str, ...] = ()

    @property
    def factory(self) -> Factory:
        return self.app.factory

    def audiences(self, scope: Scope) -> tuple[str, ...]:
        """The ``@authority`` values a request to this service must be signed for."""
        if self.public_urls:
            return tuple(auth.authority_of_url(url) for url in self.public_urls)
        host, port = scope.get("server") or ("localhost", None)
        scheme = str(scope.get("scheme", "http"))
        own = [auth.authority(scheme, str(host), port)]
        if str(host) in _LOOPBACK:
            own.append(auth.authority(scheme, "localhost", port))
        return tuple(own)


_LOOPBACK = frozenset({"127.0.0.1", "::1"})


async def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise FactoryFault("the service is starting; try again")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def authenticate(request: Request) -> Principal:
    """The principal that signed this request (RFC 9421, see ``canister_factory.auth``); cached on the request.

    Raises:
        Unauthenticated: the request is unsigned (anonymous callers may only read public routes) or its
            signature does not check out. Nothing has changed when this is raised.
    """
    cached: Principal | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    services = await get_services(request)
    if not auth.is_signed(request.headers):
        raise Unauthenticated(
            "this route needs a signed request; the anonymous principal 2vxsx-fae may only read public routes"
        )
    body = await request.body()
    now = int(services.now_s())
    target = _target(request, services)

    def remember(keyid: str, nonce: str, expires: int) -> bool:
        return services.nonces.remember(keyid, nonce, expires, now_s=now)

    def verify() -> Principal:
        return auth.verify_request(target, request.headers, body, now_s=now, remember_nonce=remember)

    principal = await run_in_threadpool(verify)
    request.state.caller = principal
    return principal


def _target(request: Request, services: Services) -> auth.Target:
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
    scheme = str(request.scope.get("scheme", "http"))
    host = request.headers.get("host")
    return auth.Target(
        method=request.method,
        path=raw_path.decode("latin-1").split("?", 1)[0],
        query=request.scope.get("query_string", b"").decode("latin-1"),
        audiences=services.audiences(request.scope),
        host=None if host is None else auth.authority_of_host_header(scheme, host),
    )


async def authenticated_caller(request: Request) -> Principal:
    """The ``Caller`` dependency: :func:`authenticate` (already run by ``SignedRoute`` routes)."""
    return await authenticate(request)


Caller = Annotated[Principal, Depends(authenticated_caller)]


class SignedRoute(APIRoute):
    """A route that authenticates before FastAPI reads and validates the body.

    So an unsigned or forged request is refused with 401 whatever its body holds (bad JSON included), and
    only an authenticated caller's body is parsed; the body is read once (``BodyLimit`` bounds it, 413 past its
    cap) and cached on the request for the route.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authenticated(request: Request) -> Response:
            await authenticate(request)
            return await handler(request)

        return authenticated


async def raw_body(request: Request) -> bytes:
    """The request body, already bounded by ``BodyLimit`` (and cached, so the signature check sees the same)."""
    return await request.body()


Body = Annotated[bytes, Depends(raw_body)]
