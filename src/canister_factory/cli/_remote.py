"""A factory service reached over HTTP, with ``Factory``'s signatures, for the CLI's ``--url`` mode."""

from __future__ import annotations

from canister_factory._core.errors import InvalidArgument, PermissionDenied
from canister_factory._core.model import (
    CallerStats,
    CanisterPage,
    ConfigView,
    CreateInstallRequest,
    CreateInstallResponse,
    FactoryStats,
    UploadInfo,
)
from canister_factory.client import FactoryClient
from icp_client.principal import Principal


class RemoteFactory:
    """``FactoryApi`` over ``FactoryClient``: every call is signed by the client's identity, the caller."""

    def __init__(self, client: FactoryClient) -> None:
        self.client = client

    def _as(self, caller: Principal) -> FactoryClient:
        if caller != self.client.principal:
            raise PermissionDenied(f"this client signs as {self.client.principal}, not {caller}")
        return self.client

    def create_upload(self, caller: Principal) -> int:
        return self._as(caller).create_upload()

    def put_chunk(self, caller: Principal, upload_id: int, chunk: bytes, index: int | None = None) -> int:
        return self._as(caller).put_chunk(upload_id, chunk, index)

    def commit_upload(self, caller: Principal, upload_id: int, expected_sha256_hex: str) -> str:
        return self._as(caller).commit_upload(upload_id, expected_sha256_hex)

    def clear_upload(self, caller: Principal, upload_id: int) -> None:
        self._as(caller).clear_upload(upload_id)

    def get_upload_info(self, caller: Principal, upload_id: int) -> UploadInfo:
        return self._as(caller).get_upload_info(upload_id)

    def create_and_install_with(
        self, caller: Principal, request: CreateInstallRequest
    ) -> CreateInstallResponse:
        return self._as(caller).create_and_install_with(request)

    def list_my_canisters(
        self, caller: Principal, cursor: int | None = None, limit: int | None = None
    ) -> CanisterPage:
        return self._as(caller).list_my_canisters(cursor, limit)

    def list_canisters(
        self, caller: Principal, cursor: int | None = None, limit: int | None = None
    ) -> CanisterPage:
        return self._as(caller).list_canisters(cursor, limit)

    def set_emergency_stop(self, caller: Principal, stopped: bool) -> None:
        self._as(caller).set_emergency_stop(stopped)

    def set_allowlist(self, caller: Principal, allowlist: list[Principal] | None) -> None:
        self._as(caller).set_allowlist(allowlist)

    def add_admin(self, caller: Principal, principal: Principal) -> None:
        self._as(caller).add_admin(principal)

    def remove_admin(self, caller: Principal, principal: Principal) -> None:
        self._as(caller).remove_admin(principal)

    def cleanup_expired_uploads_manual(self, caller: Principal) -> int:
        return self._as(caller).cleanup_expired_uploads_manual()

    def get_config(self) -> ConfigView:
        return self.client.get_config()

    def my_stats(self, caller: Principal) -> CallerStats:
        return self._as(caller).my_stats()

    def get_factory_stats(self) -> FactoryStats:
        return self.client.get_factory_stats()

    def health_check(self) -> str:
        return self.client.health_check()

    def version(self) -> str:
        return self.client.version()

    def module_bytes(self, caller: Principal, upload_id: int) -> bytes:
        raise InvalidArgument(
            "--init-arg-candid needs the module's metadata, which the service does not send; "
            "use --init-arg-hex with --url"
        )

    def close(self) -> None:
        self.client.close()
