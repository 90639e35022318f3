"""``/v1/admin``: emergency stop, allowlist, admins, cleanup, reconciliation. The factory checks the admin set."""

from __future__ import annotations

from fastapi import APIRouter, Response

from canister_factory.api.deps import Caller, ServicesDep, SignedRoute
from canister_factory.api.schemas import AdminBody, AllowlistBody, EmergencyStopBody, RemovedReply
from canister_factory.client.wire import parse_principal_text

router = APIRouter(prefix="/v1/admin", tags=["admin"], route_class=SignedRoute)


@router.put("/emergency-stop", status_code=204, response_class=Response, summary="set_emergency_stop")
def set_emergency_stop(body: EmergencyStopBody, services: ServicesDep, caller: Caller) -> Response:
    services.factory.set_emergency_stop(caller, body.stopped)
    return Response(status_code=204)


@router.put("/allowlist", status_code=204, response_class=Response, summary="set_allowlist")
def set_allowlist(body: AllowlistBody, services: ServicesDep, caller: Caller) -> Response:
    services.factory.set_allowlist(caller, body.principals())
    return Response(status_code=204)


@router.post("/admins", status_code=204, response_class=Response, summary="add_admin")
def add_admin(body: AdminBody, services: ServicesDep, caller: Caller) -> Response:
    services.factory.add_admin(caller, parse_principal_text(body.principal, "principal"))
    return Response(status_code=204)


@router.delete("/admins/{principal}", status_code=204, response_class=Response, summary="remove_admin")
def remove_admin(principal: str, services: ServicesDep, caller: Caller) -> Response:
    services.factory.remove_admin(caller, parse_principal_text(principal, "principal"))
    return Response(status_code=204)


@router.post("/cleanup", response_model=RemovedReply, summary="cleanup_expired_uploads_manual")
def cleanup_expired_uploads_manual(services: ServicesDep, caller: Caller) -> dict[str, int]:
    return {"removed": services.factory.cleanup_expired_uploads_manual(caller)}


@router.post("/reconcile", response_model=dict[str, int], summary="reconcile unfinished creations")
def reconcile(services: ServicesDep, caller: Caller) -> dict[str, int]:
    services.app.require_admin(caller)
    return services.factory.reconcile()
