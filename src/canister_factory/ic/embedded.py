"""``ManagementPort`` on the local IC in process (the "embedded" backend): every call made as one fixed sender.

A thin adapter: each method calls ``icp_local.LocalIc`` as the factory's identity; the local IC's rejects become
the factory's errors through ``edge.translate_ic_errors``, and ledger results are read by ``edge``. An upgrade
passes the options the module needs, as dfx and icp-cli choose them (``icp_client.wasm.upgrade_flags``: keep the
Wasm memory of an enhanced-orthogonal-persistence module, replace it otherwise); a chunked upgrade cannot see the
module and passes none.
"""

from __future__ import annotations

from collections.abc import Sequence

from canister_factory.ic.edge import created_canister, translate_ic_errors, withdrawn_block
from canister_factory.ports import CanisterSettings, CanisterStatus, CreatedCanister, InstallMode
from icp_client.principal import Principal
from icp_client.wasm import upgrade_flags
from icp_local import CreateCanisterOk, LedgerErr, LocalIc


@translate_ic_errors
class EmbeddedManagement:
    """The management canister and the cycles ledger of ``ic``, called by ``sender``."""

    def __init__(self, ic: LocalIc, sender: Principal) -> None:
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
        return created_canister(
            ledger_result(self._ic.ledger_create_canister(self._sender, amount, settings, created_at_time))
        )

    def install_code(
        self, *, canister_id: Principal, mode: InstallMode, wasm_module: bytes, arg: bytes
    ) -> None:
        flags = upgrade_flags(wasm_module) if mode is InstallMode.UPGRADE else None
        self._ic.install_code(self._sender, canister_id, mode, wasm_module, arg, flags)

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
        return withdrawn_block(
            ledger_result(self._ic.ledger_withdraw(self._sender, amount, to, created_at_time))
        )


def ledger_result(result: CreateCanisterOk | LedgerErr | int) -> dict[str, object]:
    """A local IC ledger result (``create_canister``'s or ``withdraw``'s) in the shape of the ledger's Candid."""
    if isinstance(result, LedgerErr):
        return {"Err": {result.variant: dict(result.fields)}}
    if isinstance(result, CreateCanisterOk):
        return {"Ok": {"canister_id": result.canister_id, "block_id": result.block_id}}
    return {"Ok": result}
