"""A live canister instance and atomic message execution.

:class:`CanisterInstance` keeps one wasmtime instance per canister, with its Wasm memory
(:class:`.heap.Heap`), stable memory (:class:`.stable.StableMemory`) and mutable globals, and runs
entry points on it.  :meth:`CanisterInstance.run` returns an :class:`Execution`: for a message whose
changes may be kept (an update, a callback, a system task, install steps) that did not trap, the
changes stay in place, pending, and ``execution.delta`` lists them; the router persists the delta and
then calls ``commit()``, or ``rollback()`` if persisting failed.  Everything else (a trap, a query,
inspection) is rolled back before ``run`` returns.  Only one execution may be pending at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from types import MappingProxyType

import wasmtime

from .api_table import ApiMode
from .errors import HostError
from .globals_io import GlobalBank
from .heap import Heap
from .host import HostSlot, SystemApi, define_imports
from .modules import PreparedModule
from .stable import StableMemory
from .types import WASM_PAGE, Callback, CanisterState, GlobalValue, MessageContext, Outcome, StateDelta
from .wasm_binary import EXPORT_GLOBAL_PREFIX, EXPORT_MEMORY, EXPORT_TABLE

__all__ = ["CanisterInstance", "Execution", "default_instruction_limit"]

_LIMITS = {
    ApiMode.UPDATE: 40_000_000_000,
    ApiMode.HEARTBEAT: 40_000_000_000,
    ApiMode.GLOBAL_TIMER: 40_000_000_000,
    ApiMode.ON_LOW_WASM_MEMORY: 40_000_000_000,
    ApiMode.REPLY_CALLBACK: 40_000_000_000,
    ApiMode.REJECT_CALLBACK: 40_000_000_000,
    ApiMode.CLEANUP: 40_000_000_000,
    ApiMode.INSPECT_MESSAGE: 200_000_000,
    ApiMode.START: 300_000_000_000,
    ApiMode.INIT: 300_000_000_000,
    ApiMode.PRE_UPGRADE: 300_000_000_000,
    ApiMode.POST_UPGRADE: 300_000_000_000,
}
_QUERY_LIMIT = 5_000_000_000
_WASM_LIMIT_MODES = frozenset({ApiMode.START, ApiMode.INIT, ApiMode.POST_UPGRADE, ApiMode.UPDATE})
_MAX_HEAP = {False: 4 << 30, True: 6 << 30}
_TRAPS = {
    wasmtime.TrapCode.STACK_OVERFLOW: "stack overflow",
    wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS: "heap out of bounds",
    wasmtime.TrapCode.TABLE_OUT_OF_BOUNDS: "table out of bounds",
    wasmtime.TrapCode.INTEGER_DIVISION_BY_ZERO: "integer division by 0",
    wasmtime.TrapCode.UNREACHABLE: "unreachable",
}


def default_instruction_limit(mode: ApiMode) -> int:
    """The IC's instruction limit for one message of kind ``mode`` (resource-limits.md)."""
    return _LIMITS.get(mode, _QUERY_LIMIT)


class Execution:
    """One entry point's run: its outcome and, while pending, the state changes it made.

    ``delta`` is None when nothing is to be kept (a trap, a query); ``commit()`` and ``rollback()`` are
    then no-ops.  Otherwise exactly one of them must be called before the instance runs again.

    A composite query's execution is *speculative*: its changes stay for its callbacks (which may run
    while it is pending, and take it over) and are dropped by ``rollback()`` (or ``commit()``) when the
    call graph ends.
    """

    def __init__(
        self,
        outcome: Outcome,
        delta: StateDelta | None = None,
        on_commit: Callable[[], None] | None = None,
        on_rollback: Callable[[], None] | None = None,
        speculative: bool = False,
    ) -> None:
        self.outcome = outcome
        self.delta = delta
        self.speculative = speculative
        self._on_commit = on_commit
        self._on_rollback = on_rollback

    def supersede(self) -> None:
        """Hands the pending changes over to a later execution (a composite callback)."""
        self._on_commit = self._on_rollback = None

    @property
    def pending(self) -> bool:
        """Whether the changes still wait for ``commit()`` or ``rollback()``."""
        return self._on_commit is not None

    def commit(self) -> None:
        """Keeps the changes (after the router persisted ``delta``)."""
        if self._on_commit is not None:
            self._on_commit()
        self._on_commit = self._on_rollback = None

    def rollback(self) -> None:
        """Drops the changes (the message will count as not executed)."""
        if self._on_rollback is not None:
            self._on_rollback()
        self._on_commit = self._on_rollback = None


class CanisterInstance:
    """A canister's live instance: module, Wasm memory, stable memory and globals.

    Build one with :meth:`create` (fresh, data segments applied, start not run) or with a
    :class:`.types.CanisterState` from storage.
    """

    def __init__(
        self,
        engine: wasmtime.Engine,
        module: PreparedModule,
        state: CanisterState | None = None,
        *,
        stable: StableMemory | None = None,
        fresh_globals: bool = False,
    ) -> None:
        """Instantiates ``module``; with ``state``, loads its memory, stable memory and globals.

        ``stable`` replaces the stable memory (an upgrade carries it over); ``fresh_globals`` keeps the
        module's initial globals even with a ``state`` (an upgrade that keeps the Wasm memory).
        Raises:
            HostError: if wasmtime cannot instantiate the module.
        """
        self.module = module
        self._engine = engine
        self.stable = StableMemory(state.stable_size, dict(state.stable_pages)) if state else StableMemory()
        if stable is not None:
            self.stable = stable
        self._slot = HostSlot()
        self._pending: Execution | None = None
        self._instantiate()
        if self.heap is not None:
            if state is None:
                self.heap.adopt_current()
            else:
                self.heap.load(dict(state.heap_pages), state.heap_size * WASM_PAGE)
        self._globals = self._read_globals()
        if state is not None and not fresh_globals:
            self._restore_globals(dict(state.globals))
            self._globals = self._read_globals()

    def _instantiate(self) -> None:
        """A fresh store and instance of the module (memory initialised by its data segments)."""
        self.store = wasmtime.Store(self._engine)
        self.store.set_limits(memory_size=_MAX_HEAP[self.module.info.is64])
        linker = wasmtime.Linker(self._engine)
        define_imports(linker, list(self.module.imports), self.module.info.is64, self._slot)
        self.store.set_fuel(_LIMITS[ApiMode.START])
        try:
            instance = linker.instantiate(self.store, self.module.compiled)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise HostError.engine(f"Failed to instantiate module: {exc}") from exc
        self._exports = instance.exports(self.store)
        memory = self._exports.get(EXPORT_MEMORY)
        self.memory = memory if isinstance(memory, wasmtime.Memory) else None
        table = self._exports.get(EXPORT_TABLE)
        self.table = table if isinstance(table, wasmtime.Table) else None
        self.heap = Heap(self.store, self.memory) if self.memory is not None else None
        self._bank = GlobalBank(
            self.store,
            {
                index: glob
                for index in self.module.info.mutable_globals
                if isinstance(glob := self._exports.get(f"{EXPORT_GLOBAL_PREFIX}{index}"), wasmtime.Global)
            },
        )

    # -- globals ----------------------------------------------------------------------------------

    def _read_globals(self) -> dict[int, GlobalValue]:
        return self._bank.read()

    def _restore_globals(self, values: dict[int, GlobalValue]) -> None:
        self._bank.write(values)

    def _changed_globals(self) -> dict[int, GlobalValue]:
        now = self._read_globals()
        return {i: v for i, v in now.items() if v != self._globals.get(i) or _is_nan(v)}

    # -- running ----------------------------------------------------------------------------------

    def run(
        self,
        mode: ApiMode,
        target: str | Callback,
        context: MessageContext,
        fuel: int | None = None,
        report_limit: int | None = None,
    ) -> Execution:
        """Runs the export ``target`` (or the table closure ``target``) in ``mode``.

        ``fuel`` caps the instructions (default: the context's limit, else the IC's for ``mode``);
        ``report_limit`` is the limit named if it runs out (default: ``fuel``; install steps share one).
        Raises:
            RuntimeError: if an earlier execution is still pending (unless a composite query's callback
                runs on its speculative state).
        """
        if self._pending is not None and self._pending.pending:
            if not (mode.composite and self._pending.speculative):
                raise RuntimeError("the previous execution is neither committed nor rolled back")
            self._pending.supersede()
        limit = fuel if fuel is not None else (context.instruction_limit or default_instruction_limit(mode))
        host = SystemApi(mode, context, self.stable, limit)
        host.attach(self.store, self.memory)
        self._slot.host = host
        self.store.set_fuel(limit)
        try:
            error = self._call(target, report_limit or limit)
        finally:
            self._slot.host = None
        used = limit - self.store.get_fuel()
        error = error or self._check_result(mode, host, context)
        if error is not None:
            self._rollback_all()
            trap_log = error.what if error.code.value in (502, 503) else None
            return Execution(
                Outcome(host.failed_effects(used, trap_log), error.for_canister(context.canister_id))
            )
        outcome = Outcome(host.effects(used))
        if mode.composite:
            self._pending = Execution(outcome, None, self._rollback_all, self._rollback_all, speculative=True)
            return self._pending
        if not mode.keeps_changes:
            self._rollback_all()
            return Execution(outcome)
        self._pending = self._pend(outcome)
        return self._pending

    def _call(self, target: str | Callback, limit: int) -> HostError | None:
        """Calls the entry point; returns the error it failed with, if any."""
        try:
            func = self._entry(target)
            if isinstance(target, Callback):
                func(self.store, _signed(target.env, self.module.info.is64))
            else:
                func(self.store)
        except HostError as exc:
            return exc
        except wasmtime.Trap as exc:
            return _trap_error(exc, limit)
        except wasmtime.WasmtimeError as exc:
            return _wrapped_error(exc)
        except Exception as exc:  # a bug in a host function must not leave the state half-changed
            return HostError.engine(f"{type(exc).__name__}: {exc}")
        return None

    def _entry(self, target: str | Callback) -> wasmtime.Func:
        if isinstance(target, Callback):
            entry = self.table.get(self.store, target.fun) if self.table is not None else None
            if not isinstance(entry, wasmtime.Func):
                raise HostError.function_not_found(0, target.fun)
            return entry
        entry = self._exports.get(target)
        if not isinstance(entry, wasmtime.Func):
            raise HostError.engine(f"the module exports no function '{target}'")
        return entry

    def _check_result(self, mode: ApiMode, host: SystemApi, context: MessageContext) -> HostError | None:
        """Errors of a run that returned: a Wasm memory past its limit, an inspection that did not accept."""
        if self.heap is not None and mode in _WASM_LIMIT_MODES and context.wasm_memory_limit:
            length = self.heap.length
            if length > context.wasm_memory_limit:
                return HostError.wasm_memory_limit(length, context.wasm_memory_limit)
        if mode is ApiMode.INSPECT_MESSAGE and not host.message_accepted:
            return HostError.message_rejected()
        return None

    def _pend(self, outcome: Outcome) -> Execution:
        """Collects the run's changes as a delta, to be committed or rolled back by the router."""
        pages = self.heap.written() if self.heap is not None else []
        heap_pages = {i: self.heap.page(i) for i in pages} if self.heap is not None else {}
        globals_changed = self._changed_globals()
        stable_pages = self.stable.pending()
        delta = StateDelta(
            heap_size=self.heap.length // WASM_PAGE if self.heap is not None else 0,
            stable_size=self.stable.size,
            heap_pages=MappingProxyType(heap_pages),
            stable_pages=MappingProxyType(stable_pages),
            globals=MappingProxyType(globals_changed),
        )

        def commit() -> None:
            if self.heap is not None:
                self.heap.commit(pages, heap_pages)
            self.stable.commit()
            self._globals.update(globals_changed)

        return Execution(outcome, delta, commit, self._rollback_all)

    def _rollback_all(self) -> None:
        """Drops every change since the last commit: Wasm memory, globals, stable memory."""
        self.stable.rollback()
        if self.heap is not None and self.heap.length > self.heap.committed:
            self._rebuild()
            return
        if self.heap is not None:
            self.heap.rollback(self.heap.written())
        changed = self._changed_globals()
        if changed:
            self._restore_globals({i: self._globals[i] for i in changed})

    def _rebuild(self) -> None:
        """A new instance over the committed memory file (a grown memory cannot shrink in place)."""
        old_heap = self.heap
        self._instantiate()
        if old_heap is not None and self.heap is not None and self.memory is not None:
            self.heap.close()
            old_heap.rebind(self.store, self.memory)
            self.heap = old_heap
        self._restore_globals(dict(self._globals))

    def apply(self, delta: StateDelta) -> None:
        """Makes ``delta`` committed: messages another process kept, read back from storage.

        ``delta.globals`` may hold every global or only the changed ones. Raises:
            RuntimeError: if an execution is pending.
            ValueError: if the Wasm memory would have to shrink.
        """
        if self._pending is not None and self._pending.pending:
            raise RuntimeError("cannot apply stored changes while an execution is pending")
        if self.heap is not None:
            self.heap.apply(dict(delta.heap_pages), delta.heap_size * WASM_PAGE)
        self.stable.apply(dict(delta.stable_pages), delta.stable_size)
        if delta.globals:
            self._restore_globals(dict(delta.globals))
            self._globals = self._read_globals()

    @property
    def committed_globals(self) -> dict[int, GlobalValue]:
        """The committed value of every mutable global."""
        return dict(self._globals)

    # -- whole state ------------------------------------------------------------------------------

    def snapshot(self) -> CanisterState:
        """The committed state, whole (O(state): for install, upgrade and exports)."""
        return CanisterState(
            heap_size=self.heap.committed // WASM_PAGE if self.heap is not None else 0,
            stable_size=self.stable.committed_size,
            heap_pages=MappingProxyType(self.heap.snapshot() if self.heap is not None else {}),
            stable_pages=MappingProxyType(self.stable.snapshot()),
            globals=MappingProxyType(dict(self._globals)),
        )

    def current_heap(self) -> tuple[int, dict[int, bytes]]:
        """The Wasm memory as it is now (committed plus pending pages): length and non-zero pages."""
        if self.heap is None:
            return 0, {}
        pages = self.heap.snapshot()
        pages.update({i: self.heap.page(i) for i in self.heap.written()})
        return self.heap.length, pages

    def close(self) -> None:
        """Releases the memory file (the instance must not be used afterwards)."""
        if self.heap is not None:
            self.heap.close()


def _signed(value: int, is64: bool) -> int:
    """An unsigned closure environment as the signed value wasmtime expects for its parameter."""
    bits = 64 if is64 else 32
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _is_nan(value: GlobalValue) -> bool:
    return isinstance(value, float) and value != value


def _trap_error(exc: wasmtime.Trap, limit: int) -> HostError:
    """The replica's error for a Wasm trap (out of fuel: the instruction limit)."""
    code = exc.trap_code
    if code == wasmtime.TrapCode.OUT_OF_FUEL:
        return HostError.instruction_limit(limit)
    return HostError.trapped(_TRAPS.get(code, "unknown") if code is not None else "unknown")


def _wrapped_error(exc: wasmtime.WasmtimeError) -> HostError:
    """A Python exception raised in a host function that wasmtime handed back wrapped."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, HostError):
        return cause
    return HostError.engine(str(exc).strip().splitlines()[0] if str(exc).strip() else "wasm error")
