"""The values that go in and out of the engine: a message's context, its effects, and state deltas.

The engine never talks to storage or to other canisters.  The router gives it a
:class:`MessageContext` (who calls, what time it is, how many cycles, ...) and gets back an
:class:`Outcome` (the reply or reject, the outgoing calls with their callbacks, the cycles moved, the
timer, certified data, logs and the instructions used) and, for a message whose changes are kept, a
:class:`StateDelta` (the 4 KiB pages of Wasm and stable memory it changed, with their new bytes, the
sizes and the globals) for the storage layer to persist.  :class:`CanisterState` is a whole state, as
the storage layer hands it back to load a canister.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import ExecutionError

__all__ = [
    "OS_PAGE",
    "WASM_PAGE",
    "Callback",
    "CanisterState",
    "CanisterStatus",
    "Effects",
    "GlobalValue",
    "MessageContext",
    "Outcome",
    "OutgoingCall",
    "StateDelta",
]

OS_PAGE = 4096
WASM_PAGE = 65536
MANAGEMENT_CANISTER = b""

GlobalValue = int | float


def _empty_pages() -> Mapping[int, bytes]:
    return MappingProxyType({})


def _no_globals() -> Mapping[int, GlobalValue]:
    return MappingProxyType({})


class CanisterStatus(enum.IntEnum):
    """``ic0.canister_status`` values."""

    RUNNING = 1
    STOPPING = 2
    STOPPED = 3


@dataclass(frozen=True)
class Callback:
    """A Wasm closure: a table index and the environment value passed to it."""

    fun: int
    env: int


@dataclass(frozen=True)
class OutgoingCall:
    """A call the canister made with ``ic0.call_perform``; the router delivers it after commit."""

    callee: bytes
    method: str
    arg: bytes
    cycles: int
    reply: Callback
    reject: Callback
    cleanup: Callback | None = None
    timeout_seconds: int | None = None


@dataclass(frozen=True)
class MessageContext:
    """The facts a message runs with; the router fills in what applies.

    Attributes:
        canister_id: the canister's own principal bytes.
        caller: the caller's principal bytes (the management canister, ``b""``, for system tasks).
        arg: the argument (the reply payload in a reply callback).
        time_ns: ``ic0.time``.
        cycles_balance: the canister's balance before the message.
        cycles_available: cycles attached to the call (still available in a callback's call context).
        cycles_refunded: cycles refunded with a response (callbacks).
        reject_code, reject_message: the response of a reject callback.
        replied: the call context was already replied to (callbacks).
        method_name: the method being inspected (``canister_inspect_message``).
        certificate: the data certificate of a non-replicated query, if any.
        wasm_memory_limit: the canister's ``wasm_memory_limit`` in bytes (0: none).
        instruction_limit: overrides the default limit of the message kind.
    """

    canister_id: bytes
    caller: bytes = MANAGEMENT_CANISTER
    arg: bytes = b""
    time_ns: int = 0
    cycles_balance: int = 0
    cycles_available: int = 0
    cycles_refunded: int = 0
    reject_code: int = 0
    reject_message: str = ""
    replied: bool = False
    method_name: str = ""
    controllers: tuple[bytes, ...] = ()
    status: CanisterStatus = CanisterStatus.RUNNING
    canister_version: int = 0
    subnet_id: bytes = b""
    root_key: bytes = b""
    certificate: bytes | None = None
    env_vars: tuple[tuple[str, str], ...] = ()
    global_timer: int = 0
    deadline: int = 0
    call_context_instructions: int = 0
    wasm_memory_limit: int = 0
    instruction_limit: int | None = None


@dataclass(frozen=True)
class Effects:
    """What a message did beyond its state: everything here is empty for a message that trapped,
    except ``logs`` and ``instructions``.

    Attributes:
        reply: the reply payload, if the message replied.
        reject: the reject message, if it rejected (reject code 4, CANISTER_REJECT).
        calls: the calls it performed, in order.
        cycles_accepted: cycles it took from the incoming call.
        cycles_sent: cycles it attached to its calls (already taken from its balance).
        cycles_burned: cycles it burned.
        global_timer: the new timer, if it set one (0 deactivates).
        certified_data: the new certified data, if it set it.
        accepted: ``canister_inspect_message`` accepted the message.
        logs: ``debug_print`` output, and the trap message when it trapped.
        instructions: instructions used (Wasm operators counted by fuel).
    """

    reply: bytes | None = None
    reject: str | None = None
    calls: tuple[OutgoingCall, ...] = ()
    cycles_accepted: int = 0
    cycles_sent: int = 0
    cycles_burned: int = 0
    global_timer: int | None = None
    certified_data: bytes | None = None
    accepted: bool = False
    logs: tuple[str, ...] = ()
    instructions: int = 0

    @property
    def responded(self) -> bool:
        """Whether the message replied or rejected."""
        return self.reply is not None or self.reject is not None


@dataclass(frozen=True)
class Outcome:
    """The result of running one entry point: its effects, or the error it failed with."""

    effects: Effects
    error: ExecutionError | None = None

    @property
    def ok(self) -> bool:
        """Whether the entry point ran to its end without trapping."""
        return self.error is None


@dataclass(frozen=True)
class StateDelta:
    """What a kept message changed, page by page (4 KiB pages; a page is its whole new content).

    Attributes:
        heap_size: the Wasm memory's size after the message, in 64 KiB Wasm pages.
        heap_pages: changed Wasm memory pages by index.
        stable_size: the stable memory's size after the message, in Wasm pages.
        stable_pages: changed stable memory pages by index.
        globals: the mutable globals whose value changed, by global index.
    """

    heap_size: int
    stable_size: int
    heap_pages: Mapping[int, bytes] = field(default_factory=_empty_pages)
    stable_pages: Mapping[int, bytes] = field(default_factory=_empty_pages)
    globals: Mapping[int, GlobalValue] = field(default_factory=_no_globals)

    @property
    def empty(self) -> bool:
        """Whether nothing changed but possibly the sizes."""
        return not (self.heap_pages or self.stable_pages or self.globals)


@dataclass(frozen=True)
class CanisterState:
    """A canister's whole execution state, as the storage layer keeps it (missing pages are zero).

    Attributes:
        heap_size, stable_size: sizes in Wasm pages.
        heap_pages, stable_pages: non-zero 4 KiB pages by index.
        globals: the value of every mutable global, by global index.
    """

    heap_size: int = 0
    stable_size: int = 0
    heap_pages: Mapping[int, bytes] = field(default_factory=_empty_pages)
    stable_pages: Mapping[int, bytes] = field(default_factory=_empty_pages)
    globals: Mapping[int, GlobalValue] = field(default_factory=_no_globals)

    def apply(self, delta: StateDelta) -> CanisterState:
        """The state after ``delta`` (what a storage layer does when it persists one)."""
        return CanisterState(
            heap_size=delta.heap_size,
            stable_size=delta.stable_size,
            heap_pages=MappingProxyType({**self.heap_pages, **delta.heap_pages}),
            stable_pages=MappingProxyType({**self.stable_pages, **delta.stable_pages}),
            globals=MappingProxyType({**self.globals, **delta.globals}),
        )
