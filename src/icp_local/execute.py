"""Messages to user canisters: an ingress update's first execution, requests and responses from the queue, queries.

Each function runs one message on one canister inside the caller's transaction: it locks the canister's row,
brings its live instance up to date (:mod:`.live`), runs the entry point (:mod:`.execution`), then writes
everything the message did in that same transaction: the cycles (fees charged as ``fees.py`` says, cycles
accepted, sent and burned), the memory pages and globals it changed, the calls it made (callbacks and queued
requests, :mod:`.calls`) and the answer to its call context. A trap leaves only the fees for the instructions
it ran and the reject it becomes.
"""

from __future__ import annotations

import dataclasses

from icp_client.errors import Reject
from icp_client.management import CanisterRunStatus
from icp_client.principal import Principal
from icp_local import fees, rejects
from icp_local.calls import (
    CANISTER,
    INGRESS,
    Answer,
    Origin,
    context_settled,
    perform_calls,
    respond,
    with_id,
)
from icp_local.env import Env
from icp_local.execution import (
    Callback,
    CanisterStatus,
    Execution,
    ExecutionError,
    MessageContext,
    OutgoingCall,
    inspect_message,
    query_call,
    response,
    update_call,
)
from icp_local.live import Live, live_instance, persist_delta
from icp_local.state import CanisterRow, IcStateTx
from icp_local.state_exec import ContextRow, MessageRow

__all__ = [
    "deliver_request",
    "deliver_response",
    "ingress_update",
    "message_context",
    "reject_of",
    "run_query",
]

_STATUS = {
    CanisterRunStatus.RUNNING.value: CanisterStatus.RUNNING,
    CanisterRunStatus.STOPPING.value: CanisterStatus.STOPPING,
    CanisterRunStatus.STOPPED.value: CanisterStatus.STOPPED,
}


def reject_of(error: ExecutionError) -> Reject:
    """The reject a caller sees for a failed message (reject code, the replica's text and error code)."""
    return Reject(int(error.reject_code), error.description, str(error.code))


def message_context(env: Env, row: CanisterRow, live: Live | None, **fields: object) -> MessageContext:
    """The facts a message on the canister of ``row`` runs with (``live``: its instance, None before install);
    ``fields`` add or override."""
    runtime = env.exec_runtime()
    base: dict[str, object] = {
        "canister_id": row.canister_id.raw,
        "time_ns": env.now_ns,
        "cycles_balance": row.cycles,
        "controllers": tuple(c.raw for c in row.controllers),
        "status": _STATUS[row.status],
        "canister_version": row.version,
        "subnet_id": env.config.subnet_id.raw,
        "root_key": runtime.root_key,
        "env_vars": tuple((v.name, v.value) for v in row.settings.environment_variables),
        "global_timer": live.global_timer if live is not None else 0,
        "wasm_memory_limit": row.settings.wasm_memory_limit,
    }
    base.update(fields)
    return MessageContext(**base)  # type: ignore[arg-type]


# --- checks before a message is accepted --------------------------------------------------------------------


def _runnable(tx: IcStateTx, canister_id: Principal, *, for_update: bool) -> CanisterRow:
    """The canister's row, if a message may run on it (Reject otherwise, with the replica's code and text)."""
    row = tx.get_canister(canister_id, for_update=for_update)
    if row is None:
        raise rejects.canister_not_found(canister_id)
    if row.status == CanisterRunStatus.STOPPED.value:
        raise rejects.canister_stopped(canister_id, query=not for_update)
    if row.status == CanisterRunStatus.STOPPING.value and for_update:
        raise rejects.canister_stopping(canister_id)
    if row.module_hash is None:
        raise rejects.no_wasm_module(canister_id)
    return row


def _require_attached(row: CanisterRow, message: MessageRow) -> None:
    """``minimum_incoming_canister_call_cycles``: a call from another canister must attach that many."""
    minimum = row.settings.minimum_incoming_canister_call_cycles
    if message.sender != row.canister_id and message.cycles < minimum:
        raise rejects.too_few_cycles_attached(row.canister_id, minimum, message.cycles)


def _require_cycles(row: CanisterRow, fee: int) -> None:
    if row.cycles < fee:
        raise rejects.out_of_cycles(row.canister_id, fee - row.cycles)


# --- ingress ------------------------------------------------------------------------------------------------


def ingress_update(
    tx: IcStateTx,
    env: Env,
    sender: Principal,
    canister_id: Principal,
    method: str,
    arg: bytes,
    ingress_id: bytes,
) -> Answer | None:
    """The first execution of an ingress update call; its answer if the call is answered by it.

    Raises:
        Reject: the message is not accepted (no canister, stopped, empty, out of cycles, refused by
            ``canister_inspect_message``); nothing is charged then.
    """
    row = _runnable(tx, canister_id, for_update=True)
    induction = fees.ingress_induction(method, arg)
    _require_cycles(row, induction + fees.UPDATE_MESSAGE_FEE)
    env.txn.hold(env.exec_runtime().live.using(canister_id))
    live = live_instance(tx, env, row)
    inspected = inspect_message(
        live.instance, method, message_context(env, row, live, caller=sender.raw, arg=arg)
    )
    if inspected.outcome.error is not None:
        raise reject_of(inspected.outcome.error)
    row.cycles -= induction
    env.txn.await_answer(ingress_id)
    context = ContextRow(0, canister_id, INGRESS, ingress_id.hex(), None, sender, method, 0, False)
    ctx = message_context(env, row, live, caller=sender.raw, arg=arg)
    _finish(tx, env, row, live, update_call(live.instance, method, ctx), context, stored=False)
    answer: Answer | None = env.txn.answer
    return answer


# --- the queue ----------------------------------------------------------------------------------------------


def deliver_request(tx: IcStateTx, env: Env, message: MessageRow) -> None:
    """Runs a canister's call to another (user) canister; a call that cannot run is answered with a reject."""
    assert message.callback_id is not None
    origin = Origin.canister(message.sender, message.callback_id)
    try:
        row = _runnable(tx, message.receiver, for_update=True)
        _require_cycles(row, fees.UPDATE_MESSAGE_FEE)
        _require_attached(row, message)
    except Reject as refused:
        respond(tx, env, message.receiver, origin, Answer(reject=refused), message.cycles)
        return
    env.txn.hold(env.exec_runtime().live.using(row.canister_id))
    live = live_instance(tx, env, row)
    context = ContextRow(
        0,
        row.canister_id,
        CANISTER,
        message.sender.to_text(),
        message.callback_id,
        message.sender,
        message.method,
        message.cycles,
        False,
    )
    ctx = message_context(
        env, row, live, caller=message.sender.raw, arg=message.payload, cycles_available=message.cycles
    )
    _finish(tx, env, row, live, update_call(live.instance, message.method, ctx), context, stored=False)


def deliver_response(tx: IcStateTx, env: Env, message: MessageRow) -> None:
    """Runs the callback of a call for its response (the refund lands even if the callback cannot run)."""
    assert message.callback_id is not None
    row = tx.get_canister(message.receiver, for_update=True)
    callback = tx.exec.get_callback(message.callback_id)
    if row is None:
        return
    row.cycles += message.cycles
    row.cycles -= min(
        row.cycles, fees.call_response(len(message.payload) + len(message.reject_message or ""))
    )
    context = tx.exec.get_context(callback.context_id) if callback is not None else None
    if callback is None or context is None or row.module_hash is None:
        tx.set_cycles(row.canister_id, row.cycles)  # the call context is gone (uninstalled): only the refund
        return
    tx.exec.delete_callback(callback.id)
    env.txn.hold(env.exec_runtime().live.using(row.canister_id))
    live = live_instance(tx, env, row)
    closures = callback.closures
    call = OutgoingCall(
        callback.callee.raw,
        callback.method,
        b"",
        callback.cycles,
        Callback(closures[0], closures[1]),
        Callback(closures[2], closures[3]),
        Callback(closures[4], closures[5]) if len(closures) == 6 else None,
    )
    ctx = message_context(
        env,
        row,
        live,
        caller=context.caller.raw,
        cycles_available=context.cycles,
        cycles_refunded=message.cycles,
        replied=context.responded,
        reject_code=message.reject_code or 0,
        reject_message=message.reject_message or "",
    )
    reply = message.payload if message.reject_code is None else None
    _finish(tx, env, row, live, response(live.instance, call, ctx, reply=reply), context, stored=True)


# --- the end of a message -----------------------------------------------------------------------------------


def _finish(
    tx: IcStateTx,
    env: Env,
    row: CanisterRow,
    live: Live,
    execution: Execution,
    context: ContextRow,
    *,
    stored: bool,
) -> None:
    """Writes what the message did: fees and cycles, its state, its calls, and its call context's fate."""
    outcome = execution.outcome
    effects = outcome.effects
    charged = fees.update_execution(effects.instructions)
    if outcome.error is not None:
        row.cycles -= min(row.cycles, charged)
        tx.set_cycles(row.canister_id, row.cycles)
        persist_delta(tx, env, row.canister_id, live, execution)  # a cleanup callback's changes, if any
        context_settled(tx, env, context, stored=stored, failure=reject_of(outcome.error))
        return
    charged += sum(fees.call_request(call.method, call.arg) for call in effects.calls)
    balance = row.cycles + effects.cycles_accepted - effects.cycles_sent - effects.cycles_burned - charged
    row.cycles = max(balance, 0)
    tx.set_cycles(row.canister_id, row.cycles)
    persist_delta(
        tx,
        env,
        row.canister_id,
        live,
        execution,
        certified_data=effects.certified_data,
        global_timer=effects.global_timer,
    )
    context = dataclasses.replace(context, cycles=context.cycles - effects.cycles_accepted)
    if effects.calls:
        context = with_id(tx, context)
        perform_calls(tx, row.canister_id, context.id, effects.calls)
    if effects.responded:
        reject = None if effects.reject is None else rejects.canister_reject(effects.reject)
        respond(
            tx,
            env,
            row.canister_id,
            Origin.of_context(context),
            Answer(effects.reply, reject),
            context.cycles,
        )
        context = dataclasses.replace(context, responded=True, cycles=0)
    context_settled(tx, env, context, stored=stored)


# --- queries ------------------------------------------------------------------------------------------------


def run_query(
    tx: IcStateTx,
    env: Env,
    sender: Principal,
    canister_id: Principal,
    method: str,
    arg: bytes,
    depth: int = 0,
) -> bytes:
    """A query call (its changes discarded); returns the reply.

    A composite query's calls to other canisters' queries run at once, in order, and its callbacks on its own
    (speculative) state, until it answers. Raises:
        Reject: with the replica's code and text (a query's own rejects carry IC0406).
    """
    row = _runnable(tx, canister_id, for_update=False)
    runtime = env.exec_runtime()
    with runtime.live.using(canister_id):
        live = live_instance(tx, env, row)
        ctx = message_context(env, row, live, caller=sender.raw, arg=arg)
        execution = query_call(live.instance, method, ctx)
        try:
            if execution.speculative:
                execution = _composite(tx, env, row, live, execution, depth)
        finally:
            execution.rollback()
    outcome = execution.outcome
    if outcome.error is not None:
        raise reject_of(outcome.error)
    effects = outcome.effects
    if effects.reject is not None:
        raise rejects.canister_reject(effects.reject)
    if effects.reply is None:
        raise rejects.did_not_reply(canister_id)
    return effects.reply


_MAX_COMPOSITE_DEPTH = 20


def _composite(
    tx: IcStateTx, env: Env, row: CanisterRow, live: Live, first: Execution, depth: int
) -> Execution:
    """Runs a composite query's calls and callbacks until it answers; returns the last (speculative) execution."""
    execution = first
    pending = list(first.outcome.effects.calls)
    while pending and not execution.outcome.effects.responded and execution.outcome.error is None:
        call = pending.pop(0)
        answer = _query_callee(tx, env, row.canister_id, call, depth + 1)
        ctx = message_context(
            env,
            row,
            live,
            caller=row.canister_id.raw,
            reject_code=0 if answer.reject is None else answer.reject.reject_code,
            reject_message="" if answer.reject is None else answer.reject.reject_message,
        )
        execution = response(live.instance, call, ctx, reply=answer.reply, composite=True)
        pending.extend(execution.outcome.effects.calls)
    return execution


def _query_callee(tx: IcStateTx, env: Env, caller: Principal, call: OutgoingCall, depth: int) -> Answer:
    """A composite query's call: a query on another canister of this subnet, answered at once."""
    callee = Principal(call.callee)
    if depth > _MAX_COMPOSITE_DEPTH:
        return Answer(reject=rejects.composite_too_deep())
    if callee == caller:
        return Answer(reject=rejects.composite_loop(caller))
    try:
        return Answer(reply=run_query(tx, env, caller, callee, call.method, call.arg, depth))
    except Reject as refused:
        return Answer(reject=refused)
