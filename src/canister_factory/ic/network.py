"""``ManagementPort`` over the IC's HTTP interface: the management canister, the cycles ledger, the state tree.

* Management calls go to ``aaaaa-aa`` with the **target canister as the effective canister id**
  (``install_chunked_code``: ``target_canister``), arguments and replies typed by ``_data/ic.did``.
* Creation: the cycles ledger's ``create_canister`` with ``created_at_time``; a ``Duplicate`` (a retry of a
  creation whose reply was lost) returns the first canister with ``duplicate=True``. With
  ``provisional=True`` (local networks only) ``provisional_create_canister_with_cycles`` is used instead.
* ``read_controllers`` / ``read_module_hash`` read the certified state tree (``read_state``).
* An upgrade passes the options the module needs (``icp_client.wasm.upgrade_flags``: ``wasm_memory_persistence =
  keep`` for an enhanced-orthogonal-persistence module, ``replace`` otherwise); a chunked upgrade passes none.
* A lost reply to ``create_canister`` is retried once with the same ``created_at_time`` (the ledger
  deduplicates it); other updates are not re-issued (the agent re-sends the same envelope only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from canister_factory.ic.edge import created_canister, translate_ic_errors, withdrawn_block
from canister_factory.ports import (
    CanisterSettings,
    CanisterStatus,
    CreatedCanister,
    InstallMode,
)
from icp_client import interfaces
from icp_client.agent import Agent
from icp_client.candid import CandidError, FuncType, decode, encode
from icp_client.certificate import MAINNET_ROOT_KEY_DER
from icp_client.errors import Unavailable
from icp_client.identity import Identity
from icp_client.interfaces import CYCLES_LEDGER, MANAGEMENT_CANISTER, REPLY_LIMITS, Interface
from icp_client.management import (
    CANISTER_CREATION_FEE,
    install_mode_to_candid,
    settings_to_candid,
    status_from_candid,
)
from icp_client.principal import Principal
from icp_client.wasm import upgrade_flags

DEFAULT_CREATION_FEE = CANISTER_CREATION_FEE
MAINNET_URL = "https://icp-api.io"
LOCAL_URL = "http://127.0.0.1:4943"


@translate_ic_errors
class NetworkManagement:
    """The management canister and the cycles ledger of an IC network, called through ``agent``.

    Args:
        agent: signs as the factory's identity; verifies against the network's root key.
        creation_fee: the subnet's creation fee (500B on a 13-node application subnet).
        provisional: create canisters with ``provisional_create_canister_with_cycles`` (local networks).
    """

    def __init__(
        self,
        agent: Agent,
        *,
        creation_fee: int = DEFAULT_CREATION_FEE,
        provisional: bool = False,
        provisional_ecid: Principal | None = None,
    ) -> None:
        self.agent = agent
        self._creation_fee = creation_fee
        self.provisional = provisional
        self.provisional_ecid = provisional_ecid or Principal.from_canister_index(0)

    @property
    def sender(self) -> Principal:
        return self.agent.sender

    # --- cycles ledger -------------------------------------------------------------------------------------

    def cycles_balance(self) -> int:
        account = {"owner": self.sender, "subaccount": None}
        result: int = self._ledger_query("icrc1_balance_of", [account])
        return result

    def ledger_fee(self) -> int:
        result: int = self._ledger_query("icrc1_fee", [])
        return result

    def creation_fee(self) -> int:
        return self._creation_fee

    def create_canister(
        self, *, amount: int, settings: CanisterSettings | None, created_at_time: int
    ) -> CreatedCanister:
        if self.provisional:
            return self._provisional_create(amount, settings)
        arg = {
            "from_subaccount": None,
            "created_at_time": created_at_time,
            "amount": amount,
            "creation_args": {"settings": _settings(settings), "subnet_selection": None}
            if settings
            else None,
        }
        try:
            result = self._ledger_call("create_canister", [arg])
        except Unavailable:
            # The ledger deduplicates on created_at_time: asking again returns the first canister.
            result = self._ledger_call("create_canister", [arg])
        return created_canister(result)

    def _provisional_create(self, amount: int, settings: CanisterSettings | None) -> CreatedCanister:
        arg = {
            "amount": amount,
            "settings": _settings(settings),
            "specified_id": None,
            "sender_canister_version": None,
        }
        # Any canister id routes to the subnet; the first one of the id space is as good as any.
        ecid = self.provisional_ecid
        reply = self._management("provisional_create_canister_with_cycles", arg, ecid=ecid)
        return CreatedCanister(reply["canister_id"], charged=0)  # the network pays, not our account

    def withdraw(self, *, amount: int, to: Principal, created_at_time: int) -> int:
        arg = {"amount": amount, "from_subaccount": None, "to": to, "created_at_time": created_at_time}
        return withdrawn_block(self._ledger_call("withdraw", [arg]))

    def dev_mint(self, amount: int, owner: Principal | None = None) -> int:
        """The front's development-only ``dev_mint``: credit ``amount`` cycles to ``owner`` (default: us).

        Returns the new balance. The real IC refuses it (Reject 5/IC0536).
        """
        arg = {"to": {"owner": owner or self.sender, "subaccount": None}, "amount": amount}
        result = self._ledger_call("dev_mint", [arg])
        balance: int = result["balance"]
        return balance

    # --- management canister -------------------------------------------------------------------------------

    def install_code(
        self, *, canister_id: Principal, mode: InstallMode, wasm_module: bytes, arg: bytes
    ) -> None:
        flags = upgrade_flags(wasm_module) if mode is InstallMode.UPGRADE else None
        self._management(
            "install_code",
            {
                "mode": install_mode_to_candid(mode, flags),
                "canister_id": canister_id,
                "wasm_module": wasm_module,
                "arg": arg,
                "sender_canister_version": None,
            },
            ecid=canister_id,
        )

    def upload_chunk(self, *, canister_id: Principal, chunk: bytes) -> bytes:
        reply = self._management(
            "upload_chunk", {"canister_id": canister_id, "chunk": chunk}, ecid=canister_id
        )
        digest: bytes = reply["hash"]
        return digest

    def stored_chunks(self, *, canister_id: Principal) -> list[bytes]:
        reply = self._management("stored_chunks", {"canister_id": canister_id}, ecid=canister_id)
        return [item["hash"] for item in reply]

    def clear_chunk_store(self, *, canister_id: Principal) -> None:
        self._management("clear_chunk_store", {"canister_id": canister_id}, ecid=canister_id)

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
        self._management(
            "install_chunked_code",
            {
                "mode": _mode(mode),
                "target_canister": target_canister,
                "store_canister": store_canister,
                "chunk_hashes_list": [{"hash": h} for h in chunk_hashes],
                "wasm_module_hash": wasm_module_hash,
                "arg": arg,
                "sender_canister_version": None,
            },
            ecid=target_canister,
        )

    def update_settings(self, *, canister_id: Principal, settings: CanisterSettings) -> None:
        arg = {"canister_id": canister_id, "settings": _settings(settings), "sender_canister_version": None}
        self._management("update_settings", arg, ecid=canister_id)

    def canister_status(self, *, canister_id: Principal) -> CanisterStatus:
        reply = self._management("canister_status", {"canister_id": canister_id}, ecid=canister_id)
        return status_from_candid(reply)

    def start_canister(self, *, canister_id: Principal) -> None:
        self._management("start_canister", {"canister_id": canister_id}, ecid=canister_id)

    def stop_canister(self, *, canister_id: Principal) -> None:
        self._management("stop_canister", {"canister_id": canister_id}, ecid=canister_id)

    def delete_canister(self, *, canister_id: Principal) -> None:
        self._management("delete_canister", {"canister_id": canister_id}, ecid=canister_id)

    # --- the state tree -------------------------------------------------------------------------------------

    def read_controllers(self, *, canister_id: Principal) -> tuple[Principal, ...]:
        return self.agent.canister_controllers(canister_id)

    def read_module_hash(self, *, canister_id: Principal) -> bytes | None:
        return self.agent.canister_module_hash(canister_id)

    # --- plumbing -------------------------------------------------------------------------------------------

    def _management(self, method: str, arg: dict[str, Any], *, ecid: Principal) -> Any:
        func = _method(interfaces.management(), method)
        reply = self.agent.call(
            MANAGEMENT_CANISTER, method, encode(func.args, [arg]), effective_canister_id=ecid
        )
        values = _decode(reply, func, method)
        return values[0] if values else None

    def _ledger_call(self, method: str, args: list[Any]) -> Any:
        func = _method(interfaces.cycles_ledger(), method)
        reply = self.agent.call(CYCLES_LEDGER, method, encode(func.args, args))
        return _decode(reply, func, method)[0]

    def _ledger_query(self, method: str, args: list[Any]) -> Any:
        func = _method(interfaces.cycles_ledger(), method)
        reply = self.agent.query(CYCLES_LEDGER, method, encode(func.args, args))
        return _decode(reply, func, method)[0]


# --- conversions ------------------------------------------------------------------------------------------------


def _method(interface: Interface, name: str) -> FuncType:
    func = interface.method(name)
    if func is None:
        raise KeyError(f"no method {name} in the interface")
    return func


def _decode(reply: bytes, func: FuncType, method: str) -> list[Any]:
    try:
        return decode(reply, func.results, limits=REPLY_LIMITS)
    except CandidError as exc:
        raise Unavailable(f"the reply to {method} does not decode at its type: {exc}") from exc


def _mode(mode: InstallMode) -> dict[str, Any]:
    return install_mode_to_candid(mode)


def _settings(settings: CanisterSettings | None) -> dict[str, Any] | None:
    return settings_to_candid(settings)


# --- the factory ------------------------------------------------------------------------------------------------


def resolve_network(network: str) -> str:
    """``"ic"`` -> mainnet's API URL, ``"local"`` -> ``http://127.0.0.1:4943``, a URL -> itself."""
    if network == "ic":
        return MAINNET_URL
    if network == "local":
        return LOCAL_URL
    if network.startswith(("http://", "https://")):
        return network.rstrip("/")
    raise ValueError(f"network must be 'ic', 'local' or an http(s) URL, not {network!r}")


def network_management(
    network: str,
    identity: Identity,
    root_key: str | bytes | None = None,
    *,
    creation_fee: int = DEFAULT_CREATION_FEE,
    provisional: bool = False,
    timeout: float = 30.0,
) -> NetworkManagement:
    """Build a ``NetworkManagement`` for ``network`` (``"ic"``, ``"local"`` or a URL).

    ``root_key``: None for mainnet (its key is built in); otherwise the DER key as hex (or bytes), or
    ``"fetch"`` to trust the key the endpoint publishes (local networks only: trust on first use).

    Raises:
        ValueError: an unknown network, a missing root key for a network other than mainnet, a bad hex key,
            or ``"fetch"`` for mainnet.
    """
    url = resolve_network(network)
    is_mainnet = url == MAINNET_URL
    if root_key is None and not is_mainnet:
        raise ValueError("a root key (hex, or 'fetch') is required for a network other than mainnet")
    if root_key == "fetch" and is_mainnet:
        raise ValueError("mainnet's root key is built in; it must never be fetched")
    key = _root_key(root_key, is_mainnet)
    agent = Agent(url, identity, key or MAINNET_ROOT_KEY_DER, timeout=timeout)
    if key is None and root_key == "fetch":
        agent.root_key_der = agent.fetch_root_key()
    return NetworkManagement(agent, creation_fee=creation_fee, provisional=provisional)


def _root_key(root_key: str | bytes | None, is_mainnet: bool) -> bytes | None:
    if root_key is None or root_key == "fetch":
        return MAINNET_ROOT_KEY_DER if is_mainnet and root_key is None else None
    if isinstance(root_key, bytes):
        return root_key
    if root_key == "mainnet":
        return MAINNET_ROOT_KEY_DER
    try:
        return bytes.fromhex(root_key)
    except ValueError as exc:
        raise ValueError("the root key must be hex (the DER key, 266 hex digits) or 'fetch'") from exc


__all__ = [
    "DEFAULT_CREATION_FEE",
    "LOCAL_URL",
    "MAINNET_URL",
    "NetworkManagement",
    "network_management",
    "resolve_network",
]
