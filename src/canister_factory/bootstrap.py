"""The composition root: the only place that picks concrete adapters (store, IC backend) from configuration."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from canister_factory._core.access import require_admin
from canister_factory._core.principal import Principal
from canister_factory.ic.embedded import EmbeddedIc, EmbeddedManagement
from canister_factory.ic.identity import Identity, generate_identity, load_identity_pem
from canister_factory.ports import Clock, ManagementPort, SystemClock
from canister_factory.service.context import Context, settings_of
from canister_factory.service.factory import Factory
from canister_factory.store.db import Database
from canister_factory.store.factory_repo import FactoryStore

EMBEDDED = "embedded"


def default_state_dir() -> Path:
    """``$CANISTER_FACTORY_STATE``, else the per-user data folder (``$XDG_DATA_HOME/canister-factory``)."""
    explicit = os.environ.get("CANISTER_FACTORY_STATE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "canister-factory"


@dataclass
class App:
    """One opened factory: its database, its IC backend and the factory itself."""

    db: Database
    factory: Factory
    identity: Identity
    embedded: EmbeddedIc | None

    def ic_as(self, principal: Principal) -> ManagementPort:
        """The IC as seen by ``principal`` (for ``canister-status``, which asks as the caller, not the factory)."""
        if self.embedded is None:
            raise NotImplementedError("only the embedded IC is available in this build")
        return EmbeddedManagement(self.embedded, principal)

    def fund(self, cycles: int) -> None:
        """Add ``cycles`` to the factory's cycles-ledger account (the embedded IC's stand-in for buying cycles)."""
        if self.embedded is None:
            raise NotImplementedError("funding the factory needs the embedded IC")
        self.embedded.mint(self.factory.principal, cycles)

    def require_admin(self, caller: Principal) -> None:
        """Raises PermissionDenied unless ``caller`` is one of the factory's admins."""
        with self.factory.ctx.store.read() as repo:
            require_admin(settings_of(repo), caller)

    def close(self) -> None:
        self.db.dispose()


def open_app(
    state_dir: Path | str | None = None,
    *,
    database_url: str | None = None,
    clock: Clock | None = None,
    reconcile: bool = True,
) -> App:
    """Open the factory kept in ``state_dir`` (SQLite) or at ``database_url`` (SQLite or PostgreSQL).

    The factory's own key is created on first open and kept in the database. Creations left unfinished by a
    process that stopped are finished or undone before this returns (``reconcile``).
    """
    db = (
        Database.open(database_url)
        if database_url
        else Database.for_state_dir(Path(state_dir) if state_dir is not None else default_state_dir())
    )
    clock = clock or SystemClock()
    store = FactoryStore(db)
    with store.write() as repo:
        pem = repo.factory_key(lambda: generate_identity("ed25519").to_pem().decode())
    identity = load_identity_pem(pem.encode())
    embedded = EmbeddedIc(db, clock=clock)
    ic = EmbeddedManagement(embedded, identity.principal)
    factory = Factory(Context(store=store, ic=ic, clock=clock))
    app = App(db=db, factory=factory, identity=identity, embedded=embedded)
    if reconcile:
        with store.read() as repo:
            deployed = repo.is_deployed()
        if deployed:
            factory.reconcile()
    return app
