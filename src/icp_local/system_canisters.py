"""The cycles ledger and the CMC over Candid, for ingress messages and for canisters' calls alike.

::

    um5iw-rqaaa-aaaaq-qaaba-cai    cycles ledger   cycles-ledger.did: icrc1_balance_of, icrc1_fee, create_canister,
                                                   withdraw, deposit (cycles attached by a canister); plus dev_mint
    rkp4c-7iaaa-aaaaa-aaaca-cai    CMC             get_default_subnets

``dev_mint : (record { to : Account; amount : nat }) -> (record { balance : nat; block_index : nat })`` is a
**non-standard, development-only** ledger method that credits cycles for free (``ledger.mint``); only a caller that
asks for it (the HTTP front with ``dev_mint`` on) gets it, others see "Canister has no update method".

``View`` says how the caller presents this subnet: the HTTP front presents it under its root key's subnet id,
which the CMC reports and the ledger's subnet selection accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from icp_client import interfaces
from icp_client.candid import CandidError, decode, encode
from icp_client.errors import Reject
from icp_client.interfaces import CMC, CYCLES_LEDGER, Interface
from icp_client.management import settings_from_candid
from icp_client.principal import Principal
from icp_local import ledger, rejects
from icp_local.env import Env
from icp_local.ic00 import ARG_LIMITS
from icp_local.ledger import CreateCanisterOk
from icp_local.state import IcStateTx

__all__ = ["SystemCall", "View", "handle", "is_query", "is_system_canister", "no_method", "service_text"]


@dataclass(frozen=True, slots=True)
class View:
    """How the caller presents this subnet (``subnet_id``, None: its own id) and whether ``dev_mint`` exists."""

    subnet_id: Principal | None = None
    dev_mint: bool = False


@dataclass(frozen=True, slots=True)
class SystemCall:
    """One call to a system canister: the sender, its decoded arguments, attached cycles, the caller's view."""

    sender: Principal
    values: list[Any]
    cycles: int = 0
    view: View = View()


Handler = Callable[[IcStateTx, Env, SystemCall], tuple[list[Any], int]]


def is_system_canister(canister_id: Principal) -> bool:
    """Whether ``canister_id`` is one of the system canisters answered here."""
    return canister_id in (CYCLES_LEDGER, CMC)


def no_method(canister_id: Principal, method: str, *, query: bool) -> Reject:
    """5/IC0536 as the replica words it."""
    kind = "query" if query else "update"
    return Reject(
        rejects.CANISTER_ERROR,
        f"Error from Canister {canister_id}: Canister has no {kind} method '{method}'.",
        "IC0536",
    )


def service_text(canister_id: Principal, view: View) -> str | None:
    """The ``candid:service`` of a system canister (with ``dev_mint`` when the view has it), else None."""
    interface = _interface(canister_id)
    if interface is None:
        return None
    if canister_id == CYCLES_LEDGER and view.dev_mint:
        return interfaces.with_dev_mint(interface.did_text)
    return interface.did_text


def is_query(canister_id: Principal, method: str) -> bool:
    """Whether ``method`` of the system canister is a query (runs in a read transaction)."""
    interface = _interface(canister_id)
    func = interface.method(method) if interface is not None else None
    return func is not None and "query" in func.annotations


def handle(
    tx: IcStateTx, env: Env, canister_id: Principal, method: str, arg: bytes, call: SystemCall, *, query: bool
) -> tuple[bytes, int]:
    """Runs a system canister's method; returns its Candid reply and the cycles it consumed.

    Raises:
        Reject: 5/IC0536 no such method (or not as a query); 5/IC0503 arguments that do not decode; a ledger trap.
    """
    interface = _interface(canister_id)
    handlers = _LEDGER if canister_id == CYCLES_LEDGER else _CMC
    func = interface.method(method) if interface is not None else None
    allowed = method in handlers and (method != "dev_mint" or call.view.dev_mint)
    if func is None or not allowed or (query and "query" not in func.annotations):
        raise no_method(canister_id, method, query=query)
    try:
        values = decode(arg, func.args, limits=ARG_LIMITS)
    except CandidError as exc:
        raise Reject(
            rejects.CANISTER_ERROR,
            f"Error from Canister {canister_id}: Canister called `ic0.trap` with message: "
            f"failed to decode call arguments: {exc}",
            "IC0503",
        ) from exc
    reply, consumed = handlers[method](tx, env, SystemCall(call.sender, values, call.cycles, call.view))
    return encode(func.results, reply), consumed


def _interface(canister_id: Principal) -> Interface | None:
    if canister_id == CYCLES_LEDGER:
        return interfaces.cycles_ledger()
    if canister_id == CMC:
        return interfaces.cmc()
    return None


# --- the cycles ledger --------------------------------------------------------------------------------------


def _balance_of(tx: IcStateTx, env: Env, call: SystemCall) -> tuple[list[Any], int]:
    account = call.values[0]
    return [ledger.balance_of(tx, account["owner"], account.get("subaccount"))], 0


def _fee(tx: IcStateTx, env: Env, call: SystemCall) -> tuple[list[Any], int]:
    return [env.config.ledger_fee], 0


def _create_canister(tx: IcStateTx, env: Env, call: SystemCall) -> tuple[list[Any], int]:
    a = call.values[0]
    creation = a.get("creation_args") or {}
    result = ledger.create_canister(
        tx,
        env,
        call.sender,
        a["amount"],
        settings_from_candid(creation.get("settings")),
        a.get("created_at_time"),
        from_subaccount=a.get("from_subaccount"),
        subnet=_subnet(env, call.view, creation.get("subnet_selection")),
    )
    if isinstance(result, CreateCanisterOk):
        return [{"Ok": {"block_id": result.block_id, "canister_id": result.canister_id}}], 0
    return [{"Err": {result.variant: dict(result.fields) or None}}], 0


def _subnet(env: Env, view: View, selection: dict[str, Any] | None) -> Principal | None:
    if selection is None or "Subnet" not in selection:
        return None
    subnet: Principal = selection["Subnet"]["subnet"]
    return env.config.subnet_id if subnet == view.subnet_id else subnet


def _withdraw(tx: IcStateTx, env: Env, call: SystemCall) -> tuple[list[Any], int]:
    a = call.values[0]
    result = ledger.withdraw(
        tx,
        env,
        call.sender,
        a["amount"],
        a["to"],
        a.get("created_at_time"),
        from_subaccount=a.get("from_subaccount"),
    )
    if isinstance(result, int):
        return [{"Ok": result}], 0
    return [{"Err": {result.variant: dict(result.fields) or None}}], 0


def _deposit(tx: IcStateTx, env: Env, call: SystemCall) -> tuple[list[Any], int]:
    to = call.values[0]["to"]
    result = ledger.deposit(tx, to["owner"], to.get("subaccount"), call.cycles, env.config.ledger_fee)
    return [{"balance": result.balance, "block_index": result.block_index}], call.cycles


def _dev_mint(tx: IcStateTx, env: Env, call: SystemCall) -> tuple[list[Any], int]:
    a = call.values[0]
    owner, subaccount = a["to"]["owner"], a["to"].get("subaccount")
    block = ledger.mint(tx, owner, subaccount, a["amount"])
    return [{"balance": ledger.balance_of(tx, owner, subaccount), "block_index": block}], 0


def _default_subnets(tx: IcStateTx, env: Env, call: SystemCall) -> tuple[list[Any], int]:
    return [[call.view.subnet_id or env.config.subnet_id]], 0


_LEDGER: dict[str, Handler] = {
    "icrc1_balance_of": _balance_of,
    "icrc1_fee": _fee,
    "create_canister": _create_canister,
    "withdraw": _withdraw,
    "deposit": _deposit,
    "dev_mint": _dev_mint,
}
_CMC: dict[str, Handler] = {"get_default_subnets": _default_subnets}
