"""The System API as data: every ``ic0`` function a canister may import, its signature for 32- and 64-bit
modules, and where the specification allows calling it, transcribed from the interface specification's
"Overview of imports".

``I`` in a signature stands for the pointer type (``i32`` or ``i64`` after the module's memory). The availability
column uses the specification's letters (``I`` init, ``G`` pre-upgrade, ``U`` update, ``RQ``/``NRQ``/``CQ``
queries, ``Ry``/``Rt`` callbacks, ``C`` cleanup, ``F`` inspect-message, ``T`` system tasks, ``s`` the start
function). Module validation (which imports are allowed, with their exact signatures) and the local IC's host
(which entry point may call what) both read this one table.
"""

from __future__ import annotations

from dataclasses import dataclass

from icp_client.wasm._binary import FuncType

__all__ = ["API", "ApiFunction", "signature"]

_STAR = "I G U RQ NRQ TQ CQ Ry Rt CRy CRt C CC F T"


@dataclass(frozen=True)
class ApiFunction:
    """One ``ic0`` function: its signature (``I`` for the pointer type) and where it may be called."""

    name: str
    params: tuple[str, ...]
    results: tuple[str, ...]
    letters: frozenset[str]
    only32: bool = False


def _fn(name: str, params: str, results: str, where: str, only32: bool = False) -> ApiFunction:
    expanded = where.replace("*", _STAR)
    return ApiFunction(
        name, tuple(params.split()), tuple(results.split()), frozenset(expanded.split()), only32
    )


_ARGS = "I U RQ NRQ TQ CQ Ry CRy F"
_CALLER_INFO = "U RQ NRQ CQ Ry Rt CRy CRt C CC F"
_REPLY = "U RQ NRQ TQ CQ Ry Rt CRy CRt"
_CALL = "U CQ Ry Rt CRy CRt T"
_REPLICATED = "I G U RQ Ry Rt C T"

_FUNCTIONS = (
    _fn("msg_arg_data_size", "", "I", _ARGS),
    _fn("msg_arg_data_copy", "I I I", "", _ARGS),
    _fn("msg_caller_size", "", "I", "*"),
    _fn("msg_caller_copy", "I I I", "", "*"),
    _fn("msg_caller_info_data_size", "", "I", _CALLER_INFO),
    _fn("msg_caller_info_data_copy", "I I I", "", _CALLER_INFO),
    _fn("msg_caller_info_signer_size", "", "I", _CALLER_INFO),
    _fn("msg_caller_info_signer_copy", "I I I", "", _CALLER_INFO),
    _fn("msg_reject_code", "", "i32", "Ry Rt CRy CRt C"),
    _fn("msg_reject_msg_size", "", "I", "Rt CRt"),
    _fn("msg_reject_msg_copy", "I I I", "", "Rt CRt"),
    _fn("msg_deadline", "", "i64", "U RQ NRQ CQ Ry Rt CRy CRt"),
    _fn("msg_reply_data_append", "I I", "", _REPLY),
    _fn("msg_reply", "", "", _REPLY),
    _fn("msg_reject", "I I", "", _REPLY),
    _fn("msg_cycles_available128", "I", "", "U RQ Rt Ry"),
    _fn("msg_cycles_refunded128", "I", "", "Rt Ry"),
    _fn("msg_cycles_accept128", "i64 i64 I", "", "U RQ Rt Ry"),
    _fn("cycles_burn128", "i64 i64 I", "", "I G U RQ Ry Rt C T"),
    _fn("canister_self_size", "", "I", "*"),
    _fn("canister_self_copy", "I I I", "", "*"),
    _fn("canister_cycle_balance128", "I", "", "*"),
    _fn("canister_liquid_cycle_balance128", "I", "", "*"),
    _fn("canister_status", "", "i32", "*"),
    _fn("canister_version", "", "i64", "*"),
    _fn("subnet_self_size", "", "I", "*"),
    _fn("subnet_self_copy", "I I I", "", "*"),
    _fn("msg_method_name_size", "", "I", "F"),
    _fn("msg_method_name_copy", "I I I", "", "F"),
    _fn("accept_message", "", "", "F"),
    _fn("call_new", "I I I I I I I I", "", _CALL),
    _fn("call_on_cleanup", "I I", "", _CALL),
    _fn("call_data_append", "I I", "", _CALL),
    _fn("call_with_best_effort_response", "i32", "", _CALL),
    _fn("call_cycles_add128", "i64 i64", "", "U Ry Rt T"),
    _fn("call_perform", "", "i32", _CALL),
    _fn("stable64_size", "", "i64", "* s"),
    _fn("stable64_grow", "i64", "i64", "* s"),
    _fn("stable64_write", "i64 i64 i64", "", "* s"),
    _fn("stable64_read", "i64 i64 i64", "", "* s"),
    _fn("root_key_size", "", "I", "I G U RQ Ry Rt C T"),
    _fn("root_key_copy", "I I I", "", "I G U RQ Ry Rt C T"),
    _fn("certified_data_set", "I I", "", "I G U Ry Rt T"),
    _fn("data_certificate_present", "", "i32", "*"),
    _fn("data_certificate_size", "", "I", "NRQ CQ"),
    _fn("data_certificate_copy", "I I I", "", "NRQ CQ"),
    _fn("time", "", "i64", "*"),
    _fn("global_timer_set", "i64", "i64", "I G U Ry Rt C T"),
    _fn("performance_counter", "i32", "i64", "* s"),
    _fn("is_controller", "I I", "i32", "* s"),
    _fn("in_replicated_execution", "", "i32", "* s"),
    _fn("cost_call", "i64 i64 I", "", "* s"),
    _fn("cost_create_canister", "I", "", "* s"),
    _fn("cost_http_request", "i64 i64 I", "", "* s"),
    _fn("cost_sign_with_ecdsa", "I I i32 I", "i32", "* s"),
    _fn("cost_sign_with_schnorr", "I I i32 I", "i32", "* s"),
    _fn("cost_vetkd_derive_key", "I I i32 I", "i32", "* s"),
    _fn("env_var_count", "", "I", "*"),
    _fn("env_var_name_size", "I", "I", "*"),
    _fn("env_var_name_copy", "I I I I", "", "*"),
    _fn("env_var_name_exists", "I I", "i32", "*"),
    _fn("env_var_value_size", "I I", "I", "*"),
    _fn("env_var_value_copy", "I I I I I", "", "*"),
    _fn("debug_print", "I I", "", "* s"),
    _fn("trap", "I I", "", "* s"),
    _fn("msg_cycles_available", "", "i64", "U RQ Rt Ry", only32=True),
    _fn("msg_cycles_refunded", "", "i64", "Rt Ry", only32=True),
    _fn("msg_cycles_accept", "i64", "i64", "U RQ Rt Ry", only32=True),
    _fn("canister_cycle_balance", "", "i64", "*", only32=True),
    _fn("call_cycles_add", "i64", "", "U Ry Rt T", only32=True),
    _fn("stable_size", "", "i32", "* s", only32=True),
    _fn("stable_grow", "i32", "i32", "* s", only32=True),
    _fn("stable_write", "i32 i32 i32", "", "* s", only32=True),
    _fn("stable_read", "i32 i32 i32", "", "* s", only32=True),
)

API: dict[str, ApiFunction] = {f.name: f for f in _FUNCTIONS}


def signature(function: ApiFunction, is64: bool) -> FuncType:
    """The exact Wasm type of ``function`` for a module with a 64-bit (or 32-bit) memory."""
    pointer = "i64" if is64 else "i32"
    swap = {"I": pointer}
    return FuncType(
        tuple(swap.get(p, p) for p in function.params),
        tuple(swap.get(r, r) for r in function.results),
    )
