"""Fixtures: a deployed, funded factory served by uvicorn on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from canister_factory._core.config import InitArg
from canister_factory.api import ServiceOptions, create_app
from canister_factory.bootstrap import App, open_app
from canister_factory.client import FactoryClient
from icp_client.identity import Identity, generate_identity
from tests.integration.api.serving import fresh_postgres_database, serve_in_thread

T = 10**12
FUNDING = 1_000 * T


@dataclass
class Served:
    """A served factory: its URL, the opened ``App`` behind it, and an admin identity."""

    url: str
    app: App
    admin: Identity
    backend: str

    def client(self, identity: Identity | None = None) -> FactoryClient:
        return FactoryClient(self.url, identity or generate_identity("ed25519"))


@contextlib.contextmanager
def _database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'factory.sqlite3'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


ServeFactory = Callable[..., Served]


@pytest.fixture
def serve(backend: str, tmp_path: Path) -> Iterator[ServeFactory]:
    """``serve(init=InitArg(...), options=ServiceOptions(...), fund=...)``: deploy, fund and serve a factory."""
    stack = contextlib.ExitStack()

    def start(
        init: InitArg | None = None, *, options: ServiceOptions | None = None, fund: int = FUNDING
    ) -> Served:
        url = stack.enter_context(_database(backend, tmp_path))
        app = open_app(database_url=url)
        stack.callback(app.close)
        admin = generate_identity("ed25519")
        app.factory.deploy(admin.principal, init or InitArg())
        if fund:
            app.fund(fund)
        base = stack.enter_context(serve_in_thread(create_app(app, options or ServiceOptions())))
        return Served(url=base, app=app, admin=admin, backend=backend)

    with stack:
        yield start


@pytest.fixture
def served(serve: ServeFactory) -> Served:
    return serve()
