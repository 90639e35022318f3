"""The service's own routes, which are no caller's method of the factory: reconciliation, liveness, metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from canister_factory._core.errors import FactoryError
from canister_factory._core.model import FactoryStats
from canister_factory.api.deps import Caller, Services, ServicesDep, SignedRoute
from canister_factory.api.metrics import CONTENT_TYPE
from canister_factory.api.routes.methods import ERRORS

router = APIRouter()
signed = APIRouter(route_class=SignedRoute)


@signed.post(
    "/v1/admin/reconcile",
    response_model=dict[str, int],
    summary="reconcile unfinished creations",
    tags=["admin"],
    responses=ERRORS,
)
def reconcile(services: ServicesDep, caller: Caller) -> dict[str, int]:
    """Finish or undo the creations that a stopped process left unfinished; counts by outcome.

    Signed by an admin (RFC 9421, see docs/http-api.md)."""
    services.app.require_admin(caller)
    return services.factory.reconcile()


@router.get("/healthz", summary="liveness: the process answers", tags=["queries"])
async def healthz() -> dict[str, bool]:
    return {"ok": True}


@router.get("/metrics", response_class=Response, summary="Prometheus metrics", tags=["queries"])
async def metrics(services: ServicesDep) -> Response:
    stats = await run_in_threadpool(_stats_or_none, services)
    return Response(services.metrics.render(stats), media_type=CONTENT_TYPE)


router.include_router(signed)


def _stats_or_none(services: Services) -> FactoryStats | None:
    try:
        return services.factory.get_factory_stats()
    except FactoryError:
        return None
