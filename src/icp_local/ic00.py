"""The management canister (``aaaaa-aa``) over Candid, for ingress messages and for canisters' calls alike.

Each method is one handler ``(tx, env, call) -> (reply values, cycles consumed)`` over the functions of
``management.py``; arguments and replies are typed by ``ic.did`` (:mod:`icp_client.interfaces`) and the settings
and status records go through the one codec of :mod:`icp_client.management`. A canister's call may attach cycles:
``create_canister`` and ``deposit_cycles`` consume them, every other method refunds them.

Methods only canisters may call (``create_canister``, ``deposit_cycles``, ``raw_rand``, ``canister_info``)
refuse ingress (4/IC0406 "Only canisters can call ..."); methods this local IC does not model (threshold
signatures, HTTPS outcalls, snapshots, logs, ...) answer 5/IC0536 "Management canister has no method".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from icp_client import interfaces
from icp_client.candid import CandidError, DecodeLimits, FuncType, decode, encode
from icp_client.errors import Reject
from icp_client.management import (
    CanisterRunStatus,
    CanisterSettings,
    install_mode_from_candid,
    settings_from_candid,
    status_to_candid,
)
from icp_client.principal import Principal
from icp_local import management, rejects
from icp_local.env import Env
from icp_local.management import CanisterChange
from icp_local.state import IcStateTx

__all__ = [
    "ARG_LIMITS",
    "CANISTER_ONLY",
    "READ_ONLY",
    "ManagementCall",
    "decode_arg",
    "encode_reply",
    "handle",
    "methods",
]

ARG_LIMITS = DecodeLimits(max_depth=64, max_type_table=500, max_args=32)
CANISTER_ONLY = frozenset({"create_canister", "deposit_cycles", "raw_rand", "canister_info"})
NOT_FROM_INGRESS = CANISTER_ONLY | frozenset(
    {
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
READ_ONLY = frozenset({"canister_status", "stored_chunks", "canister_info"})
"""Methods that change nothing: an ingress message runs them in a read transaction."""


@dataclass(frozen=True, slots=True)
class ManagementCall:
    """One call: who makes it, its decoded argument record, the cycles attached (canisters only)."""

    sender: Principal
    arg: dict[str, Any]
    cycles: int = 0
    from_canister: bool = False


Handler = Callable[[IcStateTx, Env, ManagementCall], tuple[list[Any], int]]


def methods() -> frozenset[str]:
    """The management methods this local IC answers."""
    return frozenset(_HANDLERS)


def decode_arg(method: str, arg: bytes, *, from_canister: bool) -> dict[str, Any]:
    """The decoded argument of a management call.

    Raises:
        Reject: 4/IC0406 a canister-only method from ingress; 5/IC0536 no such method;
            4/IC0408 (ingress) or 5/IC0503 (a canister) an argument that does not decode.
    """
    if method in NOT_FROM_INGRESS and not from_canister:
        raise Reject(rejects.CANISTER_REJECT, f"Only canisters can call ic00 method {method}", "IC0406")
    func = interfaces.management().method(method)
    if func is None or method not in _HANDLERS:
        raise rejects.no_management_method(method)
    try:
        values = decode(arg, func.args, limits=ARG_LIMITS)
    except CandidError as exc:
        message = f"Failed to decode payload for ic00 method: {method}: {exc}"
        if from_canister:
            raise Reject(rejects.CANISTER_ERROR, message, "IC0503") from exc
        raise Reject(rejects.CANISTER_REJECT, message, "IC0408") from exc
    value = values[0] if values else {}
    return value if isinstance(value, dict) else {}


def encode_reply(method: str, values: list[Any]) -> bytes:
    """The Candid reply of ``method``."""
    func: FuncType = interfaces.management().methods[method]
    return encode(func.results, values)


def handle(tx: IcStateTx, env: Env, method: str, call: ManagementCall) -> tuple[bytes, int]:
    """Runs ``method``; returns its Candid reply and the cycles it consumed of those attached.

    Raises:
        Reject: whatever the method refuses, with the replica's code and text.
    """
    values, consumed = _HANDLERS[method](tx, env, call)
    return encode_reply(method, values), consumed


# --- the handlers -------------------------------------------------------------------------------------------


def _provisional_create(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    a = call.arg
    cycles = env.config.default_provisional_cycles if a.get("amount") is None else a["amount"]
    canister_id = management.create(
        tx,
        env,
        origin=call.sender,
        cycles=cycles,
        settings=settings_from_candid(a.get("settings")),
        default_controller=call.sender,
        specified_id=a.get("specified_id"),
    )
    return [{"canister_id": canister_id}], 0


def _create(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    fee = env.config.creation_fee
    if call.cycles < fee:
        raise rejects.insufficient_cycles_for_create(fee, call.cycles)
    canister_id = management.create(
        tx,
        env,
        origin=call.sender,
        cycles=call.cycles - fee,
        settings=settings_from_candid(call.arg.get("settings")),
        default_controller=call.sender,
    )
    return [{"canister_id": canister_id}], call.cycles


def _top_up(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    management.top_up(tx, call.arg["canister_id"], call.arg["amount"])
    return [], 0


def _deposit_cycles(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    management.top_up(tx, call.arg["canister_id"], call.cycles)
    return [], call.cycles


def _install(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    a = call.arg
    mode, flags = install_mode_from_candid(a["mode"])
    management.install_code(tx, env, call.sender, a["canister_id"], mode, a["wasm_module"], a["arg"], flags)
    return [], 0


def _install_chunked(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    a = call.arg
    mode, flags = install_mode_from_candid(a["mode"])
    hashes = [item["hash"] for item in a["chunk_hashes_list"]]
    management.install_chunked_code(
        tx,
        env,
        call.sender,
        a["target_canister"],
        a.get("store_canister"),
        hashes,
        a["wasm_module_hash"],
        mode,
        a["arg"],
        flags,
    )
    return [], 0


def _uninstall(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    management.uninstall_code(tx, env, call.sender, call.arg["canister_id"])
    return [], 0


def _upload_chunk(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    digest = management.upload_chunk(tx, env, call.sender, call.arg["canister_id"], call.arg["chunk"])
    return [{"hash": digest}], 0


def _stored_chunks(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    hashes = management.stored_chunks(tx, call.sender, call.arg["canister_id"])
    return [[{"hash": h} for h in hashes]], 0


def _clear_chunk_store(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    management.clear_chunk_store(tx, call.sender, call.arg["canister_id"])
    return [], 0


def _update_settings(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    settings = settings_from_candid(call.arg.get("settings")) or CanisterSettings()
    management.update_settings(tx, env, call.sender, call.arg["canister_id"], settings)
    return [], 0


def _status(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    return [status_to_candid(management.canister_status(tx, call.sender, call.arg["canister_id"]))], 0


def _info(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    info = management.canister_info(tx, call.arg["canister_id"], call.arg.get("num_requested_changes") or 0)
    return [
        {
            "total_num_changes": info.total_num_changes,
            "recent_changes": [_change(c) for c in info.recent_changes],
            "module_hash": info.module_hash,
            "controllers": list(info.controllers),
        }
    ], 0


def _change(change: CanisterChange) -> dict[str, Any]:
    """One history entry as ``ic.did``'s ``change``."""
    origin: dict[str, Any]
    if change.origin.canister_index() is None:
        origin = {"from_user": {"user_id": change.origin}}
    else:
        origin = {"from_canister": {"canister_id": change.origin, "canister_version": None}}
    return {
        "timestamp_nanos": change.timestamp_nanos,
        "canister_version": change.canister_version,
        "origin": origin,
        "details": _details(change.kind, change.details),
    }


def _details(kind: str, details: dict[str, object]) -> dict[str, Any]:
    if kind in ("creation", "controllers_change"):
        listed = details.get("controllers")
        controllers = [Principal.from_text(str(t)) for t in listed] if isinstance(listed, list) else []
        record: dict[str, Any] = {"controllers": controllers}
        if kind == "creation":
            record["environment_variables_hash"] = None
        return {kind: record}
    if kind == "code_deployment":
        module = bytes.fromhex(str(details["module_hash"]))
        return {kind: {"mode": {str(details["mode"]): None}, "module_hash": module}}
    return {kind: None}


def _start(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    management.set_running(tx, call.sender, call.arg["canister_id"], CanisterRunStatus.RUNNING)
    return [], 0


def _stop(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    management.set_running(tx, call.sender, call.arg["canister_id"], CanisterRunStatus.STOPPED)
    return [], 0


def _delete(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    management.delete_canister(tx, env, call.sender, call.arg["canister_id"])
    return [], 0


def _raw_rand(tx: IcStateTx, env: Env, call: ManagementCall) -> tuple[list[Any], int]:
    return [os.urandom(32)], 0


_HANDLERS: dict[str, Handler] = {
    "provisional_create_canister_with_cycles": _provisional_create,
    "provisional_top_up_canister": _top_up,
    "create_canister": _create,
    "deposit_cycles": _deposit_cycles,
    "install_code": _install,
    "install_chunked_code": _install_chunked,
    "uninstall_code": _uninstall,
    "upload_chunk": _upload_chunk,
    "stored_chunks": _stored_chunks,
    "clear_chunk_store": _clear_chunk_store,
    "update_settings": _update_settings,
    "canister_status": _status,
    "canister_info": _info,
    "start_canister": _start,
    "stop_canister": _stop,
    "delete_canister": _delete,
    "raw_rand": _raw_rand,
}
