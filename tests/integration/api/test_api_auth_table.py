"""The table's auth column is what the service does: a route of a caller's or an admin's method refuses an
unsigned request, an admin's method refuses a signed stranger, a public method answers anyone."""

from __future__ import annotations

from typing import Any

import httpx

from canister_factory.interface import METHODS, Auth, Method
from icp_client.identity import generate_identity
from icp_client.principal import Principal
from tests.integration.api.conftest import Served

SOMEONE = generate_identity().principal
SAMPLES: dict[Any, Any] = {int: 1, int | None: 1, str: "x", bool: True, bytes: b"\x00", Principal: SOMEONE}


def _sample(method: Method[Any, Any], name: str) -> Any:
    parameter = method.signature.parameters[name]
    if parameter.default is not parameter.empty:
        return parameter.default
    return SAMPLES.get(method.hints[name])


def test_unsigned_requests_reach_only_public_methods(served: Served) -> None:
    with httpx.Client(base_url=served.url) as http:
        for method in METHODS:
            for route in method.routes:
                path = route.path.format(**{p: SAMPLES[method.hints[p]] for p in route.path_params})
                reply = http.request(route.verb, path)
                if method.auth is Auth.PUBLIC:
                    assert reply.status_code == 200, (route, reply.text)
                else:
                    assert (reply.status_code, reply.json()["code"]) == (401, "unauthenticated"), route


def test_admin_methods_refuse_a_stranger(served: Served) -> None:
    with served.client(generate_identity()) as stranger:
        for method in METHODS:
            if method.auth is not Auth.ADMIN:
                continue
            arguments = {name: _sample(method, name) for name in method.params}
            try:
                getattr(stranger, method.name)(**arguments)
            except Exception as exc:
                assert str(exc) == "Admin access required", (method.name, exc)
            else:
                raise AssertionError(f"{method.name} served a stranger")
