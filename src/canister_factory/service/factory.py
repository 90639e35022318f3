"""``Factory``: the facade over the use cases, one method per method of the interface, the caller first.

Its methods are the rows of ``canister_factory.interface``'s table (same names and parameters, the caller's
principal first unless the method is public), which ``tests/unit/interface/test_interface_coverage.py``
checks, plus the operations that are no caller's method (deploy, reconcile, the timer's cleanup).
"""

from __future__ import annotations

from canister_factory._core.config import InitArg, Settings
from canister_factory._core.model import (
    CallerStats,
    CanisterInfo,
    CanisterPage,
    ConfigView,
    CreateInstallRequest,
    CreateInstallResponse,
    FactoryStats,
    ModuleMetadata,
    UploadInfo,
    UploadSummary,
)
from canister_factory._version import __version__
from canister_factory.service import admin, canisters, creations, modules, uploads
from canister_factory.service.context import Context
from canister_factory.service.installer import Installer
from icp_client.principal import Principal


class Factory:
    """The use cases over one store and one IC port. Build it with ``canister_factory.bootstrap``.

    ``canister_factory.interface.bind(factory, caller)`` is the same methods as one caller sees them.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.installer = Installer(ctx)

    @property
    def principal(self) -> Principal:
        """The factory's own identity on the IC (the controller it creates canisters as)."""
        return self.ctx.ic.sender

    def deploy(
        self, deployer: Principal, init: InitArg | None = None, *, network: str = "embedded"
    ) -> Settings:
        return admin.deploy(self.ctx, deployer, init, network=network)

    # uploads

    def create_upload(self, caller: Principal) -> int:
        return uploads.create_upload(self.ctx, caller)

    def put_chunk(self, caller: Principal, upload_id: int, chunk: bytes, index: int | None = None) -> int:
        return uploads.put_chunk(self.ctx, caller, upload_id, chunk, index)

    def commit_upload(self, caller: Principal, upload_id: int, expected_sha256_hex: str) -> str:
        return uploads.commit_upload(self.ctx, caller, upload_id, expected_sha256_hex)

    def clear_upload(self, caller: Principal, upload_id: int) -> None:
        uploads.clear_upload(self.ctx, caller, upload_id)

    def get_upload_info(self, caller: Principal, upload_id: int) -> UploadInfo:
        return uploads.get_upload_info(self.ctx, caller, upload_id)

    def list_my_uploads(self, caller: Principal) -> list[UploadSummary]:
        return uploads.list_my_uploads(self.ctx, caller)

    def get_module_metadata(self, caller: Principal, upload_id: int) -> ModuleMetadata:
        return modules.get_module_metadata(self.ctx, caller, upload_id)

    # canisters

    def create_and_install_with(
        self, caller: Principal, request: CreateInstallRequest
    ) -> CreateInstallResponse:
        return creations.create_and_install_with(self.ctx, self.installer, caller, request)

    def list_my_canisters(
        self,
        caller: Principal,
        cursor: int | None = None,
        limit: int | None = None,
        created_for_others: bool = False,
    ) -> CanisterPage:
        return admin.list_canisters(
            self.ctx, caller, caller, cursor, limit, created_for_others=created_for_others
        )

    def canister_status(self, caller: Principal, canister_id: Principal) -> CanisterInfo:
        return canisters.canister_status(self.ctx, caller, canister_id)

    def list_canisters(
        self, caller: Principal, cursor: int | None = None, limit: int | None = None
    ) -> CanisterPage:
        return admin.list_canisters(self.ctx, caller, None, cursor, limit)

    def reconcile(self) -> dict[str, int]:
        """Finish or undo creations left unfinished by a process that stopped (run at start-up)."""
        return creations.reconcile(self.ctx, self.installer)

    # admin

    def set_emergency_stop(self, caller: Principal, stopped: bool) -> None:
        admin.set_emergency_stop(self.ctx, caller, stopped)

    def set_allowlist(self, caller: Principal, allowlist: list[Principal] | None) -> None:
        admin.set_allowlist(self.ctx, caller, allowlist)

    def add_admin(self, caller: Principal, principal: Principal) -> None:
        admin.add_admin(self.ctx, caller, principal)

    def remove_admin(self, caller: Principal, principal: Principal) -> None:
        admin.remove_admin(self.ctx, caller, principal)

    def cleanup_expired_uploads_manual(self, caller: Principal) -> int:
        return uploads.cleanup_expired_uploads_manual(self.ctx, caller)

    def cleanup_expired_uploads(self) -> int:
        """The timer's cleanup (no caller)."""
        return uploads.cleanup_expired(self.ctx)

    # queries

    def get_config(self) -> ConfigView:
        return admin.get_config(self.ctx)

    def my_stats(self, caller: Principal) -> CallerStats:
        return admin.my_stats(self.ctx, caller)

    def get_factory_stats(self) -> FactoryStats:
        return admin.get_factory_stats(self.ctx)

    def health_check(self) -> str:
        return admin.health_check(self.ctx)

    def version(self) -> str:
        return __version__

    def cycles_balance(self) -> int:
        """The factory's cycles balance on the IC (its cycles-ledger account)."""
        return self.ctx.ic.cycles_balance()

    def module_bytes(self, caller: Principal, upload_id: int) -> bytes:
        """The module of one of ``caller``'s committed uploads (to read its metadata, e.g. ``candid:args``)."""
        return uploads.module_bytes(self.ctx, caller, upload_id)
