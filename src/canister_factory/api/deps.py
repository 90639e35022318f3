"""What the routes depend on: the opened factory and the authenticated caller, as ``Annotated`` aliases."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from canister_factory import auth
from canister_factory._core.errors import FactoryFault, Unauthenticated
from canister_factory.api.metrics import Metrics
from canister_factory.bootstrap import App
from canister_factory.service.factory import Factory
from canister_factory.store.nonces import NonceStore
from icp_client.principal import Principal


@dataclass
class Services:
    """The service's dependencies, built once per app (at ``create_app`` or at start-up)."""

    app: App
    nonces: NonceStore
    metrics: Metrics = field(default_factory=Metrics)
    now_s: Callable[[], float] = time.time

    @property
    def factory(self) -> Factory:
        return self.app.factory


async def get_services(request: Request) -> Services:
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:
        raise FactoryFault("the service is starting; try again")
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def authenticated_caller(request: Request, services: ServicesDep) -> Principal:
    """The principal that signed this request (RFC 9421, see ``canister_factory.auth``).

    Raises:
        Unauthenticated: the request is unsigned (anonymous callers may only read public routes) or its
            signature does not check out. Nothing has changed when this is raised.
    """
    if not auth.is_signed(request.headers):
        raise Unauthenticated(
            "this route needs a signed request; the anonymous principal 2vxsx-fae may only read public routes"
        )
    body = await request.body()
    now = int(services.now_s())
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode()
    path = raw_path.decode("latin-1").split("?", 1)[0]
    query = request.scope.get("query_string", b"").decode("latin-1")

    def remember(keyid: str, nonce: str, expires: int) -> bool:
        return services.nonces.remember(keyid, nonce, expires, now_s=now)

    def verify() -> Principal:
        return auth.verify_request(
            request.method, path, query, request.headers, body, now_s=now, remember_nonce=remember
        )

    return await run_in_threadpool(verify)


Caller = Annotated[Principal, Depends(authenticated_caller)]


async def raw_body(request: Request) -> bytes:
    """The request body, already bounded by ``BodyLimit`` (and cached, so the signature check sees the same)."""
    return await request.body()


Body = Annotated[bytes, Depends(raw_body)]
