"""Public reads (no signature needed): config, stats, health, version, liveness, metrics; and ``my-stats``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from canister_factory._core.errors import FactoryError
from canister_factory._core.model import FactoryStats
from canister_factory.api.deps import Caller, Services, ServicesDep
from canister_factory.api.metrics import CONTENT_TYPE
from canister_factory.api.schemas import (
    CallerStatsReply,
    ConfigReply,
    FactoryStatsReply,
    TextReply,
    VersionReply,
)
from canister_factory.client.wire import caller_stats_to_json, config_to_json, factory_stats_to_json

router = APIRouter(tags=["queries"])


@router.get("/v1/config", response_model=ConfigReply, summary="get_config")
def get_config(services: ServicesDep) -> dict[str, Any]:
    return config_to_json(services.factory.get_config())


@router.get("/v1/stats", response_model=FactoryStatsReply, summary="get_factory_stats")
def get_factory_stats(services: ServicesDep) -> dict[str, Any]:
    return factory_stats_to_json(services.factory.get_factory_stats())


@router.get("/v1/my-stats", response_model=CallerStatsReply, summary="my_stats (signed)")
def my_stats(services: ServicesDep, caller: Caller) -> dict[str, Any]:
    return caller_stats_to_json(services.factory.my_stats(caller))


@router.get("/v1/health", response_model=TextReply, summary="health_check")
def health_check(services: ServicesDep) -> dict[str, str]:
    return {"status": services.factory.health_check()}


@router.get("/v1/version", response_model=VersionReply, summary="version")
def version(services: ServicesDep) -> dict[str, str]:
    return {"version": services.factory.version()}


@router.get("/healthz", summary="liveness: the process answers")
async def healthz() -> dict[str, bool]:
    return {"ok": True}


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
async def metrics(services: ServicesDep) -> Response:
    stats = await run_in_threadpool(_stats_or_none, services)
    return Response(services.metrics.render(stats), media_type=CONTENT_TYPE)


def _stats_or_none(services: Services) -> FactoryStats | None:
    try:
        return services.factory.get_factory_stats()
    except FactoryError:
        return None
