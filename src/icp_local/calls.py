"""Call contexts, callbacks, and the answers that travel back: the bookkeeping of calls between canisters.

A message executed on a canister runs in a *call context* that remembers where the call came from (an ingress
message, or a canister's call with the callback waiting for the answer) and how many of its cycles are still
available. A call the canister makes becomes a *callback* (owned by the caller, bound to its call context) and a
request in the queue; its answer comes back as a response that runs the callback. A call context is answered
once (a reply or a reject), and is closed when it is answered and has no callbacks left; a context that has no
callbacks left and was never answered is answered for the canister with the replica's IC0506 ("did not reply").

Everything here is written in the transaction of the message that causes it (``state_exec.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from icp_client.errors import Reject
from icp_client.principal import Principal
from icp_local import rejects
from icp_local.env import Env
from icp_local.execution import OutgoingCall
from icp_local.state import IcStateTx
from icp_local.state_exec import CallbackRow, ContextRow, IngressRow, MessageRow

__all__ = [
    "INGRESS",
    "Answer",
    "Origin",
    "context_settled",
    "perform_calls",
    "respond",
    "with_id",
]

INGRESS = "ingress"
CANISTER = "canister"
NEXT_MESSAGE = "next_message"
NEXT_CONTEXT = "next_call_context"
NEXT_CALLBACK = "next_callback"


@dataclass(frozen=True, slots=True)
class Answer:
    """A call's answer: the reply's bytes, or the reject (its error code only for ingress callers)."""

    reply: bytes | None = None
    reject: Reject | None = None

    @classmethod
    def of(cls, reply: bytes | None = None, reject: Reject | None = None) -> Answer:
        return cls(reply, reject)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a call came from: an ingress message (its id), or a canister's call (the caller and its callback)."""

    kind: str
    ingress_id: bytes = b""
    caller: Principal | None = None
    callback_id: int | None = None

    @classmethod
    def ingress(cls, ingress_id: bytes) -> Origin:
        return cls(INGRESS, ingress_id=ingress_id)

    @classmethod
    def canister(cls, caller: Principal, callback_id: int) -> Origin:
        return cls(CANISTER, caller=caller, callback_id=callback_id)

    @classmethod
    def of_context(cls, context: ContextRow) -> Origin:
        if context.origin_kind == INGRESS:
            return cls.ingress(bytes.fromhex(context.origin))
        return cls.canister(Principal.from_text(context.origin), context.origin_callback or 0)


def respond(
    tx: IcStateTx, env: Env, responder: Principal, origin: Origin, answer: Answer, refund: int
) -> None:
    """Sends ``answer`` (and ``refund`` cycles) back to where the call came from.

    An ingress call's outcome is recorded for the caller waiting on it; a canister's call becomes a response in
    the queue.
    """
    if origin.kind == INGRESS:
        if env.txn.take_answer(origin.ingress_id, answer):
            return
        reject = answer.reject
        status = "replied" if reject is None else "rejected"
        row = IngressRow(
            status,
            answer.reply,
            None if reject is None else reject.reject_code,
            None if reject is None else reject.reject_message,
            None if reject is None else reject.error_code,
        )
        tx.exec.put_ingress(origin.ingress_id, row, env.now_ns)
        return
    assert origin.caller is not None and origin.callback_id is not None
    tx.exec.push(
        MessageRow(
            id=tx.take_counter(NEXT_MESSAGE, 1),
            kind="response",
            receiver=origin.caller,
            sender=responder,
            method="",
            payload=answer.reply or b"",
            cycles=refund,
            callback_id=origin.callback_id,
            reject_code=None if answer.reject is None else answer.reject.reject_code,
            reject_message=None if answer.reject is None else answer.reject.reject_message,
        )
    )


def with_id(tx: IcStateTx, context: ContextRow) -> ContextRow:
    """The context with its id (a context gets one only when it must be stored: a message that answers at once
    and makes no call never needs it)."""
    if context.id:
        return context
    return dataclasses.replace(context, id=tx.take_counter(NEXT_CONTEXT, 1))


def perform_calls(tx: IcStateTx, caller: Principal, context_id: int, calls: tuple[OutgoingCall, ...]) -> None:
    """Records a callback for each call the canister performed and queues its request."""
    for call in calls:
        callback_id = tx.take_counter(NEXT_CALLBACK, 1)
        closures: tuple[int, ...] = (call.reply.fun, call.reply.env, call.reject.fun, call.reject.env)
        if call.cleanup is not None:
            closures += (call.cleanup.fun, call.cleanup.env)
        callee = Principal(call.callee)
        tx.exec.insert_callback(
            CallbackRow(callback_id, caller, context_id, callee, call.method, closures, call.cycles)
        )
        tx.exec.push(
            MessageRow(
                id=tx.take_counter(NEXT_MESSAGE, 1),
                kind="request",
                receiver=callee,
                sender=caller,
                method=call.method,
                payload=call.arg,
                cycles=call.cycles,
                callback_id=callback_id,
            )
        )


def context_settled(
    tx: IcStateTx, env: Env, context: ContextRow, *, stored: bool, failure: Reject | None = None
) -> None:
    """Keeps, closes or answers a call context after a message ran in it.

    Still waiting on callbacks: the context is kept. No callbacks left: closed if it was answered; otherwise
    answered now with ``failure`` (the trap of the message that ran last) or the replica's "did not reply".
    """
    outstanding = tx.exec.count_callbacks(context.id) if context.id else 0
    if outstanding:
        (tx.exec.update_context if stored else tx.exec.insert_context)(context)
        return
    if not context.responded:
        answer = Answer(reject=failure or rejects.did_not_reply(context.canister_id))
        respond(tx, env, context.canister_id, Origin.of_context(context), answer, context.cycles)
    if stored:
        tx.exec.delete_context(context.id)


def reject_open_contexts(tx: IcStateTx, env: Env, canister_id: Principal, reject: Reject) -> None:
    """Answers every open call context of the canister with ``reject`` and drops its callbacks (uninstall)."""
    for context in tx.exec.contexts_of(canister_id):
        if not context.responded:
            respond(tx, env, canister_id, Origin.of_context(context), Answer(reject=reject), context.cycles)
        tx.exec.delete_context(context.id)
    tx.exec.delete_callbacks_of(canister_id)
