"""The CLI's session: global options, the opened factory and the caller's identity, opened lazily."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import click

from canister_factory._core.errors import InvalidArgument
from canister_factory.bootstrap import App, Network, default_state_dir, open_app
from canister_factory.client import FactoryClient
from canister_factory.interface import FactoryApi, bind
from icp_client.errors import InvalidInput
from icp_client.identity import Identity, load_identity_pem, load_or_create_identity
from icp_client.principal import Principal


def default_identity_path() -> Path:
    """``$XDG_CONFIG_HOME/canister-factory/identity.pem`` (an Ed25519 key created on first use)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "canister-factory" / "identity.pem"


@dataclass
class Session:
    """What every command works with. The factory is opened on first use, so ``--help`` stays fast."""

    state: Path | None
    identity_path: Path | None
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
            self._remote = FactoryClient(self.url, self.identity)
        return self._remote

    @property
    def app(self) -> App:
        """The factory opened in process (commands that need the state itself, not only the methods).

        Raises:
            InvalidArgument: with ``--url``, where there is no local state.
        """
        if self.url is not None:
            raise InvalidArgument(
                "this command works on the factory's own state: run it without --url, where it runs"
            )
        if self._app is None:
            network = None if self.network is None else Network(self.network, self.root_key, self.provisional)
            try:
                self._app = open_app(self.state_dir, database_url=self.database, network=network)
            except OSError as exc:  # the folder cannot be made or used (a regular file in the way, no access)
                raise click.BadParameter(
                    f"cannot use {self.state_dir} as the state folder: {exc.strerror or exc}",
                    param_hint="'--state'",
                ) from None
        return self._app

    @property
    def identity(self) -> Identity:
        if self._identity is None:
            try:
                if self.identity_path is not None:
                    self._identity = load_identity_pem(self.identity_path.read_bytes())
                else:
                    self._identity = load_or_create_identity(default_identity_path())
            except InvalidInput as exc:
                raise InvalidArgument(f"--identity: {exc}") from exc
            except OSError as exc:
                raise click.BadParameter(
                    f"cannot read or create the identity: {exc.strerror or exc}", param_hint="'--identity'"
                ) from None
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
