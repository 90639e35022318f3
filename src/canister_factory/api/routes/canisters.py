"""``/v1/canisters``: create and install, and the registry (one's own, or all for admins)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from canister_factory._core.config import NAT64_MAX
from canister_factory._core.errors import FactoryError
from canister_factory.api.deps import Caller, ServicesDep, SignedRoute
from canister_factory.api.schemas import CanisterPageReply, CreateBody, CreateReply
from canister_factory.client.wire import canister_page_to_json, create_response_to_json

router = APIRouter(prefix="/v1/canisters", tags=["canisters"], route_class=SignedRoute)

Cursor = Annotated[int | None, Query(ge=0, le=NAT64_MAX, description="next_cursor from the previous page")]
Limit = Annotated[int | None, Query(ge=1, le=1000)]


@router.post("", response_model=CreateReply, summary="create_and_install_with")
def create_and_install_with(body: CreateBody, services: ServicesDep, caller: Caller) -> dict[str, Any]:
    request = body.to_request()
    try:
        response = services.factory.create_and_install_with(caller, request)
    except FactoryError as exc:
        services.metrics.count_creation(exc.code)
        raise
    services.metrics.count_creation("ok")
    return create_response_to_json(response)


@router.get("/mine", response_model=CanisterPageReply, summary="list_my_canisters")
def list_my_canisters(
    services: ServicesDep, caller: Caller, cursor: Cursor = None, limit: Limit = None
) -> Any:
    return canister_page_to_json(services.factory.list_my_canisters(caller, cursor, limit))


@router.get("", response_model=CanisterPageReply, summary="list_canisters (admin)")
def list_canisters(services: ServicesDep, caller: Caller, cursor: Cursor = None, limit: Limit = None) -> Any:
    return canister_page_to_json(services.factory.list_canisters(caller, cursor, limit))
