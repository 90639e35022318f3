"""The composition root: the only place that picks concrete adapters (store, IC backend) from configuration."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from canister_factory._core.access import require_admin
from canister_factory._core.config import InitArg, Settings, resolve_init
from canister_factory._core.errors import Conflict, IcReject, InvalidArgument
from canister_factory.ic.embedded import EmbeddedManagement
from canister_factory.ic.network import NetworkManagement, network_management
from canister_factory.ports import Clock, ManagementPort, SystemClock
from canister_factory.service.admin import ALREADY_DEPLOYED
from canister_factory.service.context import Context, settings_of
from canister_factory.service.factory import Factory
from canister_factory.store.db import Database
from canister_factory.store.sql import SqlUnitOfWork
from icp_client.identity import Identity, generate_identity, load_identity_pem
from icp_client.principal import Principal
from icp_local import LocalIc

EMBEDDED = "embedded"


def default_state_dir() -> Path:
    """``$CANISTER_FACTORY_STATE``, else the per-user data folder (``$XDG_DATA_HOME/canister-factory``)."""
    explicit = os.environ.get("CANISTER_FACTORY_STATE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "canister-factory"


@dataclass(frozen=True)
class Network:
    """Which IC the factory uses: the embedded one, or a network by name or URL with its root key.

    ``root_key`` is the DER key as hex (pinned), None for mainnet (built in), or ``"fetch"`` (trust on first use:
    the key fetched at deploy is then pinned in the state). ``provisional``: create canisters with
    ``provisional_create_canister_with_cycles`` (development networks only) instead of the cycles ledger.
    """

    name: str = EMBEDDED
    root_key: str | None = None
    provisional: bool = False

    @property
    def embedded(self) -> bool:
        return self.name == EMBEDDED

    def record(self) -> str:
        """The form kept in the state (``factory_settings.network``)."""
        if self.embedded:
            return EMBEDDED
        return json.dumps({"network": self.name, "root_key": self.root_key, "provisional": self.provisional})

    @classmethod
    def from_record(cls, text: str) -> Network:
        if text == EMBEDDED:
            return cls()
        data = json.loads(text)
        return cls(
            name=data["network"], root_key=data.get("root_key"), provisional=bool(data.get("provisional"))
        )


@dataclass
class App:
    """One opened factory: its database, its IC backend and the factory itself."""

    db: Database
    factory: Factory
    identity: Identity
    embedded: LocalIc | None
    network: Network = field(default_factory=Network)
    _opened: list[NetworkManagement] = field(default_factory=list, repr=False)

    def deploy(self, deployer: Principal, init: InitArg | None = None, *, cycles: int = 0) -> Settings:
        """Deploy the factory with ``init``, recording which IC it uses, and fund it with ``cycles``.

        Everything that can be refused is checked before anything changes: the options, that the factory is not
        deployed yet, and (funding first) that the network allows the top-up.

        Raises:
            InvalidArgument: a bad option, or a network that does not allow provisional top-ups.
            Conflict: the factory is already deployed here.
        """
        resolve_init(init, deployer)
        if self.is_deployed():
            raise Conflict(ALREADY_DEPLOYED)
        if cycles:
            self.fund(cycles)
        return self.factory.deploy(deployer, init, network=self.network.record())

    def is_deployed(self) -> bool:
        """Whether the factory has been deployed in this database."""
        with self.factory.ctx.store.read() as tx:
            return tx.settings.is_deployed()

    def ic_as(self, who: Identity | Principal) -> ManagementPort:
        """The IC as seen by ``who`` (for ``canister-status``, which asks as the caller, not the factory).

        On a network the calls are signed, so ``who`` must be an Identity there; the embedded IC needs only
        the principal.
        """
        principal = who if isinstance(who, Principal) else who.principal
        if self.embedded is not None:
            return EmbeddedManagement(self.embedded, principal)
        if isinstance(who, Principal):
            raise InvalidArgument(
                "asking a network as someone needs their identity (key), not just a principal"
            )
        port = _network_port(self.network, who)
        self._opened.append(port)
        return port

    def fund(self, cycles: int) -> None:
        """Add ``cycles`` to the factory's cycles-ledger account.

        On the embedded IC this is its stand-in for buying cycles; on a network it is the development-only
        top-up that our local front (``canister-factory local-network``) allows and the real IC refuses.

        Raises:
            InvalidArgument: the network does not allow provisional top-ups.
        """
        if self.embedded is not None:
            self.embedded.mint(self.factory.principal, cycles)
            return
        ic = self.factory.ctx.ic
        assert isinstance(ic, NetworkManagement)
        try:
            ic.dev_mint(cycles)
        except IcReject as exc:
            raise InvalidArgument(
                f"this network does not allow provisional top-ups ({exc.reject_message}); "
                "fund the factory's cycles-ledger account another way"
            ) from None

    def require_admin(self, caller: Principal) -> None:
        """Raises PermissionDenied unless ``caller`` is one of the factory's admins."""
        with self.factory.ctx.store.read() as tx:
            require_admin(settings_of(tx), caller)

    def close(self) -> None:
        """Close the databases (the factory's, the local IC's) and every connection to a network."""
        ic = self.factory.ctx.ic
        for port in [*self._opened, *([ic] if isinstance(ic, NetworkManagement) else [])]:
            port.agent.close()
        self._opened.clear()
        if self.embedded is not None:
            self.embedded.close()
        self.db.dispose()


def open_app(
    state_dir: Path | str | None = None,
    *,
    database_url: str | None = None,
    clock: Clock | None = None,
    network: Network | None = None,
    reconcile: bool = True,
) -> App:
    """Open the factory kept in ``state_dir`` (SQLite) or at ``database_url`` (SQLite or PostgreSQL).

    The factory's own key is created on first open and kept in the database. ``network`` is needed only before
    deploy (or to confirm it): a deployed factory uses the IC recorded at deploy. Creations left unfinished by
    a process that stopped are finished or undone before this returns (``reconcile``).

    Raises:
        InvalidArgument: ``network`` differs from the one recorded at deploy, or is not a usable network.
    """
    state = Path(state_dir) if state_dir is not None else default_state_dir()
    db = Database.open(database_url) if database_url else Database.for_state_dir(state)
    try:
        return _open(db, state, database_url, clock or SystemClock(), network, reconcile=reconcile)
    except BaseException:
        db.dispose()  # a refused database (a newer schema, a bad network) leaves no connection open
        raise


def _open(
    db: Database,
    state: Path,
    database_url: str | None,
    clock: Clock,
    network: Network | None,
    *,
    reconcile: bool,
) -> App:
    store = SqlUnitOfWork(db)
    with store.write() as tx:
        pem = tx.settings.factory_key(lambda: generate_identity("ed25519").to_pem().decode())
        recorded = tx.settings.network()
    identity = load_identity_pem(pem.encode())
    network = _choose_network(recorded, network)
    embedded: LocalIc | None = None
    ic: ManagementPort
    if network.embedded:
        embedded = open_local_ic(database_url, state, clock=clock)
        ic = EmbeddedManagement(embedded, identity.principal)
    else:
        ic = _network_port(network, identity)
        network = _pinned(network, ic)
    context = Context(store=store, ic=ic, clock=clock)
    if embedded is not None:  # the embedded IC can be asked as anyone: canister_status as its controller
        context.ic_as = functools.partial(EmbeddedManagement, embedded)
    factory = Factory(context)
    app = App(db=db, factory=factory, identity=identity, embedded=embedded, network=network)
    if reconcile and recorded is not None:
        try:
            factory.reconcile()
        except BaseException:
            app.close()
            raise
    return app


def _choose_network(recorded: str | None, asked: Network | None) -> Network:
    if recorded is None:
        return asked or Network()
    stored = Network.from_record(recorded)
    if asked is not None and asked.name != stored.name:
        raise InvalidArgument(
            f"--network: this factory was deployed on {stored.name!r}, not {asked.name!r}; "
            "use another --state (or --database) for another network"
        )
    return stored


def _network_port(network: Network, identity: Identity) -> NetworkManagement:
    try:
        return network_management(network.name, identity, network.root_key, provisional=network.provisional)
    except ValueError as exc:
        raise InvalidArgument(f"--network {network.name}: {exc}") from None


def _pinned(network: Network, ic: NetworkManagement) -> Network:
    """After a fetch, the key the network published is the one kept (trust on first use)."""
    if network.root_key == "fetch":
        return Network(network.name, ic.agent.root_key_der.hex(), network.provisional)
    return network


def open_local_ic(database_url: str | None, state_dir: Path, *, clock: Clock | None = None) -> LocalIc:
    """The embedded backend's local IC: in the factory's database when one is given (so that processes sharing
    a PostgreSQL database share one IC), else in its own SQLite file beside the factory's in ``state_dir``."""
    if database_url:
        return LocalIc.open(database_url, clock=clock)
    return LocalIc.for_state_dir(state_dir, clock=clock)
