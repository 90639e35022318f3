"""The state a System API host keeps while one entry point runs, and its checked memory access.

:class:`HostCore` holds the message's context and mode, the reply being built, the call under
construction, the calls performed, the cycles moved, logs, timer and certified data; the ``ic0``
functions themselves are in :mod:`.host_calls` and :mod:`.host`.  Every access to the canister's memory
goes through :meth:`HostCore.read` / :meth:`HostCore.write`, which check bounds as the replica does
(wasmtime's own ``Memory.read`` would clamp silently).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field

import wasmtime

from .api_table import ApiMode
from .errors import HostError
from .stable import StableMemory
from .types import Callback, Effects, MessageContext, OutgoingCall

__all__ = ["CallInPrep", "HostCore"]

MAX_REPLY_REPLICATED = 2 * 1024 * 1024
MAX_REPLY_NON_REPLICATED = 3 * 1024 * 1024
MAX_CALL_PAYLOAD = 10 * 1024 * 1024
MAX_METHOD_NAME = 20_000
MAX_CALL_TIMEOUT_SECONDS = 300
MAX_PRINCIPAL = 29


@dataclass
class CallInPrep:
    """A call between ``ic0.call_new`` and ``ic0.call_perform``."""

    callee: bytes
    method: str
    reply: Callback
    reject: Callback
    arg: bytearray = field(default_factory=bytearray)
    cycles: int = 0
    cleanup: Callback | None = None
    timeout_seconds: int | None = None

    def done(self) -> OutgoingCall:
        """The call as performed."""
        return OutgoingCall(
            self.callee,
            self.method,
            bytes(self.arg),
            self.cycles,
            self.reply,
            self.reject,
            self.cleanup,
            self.timeout_seconds,
        )


class HostCore:
    """Per-message host state plus memory access; one per running entry point."""

    def __init__(
        self, mode: ApiMode, context: MessageContext, stable: StableMemory, instruction_limit: int
    ) -> None:
        self.mode = mode
        self.ctx = context
        self.stable = stable
        self.instruction_limit = instruction_limit
        self.store: wasmtime.Store | None = None
        self.memory: wasmtime.Memory | None = None
        self._base = 0
        self.reply_data = bytearray()
        self.reply: bytes | None = None
        self.reject: str | None = None
        self.call: CallInPrep | None = None
        self.calls: list[OutgoingCall] = []
        self.available = context.cycles_available
        self.balance = context.cycles_balance
        self.accepted = 0
        self.sent = 0
        self.burned = 0
        self.timer = context.global_timer
        self.timer_set = False
        self.certified_data: bytes | None = None
        self.message_accepted = False
        self.logs: list[str] = []

    def attach(self, store: wasmtime.Store, memory: wasmtime.Memory | None) -> None:
        """Gives the host the instance's store and memory (before the entry point runs)."""
        self.store = store
        self.memory = memory
        if memory is not None:
            self._base = ctypes.cast(memory.data_ptr(store), ctypes.c_void_p).value or 0

    # -- memory -----------------------------------------------------------------------------------

    def memory_size(self) -> int:
        """The Wasm memory's current length in bytes (0 without a memory)."""
        if self.memory is None or self.store is None:
            return 0
        return self.memory.data_len(self.store)

    def heap_fits(self, address: int, size: int) -> bool:
        """Whether ``[address, address+size)`` lies in the Wasm memory."""
        return address + size <= self.memory_size()

    def check_heap(self, where: str, address: int, size: int) -> None:
        """Traps as the replica does (``<where>: src=.. + length=.. exceeds the slice size=..``) if out of bounds."""
        length = self.memory_size()
        if address + size > length:
            raise HostError.toolchain(
                f"{where}: src={address} + length={size} exceeds the slice size={length}"
            )

    def read(self, where: str, address: int, size: int) -> bytes:
        """``size`` bytes of the Wasm memory at ``address``, bounds-checked."""
        self.check_heap(where, address, size)
        return ctypes.string_at(self._base + address, size) if size else b""

    def write(self, where: str, address: int, data: bytes) -> None:
        """Writes ``data`` into the Wasm memory at ``address``, bounds-checked."""
        self.check_heap(where, address, len(data))
        if data:
            ctypes.memmove(self._base + address, data, len(data))

    def copy_out(self, name: str, source: bytes, dst: int, offset: int, size: int) -> None:
        """The ``*_copy`` idiom: ``source[offset:offset+size]`` to ``dst``, both bounds-checked."""
        self.check_heap(f"ic0.{name} heap", dst, size)
        if offset + size > len(source):
            raise HostError.toolchain(
                f"ic0.{name} {_source_label(name)}: src={offset} + length={size} exceeds the slice size={len(source)}"
            )
        self.write(f"ic0.{name} heap", dst, source[offset : offset + size])

    def write_cycles(self, function: str, amount: int, dst: int) -> None:
        """Writes a 128-bit cycles amount (little-endian) at ``dst`` as the replica does, bounds-checked."""
        length = self.memory_size()
        if dst + 16 > length:
            raise HostError.toolchain(
                f"ic0_{function} failed because dst + size is out of bounds.Found dst = {dst} and size = 16 while "
                f"must be <= {length}"
            )
        self.write(f"ic0.{function}", dst, amount.to_bytes(16, "little"))

    # -- results ----------------------------------------------------------------------------------

    def instructions_used(self) -> int:
        """Instructions used so far by this entry point (fuel consumed)."""
        if self.store is None:
            return 0
        return self.instruction_limit - self.store.get_fuel()

    def effects(self, instructions: int) -> Effects:
        """The effects of a run that completed."""
        return Effects(
            reply=self.reply,
            reject=self.reject,
            calls=tuple(self.calls),
            cycles_accepted=self.accepted,
            cycles_sent=self.sent,
            cycles_burned=self.burned,
            global_timer=self.timer if self.timer_set else None,
            certified_data=self.certified_data,
            accepted=self.message_accepted,
            logs=tuple(self.logs),
            instructions=instructions,
        )

    def failed_effects(self, instructions: int, trap_log: str | None) -> Effects:
        """The effects of a run that trapped: only its logs (and the trap) and instructions remain."""
        logs = (*self.logs, trap_log) if trap_log else tuple(self.logs)
        return Effects(logs=logs, instructions=instructions)


def _source_label(name: str) -> str:
    """The replica's name for the source blob in a ``*_copy`` bounds error."""
    labels = {
        "msg_arg_data_copy": "payload",
        "msg_method_name_copy": "payload",
        "msg_caller_copy": "id",
        "canister_self_copy": "id",
        "subnet_self_copy": "id",
        "msg_reject_msg_copy": "msg",
        "root_key_copy": "bytes",
        "env_var_name_copy": "name",
        "env_var_value_copy": "value",
    }
    return labels.get(name, "data")
