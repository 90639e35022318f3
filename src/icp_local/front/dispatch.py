"""Candid dispatch: a call's (canister, method, arg) decoded, run on the embedded IC, and its reply encoded.

::

    aaaaa-aa                       management canister   ic.did (the methods an ingress message may call)
    um5iw-rqaaa-aaaaq-qaaba-cai    cycles ledger         cycles-ledger.did: icrc1_balance_of, icrc1_fee,
                                                         create_canister, withdraw; plus dev_mint (below)
    rkp4c-7iaaa-aaaaa-aaaca-cai    CMC                   get_default_subnets
    any other canister             exists? empty?        the embedded IC does not run modules (yet)

``dev_mint : (record { to : Account; amount : nat }) -> (record { balance : nat; block_index : nat })`` is a
**non-standard, development-only** cycles-ledger method: it credits ``amount`` cycles to an account for free
(``LocalIc.mint``), the way a local network's provisional API fabricates cycles. It lets
``deploy --cycles N`` fund the factory's account on the front; a front started with ``dev_mint=False`` and the
real IC refuse it (``Canister has no update method``).

Every failure is an ``Reject`` with the code and message shape the replica uses (``ic-reference.md`` §1.4).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from icp_client import interfaces
from icp_client.candid import CandidError, DecodeLimits, FuncType, decode, encode
from icp_client.errors import Reject
from icp_client.interfaces import CMC, CYCLES_LEDGER, MANAGEMENT_CANISTER, Interface
from icp_client.management import (
    CanisterSettings,
    InstallMode,
    install_mode_from_candid,
    settings_from_candid,
    status_to_candid,
)
from icp_client.principal import Principal
from icp_local import CreateCanisterOk, IngressTooLarge, LocalIc

ARG_LIMITS = DecodeLimits(max_depth=64, max_type_table=500, max_args=32)
NNS_ROOT = Principal.from_text("r7inp-6aaaa-aaaaa-aaabq-cai")
_CANISTER_ONLY = frozenset(
    {
        "create_canister",
        "deposit_cycles",
        "canister_info",
        "raw_rand",
        "http_request",
        "ecdsa_public_key",
        "sign_with_ecdsa",
        "schnorr_public_key",
        "sign_with_schnorr",
        "vetkd_public_key",
        "vetkd_derive_key",
        "node_metrics_history",
        "subnet_info",
    }
)


@dataclass
class FrontMetrics:
    """Counters that tests and ``/_front/metrics`` read."""

    calls: int = 0
    queries: int = 0
    read_states: int = 0
    upload_chunk_calls: int = 0
    upload_chunk_bytes: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, **increments: int) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "calls": self.calls,
                "queries": self.queries,
                "read_states": self.read_states,
                "upload_chunk_calls": self.upload_chunk_calls,
                "upload_chunk_bytes": self.upload_chunk_bytes,
            }


Handler = Callable[[Principal, Any], list[Any]]


def no_method(canister_id: Principal, method: str, *, query: bool) -> Reject:
    kind = "query" if query else "update"
    return Reject(
        5, f"Error from Canister {canister_id}: Canister has no {kind} method '{method}'.", "IC0536"
    )


class Dispatcher:
    """Runs decoded calls on ``engine``; ``subnet_id`` is the id the front presents for the engine's subnet."""

    def __init__(
        self, engine: LocalIc, subnet_id: Principal, metrics: FrontMetrics, *, dev_mint: bool
    ) -> None:
        self.engine = engine
        self.subnet_id = subnet_id
        self.metrics = metrics
        self.dev_mint = dev_mint
        self._management: dict[str, Handler] = {
            "provisional_create_canister_with_cycles": self._provisional_create,
            "provisional_top_up_canister": self._provisional_top_up,
            "install_code": self._install_code,
            "upload_chunk": self._upload_chunk,
            "stored_chunks": self._stored_chunks,
            "clear_chunk_store": self._clear_chunk_store,
            "install_chunked_code": self._install_chunked_code,
            "uninstall_code": self._uninstall_code,
            "update_settings": self._update_settings,
            "canister_status": self._canister_status,
            "start_canister": self._start_canister,
            "stop_canister": self._stop_canister,
            "delete_canister": self._delete_canister,
        }
        self._ledger: dict[str, Handler] = {
            "icrc1_balance_of": self._balance_of,
            "icrc1_fee": lambda _s, _a: [self.engine.icrc1_fee()],
            "create_canister": self._ledger_create_canister,
            "withdraw": self._withdraw,
        }
        if dev_mint:
            self._ledger["dev_mint"] = self._dev_mint
        self._cmc: dict[str, Handler] = {"get_default_subnets": lambda _s, _a: [[self.subnet_id]]}

    # --- entry points -------------------------------------------------------------------------------------

    def decode_management_arg(self, method: str, arg: bytes) -> Any:
        """The decoded argument of a management call (for the ingress filter's ECID check).

        Raises:
            Reject: 5/IC0536 no such method; 4/IC0406 canister-only method; 4/IC0408 undecodable.
        """
        if method in _CANISTER_ONLY:
            raise Reject(4, f"Only canisters can call ic00 method {method}", "IC0406")
        func = interfaces.management().method(method)
        if func is None or method not in self._management:
            raise Reject(5, f"Management canister has no method '{method}'", "IC0536")
        return _decode_single(func, arg, f"Failed to decode payload for ic00 method: {method}", "IC0408")

    def call(
        self, sender: Principal, canister_id: Principal, method: str, arg: bytes, *, query: bool
    ) -> bytes:
        """Run one call (``query`` for the query endpoint) and return the Candid reply.

        Raises:
            Reject: the reject the IC would give.
        """
        if canister_id == MANAGEMENT_CANISTER:
            value = self.decode_management_arg(method, arg)
            func = interfaces.management().methods[method]
            if query and "query" not in func.annotations:
                raise no_method(canister_id, method, query=True)
            return _encode(func, self._management[method](sender, value))
        if canister_id == CYCLES_LEDGER:
            return self._system_call(
                interfaces.cycles_ledger(), self._ledger, sender, canister_id, method, arg, query
            )
        if canister_id == CMC:
            return self._system_call(interfaces.cmc(), self._cmc, sender, canister_id, method, arg, query)
        return self._user_canister(canister_id, method, query)

    def system_metadata(self, canister_id: Principal, name: str) -> bytes | None:
        """``candid:service`` of the ledger and the CMC (public); None for anything else."""
        interface = _system_interface(canister_id)
        if interface is None or name != "candid:service":
            return None
        text = interface.did_text
        if canister_id == CYCLES_LEDGER and self.dev_mint:
            text = interfaces.with_dev_mint(text)
        return text.encode()

    @staticmethod
    def is_system_canister(canister_id: Principal) -> bool:
        return canister_id in (CYCLES_LEDGER, CMC)

    # --- plumbing ------------------------------------------------------------------------------------------

    def _system_call(
        self,
        interface: Interface,
        handlers: Mapping[str, Handler],
        sender: Principal,
        canister_id: Principal,
        method: str,
        arg: bytes,
        query: bool,
    ) -> bytes:
        func = interface.method(method)
        if func is None or method not in handlers or (query and "query" not in func.annotations):
            raise no_method(canister_id, method, query=query)
        message = (
            f"Error from Canister {canister_id}: Canister called `ic0.trap` with message: "
            "failed to decode call arguments"
        )
        values = _decode_all(func, arg, message)
        return _encode(func, handlers[method](sender, values))

    def _user_canister(self, canister_id: Principal, method: str, query: bool) -> bytes:
        if self.engine.read_module_hash(canister_id) is None:
            raise Reject(
                5,
                f"Error from Canister {canister_id}: Attempted to execute a message, but the canister contains "
                "no Wasm module.",
                "IC0537",
            )
        raise no_method(canister_id, method, query=query)

    # --- management canister -------------------------------------------------------------------------------

    def _provisional_create(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        canister_id = self.engine.provisional_create_canister_with_cycles(
            sender, a.get("amount"), _settings(a.get("settings")), a.get("specified_id")
        )
        return [{"canister_id": canister_id}]

    def _provisional_top_up(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.engine.provisional_top_up_canister(sender, a["canister_id"], a["amount"])
        return []

    def _install_code(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.engine.install_code(sender, a["canister_id"], _mode(a["mode"]), a["wasm_module"], a["arg"])
        return []

    def _upload_chunk(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.metrics.add(upload_chunk_calls=1, upload_chunk_bytes=len(a["chunk"]))
        return [{"hash": self.engine.upload_chunk(sender, a["canister_id"], a["chunk"])}]

    def _stored_chunks(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        return [[{"hash": h} for h in self.engine.stored_chunks(sender, a["canister_id"])]]

    def _clear_chunk_store(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.engine.clear_chunk_store(sender, a["canister_id"])
        return []

    def _install_chunked_code(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.engine.install_chunked_code(
            sender,
            a["target_canister"],
            a.get("store_canister"),
            [item["hash"] for item in a["chunk_hashes_list"]],
            a["wasm_module_hash"],
            _mode(a["mode"]),
            a["arg"],
        )
        return []

    def _uninstall_code(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.engine.uninstall_code(sender, a["canister_id"])
        return []

    def _update_settings(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.engine.update_settings(sender, a["canister_id"], _settings(a["settings"]) or CanisterSettings())
        return []

    def _canister_status(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        return [status_to_candid(self.engine.canister_status(sender, a["canister_id"]))]

    def _start_canister(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.engine.start_canister(sender, a["canister_id"])
        return []

    def _stop_canister(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.engine.stop_canister(sender, a["canister_id"])
        return []

    def _delete_canister(self, sender: Principal, a: dict[str, Any]) -> list[Any]:
        self.engine.delete_canister(sender, a["canister_id"])
        return []

    # --- cycles ledger ---------------------------------------------------------------------------------------

    def _balance_of(self, _sender: Principal, values: list[Any]) -> list[Any]:
        account = values[0]
        return [self.engine.icrc1_balance_of(account["owner"], account.get("subaccount"))]

    def _ledger_create_canister(self, sender: Principal, values: list[Any]) -> list[Any]:
        a = values[0]
        creation = a.get("creation_args") or {}
        result = self.engine.ledger_create_canister(
            sender,
            a["amount"],
            _settings(creation.get("settings")),
            a.get("created_at_time"),
            from_subaccount=a.get("from_subaccount"),
            subnet=self._subnet_selection(creation.get("subnet_selection")),
        )
        if isinstance(result, CreateCanisterOk):
            return [{"Ok": {"block_id": result.block_id, "canister_id": result.canister_id}}]
        return [{"Err": {result.variant: dict(result.fields) or None}}]

    def _subnet_selection(self, selection: dict[str, Any] | None) -> Principal | None:
        if selection is None or "Subnet" not in selection:
            return None
        subnet: Principal = selection["Subnet"]["subnet"]
        # The front presents the engine's subnet under the root key's subnet id.
        return self.engine.subnet_id if subnet == self.subnet_id else subnet

    def _withdraw(self, sender: Principal, values: list[Any]) -> list[Any]:
        a = values[0]
        result = self.engine.ledger_withdraw(
            sender, a["amount"], a["to"], a.get("created_at_time"), from_subaccount=a.get("from_subaccount")
        )
        if isinstance(result, int):
            return [{"Ok": result}]
        return [{"Err": {result.variant: dict(result.fields) or None}}]

    def _dev_mint(self, _sender: Principal, values: list[Any]) -> list[Any]:
        a = values[0]
        owner, subaccount = a["to"]["owner"], a["to"].get("subaccount")
        block = self.engine.mint(owner, a["amount"], subaccount)
        return [{"balance": self.engine.icrc1_balance_of(owner, subaccount), "block_index": block}]


# --- conversions ------------------------------------------------------------------------------------------


def _system_interface(canister_id: Principal) -> Interface | None:
    if canister_id == CYCLES_LEDGER:
        return interfaces.cycles_ledger()
    if canister_id == CMC:
        return interfaces.cmc()
    return None


def _decode_single(func: FuncType, arg: bytes, message: str, error_code: str) -> Any:
    try:
        values = decode(arg, func.args, limits=ARG_LIMITS)
    except CandidError as exc:
        raise Reject(4, f"{message}: {exc}", error_code) from exc
    return values[0] if values else {}


def _decode_all(func: FuncType, arg: bytes, message: str) -> list[Any]:
    try:
        return decode(arg, func.args, limits=ARG_LIMITS)
    except CandidError as exc:
        raise Reject(5, f"{message}: {exc}", "IC0503") from exc


def _encode(func: FuncType, values: list[Any]) -> bytes:
    return encode(func.results, values)


def _mode(variant: Any) -> InstallMode:
    return install_mode_from_candid(variant)[0]


def _settings(raw: dict[str, Any] | None) -> CanisterSettings | None:
    return settings_from_candid(raw)


__all__ = ["NNS_ROOT", "Dispatcher", "FrontMetrics", "IngressTooLarge", "no_method"]
