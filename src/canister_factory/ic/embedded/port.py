"""``ManagementPort`` on the embedded IC: every call made as one fixed sender (the factory's identity)."""

from __future__ import annotations

from collections.abc import Sequence

from canister_factory._core.principal import Principal
from canister_factory.ic.embedded.engine import EmbeddedIc
from canister_factory.ports import CanisterSettings, CanisterStatus, CreatedCanister, InstallMode


class EmbeddedManagement:
    """The management canister and the cycles ledger of ``ic``, called by ``sender``."""

    def __init__(self, ic: EmbeddedIc, sender: Principal) -> None:
        self._ic = ic
        self._sender = sender

    @property
    def sender(self) -> Principal:
        return self._sender

    def cycles_balance(self) -> int:
        return self._ic.icrc1_balance_of(self._sender)

    def ledger_fee(self) -> int:
        return self._ic.icrc1_fee()

    def creation_fee(self) -> int:
        return self._ic.config.creation_fee

    def create_canister(
        self, *, amount: int, settings: CanisterSettings | None, created_at_time: int
    ) -> CreatedCanister:
        return self._ic.create_canister(self._sender, amount, settings, created_at_time)

    def install_code(
        self, *, canister_id: Principal, mode: InstallMode, wasm_module: bytes, arg: bytes
    ) -> None:
        self._ic.install_code(self._sender, canister_id, mode, wasm_module, arg)

    def upload_chunk(self, *, canister_id: Principal, chunk: bytes) -> bytes:
        return self._ic.upload_chunk(self._sender, canister_id, chunk)

    def stored_chunks(self, *, canister_id: Principal) -> list[bytes]:
        return self._ic.stored_chunks(self._sender, canister_id)

    def clear_chunk_store(self, *, canister_id: Principal) -> None:
        self._ic.clear_chunk_store(self._sender, canister_id)

    def install_chunked_code(
        self,
        *,
        target_canister: Principal,
        store_canister: Principal | None,
        chunk_hashes: Sequence[bytes],
        wasm_module_hash: bytes,
        mode: InstallMode,
        arg: bytes,
    ) -> None:
        self._ic.install_chunked_code(
            self._sender, target_canister, store_canister, chunk_hashes, wasm_module_hash, mode, arg
        )

    def update_settings(self, *, canister_id: Principal, settings: CanisterSettings) -> None:
        self._ic.update_settings(self._sender, canister_id, settings)

    def canister_status(self, *, canister_id: Principal) -> CanisterStatus:
        return self._ic.canister_status(self._sender, canister_id)

    def read_controllers(self, *, canister_id: Principal) -> tuple[Principal, ...]:
        return self._ic.read_controllers(canister_id)

    def read_module_hash(self, *, canister_id: Principal) -> bytes | None:
        return self._ic.read_module_hash(canister_id)

    def start_canister(self, *, canister_id: Principal) -> None:
        self._ic.start_canister(self._sender, canister_id)

    def stop_canister(self, *, canister_id: Principal) -> None:
        self._ic.stop_canister(self._sender, canister_id)

    def delete_canister(self, *, canister_id: Principal) -> None:
        self._ic.delete_canister(self._sender, canister_id)

    def withdraw(self, *, amount: int, to: Principal, created_at_time: int) -> int:
        return self._ic.withdraw(self._sender, amount, to, created_at_time)
