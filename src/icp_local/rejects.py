"""The rejects of the embedded IC: the specification's reject code, the replica's error code and
message shape.

Each function builds one ``Reject``; the texts follow the replica's (``reference/execution-errors.md``).
Callers should match on ``reject_code`` and ``error_code``, as with the real IC.
"""

from __future__ import annotations

from collections.abc import Iterable

from icp_client.errors import Reject
from icp_client.principal import Principal

SYS_FATAL = 1
SYS_TRANSIENT = 2
DESTINATION_INVALID = 3
CANISTER_REJECT = 4
CANISTER_ERROR = 5


class IngressTooLarge(Reject):
    """The message exceeds the subnet's ingress limit. The real IC answers HTTP 413 before consensus."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            CANISTER_REJECT,
            f"Request is too large. Message byte size {size} is larger than the max allowed {limit}.",
            None,
        )


def canister_not_found(canister_id: Principal) -> Reject:
    return Reject(DESTINATION_INVALID, f"Canister {canister_id} not found.", "IC0301")


def not_controller(canister_id: Principal, controllers: Iterable[Principal], sender: Principal) -> Reject:
    listed = " ".join(str(c) for c in controllers)
    return Reject(
        CANISTER_ERROR,
        f"Only the controllers of the canister {canister_id} can control it.\n"
        f"Canister's controllers: {listed}\nSender's ID: {sender}",
        "IC0512",
    )


def cannot_delete_itself(canister_id: Principal) -> Reject:
    return Reject(CANISTER_ERROR, f"Canister {canister_id} cannot delete itself.", "IC0512")


def not_empty(canister_id: Principal) -> Reject:
    return Reject(
        CANISTER_ERROR,
        f"Canister {canister_id} cannot be installed because the canister is not empty. "
        "Try installing with mode='reinstall' instead.",
        "IC0514",
    )


def no_wasm_module(canister_id: Principal) -> Reject:
    return Reject(
        CANISTER_ERROR,
        f"Error from Canister {canister_id}: Attempted to execute a message, but the canister contains no "
        "Wasm module.",
        "IC0537",
    )


def not_stopped(canister_id: Principal) -> Reject:
    return Reject(CANISTER_ERROR, f"Canister {canister_id} must be stopped before it is deleted.", "IC0510")


def invalid_settings(detail: str) -> Reject:
    return Reject(CANISTER_ERROR, f"Could not validate the settings: Invalid settings: {detail}", "IC0504")


def chunk_store(detail: str) -> Reject:
    return Reject(CANISTER_ERROR, f"Error from Wasm chunk store: {detail}", "IC0504")


INVALID_WASM = "Canister's Wasm module is not valid: "


def invalid_wasm(detail: str) -> Reject:
    return Reject(CANISTER_ERROR, f"{INVALID_WASM}{detail}", "IC0505")


def out_of_cycles_install(canister_id: Principal, missing: int) -> Reject:
    return Reject(
        SYS_TRANSIENT,
        f"Canister installation failed with `Canister {canister_id} is out of cycles: please top up the "
        f"canister with at least {missing} additional cycles`.",
        "IC0207",
    )


def insufficient_cycles_for_create(fee: int, received: int) -> Reject:
    return Reject(
        CANISTER_REJECT,
        f"Creating a canister requires a fee of {fee} that is deducted from the canister's initial balance "
        "but "
        f"only {received} cycles were received with the create_canister request.",
        "IC0403",
    )


def canister_id_exists(canister_id: Principal) -> Reject:
    return Reject(
        SYS_TRANSIENT, f"Unsuccessful canister creation: canister id {canister_id} already exists.", "IC0205"
    )


def specified_id_in_range(canister_id: Principal) -> Reject:
    return Reject(
        CANISTER_REJECT,
        f"The `specified_id` {canister_id} is invalid because it belongs to the canister allocation ranges "
        "of "
        "the test environment.\nUse a `specified_id` that matches a canister ID on the ICP mainnet.",
        "IC0408",
    )


def out_of_canister_ids() -> Reject:
    return Reject(
        SYS_FATAL, "Could not create canister. Subnet has surpassed its canister ID allocation.", "IC0101"
    )


def canister_trapped(canister_id: Principal, detail: str) -> Reject:
    return Reject(
        CANISTER_ERROR,
        f"Error from Canister {canister_id}: Canister called `ic0.trap` with message: '{detail}'.",
        "IC0503",
    )


def hash_text(value: bytes) -> str:
    """A hash as the replica prints it in chunk store errors (Rust's ``Debug`` of a byte array)."""
    return "[" + ", ".join(str(b) for b in value) + "]"


def canister_stopped(canister_id: Principal, *, query: bool = False) -> Reject:
    """IC0508: a message to a stopped canister (a query says it has no call context manager)."""
    if query:
        message = f"Canister {canister_id} is stopped and therefore does not have a CallContextManager"
    else:
        message = f"Canister {canister_id} is stopped"
    return Reject(CANISTER_ERROR, message, "IC0508")


def canister_stopping(canister_id: Principal) -> Reject:
    """IC0509: a new call to a canister that is stopping."""
    return Reject(CANISTER_ERROR, f"Canister {canister_id} is stopping", "IC0509")


def out_of_cycles(canister_id: Principal, missing: int) -> Reject:
    """IC0207: the canister cannot pay for the message."""
    return Reject(
        SYS_TRANSIENT,
        f"Canister {canister_id} is out of cycles: please top up the canister with at least {missing} additional "
        "cycles",
        "IC0207",
    )


def canister_reject(message: str) -> Reject:
    """The canister rejected the call itself (``ic0.msg_reject``): reject code 4, IC0406 for its caller."""
    return Reject(CANISTER_REJECT, message, "IC0406")


def did_not_reply(canister_id: Principal) -> Reject:
    """IC0506: the call context has nothing left that could answer it."""
    return Reject(CANISTER_ERROR, f"Canister {canister_id} did not reply to the call", "IC0506")


def composite_too_deep() -> Reject:
    """IC0525: a composite query's call graph is deeper than the limit."""
    return Reject(CANISTER_ERROR, "Composite query call graph reached the maximum depth", "IC0525")


def composite_loop(canister_id: Principal) -> Reject:
    """IC0517: a composite query calls back into a canister of its call graph."""
    return Reject(
        CANISTER_ERROR, f"Composite query call graph calls back into canister {canister_id}", "IC0517"
    )


def no_management_method(method: str) -> Reject:
    """IC0536: the management canister has no such method (or not for this kind of caller)."""
    return Reject(CANISTER_ERROR, f"Management canister has no method '{method}'", "IC0536")


def uninstalled(canister_id: Principal) -> Reject:
    """The answer to the open calls of a canister whose code was uninstalled."""
    return Reject(CANISTER_REJECT, f"Canister {canister_id} has been uninstalled.", "IC0406")


def reinstalled(canister_id: Principal) -> Reject:
    """The answer to the open calls of a canister whose code was reinstalled."""
    return Reject(CANISTER_REJECT, f"Canister {canister_id} has been reinstalled.", "IC0406")


def too_few_cycles_attached(canister_id: Principal, minimum: int, attached: int) -> Reject:
    """A call to a canister whose ``minimum_incoming_canister_call_cycles`` it does not meet."""
    return Reject(
        CANISTER_ERROR,
        f"Canister {canister_id} requires at least {minimum} cycles attached to incoming calls, "
        f"but {attached} were attached.",
        "IC0520",
    )
