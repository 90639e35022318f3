"""What the use cases' unit tests share: one factory under test (``Env``), callers, uploads and requests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from canister_factory._core.config import InitArg
from canister_factory._core.model import CreateInstallRequest, CreateInstallResponse, Mode
from canister_factory.ports import FakeClock, FakeHost
from canister_factory.service import admin, creations, uploads
from canister_factory.service.context import Context
from canister_factory.service.installer import Installer
from canister_factory.unit_of_work import CreationRow
from icp_client.principal import Principal
from icp_local import LocalIc
from tests.unit.service.scripted_ic import ScriptedIc

T = 10**12
FUNDING = 100 * T
FACTORY = Principal(b"\xfa\xc7\x01")
COUNTER_ARG = bytes.fromhex("4449444c00017d2a")  # Candid (42 : nat), the counter's init argument


def principal(tag: int) -> Principal:
    """A caller's principal (self-authenticating form: 28 bytes then 0x02)."""
    return Principal(bytes([tag]) * 28 + b"\x02")


@dataclass
class Env:
    """One factory under test: its context, installer, the IC behind the port, and its admin."""

    ctx: Context
    installer: Installer
    ic: ScriptedIc
    local: LocalIc
    clock: FakeClock
    host: FakeHost
    admin: Principal

    def deploy(self, init: InitArg | None = None, *, funding: int = FUNDING) -> None:
        admin.deploy(self.ctx, self.admin, init, network="embedded")
        if funding:
            self.local.mint(FACTORY, funding)

    def balance(self) -> int:
        return self.local.icrc1_balance_of(FACTORY)

    def rows(self) -> list[CreationRow]:
        """The registry, newest first."""
        with self.ctx.store.read() as tx:
            return tx.creations.page(None, None, 1000)

    def spares(self) -> list[Principal]:
        with self.ctx.store.read() as tx:
            return tx.spares.all()

    def quota_used(self, caller: Principal) -> int:
        with self.ctx.store.read() as tx:
            return tx.callers.quota(caller).quota_used

    def reserved(self) -> int:
        """Cycles still held by reservations."""
        with self.ctx.store.read() as tx:
            return tx.spends.reserved(self.clock.now_ns())


def upload(env: Env, caller: Principal, data: bytes, *, chunk_size: int = 1_000_000) -> int:
    """Create, fill and commit an upload of ``data`` through the use cases; returns its id."""
    upload_id = uploads.create_upload(env.ctx, caller)
    for index, start in enumerate(range(0, len(data), chunk_size)):
        uploads.put_chunk(env.ctx, caller, upload_id, data[start : start + chunk_size], index)
    uploads.commit_upload(env.ctx, caller, upload_id, hashlib.sha256(data).hexdigest())
    return upload_id


def request(upload_id: int, *, cycles: int = T, **fields: Any) -> CreateInstallRequest:
    """A request for a new canister from ``upload_id`` with handoff; any field overridden by keyword."""
    values: dict[str, Any] = {
        "upload_id": upload_id,
        "init_arg": COUNTER_ARG,
        "mode": Mode.INSTALL,
        "cycles": cycles,
        "handoff": True,
    }
    return CreateInstallRequest(**(values | fields))


def create(env: Env, caller: Principal, upload_id: int, **fields: Any) -> CreateInstallResponse:
    """``create_and_install_with`` as ``caller``."""
    return creations.create_and_install_with(env.ctx, env.installer, caller, request(upload_id, **fields))
