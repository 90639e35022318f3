"""One factory, four ways to reach it, behind one small interface for the scenario suite (``tests/scenarios``).

- ``inproc``: ``Factory`` in this process on the embedded IC (SQLite in a state folder);
- ``http-sqlite``: ``FactoryClient`` against the HTTP service on a loopback port, the service on SQLite;
- ``http-postgres``: the same, the service on a fresh PostgreSQL database (skipped, with the reason, if none);
- ``network``: ``Factory`` in this process whose IC is the network backend, talking over loopback HTTP to the
  front serving a separate ``LocalIc`` (its own database), certificates verified against the front's root key.

A scenario sees only :class:`Backend`: ``as_caller(identity)`` gives the factory's methods as that caller calls
them (``canister_factory.interface.FactoryApi``: a ``FactoryClient`` for the HTTP backends, the facade bound to
the caller otherwise), and ``ic_*`` read the IC itself (the engine behind the factory), not the factory's idea of
it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from canister_factory._core.config import InitArg
from canister_factory.api import ServiceOptions, create_app
from canister_factory.bootstrap import App, Network, open_app
from canister_factory.client import FactoryClient
from canister_factory.ic.network import NetworkManagement
from canister_factory.interface import FactoryApi, bind
from icp_client.identity import Identity, generate_identity
from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.db import IcDatabase
from icp_local.front import generate_front_keys, running_front
from tests.integration.api.serving import fresh_postgres_database, serve_in_thread

__all__ = ["BACKENDS", "Backend", "FactoryApi", "open_backend"]

T = 1_000_000_000_000
DEFAULT_FUNDING = 100 * T
BACKENDS = ("inproc", "http-sqlite", "http-postgres", "network")


@dataclass
class Backend:
    """A deployed, funded factory reached one way, and the IC it provisions on.

    ``app`` is the factory's opened ``App`` in this process (for the HTTP backends: the one the service in a
    thread serves); ``engine`` is the embedded IC that really holds the canisters (for ``network``: the one
    behind the front, not reachable by the factory except over HTTP).
    """

    name: str
    app: App
    engine: LocalIc
    admin: Identity
    url: str | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack, repr=False)

    @property
    def factory_principal(self) -> Principal:
        return self.app.factory.principal

    def as_caller(self, identity: Identity) -> FactoryApi:
        """The factory's methods as ``identity`` calls them (signed requests over HTTP where served)."""
        if self.url is None:
            return bind(self.app.factory, identity.principal)
        return self._stack.enter_context(FactoryClient(self.url, identity, timeout=120))

    def as_admin(self) -> FactoryApi:
        return self.as_caller(self.admin)

    def fund(self, cycles: int) -> None:
        """Add ``cycles`` to the factory's cycles-ledger account (on the network: the front's ``dev_mint``)."""
        self.app.fund(cycles)

    def ic_balance(self) -> int:
        """The factory's cycles-ledger balance, read from the IC itself."""
        return self.engine.icrc1_balance_of(self.factory_principal)

    def ic_controllers(self, canister_id: Principal) -> set[Principal]:
        return set(self.engine.read_controllers(canister_id))

    def ic_module_hash(self, canister_id: Principal) -> bytes | None:
        return self.engine.read_module_hash(canister_id)

    def ic_exists(self, canister_id: Principal) -> bool:
        return self.engine.canister_exists(canister_id)

    def close(self) -> None:
        self._stack.close()


@contextlib.contextmanager
def open_backend(
    name: str,
    folder: Path,
    init: InitArg | None = None,
    *,
    funding: int = DEFAULT_FUNDING,
    admin: Identity | None = None,
    options: ServiceOptions | None = None,
) -> Iterator[Backend]:
    """A factory deployed with ``init`` by ``admin`` (a fresh one by default), funded with ``funding``, reached
    as ``name`` (the HTTP backends served with ``options``)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; one of {', '.join(BACKENDS)}")
    admin = admin or generate_identity("ed25519")
    with contextlib.ExitStack() as stack:
        if name == "network":
            ic_db = IcDatabase.open(f"sqlite:///{folder / 'ic.sqlite3'}")
            stack.callback(ic_db.dispose)
            engine = LocalIc(ic_db)
            front = stack.enter_context(running_front(engine, generate_front_keys()))
            app = open_app(folder / "state", network=Network(front.url, front.root_key_der.hex()))
            stack.callback(app.close)
            # App.close() did not close the network agent (reported; a fix is in progress in the tree).
            # Closing it here too is harmless: Agent.close() may be called twice.
            ic = app.factory.ctx.ic
            assert isinstance(ic, NetworkManagement)
            stack.callback(ic.agent.close)
        else:
            if name == "inproc":
                app = open_app(folder / "state")
            elif name == "http-sqlite":
                app = open_app(database_url=f"sqlite:///{folder / 'factory.sqlite3'}")
            else:
                app = open_app(database_url=stack.enter_context(fresh_postgres_database()))
            stack.callback(app.close)
            assert app.embedded is not None
            engine = app.embedded
        app.deploy(admin.principal, init or InitArg())
        if funding:
            app.fund(funding)
        url = None
        if name.startswith("http-"):
            options = options or ServiceOptions(cleanup_interval_s=None, reconcile_on_start=False)
            url = stack.enter_context(serve_in_thread(create_app(app, options)))
        backend = Backend(name=name, app=app, engine=engine, admin=admin, url=url)
        stack.callback(backend.close)  # clients close before the service stops
        yield backend
