"""The CLI's session: global options, the opened factory and the caller's identity, opened lazily."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import click

from canister_factory._core.errors import InvalidArgument
from canister_factory.bootstrap import App, Network, default_state_dir, open_app
from canister_factory.cli import _identities as identities
from canister_factory.cli._identities import default_identity_path
from canister_factory.client import FactoryClient
from canister_factory.interface import FactoryApi, bind
from icp_client.errors import InvalidInput
from icp_client.identity import Identity, load_identity_pem
from icp_client.principal import Principal

log = logging.getLogger("canister_factory.cli")


def _first_use(identity: Identity, path: Path) -> str:
    return (
        f"Created your identity {identity.principal} (an Ed25519 key in {path}). It is who you are to the "
        "factory, and the admin of what you deploy: keep it, and back it up."
    )


@dataclass
class Session:
    """What every command works with. The factory is opened on first use, so ``--help`` stays fast."""

    state: Path | None
    identity_spec: str | None
    as_json: bool
    database: str | None
    network: str | None = None
    root_key: str | None = None
    url: str | None = None
    provisional: bool = False
    _app: App | None = field(default=None, repr=False)
    _remote: FactoryClient | None = field(default=None, repr=False)
    _identity: Identity | None = field(default=None, repr=False)

    @property
    def state_dir(self) -> Path:
        return self.state or default_state_dir()

    @property
    def api(self) -> FactoryApi:
        """The factory's methods as this session's caller calls them: in process, or signed to ``--url``."""
        if self.url is None:
            return bind(self.app.factory, self.caller)
        if self._remote is None:
            log.info("calling the factory service at %s", self.url)
            self._remote = FactoryClient(self.url, self.identity)
        return self._remote

    @property
    def app(self) -> App:
        """The factory opened in process (commands that need the state itself, not only the methods).

        Raises:
            InvalidArgument: with ``--url``, where there is no local state.
        """
        self.local_only("this command")
        if self._app is None:
            log.info("opening the factory in %s", self.database or self.state_dir)
            network = None if self.network is None else Network(self.network, self.root_key, self.provisional)
            try:
                self._app = open_app(self.state_dir, database_url=self.database, network=network)
            except OSError as exc:  # the folder cannot be made or used (a regular file in the way, no access)
                raise click.BadParameter(
                    f"cannot use {self.state_dir} as the state folder: {exc.strerror or exc}",
                    param_hint="'--state'",
                ) from None
        return self._app

    def local_only(self, what: str) -> None:
        """Refuse ``--url`` for a command that manages the local state itself (deploy, serve, ...).

        Raises:
            InvalidArgument: ``--url`` was given.
        """
        if self.url is not None:
            raise InvalidArgument(
                f"{what} works on the factory's own state: run it without --url, where the factory runs"
            )

    @property
    def identity(self) -> Identity:
        """The caller's key: ``--identity`` (a PEM path or a name), else the default key, made on first use
        (saying so, with its principal and path, on stderr)."""
        if self._identity is None:
            spec = self.identity_spec
            path = default_identity_path() if spec in (None, identities.DEFAULT) else identities.resolve(spec)
            try:
                if path.exists():
                    self._identity = load_identity_pem(path.read_bytes())
                else:
                    self._identity = identities.create(path).identity
                    click.echo(_first_use(self._identity, path), err=True)
            except InvalidInput as exc:
                raise InvalidArgument(f"--identity: {path}: {exc}") from exc
            except OSError as exc:
                raise click.BadParameter(
                    f"cannot read or create the identity {path}: {exc.strerror or exc}",
                    param_hint="'--identity'",
                ) from None
            log.info("identity %s from %s", self._identity.principal, path)
        return self._identity

    @property
    def caller(self) -> Principal:
        return self.identity.principal

    def close(self) -> None:
        if self._remote is not None:
            self._remote.close()
            self._remote = None
        if self._app is not None:
            self._app.close()
            self._app = None
