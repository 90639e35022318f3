"""The coverage check of the interface table: which face lacks which method, or has it in another shape.

A face is built from the table (the HTTP routes, the client, the caller-bound view, generic CLI commands) or
written by hand and checked here (the facade, the .did, the hand-written CLI commands, the docs). ``gaps(faces)``
lists every difference, one line each, naming the face and the method; ``[]`` means every face has every method
and nothing else calls itself one.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from fastapi import FastAPI

from canister_factory import interface
from canister_factory.api import create_app, schemas
from canister_factory.api.routes.methods import OBSERVERS
from canister_factory.cli import cli
from canister_factory.client import FactoryClient
from canister_factory.interface import METHODS, Auth, Method
from canister_factory.service.factory import Factory
from icp_client import candid

ROOT = Path(__file__).resolve().parents[2]

FACADE_OPERATIONS = frozenset(
    {
        "deploy",
        "reconcile",
        "cleanup_expired_uploads",
        "is_deployed",
        "cycles_balance",
        "module_bytes",
        "principal",
    }
)
"""The facade's public names that are no caller's method: operations of the service itself."""
CLIENT_EXTRAS = frozenset(
    {"upload", "reconcile", "request", "build_request", "send", "close", "principal", "identity", "authority"}
)
"""The client's public names besides the table's methods."""
SERVICE_ROUTES = frozenset({("POST", "/v1/admin/reconcile"), ("GET", "/healthz"), ("GET", "/metrics")})
"""Routes the HTTP service serves that are no method of the table."""
DOC_AUTH = {Auth.PUBLIC: "public", Auth.CALLER: "signed", Auth.ADMIN: "signed, admin"}


@dataclass
class Faces:
    """The table and every face, as the check sees them."""

    methods: Sequence[Method[Any, Any]]
    facade: type
    did: candid.DidFile
    app: FastAPI
    client: type
    cli: click.Group
    http_doc: str
    readme: str

    @classmethod
    def real(cls) -> Faces:
        return cls(
            methods=METHODS,
            facade=Factory,
            did=interface.did(),
            app=create_app(_never_opened),
            client=FactoryClient,
            cli=cli,
            http_doc=(ROOT / "docs" / "http-api.md").read_text(),
            readme=(ROOT / "README.md").read_text(),
        )


def _never_opened() -> Any:
    raise AssertionError("the coverage check never starts the service")


def gaps(faces: Faces) -> list[str]:
    """Every way a face differs from the table, one line each."""
    return [
        *facade_gaps(faces.methods, faces.facade),
        *did_gaps(faces.methods, faces.did),
        *http_gaps(faces.methods, faces.app),
        *client_gaps(faces.methods, faces.client),
        *cli_gaps(faces.methods, faces.cli),
        *doc_gaps(faces.methods, faces.http_doc, faces.readme),
    ]


def facade_gaps(methods: Sequence[Method[Any, Any]], facade: type) -> list[str]:
    """The facade has each method with the table's parameters and types, the caller first unless public."""
    found = []
    for method in methods:
        function = getattr(facade, method.name, None)
        if not callable(function):
            found.append(f"facade: no method {method.name}")
            continue
        shape, expected = _facade_shape(method, function), _table_shape(method)
        if shape != expected:
            found.append(f"facade: {method.name} is {shape}, the table says {expected}")
    names = {m.name for m in methods}
    extra = {n for n in dir(facade) if not n.startswith("_")} - names - FACADE_OPERATIONS
    found += [
        f"facade: {name} is not in the table (add it, or to FACADE_OPERATIONS)" for name in sorted(extra)
    ]
    return found


def _table_shape(method: Method[Any, Any]) -> list[tuple[str, Any, Any]]:
    params = method.signature.parameters
    return [(n, params[n].default, method.hints[n]) for n in params] + [("return", None, method.returns)]


def _facade_shape(method: Method[Any, Any], function: Any) -> list[tuple[str, Any, Any]]:
    params = list(inspect.signature(function).parameters.values())[1:]  # self
    hints = typing.get_type_hints(function)
    if method.auth.takes_caller:
        if not params or params[0].name != "caller":
            return [("caller", "missing", None)]
        params = params[1:]
    return [(p.name, p.default, hints.get(p.name)) for p in params] + [("return", None, hints.get("return"))]


def did_gaps(methods: Sequence[Method[Any, Any]], did: candid.DidFile) -> list[str]:
    """The .did has each method, a query exactly when every route is a GET, its arguments naming the
    parameters; and no method the table lacks."""
    found = []
    for method in methods:
        func = did.service_methods.get(method.name)
        if func is None:
            found.append(f"factory.did: no method {method.name}")
            continue
        query = "query" in func.annotations
        if query != all(r.verb == "GET" for r in method.routes):
            found.append(
                f"factory.did: {method.name} is {'a' if query else 'no'} query, its routes say otherwise"
            )
        named = interface.candid_parameters(method, func)
        if sorted(named) != sorted(method.params):
            found.append(
                f"factory.did: {method.name}'s arguments name {named}, the table's are {method.params}"
            )
    extra = set(did.service_methods) - {m.name for m in methods} - set(interface.BUILTINS)
    found += [f"factory.did: {name} is not in the table" for name in sorted(extra)]
    return found


def http_gaps(methods: Sequence[Method[Any, Any]], app: FastAPI) -> list[str]:
    """The app serves each route of each method (under the route's name), and no other route but the service's.

    Read from the app's OpenAPI description, which names every route however the routers were included.
    """
    served = {
        (verb.upper(), path): operation["operationId"]
        for path, operations in app.openapi()["paths"].items()
        for verb, operation in operations.items()
    }
    found, expected = [], set()
    for method in methods:
        for route in method.routes:
            key = (route.verb, route.path)
            expected.add(key)
            if not served.get(key, "").startswith(f"{route.name or method.name}_"):
                found.append(f"HTTP: {route.verb} {route.path} does not serve {method.name}")
    extra = set(served) - expected - SERVICE_ROUTES
    found += [f"HTTP: {verb} {path} is no method of the table" for verb, path in sorted(extra)]
    return found + _vocabulary_gaps(methods)


def _vocabulary_gaps(methods: Sequence[Method[Any, Any]]) -> list[str]:
    """What the HTTP face keys by method name (body models, metrics) names methods, with their fields."""
    by_name = {m.name: m for m in methods}
    found = [f"HTTP: metrics observe {name}, no method" for name in OBSERVERS if name not in by_name]
    for name, model in schemas.FIELD_BODIES.items():
        method = by_name.get(name)
        fields = {f for r in method.routes for f in method.placement(r).fields} if method else None
        if fields != set(model.model_fields):
            found.append(f"HTTP: {model.__name__}'s fields are not {name}'s JSON body {sorted(fields or ())}")
    return found


def client_gaps(methods: Sequence[Method[Any, Any]], client: type) -> list[str]:
    """The client has each method as the table's (not replaced by hand), and no other public name but its own."""
    found = [
        f"client: {m.name} is not the table's method"
        for m in methods
        if inspect.getattr_static(client, m.name, None) is not m
    ]
    extra = {n for n in dir(client) if not n.startswith("_")} - {m.name for m in methods} - CLIENT_EXTRAS
    found += [f"client: {name} is not in the table (add it, or to CLIENT_EXTRAS)" for name in sorted(extra)]
    return found


def cli_gaps(methods: Sequence[Method[Any, Any]], group: click.Group) -> list[str]:
    """The command line has a command for each method, under the table's name."""
    ctx = click.Context(group)
    return [f"CLI: no command {m.cli} for {m.name}" for m in methods if group.get_command(ctx, m.cli) is None]


def doc_gaps(methods: Sequence[Method[Any, Any]], http_doc: str, readme: str) -> list[str]:
    """docs/http-api.md's route table has a row per route, naming the method and its auth; README's command
    table names each command."""
    rows = _route_rows(http_doc)
    found = []
    for method in methods:
        for route in method.routes:
            row = rows.get((route.verb, _template(route.path)))
            if row is None:
                found.append(f"docs/http-api.md: no row for {route.verb} {route.path} ({method.name})")
            elif f"`{method.name}`" not in row[1] or row[-1] != DOC_AUTH[method.auth]:
                found.append(f"docs/http-api.md: the row of {route.verb} {route.path} is not {method.name}, "
                             f"{DOC_AUTH[method.auth]}")  # fmt: skip
        if f"`{method.cli}" not in readme:
            found.append(f"README.md: no command {method.cli} in the command table")
    return found


def _route_rows(doc: str) -> dict[tuple[str, str], list[str]]:
    """The rows of the Routes table, by (verb, path template with anonymous placeholders)."""
    rows = {}
    for line in doc.split("## Routes", 1)[1].split("\n## ", 1)[0].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        head = re.fullmatch(r"`([A-Z]+) ([^`?]+)(\?[^`]*)?`", cells[0])
        if head:
            rows[(head.group(1), _template(head.group(2)))] = cells
    return rows


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)
