"""Message routing and scheduling: every call into the local IC, from the Python API or the HTTP front.

::

    ingress (LocalIc.update_call / query_call / call, the front)
        │  write or read transaction, call hooks run around it (named after the method)
        ├── aaaaa-aa                         ic00.py: the management canister over Candid
        ├── the cycles ledger, the CMC       system_canisters.py
        └── a user canister                  execute.py: its first execution (update) or the query
                │ the calls it makes (callbacks + requests) and answers (responses) go to the queue
                ▼
    the queue (ic_messages, in the database)    drain(): one transaction per message, oldest first
        ├── request to aaaaa-aa / a system canister   ic00 / system_canisters, with the cycles attached
        ├── request to a user canister                execute.deliver_request
        └── response                                  execute.deliver_response (the caller's callback)

An update call's first message runs in the transaction that accepts it; if that does not answer the call (the
canister awaits calls of its own), the router drains the queue until the call is answered, then reads the
answer recorded for it. Every message is one transaction: its state changes, cycles, new messages and answers
are written together, so an acknowledged call is durable and any process sharing the database can carry the
queue on (a process drains what it finds at start).

Where issue 12 plugs in: a *round* is :meth:`Router.drain` plus the system tasks (heartbeats, timers) and the
time step; stopping a canister with open call contexts keeps it ``stopping`` until ``execute`` closes its last
context; freezing and the cycles burned over time are checks and charges in ``fees.py`` / ``execute._runnable``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from icp_client.errors import Reject, Unavailable
from icp_client.principal import Principal
from icp_local import execute, ic00, rejects, system_canisters
from icp_local.calls import Answer, Origin, respond
from icp_local.clock import Clock
from icp_local.config import MANAGEMENT_CANISTER_ID, SubnetConfig
from icp_local.db import IcDatabase
from icp_local.env import Env, TxnHooks
from icp_local.live import Runtime
from icp_local.state import IcStateTx, ic_read, ic_write
from icp_local.state_exec import MessageRow
from icp_local.system_canisters import SystemCall, View

__all__ = ["MAX_DRAIN_MESSAGES", "CallHook", "Router"]

_LOG = logging.getLogger(__name__)
MAX_DRAIN_MESSAGES = 100_000
"""Messages one drain delivers at most (a canister that calls itself forever must not hang the caller)."""


class CallHook(Protocol):
    """Code run around each call into the local IC (see ``LocalIc.add_hook``)."""

    def before(self, method: str) -> None:
        """Called as ``method`` starts, before it touches the state."""

    def after(self, method: str) -> None:
        """Called after ``method`` committed its effects."""


@dataclass
class Router:
    """Routes calls to their destination and delivers the messages they cause. One per ``LocalIc``."""

    db: IcDatabase
    config: SubnetConfig
    clock: Clock
    runtime: Runtime
    hooks: tuple[CallHook, ...] = ()

    # --- transactions -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self, method: str | None) -> Iterator[tuple[IcStateTx, Env]]:
        """A write transaction for one call named ``method`` (its hooks run around it; None: no hooks)."""
        self._before(method)
        txn = TxnHooks()
        with txn.stack:
            try:
                with ic_write(self.db) as tx:
                    yield tx, Env(self.config, self.clock.now_ns(), self.runtime, txn)
            except BaseException:
                txn.rolled_back()
                raise
            txn.committed()
        self._after(method)

    @contextlib.contextmanager
    def read(self, method: str | None) -> Iterator[tuple[IcStateTx, Env]]:
        """A read-only transaction for one call named ``method``."""
        self._before(method)
        with ic_read(self.db) as tx:
            yield tx, Env(self.config, self.clock.now_ns(), self.runtime)
        self._after(method)

    def _before(self, method: str | None) -> None:
        if method is not None:
            for hook in self.hooks:
                hook.before(method)

    def _after(self, method: str | None) -> None:
        if method is not None:
            for hook in self.hooks:
                hook.after(method)

    # --- ingress ----------------------------------------------------------------------------------------

    def ingress(
        self,
        sender: Principal,
        canister_id: Principal,
        method: str,
        arg: bytes,
        *,
        query: bool,
        view: View | None = None,
    ) -> bytes:
        """One ingress message (an update call, or a query with ``query``): its reply.

        Raises:
            Reject: the IC's reject (code, text, error code); ``IngressTooLarge`` over the ingress limit.
            Unavailable: the call is still being processed after a full drain.
        """
        self._check_size(method, arg)
        if canister_id == MANAGEMENT_CANISTER_ID:
            return self._management(sender, method, arg, query=query)
        if system_canisters.is_system_canister(canister_id):
            return self._system(sender, canister_id, method, arg, query=query, view=view or View())
        if query:
            return self.query(sender, canister_id, method, arg)
        return self.update(sender, canister_id, method, arg)

    def update(self, sender: Principal, canister_id: Principal, method: str, arg: bytes) -> bytes:
        """An ingress update call to a user canister; waits for its answer (draining the queue)."""
        self._check_size(method, arg)
        ingress_id = os.urandom(32)
        with self.write("update_call") as (tx, env):
            answer = execute.ingress_update(tx, env, sender, canister_id, method, arg, ingress_id)
        if answer is None:
            answer = self._await(ingress_id)
        return _reply(answer)

    def query(self, sender: Principal, canister_id: Principal, method: str, arg: bytes) -> bytes:
        """A query call to a user canister (a read transaction; the canister's changes are discarded)."""
        self._check_size(method, arg)
        with self.read("query_call") as (tx, env):
            return execute.run_query(tx, env, sender, canister_id, method, arg)

    def _management(self, sender: Principal, method: str, arg: bytes, *, query: bool) -> bytes:
        value = ic00.decode_arg(method, arg, from_canister=False)
        if query:
            raise system_canisters.no_method(MANAGEMENT_CANISTER_ID, method, query=True)
        call = ic00.ManagementCall(sender, value)
        transaction = self.read if method in ic00.READ_ONLY else self.write
        with transaction(method) as (tx, env):
            reply, _ = ic00.handle(tx, env, method, call)
        self.drain()
        return reply

    def _system(
        self, sender: Principal, canister_id: Principal, method: str, arg: bytes, *, query: bool, view: View
    ) -> bytes:
        call = SystemCall(sender, [], 0, view)
        read_only = query or system_canisters.is_query(canister_id, method)
        transaction = self.read if read_only else self.write
        with transaction("mint" if method == "dev_mint" else method) as (tx, env):
            reply, _ = system_canisters.handle(tx, env, canister_id, method, arg, call, query=query)
        return reply

    def _check_size(self, method: str, arg: bytes) -> None:
        size = len(method.encode()) + len(arg)
        if size > self.config.max_ingress_bytes:
            raise rejects.IngressTooLarge(size, self.config.max_ingress_bytes)

    def _await(self, ingress_id: bytes) -> Answer:
        """Drains the queue until the ingress call is answered; returns (and forgets) its answer."""
        self.drain()
        with self.write(None) as (tx, _env):
            row = tx.exec.get_ingress(ingress_id)
            if row is not None and row.status != "processing":
                tx.exec.delete_ingress(ingress_id)
        if row is None or row.status == "processing":
            raise Unavailable("the call is still being processed (the queue did not run dry)")
        if row.status == "replied":
            return Answer(reply=row.reply or b"")
        reject = Reject(row.reject_code or rejects.CANISTER_ERROR, row.reject_message or "", row.error_code)
        return Answer(reject=reject)

    # --- the queue --------------------------------------------------------------------------------------

    def drain(self, limit: int = MAX_DRAIN_MESSAGES) -> int:
        """Delivers queued messages, oldest first, until the queue is empty (or ``limit``); returns how many."""
        with self.read(None) as (tx, _env):
            if tx.exec.queue_length() == 0:
                return 0
        delivered = 0
        while delivered < limit and self.step():
            delivered += 1
        return delivered

    def step(self) -> bool:
        """Delivers the oldest queued message in its own transaction; False if the queue is empty."""
        try:
            with self.write(None) as (tx, env):
                message = tx.exec.pop()
                if message is None:
                    return False
                self._deliver(tx, env, message)
        except Exception:
            _LOG.exception("delivering a queued message failed; it is answered with a reject instead")
            return self._discard_oldest()
        return True

    def _deliver(self, tx: IcStateTx, env: Env, message: MessageRow) -> None:
        if message.kind == "response":
            execute.deliver_response(tx, env, message)
        elif message.receiver == MANAGEMENT_CANISTER_ID:
            self._request_to_management(tx, env, message)
        elif system_canisters.is_system_canister(message.receiver):
            self._request_to_system(tx, env, message)
        else:
            execute.deliver_request(tx, env, message)

    def _request_to_management(self, tx: IcStateTx, env: Env, message: MessageRow) -> None:
        origin = Origin.canister(message.sender, message.callback_id or 0)
        try:
            value = ic00.decode_arg(message.method, message.payload, from_canister=True)
            call = ic00.ManagementCall(message.sender, value, message.cycles, from_canister=True)
            with _savepoint(tx):
                reply, consumed = ic00.handle(tx, env, message.method, call)
        except Reject as refused:
            respond(tx, env, message.receiver, origin, Answer(reject=refused), message.cycles)
            return
        respond(tx, env, message.receiver, origin, Answer(reply=reply), message.cycles - consumed)

    def _request_to_system(self, tx: IcStateTx, env: Env, message: MessageRow) -> None:
        origin = Origin.canister(message.sender, message.callback_id or 0)
        call = SystemCall(message.sender, [], message.cycles)
        try:
            with _savepoint(tx):
                reply, consumed = system_canisters.handle(
                    tx, env, message.receiver, message.method, message.payload, call, query=False
                )
        except Reject as refused:
            respond(tx, env, message.receiver, origin, Answer(reject=refused), message.cycles)
            return
        respond(tx, env, message.receiver, origin, Answer(reply=reply), message.cycles - consumed)

    def _discard_oldest(self) -> bool:
        """After a delivery failed on a bug: take the message off the queue, answering a request with a reject."""
        with self.write(None) as (tx, env):
            message = tx.exec.pop()
            if message is None:
                return False
            if message.kind == "request" and message.callback_id is not None:
                failure = Reject(rejects.SYS_FATAL, "the local IC failed to deliver this call", None)
                origin = Origin.canister(message.sender, message.callback_id)
                respond(tx, env, message.receiver, origin, Answer(reject=failure), message.cycles)
        return True


@contextlib.contextmanager
def _savepoint(tx: IcStateTx) -> Iterator[None]:
    """Undo a system method's writes if it rejects, keeping the rest of the message's transaction."""
    with tx.savepoint():
        yield


def _reply(answer: Answer) -> bytes:
    if answer.reject is not None:
        raise answer.reject
    return answer.reply or b""
