"""Messages to a live instance, as the router sends them: update and query calls, inspection,
responses to the canister's own calls (with cleanup), and system tasks.

Each function picks the entry point and mode as the replica does (an update call to a query method runs
it as a replicated query; a missing method is ``IC0536``) and returns the instance's
:class:`.instance.Execution`.
"""

from __future__ import annotations

from dataclasses import replace

from .api_table import ApiMode
from .errors import HostError
from .instance import CanisterInstance, Execution
from .types import Effects, MessageContext, Outcome, OutgoingCall

__all__ = ["inspect_message", "query_call", "response", "system_task", "update_call"]

_CALLBACK_MODES = {
    False: (ApiMode.REPLY_CALLBACK, ApiMode.REJECT_CALLBACK, ApiMode.CLEANUP),
    True: (ApiMode.COMPOSITE_REPLY_CALLBACK, ApiMode.COMPOSITE_REJECT_CALLBACK, ApiMode.COMPOSITE_CLEANUP),
}
_SYSTEM_TASKS = {
    ApiMode.HEARTBEAT: "canister_heartbeat",
    ApiMode.GLOBAL_TIMER: "canister_global_timer",
    ApiMode.ON_LOW_WASM_MEMORY: "canister_on_low_wasm_memory",
}


def _not_found(kind: str, method: str, context: MessageContext) -> Execution:
    error = HostError.method_not_found(kind, method).for_canister(context.canister_id)
    return Execution(Outcome(Effects(), error))


def update_call(instance: CanisterInstance, method: str, context: MessageContext) -> Execution:
    """An update call (ingress or from a canister) to ``method``; changes pend until committed."""
    info = instance.module.info
    if method in info.updates:
        return instance.run(ApiMode.UPDATE, f"canister_update {method}", context)
    if method in info.queries:
        return instance.run(ApiMode.REPLICATED_QUERY, f"canister_query {method}", context)
    return _not_found("update", method, context)


def query_call(instance: CanisterInstance, method: str, context: MessageContext) -> Execution:
    """A query call to ``method``: its changes are always discarded.

    A composite query's execution is speculative: its calls' callbacks (``response(..., composite=True)``)
    run on its state; the router calls ``rollback()`` on the last execution when the call graph ends.
    """
    info = instance.module.info
    if method in info.queries:
        return instance.run(ApiMode.NON_REPLICATED_QUERY, f"canister_query {method}", context)
    if method in info.composite_queries:
        return instance.run(ApiMode.COMPOSITE_QUERY, f"canister_composite_query {method}", context)
    return _not_found("query", method, context)


def inspect_message(instance: CanisterInstance, method: str, context: MessageContext) -> Execution:
    """``canister_inspect_message`` for an ingress update to ``method``; accepted if not exported.

    The outcome's error is ``IC0406`` if the canister did not accept, or its trap.
    """
    if "canister_inspect_message" not in instance.module.info.system:
        return Execution(Outcome(Effects(accepted=True)))
    return instance.run(
        ApiMode.INSPECT_MESSAGE, "canister_inspect_message", replace(context, method_name=method)
    )


def system_task(instance: CanisterInstance, mode: ApiMode, context: MessageContext) -> Execution:
    """A heartbeat, global timer or low-memory hook; a no-op if the module does not export it.

    Raises:
        ValueError: if ``mode`` is not a system task.
    """
    export = _SYSTEM_TASKS.get(mode)
    if export is None:
        raise ValueError(f"{mode} is not a system task")
    if export not in instance.module.info.system:
        return Execution(Outcome(Effects()))
    return instance.run(mode, export, context)


def response(
    instance: CanisterInstance,
    call: OutgoingCall,
    context: MessageContext,
    reply: bytes | None = None,
    composite: bool = False,
) -> Execution:
    """Runs the callback of ``call`` for its response: the reply callback with ``reply`` as argument,
    or (``reply`` None) the reject callback with ``context.reject_code``/``reject_message``.

    If the callback traps and the call has a cleanup callback, the cleanup runs on the rolled-back
    state; the outcome keeps the callback's error and the pending changes are the cleanup's.
    ``composite``: the call was made by a composite query (the callback runs on its speculative state).
    """
    reply_mode, reject_mode, cleanup_mode = _CALLBACK_MODES[composite]
    if reply is not None:
        mode, closure, ctx = reply_mode, call.reply, replace(context, arg=reply, reject_code=0)
    else:
        mode, closure, ctx = reject_mode, call.reject, replace(context, arg=b"")
    execution = instance.run(mode, closure, ctx)
    if execution.outcome.error is None or call.cleanup is None:
        return execution
    cleanup = instance.run(cleanup_mode, call.cleanup, replace(ctx, arg=b""))
    if cleanup.outcome.error is not None:
        return execution
    logs = execution.outcome.effects.logs + cleanup.outcome.effects.logs
    effects = replace(cleanup.outcome.effects, logs=logs)
    cleanup.outcome = Outcome(effects, execution.outcome.error)
    return cleanup
