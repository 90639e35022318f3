"""Live canister instances: one per canister a process has run, kept in step with the database.

Every process that opens the local IC's database keeps its own live instances (wasmtime instances with their
memories) in an LRU cache of bounded size, :class:`LiveInstances`. Before a message runs on a canister,
:func:`live_instance` compares the instance with the canister's stored ``epoch`` (the whole state was replaced:
install, reinstall, upgrade) and ``version`` (a kept message): if another process moved the canister on, only
the pages written since the instance's version are read back; a different epoch or module means a fresh load.
After a kept message, :func:`persist_delta` writes the changed pages and globals in the message's own
transaction and commits the instance's pending changes only once that transaction committed.

Locks: a thread works on a canister's instance inside :meth:`LiveInstances.using` (a re-entrant lock per
canister, taken *after* the database's write lock by writers and without any database lock by readers, so the
two never wait for each other in a cycle). Eviction never closes an instance in use.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import MappingProxyType

from icp_client.principal import Principal
from icp_local.env import Env
from icp_local.execution import (
    CanisterInstance,
    CanisterState,
    Execution,
    ExecutionEngine,
    Installed,
    StateDelta,
)
from icp_local.state import CanisterRow, IcStateTx
from icp_local.state_exec import HEAP, STABLE, ExecRow

__all__ = [
    "DEFAULT_LIVE_INSTANCES",
    "Live",
    "LiveInstances",
    "Runtime",
    "live_instance",
    "persist_delta",
    "persist_installed",
]

DEFAULT_LIVE_INSTANCES = 64
"""Live instances a process keeps by default (each holds its memories; wasmtime reserves 8 GiB of address space)."""


@dataclass(eq=False)
class Live:
    """A canister's live instance and the stored state it matches."""

    instance: CanisterInstance
    module_hash: bytes
    epoch: int
    version: int
    certified_data: bytes = b""
    global_timer: int = 0


@dataclass(eq=False)
class _Slot:
    lock: threading.RLock = field(default_factory=threading.RLock)
    users: int = 0


class LiveInstances:
    """Live instances by canister, least recently used first, at most ``capacity`` of them."""

    def __init__(self, capacity: int = DEFAULT_LIVE_INSTANCES) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Principal, Live] = OrderedDict()
        self._slots: dict[Principal, _Slot] = {}
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def using(self, canister_id: Principal) -> Iterator[None]:
        """Hold the canister's instance for this thread (re-entrant); it is not evicted meanwhile."""
        with self._guard:
            slot = self._slots.setdefault(canister_id, _Slot())
            slot.users += 1
        try:
            with slot.lock:
                yield
        finally:
            with self._guard:
                slot.users -= 1

    def get(self, canister_id: Principal) -> Live | None:
        with self._guard:
            live = self._entries.get(canister_id)
            if live is not None:
                self._entries.move_to_end(canister_id)
            return live

    def put(self, canister_id: Principal, live: Live) -> None:
        """Keep ``live`` for the canister (closing the instance it replaces), evicting beyond the capacity."""
        with self._guard:
            old = self._entries.pop(canister_id, None)
            self._entries[canister_id] = live
            victims = self._victims()
        if old is not None and old.instance is not live.instance:
            old.instance.close()
        for victim in victims:
            victim.instance.close()

    def drop(self, canister_id: Principal) -> None:
        """Forget (and close) the canister's instance."""
        with self._guard:
            live = self._entries.pop(canister_id, None)
        if live is not None:
            live.instance.close()

    def clear(self) -> None:
        """Close and forget every instance (the local IC is closing)."""
        with self._guard:
            entries, self._entries = list(self._entries.values()), OrderedDict()
        for live in entries:
            live.instance.close()

    def __len__(self) -> int:
        with self._guard:
            return len(self._entries)

    def _victims(self) -> list[Live]:
        """Entries past the capacity, oldest first, that no thread is using (called with the guard held)."""
        victims = []
        for canister_id in list(self._entries):
            if len(self._entries) <= self.capacity:
                break
            slot = self._slots.get(canister_id)
            if slot is not None and slot.users:
                continue
            victims.append(self._entries.pop(canister_id))
        return victims


class Runtime:
    """A process's execution services for one local IC: the engine, the live instances, the root key."""

    def __init__(
        self, engine: ExecutionEngine, capacity: int = DEFAULT_LIVE_INSTANCES, root_key: bytes = b""
    ) -> None:
        self.engine = engine
        self.live = LiveInstances(capacity)
        self.root_key = root_key


def live_instance(tx: IcStateTx, env: Env, row: CanisterRow) -> Live:
    """The canister's live instance, brought up to date with the database (hold ``using`` on it).

    Raises:
        RuntimeError: the canister has no code (callers check first).
        ModuleError, HostError: the stored module no longer loads (a newer validator, a wasmtime limit).
    """
    runtime = env.exec_runtime()
    canister_id = row.canister_id
    stored = tx.exec.get_exec_version(canister_id)
    if stored is None or row.module_hash is None:
        raise RuntimeError(f"canister {canister_id} has no code to run")
    live = runtime.live.get(canister_id)
    if live is not None and live.module_hash == row.module_hash and (live.epoch, live.version) == stored:
        return live
    state = tx.exec.get_exec(canister_id)
    assert state is not None
    if live is not None and live.module_hash == row.module_hash and live.epoch == state.epoch:
        _catch_up(tx, live, canister_id, state)
        return live
    return _load(tx, runtime, row, state)


def _catch_up(tx: IcStateTx, live: Live, canister_id: Principal, state: ExecRow) -> None:
    """Applies what other processes kept since the instance's version (only the pages they wrote)."""
    pages = tx.exec.pages(canister_id, after_version=live.version)
    delta = StateDelta(
        heap_size=state.heap_size,
        stable_size=state.stable_size,
        heap_pages=MappingProxyType(pages[HEAP]),
        stable_pages=MappingProxyType(pages[STABLE]),
        globals=MappingProxyType(state.globals),
    )
    live.instance.apply(delta)
    live.version, live.certified_data, live.global_timer = (
        state.version,
        state.certified_data,
        state.global_timer,
    )


def _load(tx: IcStateTx, runtime: Runtime, row: CanisterRow, state: ExecRow) -> Live:
    assert row.module_hash is not None
    module = tx.get_module(row.module_hash)
    if module is None:
        raise RuntimeError(f"module {row.module_hash.hex()} of canister {row.canister_id} is missing")
    pages = tx.exec.pages(row.canister_id)
    stored = CanisterState(
        heap_size=state.heap_size,
        stable_size=state.stable_size,
        heap_pages=MappingProxyType(pages[HEAP]),
        stable_pages=MappingProxyType(pages[STABLE]),
        globals=MappingProxyType(state.globals),
    )
    instance = runtime.engine.load(module, stored)
    live = Live(
        instance, row.module_hash, state.epoch, state.version, state.certified_data, state.global_timer
    )
    runtime.live.put(row.canister_id, live)
    return live


def persist_delta(
    tx: IcStateTx,
    env: Env,
    canister_id: Principal,
    live: Live,
    execution: Execution,
    *,
    certified_data: bytes | None = None,
    global_timer: int | None = None,
) -> None:
    """Writes a kept message's changes in this transaction; the instance keeps them once it commits."""
    delta = execution.delta
    certified = live.certified_data if certified_data is None else certified_data
    timer = live.global_timer if global_timer is None else global_timer
    unchanged = delta is None or (delta.empty and _same_sizes(live, delta))
    if unchanged and certified == live.certified_data and timer == live.global_timer:
        env.txn.on_commit(execution.commit)
        env.txn.on_rollback(execution.rollback)
        return
    version = live.version + 1
    heap_size, stable_size = _sizes(live, delta)
    if delta is not None:
        tx.exec.put_pages(canister_id, HEAP, delta.heap_pages, version)
        tx.exec.put_pages(canister_id, STABLE, delta.stable_pages, version)
    globals_ = {**live.instance.committed_globals, **(delta.globals if delta is not None else {})}
    tx.exec.put_exec(
        canister_id, ExecRow(live.epoch, version, heap_size, stable_size, globals_, certified, timer)
    )

    def keep() -> None:
        execution.commit()
        live.version, live.certified_data, live.global_timer = version, certified, timer

    env.txn.on_commit(keep)
    env.txn.on_rollback(execution.rollback)


def _same_sizes(live: Live, delta: StateDelta) -> bool:
    return (delta.heap_size, delta.stable_size) == _sizes(live, None)


def _sizes(live: Live, delta: StateDelta | None) -> tuple[int, int]:
    if delta is not None:
        return delta.heap_size, delta.stable_size
    heap = live.instance.heap
    committed_heap = heap.committed // 65536 if heap is not None else 0
    return committed_heap, live.instance.stable.committed_size


def persist_installed(
    tx: IcStateTx, env: Env, row: CanisterRow, installed: Installed, module_hash: bytes, epoch: int
) -> None:
    """Replaces the canister's whole execution state with a new install's; keeps the instance once committed."""
    instance, state = installed.instance, installed.state
    assert instance is not None and state is not None
    effects = installed.outcome.effects
    certified = effects.certified_data or b""
    timer = effects.global_timer or 0
    tx.exec.delete_exec(row.canister_id)
    tx.exec.put_pages(row.canister_id, HEAP, state.heap_pages, 0)
    tx.exec.put_pages(row.canister_id, STABLE, state.stable_pages, 0)
    exec_row = ExecRow(epoch, 0, state.heap_size, state.stable_size, dict(state.globals), certified, timer)
    tx.exec.put_exec(row.canister_id, exec_row)
    runtime = env.exec_runtime()
    live = Live(instance, module_hash, epoch, 0, certified, timer)
    env.txn.on_commit(lambda: runtime.live.put(row.canister_id, live))
    env.txn.on_rollback(instance.close)
