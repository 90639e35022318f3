"""The execution core of the local IC: canister Wasm modules run under wasmtime with the System API.

It depends on the standard library, wasmtime, the IC client library's module rules (:mod:`icp_client.wasm`:
the one section walker, the System API table, the IC's checks) and the subnet's fee table (``icp_local.fees``),
and does no I/O of its own beyond the memory files of live instances: the router (``icp_local.router``,
``execute.py``, ``live.py``) gives it facts (:class:`MessageContext`) and gets back effects (:class:`Outcome`)
and state deltas (:class:`StateDelta`) that it persists in the message's own transaction.

Using it (what the router calls)::

    engine = ExecutionEngine(cache_dir)                 # one per process
    installed = engine.install(wasm, MessageContext(canister_id, caller=..., arg=init_arg))
    if installed.ok: store(installed.state); live[cid] = installed.instance
    else: reply(installed.outcome.error)                 # IC0505, IC0502, ... the canister stays empty

    execution = update_call(live[cid], "inc", ctx)      # or query_call, response, system_task, ...
    if execution.delta is not None:                     # a kept message: persist, then commit
        with db.transaction(): persist(execution.delta)
        execution.commit()                              # (execution.rollback() if the transaction failed)
    reply(execution.outcome)                            # effects: reply/reject, calls, cycles, timer, logs

    live[cid] = engine.load(module_bytes, stored_state)  # after a restart

Module preparation (:mod:`.validation` over :mod:`icp_client.wasm`, :mod:`.wasm_binary`, :mod:`.modules`)
checks what the replica checks (``ic0`` imports with exact 32/64-bit signatures, exported entry points,
duplicate methods, reserved names, limits on functions, globals, exports and ``icp:`` custom sections) with
the replica's texts; rewrites the module as the replica does (the start function becomes ``canister_start``; memory,
table and mutable globals are exported under reserved names); compiles it with a deterministic
configuration (NaN canonicalisation, no threads or relaxed SIMD, fuel) and caches the compiled module
by hash, in memory and optionally on disk (``Module.serialize``).

The System API (:mod:`.api_table`, :mod:`.host`, :mod:`.host_calls`) is one table of every ``ic0``
function, its signature per pointer width and the entry points allowed to call it (the specification's
letters); a forbidden call traps with the replica's ``"ic0_x" cannot be executed in <mode> mode``.
Every memory access is bounds-checked; ``i64`` arguments are masked to unsigned.

Atomic messages, and cost that follows what a message touches
-------------------------------------------------------------
Rolling back by copying the whole memory costs O(heap) (207 ms at 256 MiB).  Options weighed:

(a) *A private mapping of a memory file* (chosen, :mod:`.heap`, :mod:`.pagemap`).  wasmtime reserves
    the linear memory once and never moves it (``memory_reservation`` 8 GiB, ``memory_may_move``
    off, ``memory_init_cow`` off); we map a memfd holding the committed contents over it with
    ``mmap(MAP_PRIVATE | MAP_FIXED)``.  A write makes a private copy of its page, so the kernel knows
    exactly which pages a message wrote; ``PAGEMAP_SCAN`` (Linux 6.7+; ``/proc/self/pagemap`` as a
    fallback) lists them in one call.  Rollback is ``MADV_DONTNEED`` on them; commit is ``pwrite`` of
    them into the file, then ``MADV_DONTNEED``.  Growth: wasmtime opens more of its anonymous
    reservation past the mapping; commit writes those pages to the file and maps the new part; a
    rollback after growth rebuilds the instance over the same file (O(globals), no copy).  No
    instrumentation, native speed for the canister, and the per-message cost is one scan (page-table
    walk) plus the dirty pages.
    Measured (``python -m bench.exec``, 2-core machine, kernel 6.18): counter query 211 us p50, update
    with delta and commit 286 us, bare ``inc`` call on a ready instance 107 us (ratio 2.0); a WAT query
    touching 4 pages 93 us with an 8 MiB heap and 94 us with a 256 MiB heap (ratio 1.01; with the
    ``/proc/self/pagemap`` fallback 4.7 ms, ratio 20: the fallback reads 8 bytes per page); counter
    install 3.7 ms (compiled module cached; compiling it takes about 200 ms).
(b) *A write barrier compiled into the module* (a dirty bitmap updated on every store).  Portable,
    but it needs a full instruction decoder/encoder for the code section, slows every store, and
    still needs a committed copy to roll back from.  Rejected for now.
(c) *fork() per query* and discard the child: no commit path for updates, and forking a process that
    holds wasmtime's signal handlers and threads is fragile.  Soft-dirty bits: not available here.

Stable memory is ours (:mod:`.stable`): committed 4 KiB pages plus a dirty overlay per message.
Globals are compared with their committed values after a message and only the changed ones are
reported or restored.  A kept message's :class:`StateDelta` holds exactly the changed 4 KiB pages
of both memories (with their new bytes), the sizes and the changed globals;
:class:`CanisterState` is the whole state the storage layer hands back to :meth:`ExecutionEngine.load`.

Where we differ from the replica on purpose
-------------------------------------------
- Instructions are wasmtime fuel (one unit per Wasm operator), not the IC's cost table: no charge per
  System API call or per byte copied, no bulk-memory surcharges; ``performance_counter`` and the
  limits (40 B update, 5 B query, 300 B install, 200 M inspect) use fuel.  No deterministic time
  slicing: a message runs to its end or its limit.
- The ``wasm_memory_limit`` is checked when the message ends (the message then fails with IC0539 and
  nothing is kept), not at the ``memory.grow`` that crossed it; the hard 4/6 GiB limit makes
  ``memory.grow`` return -1.
- Function bodies are not decoded: the function size/complexity limits and the ban on ``table.set``/
  ``table.grow``-family instructions are not enforced; tables are not persisted (the replica's rule makes
  them immutable).  Memory and table imports from ``env`` are refused rather than provided.
- Cycles: the host tracks balance, acceptance, attachments and burning within a message and reports
  them; fees are the router's (``icp_local.execute`` with ``icp_local.fees``, no response reservation,
  no freezing threshold yet).  ``cost_*`` report the same 13-node application subnet fees.
- Composite queries: the state is kept for the callbacks until the router ends the call graph; a
  trapping composite callback drops the whole graph's changes (the replica drops only its own).
- Canister logs are returned as effects, not kept; caller info (``msg_caller_info_*``) is always empty.
"""

from __future__ import annotations

from .api_table import ApiMode
from .engine import ExecutionEngine, shared_engine
from .errors import ErrorCode, ExecutionError, HostError, ModuleError, RejectCode, principal_text
from .instance import CanisterInstance, Execution, default_instruction_limit
from .lifecycle import Installed, UpgradeOptions, WasmMemoryPersistence
from .messages import inspect_message, query_call, response, system_task, update_call
from .modules import ModuleCache, PreparedModule
from .types import (
    Callback,
    CanisterState,
    CanisterStatus,
    Effects,
    MessageContext,
    Outcome,
    OutgoingCall,
    StateDelta,
)

__all__ = [
    "ApiMode",
    "Callback",
    "CanisterInstance",
    "CanisterState",
    "CanisterStatus",
    "Effects",
    "ErrorCode",
    "Execution",
    "ExecutionEngine",
    "ExecutionError",
    "HostError",
    "Installed",
    "MessageContext",
    "ModuleCache",
    "ModuleError",
    "Outcome",
    "OutgoingCall",
    "PreparedModule",
    "RejectCode",
    "StateDelta",
    "UpgradeOptions",
    "WasmMemoryPersistence",
    "default_instruction_limit",
    "inspect_message",
    "principal_text",
    "query_call",
    "response",
    "shared_engine",
    "system_task",
    "update_call",
]
