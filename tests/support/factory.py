"""Helpers for the factory's tests: a deployed factory on the embedded IC, identities, uploads, requests.

Every helper builds fresh objects; nothing here keeps state between tests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from canister_factory._core.config import InitArg
from canister_factory._core.model import CreateInstallRequest, Mode
from canister_factory.bootstrap import App, open_app
from canister_factory.cli import cli
from canister_factory.ports import FakeClock
from canister_factory.service.factory import Factory
from icp_client.identity import generate_identity, load_identity_pem
from icp_client.principal import Principal

__all__ = [
    "CANISTER_CYCLES",
    "COUNTER_INIT_ARG",
    "CREATION_FEE",
    "FUNDING",
    "LEDGER_FEE",
    "Cli",
    "Harness",
    "Who",
    "create_in_process",
    "deploy",
    "new_principal",
    "request",
    "sha256_hex",
    "upload_module",
    "write_identity",
    "write_sec1_secp256k1",
]

T = 1_000_000_000_000
FUNDING = 100 * T
CANISTER_CYCLES = 1 * T
CREATION_FEE = 500_000_000_000  # SubnetConfig.creation_fee
LEDGER_FEE = 100_000_000  # SubnetConfig.ledger_fee
COUNTER_INIT_ARG = bytes.fromhex("4449444c00017d2a")  # Candid (42 : nat)


def new_principal() -> Principal:
    """A fresh self-authenticating principal (an Ed25519 key nobody keeps)."""
    return generate_identity("ed25519").principal


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Harness:
    """One deployed factory in a state folder, with its clock and admin."""

    state_dir: Path
    app: App
    clock: FakeClock
    admin: Principal

    @property
    def factory(self) -> Factory:
        return self.app.factory

    @property
    def ic_canisters(self) -> list[Principal]:
        """Canisters on the embedded IC that are not the factory's store canisters."""
        with self.factory.ctx.store.read() as tx:
            stores = set(tx.chunk_stores.canisters())
        assert self.app.embedded is not None
        return [c for c in self.app.embedded.list_canisters() if c not in stores]

    def reopen(self) -> App:
        """Close the app and open the same state folder again (reconcile runs, as at any start)."""
        self.app.close()
        self.app = open_app(self.state_dir, clock=self.clock)
        return self.app

    def balance(self) -> int:
        return self.factory.ctx.ic.cycles_balance()


def deploy(
    state_dir: Path,
    init: InitArg | None = None,
    *,
    funding: int = FUNDING,
    clock: FakeClock | None = None,
    admin: Principal | None = None,
) -> Harness:
    """Open a factory in ``state_dir``, deploy it with ``init`` as ``admin`` and fund it."""
    clock = clock or FakeClock()
    admin = admin or new_principal()
    app = open_app(state_dir, clock=clock)
    app.factory.deploy(admin, init)
    if funding:
        app.fund(funding)
    return Harness(state_dir=state_dir, app=app, clock=clock, admin=admin)


def upload_module(
    factory: Factory, caller: Principal, data: bytes, *, chunk_size: int = 1_000_000, indexed: bool = True
) -> int:
    """Create an upload of ``data`` in chunks, commit it, and return its id."""
    upload_id = factory.create_upload(caller)
    for index, start in enumerate(range(0, len(data), chunk_size)):
        factory.put_chunk(caller, upload_id, data[start : start + chunk_size], index if indexed else None)
    factory.commit_upload(caller, upload_id, sha256_hex(data))
    return upload_id


def request(upload_id: int, *, cycles: int = CANISTER_CYCLES, **fields: object) -> CreateInstallRequest:
    """A ``CreateInstallRequest`` for a new canister with handoff; override any field by keyword."""
    values: dict[str, object] = {
        "upload_id": upload_id,
        "init_arg": COUNTER_INIT_ARG,
        "mode": Mode.INSTALL,
        "cycles": cycles,
        "handoff": True,
    }
    values.update(fields)
    return CreateInstallRequest(**values)  # type: ignore[arg-type]


def create_in_process(state_dir: str, caller_text: str, upload_id: int) -> str:
    """Run one ``create_and_install_with`` in this (child) process; returns "ok" or the error's class name.

    Top-level so ``multiprocessing`` can call it in a spawned process.
    """
    app = open_app(Path(state_dir), clock=FakeClock())
    try:
        app.factory.create_and_install_with(Principal.from_text(caller_text), request(upload_id))
        return "ok"
    except Exception as exc:  # the parent counts outcomes by kind
        return f"{type(exc).__name__}: {exc}"
    finally:
        app.close()


# the command line ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    pem: Path
    principal: str


def write_identity(path: Path, kind: str = "ed25519") -> Who:
    identity = generate_identity(kind)  # type: ignore[arg-type]
    path.write_bytes(identity.to_pem())
    return Who(path, identity.principal.to_text())


def write_sec1_secp256k1(path: Path) -> Who:
    """A secp256k1 key as dfx writes it: SEC1 ``EC PRIVATE KEY`` PEM."""
    key = ec.generate_private_key(ec.SECP256K1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    return Who(path, load_identity_pem(pem).principal.to_text())


@dataclass
class Cli:
    """Runs ``canister-factory --state STATE --identity PEM [--json] ...`` in process."""

    state: Path
    admin: Who
    alice: Who
    bob: Who

    def run(
        self, *args: str, who: Who | None = None, as_json: bool = True, input: bytes | None = None
    ) -> Result:
        head = ["--state", str(self.state), "--identity", str((who or self.admin).pem)]
        if as_json:
            head.append("--json")
        return CliRunner().invoke(cli, [*head, *args], input=input)

    def ok(self, *args: str, who: Who | None = None, input: bytes | None = None) -> Any:
        """Run with --json, expect success, return the parsed JSON object."""
        result = self.run(*args, who=who, input=input)
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return json.loads(result.stdout)

    def fails(self, *args: str, who: Who | None = None, input: bytes | None = None) -> tuple[int, Any, str]:
        """Run with --json, expect failure; returns the exit code, the JSON on stdout and stderr."""
        result = self.run(*args, who=who, input=input)
        assert result.exit_code != 0, result.stdout
        return result.exit_code, json.loads(result.stdout), result.stderr
