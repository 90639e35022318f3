"""The System API host: message, reply, cycles and identity functions, and the binding to wasmtime.

:class:`SystemApi` is one entry point's host (calls, stable memory and the rest come from
:class:`.host_calls.CallsApi`).  :func:`define_imports` puts a module's ``ic0`` imports into a
``wasmtime.Linker``: each import masks its arguments to unsigned values (wasmtime passes ``i64``
signed), checks that the current entry point may call it (else the replica's "cannot be executed in
... mode" trap) and calls the method of the host that is current for the instance, so that one
linked instance serves message after message with a fresh host each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wasmtime

from .api_table import API, ApiFunction, ApiMode, allowed, signature
from .errors import HostError
from .host_calls import CallsApi
from .host_core import MAX_REPLY_NON_REPLICATED, MAX_REPLY_REPLICATED

__all__ = ["HostSlot", "SystemApi", "define_imports"]

_MASK = {"i32": 0xFFFF_FFFF, "i64": 0xFFFF_FFFF_FFFF_FFFF}
_DOTTED_NAMES = frozenset({"root_key_copy", "subnet_self_copy"})
_U64 = 1 << 64


class SystemApi(CallsApi):
    """The host of one entry point run: the ``ic0`` functions over a :class:`.host_core.HostCore` state."""

    # -- arguments, caller, method name -----------------------------------------------------------

    def ic0_msg_arg_data_size(self) -> int:
        return len(self.ctx.arg)

    def ic0_msg_arg_data_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("msg_arg_data_copy", self.ctx.arg, dst, offset, size)

    def ic0_msg_caller_size(self) -> int:
        return len(self.ctx.caller)

    def ic0_msg_caller_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("msg_caller_copy", self.ctx.caller, dst, offset, size)

    def ic0_msg_caller_info_data_size(self) -> int:
        return 0

    def ic0_msg_caller_info_data_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("msg_caller_info_data_copy", b"", dst, offset, size)

    def ic0_msg_caller_info_signer_size(self) -> int:
        return 0

    def ic0_msg_caller_info_signer_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("msg_caller_info_signer_copy", b"", dst, offset, size)

    def ic0_msg_method_name_size(self) -> int:
        return len(self.ctx.method_name.encode())

    def ic0_msg_method_name_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("msg_method_name_copy", self.ctx.method_name.encode(), dst, offset, size)

    def ic0_accept_message(self) -> None:
        if self.message_accepted:
            raise HostError.toolchain("ic0.accept_message: the function was already called.")
        self.message_accepted = True

    def ic0_msg_deadline(self) -> int:
        return self.ctx.deadline

    # -- responses --------------------------------------------------------------------------------

    def ic0_msg_reject_code(self) -> int:
        if self.mode in (ApiMode.REPLY_CALLBACK, ApiMode.COMPOSITE_REPLY_CALLBACK):
            return 0
        return self.ctx.reject_code

    def _reject_message(self, function: str) -> bytes:
        if self.ctx.reject_code == 0:
            raise HostError.wrong_mode(f"ic0_{function}", self.mode.error_name)
        return self.ctx.reject_message.encode()

    def ic0_msg_reject_msg_size(self) -> int:
        return len(self._reject_message("msg_reject_msg_size"))

    def ic0_msg_reject_msg_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("msg_reject_msg_copy", self._reject_message("msg_reject_msg_copy"), dst, offset, size)

    def _already_replied(self) -> bool:
        return self.ctx.replied or self.reply is not None or self.reject is not None

    def _max_reply(self) -> int:
        return MAX_REPLY_REPLICATED if self.mode.replicated else MAX_REPLY_NON_REPLICATED

    def ic0_msg_reply_data_append(self, src: int, size: int) -> None:
        if self._already_replied():
            raise HostError.toolchain("ic0.msg_reply_data_append: the call is already replied.")
        total = len(self.reply_data) + size
        if total > self._max_reply():
            raise HostError.user(
                f"ic0.msg_reply_data_append: application payload size ({total}) cannot be larger than "
                f"{self._max_reply()}.",
                "Consider checking the response size and returning an error if it is too long.",
                "msg_reply_data_append-payload-too-large",
            )
        self.reply_data += self.read("msg.reply", src, size)

    def ic0_msg_reply(self) -> None:
        if self._already_replied():
            raise HostError.toolchain("ic0.msg_reply: the call is already replied")
        self.reply = bytes(self.reply_data)
        self._refund_available()

    def ic0_msg_reject(self, src: int, size: int) -> None:
        if self._already_replied():
            raise HostError.toolchain("ic0.msg_reject: the call is already replied")
        if size > self._max_reply():
            raise HostError.user(
                f"ic0.msg_reject: application payload size ({size}) cannot be larger than {self._max_reply()}.",
                "Try truncating the error messages that are too long.",
                "msg_reject-payload-too-large",
            )
        raw = self.read("ic0.msg_reject", src, size)
        try:
            self.reject = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HostError.toolchain("ic0.msg_reject: invalid UTF-8 string provided") from exc
        self._refund_available()

    def _refund_available(self) -> None:
        """A response refunds the cycles still available (the router returns them to the caller)."""
        self.available = 0

    # -- cycles -----------------------------------------------------------------------------------

    def ic0_msg_cycles_available128(self, dst: int) -> None:
        self.write_cycles("msg_cycles_available128", self.available, dst)

    def ic0_msg_cycles_available(self) -> int:
        return _fits_64(self.available)

    def ic0_msg_cycles_refunded128(self, dst: int) -> None:
        self.write_cycles("msg_cycles_refunded128", self.ctx.cycles_refunded, dst)

    def ic0_msg_cycles_refunded(self) -> int:
        return _fits_64(self.ctx.cycles_refunded)

    def _accept(self, maximum: int) -> int:
        amount = min(maximum, self.available)
        self.available -= amount
        self.accepted += amount
        self.balance += amount
        return amount

    def ic0_msg_cycles_accept128(self, high: int, low: int, dst: int) -> None:
        self.check_heap("ic0.msg_cycles_accept128", dst, 16)
        self.write_cycles("msg_cycles_accept128", self._accept((high << 64) | low), dst)

    def ic0_msg_cycles_accept(self, maximum: int) -> int:
        return self._accept(maximum)

    def ic0_cycles_burn128(self, high: int, low: int, dst: int) -> None:
        self.check_heap("ic0.cycles_burn128", dst, 16)
        amount = min((high << 64) | low, self.balance)
        self.balance -= amount
        self.burned += amount
        self.write_cycles("cycles_burn128", amount, dst)

    def ic0_canister_cycle_balance128(self, dst: int) -> None:
        self.write_cycles("canister_cycle_balance128", self.balance, dst)

    def ic0_canister_liquid_cycle_balance128(self, dst: int) -> None:
        self.write_cycles("canister_liquid_cycle_balance128", self.balance, dst)

    def ic0_canister_cycle_balance(self) -> int:
        return _fits_64(self.balance)

    # -- identity and status ----------------------------------------------------------------------

    def ic0_canister_self_size(self) -> int:
        return len(self.ctx.canister_id)

    def ic0_canister_self_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("canister_self_copy", self.ctx.canister_id, dst, offset, size)

    def ic0_subnet_self_size(self) -> int:
        return len(self.ctx.subnet_id)

    def ic0_subnet_self_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("subnet_self_copy", self.ctx.subnet_id, dst, offset, size)

    def ic0_root_key_size(self) -> int:
        return len(self.ctx.root_key)

    def ic0_root_key_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("root_key_copy", self.ctx.root_key, dst, offset, size)

    def ic0_canister_status(self) -> int:
        return int(self.ctx.status)

    def ic0_canister_version(self) -> int:
        return self.ctx.canister_version


def _fits_64(amount: int) -> int:
    """A cycles amount for a 64-bit System API function; traps as the replica does if it does not fit."""
    if amount >= _U64:
        raise HostError.trapped("cycles amount exceeds 64-bit representation")
    return amount


class HostSlot:
    """Holds the host of the entry point currently running in an instance (None between runs)."""

    def __init__(self) -> None:
        self.host: SystemApi | None = None

    def current(self) -> SystemApi:
        """The running entry point's host.

        Raises:
            HostError: if the instance is called outside of a run (an engine bug).
        """
        if self.host is None:
            raise HostError.engine("System API called outside of a message execution")
        return self.host


def define_imports(linker: wasmtime.Linker, imports: list[str], is64: bool, slot: HostSlot) -> None:
    """Defines each ``ic0`` function named in ``imports`` in ``linker``, dispatching to ``slot``'s host."""
    for name in imports:
        function = API[name]
        wasm_type = signature(function, is64)
        func_type = wasmtime.FuncType(
            [_valtype(p) for p in wasm_type.params], [_valtype(r) for r in wasm_type.results]
        )
        linker.define_func("ic0", name, func_type, _binding(function, wasm_type.params, slot))


def _valtype(name: str) -> wasmtime.ValType:
    return wasmtime.ValType.i64() if name == "i64" else wasmtime.ValType.i32()


def _binding(function: ApiFunction, params: tuple[str, ...], slot: HostSlot) -> Callable[..., Any]:
    """The Python callable wasmtime calls for ``function``."""
    masks = tuple(_MASK[p] for p in params)
    method_name = f"ic0_{function.name}"
    error_name = f"ic0.{function.name}" if function.name in _DOTTED_NAMES else method_name

    def call(*args: int) -> Any:
        host = slot.current()
        if not allowed(function, host.mode):
            raise HostError.wrong_mode(error_name, host.mode.error_name)
        unsigned = [a & m for a, m in zip(args, masks, strict=True)]
        return getattr(host, method_name)(*unsigned)

    return call
