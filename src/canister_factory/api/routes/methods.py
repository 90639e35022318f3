"""The factory's methods over HTTP, built from the interface table: one route per route of each row.

A route authenticates its caller before anything else (unless the method is public), takes each parameter
where the table's route places it (path, query, JSON body fields, a record as the whole body, a raw body),
calls the facade's method, and replies with the result's JSON (``client.wire``, shared with the client):
``{key: value}`` for a single value, the record's JSON, or 204 for nothing. What HTTP calls things (models,
path and query parameters) is ``api/schemas.py``'s; errors are ``api/errors.py``'s, once for every route.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import APIRouter, Response

from canister_factory._core.errors import FactoryError
from canister_factory.api import schemas
from canister_factory.api.deps import Body, Caller, Services, ServicesDep, SignedRoute
from canister_factory.client import wire
from canister_factory.interface import METHODS, Auth, Method, Placement, Route, invoke

_SERVICES, _CALLER, _BODY = "cf_services", "cf_caller", "cf_body"
_EMPTY = inspect.Parameter.empty
_TAGS = frozenset({"uploads", "canisters", "admin"})
"""Routes under ``/v1/<tag>/`` are tagged so in OpenAPI; the others are ``queries``."""
_AUTH = {
    Auth.PUBLIC: "Public: no signature needed.",
    Auth.CALLER: "Signed by the caller (RFC 9421, see docs/http-api.md).",
    Auth.ADMIN: "Signed by an admin (RFC 9421, see docs/http-api.md).",
}
RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "description": "the chunk's bytes (at most 2,000,000)",
    }
}
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": schemas.ErrorReply,
        "description": "refused; `code` says why (docs/http-api.md, Errors)",
    },
    "5XX": {"model": schemas.ErrorReply, "description": "the factory or the IC cannot serve it now"},
}

Observer = Callable[[Services, dict[str, Any]], contextlib.AbstractContextManager[None]]


@contextlib.contextmanager
def _count_upload_bytes(services: Services, arguments: dict[str, Any]) -> Iterator[None]:
    yield
    services.metrics.add_upload_bytes(len(arguments["chunk"]))


@contextlib.contextmanager
def _count_creation(services: Services, arguments: dict[str, Any]) -> Iterator[None]:
    try:
        yield
    except FactoryError as exc:
        services.metrics.count_creation(exc.code)
        raise
    services.metrics.count_creation("ok")


OBSERVERS: dict[str, Observer] = {
    "put_chunk": _count_upload_bytes,
    "create_and_install_with": _count_creation,
}
"""What the metrics count around a method's call, by method name."""


def method_router(methods: Sequence[Method[Any, Any]] = METHODS) -> APIRouter:
    """A router serving every route of ``methods``."""
    router = APIRouter()
    for method in methods:
        for route in method.routes:
            _add(router, method, route)
    return router


def _add(router: APIRouter, method: Method[Any, Any], route: Route) -> None:
    placement = method.placement(route)
    options: dict[str, Any] = {"status_code": 204, "response_class": Response}
    if method.returns is not type(None):
        options = {"response_model": schemas.reply_model(method.result, method.returns)}
    router.add_api_route(
        route.path,
        _endpoint(method, route, placement),
        methods=[route.verb],
        name=route.name or method.name,
        summary=route.summary or method.name,
        description=f"{method.doc}\n\n{_AUTH[method.auth]}",
        tags=[_tag(route)],
        route_class_override=SignedRoute if method.auth.takes_caller else None,
        openapi_extra=RAW_BODY if placement.raw is not None else None,
        responses=ERRORS,
        **options,
    )


def _tag(route: Route) -> str:
    segment = route.path.split("/")[2]
    return segment if segment in _TAGS else "queries"


def _endpoint(method: Method[Any, Any], route: Route, placement: Placement) -> Callable[..., Any]:
    observe = OBSERVERS.get(method.name, _unobserved)

    def endpoint(**received: Any) -> Any:
        services: Services = received[_SERVICES]
        arguments = _arguments(method, placement, received)
        with observe(services, arguments):
            result = invoke(services.factory, method, received.get(_CALLER), arguments)
        return _reply(method, result)

    endpoint.__name__ = route.name or method.name
    endpoint.__signature__ = inspect.Signature(_parameters(method, placement))  # type: ignore[attr-defined]
    return endpoint


@contextlib.contextmanager
def _unobserved(services: Services, arguments: dict[str, Any]) -> Iterator[None]:
    yield


def _parameters(method: Method[Any, Any], placement: Placement) -> list[inspect.Parameter]:
    """What FastAPI reads the request into: the endpoint's signature."""

    def param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default)

    hints = method.hints
    found = [param(_SERVICES, ServicesDep)]
    if method.auth.takes_caller:
        found.append(param(_CALLER, Caller))
    found += [param(p, schemas.path_param(p, hints[p])) for p in placement.path]
    found += [param(p, schemas.query_param(p, hints[p]), None) for p in placement.query]
    if placement.record is not None:
        found.append(param(_BODY, schemas.record_body(hints[placement.record])))
    elif placement.fields:
        defaults = method.signature.parameters
        fields = {p: (hints[p], _default(defaults[p])) for p in placement.fields}
        found.append(param(_BODY, schemas.body_model(method.name, fields)))
    elif placement.raw is not None:
        found.append(param(_BODY, Body))
    return found


def _default(parameter: inspect.Parameter) -> Any:
    return ... if parameter.default is inspect.Parameter.empty else parameter.default


def _arguments(method: Method[Any, Any], placement: Placement, received: dict[str, Any]) -> dict[str, Any]:
    """The method's arguments, in order, from what FastAPI read."""
    body = received.get(_BODY)
    arguments: dict[str, Any] = {}
    for name, parameter in method.signature.parameters.items():
        hint = method.hints[name]
        if name in placement.query and received[name] is None and parameter.default is not _EMPTY:
            arguments[name] = parameter.default  # not in the query: the parameter's default
        elif name in placement.path or name in placement.query:
            arguments[name] = wire.from_json(received[name], hint, name)
        elif name == placement.record:
            assert isinstance(body, schemas.RecordBody)
            arguments[name] = body.to_record()
        elif name in placement.fields:
            arguments[name] = wire.from_json(getattr(body, name), hint, name)
        elif name == placement.raw:
            arguments[name] = body
        else:
            arguments[name] = parameter.default
    return arguments


def _reply(method: Method[Any, Any], result: Any) -> Any:
    if method.returns is type(None):
        return Response(status_code=204)
    if method.result is not None:
        return {method.result: wire.to_json(result, method.returns)}
    return wire.to_json(result, method.returns)
