"""``ic0`` functions for calls, stable memory, time and timers, counters, certified data,
environment variables, cost estimates and debugging (the others are in :mod:`.host`).

Each method is named after its System API function, takes the arguments already masked to unsigned
values, and is only reached from an entry point allowed to call it (the binding checks the table).
"""

from __future__ import annotations

from icp_local import fees

from .api_table import ApiMode
from .errors import ErrorCode, HostError, principal_text
from .host_core import (
    MAX_CALL_PAYLOAD,
    MAX_CALL_TIMEOUT_SECONDS,
    MAX_METHOD_NAME,
    MAX_PRINCIPAL,
    CallInPrep,
    HostCore,
)
from .stable import StableOutOfBounds
from .types import Callback

__all__ = ["CallsApi"]

_MAX_32BIT_STABLE_PAGES = 65536
_MAX_LOG = 32 * 1024
_MAX_ENV_NAME = 128
_CERTIFIED_DATA_MAX = 32


class CallsApi(HostCore):
    """Calls, stable memory and the system's facts."""

    # -- inter-canister calls ---------------------------------------------------------------------

    def ic0_call_new(
        self, callee_src: int, callee_size: int, name_src: int, name_size: int, *closures: int
    ) -> None:
        self._drop_call()
        callee = self.read("ic0.call_new callee", callee_src, callee_size)
        if len(callee) > MAX_PRINCIPAL:
            raise HostError.invalid_principal()
        if name_size > MAX_METHOD_NAME:
            raise HostError.user(
                f"Size of method_name {name_size} exceeds the allowed limit of {MAX_METHOD_NAME}.",
                "Make sure the method name is correct.",
                "canister-made-a-call-with-too-large-a-method-name",
            )
        raw_name = self.read("ic0.call_new method_name", name_src, name_size)
        try:
            method = raw_name.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HostError.toolchain("ic0.call_new: method name is not valid UTF-8") from exc
        reply_fun, reply_env, reject_fun, reject_env = closures
        self.call = CallInPrep(
            callee, method, Callback(reply_fun, reply_env), Callback(reject_fun, reject_env)
        )

    def _drop_call(self) -> None:
        """Discards the call under construction; its cycles go back to the balance."""
        if self.call is not None:
            self.balance += self.call.cycles
            self.sent -= self.call.cycles
            self.call = None

    def _call_in_prep(self, function: str) -> CallInPrep:
        if self.call is None:
            raise HostError.toolchain(f"{function} called when no call is under construction.")
        return self.call

    def ic0_call_data_append(self, src: int, size: int) -> None:
        call = self._call_in_prep("ic0.call_data_append")
        data = self.read("ic0.call_data_append", src, size)
        if len(call.arg) + size > MAX_CALL_PAYLOAD:
            raise HostError.user(
                f"Request to {call.callee.hex()}:{call.method} has a payload size of {len(call.arg) + size}, "
                f"which exceeds the allowed limit of {MAX_CALL_PAYLOAD}.",
                "Try splitting the call into multiple smaller calls.",
                "canister-made-a-call-with-too-large-a-payload",
            )
        call.arg += data

    def ic0_call_on_cleanup(self, fun: int, env: int) -> None:
        call = self._call_in_prep("ic0.call_on_cleanup")
        if call.cleanup is not None:
            raise HostError.toolchain("ic0.call_on_cleanup: a cleanup callback is already set.")
        call.cleanup = Callback(fun, env)

    def ic0_call_with_best_effort_response(self, timeout_seconds: int) -> None:
        call = self._call_in_prep("ic0.call_with_best_effort_response")
        if call.timeout_seconds is not None:
            raise HostError.toolchain(
                "ic0_call_with_best_effort_response failed because a timeout is already set."
            )
        call.timeout_seconds = min(timeout_seconds, MAX_CALL_TIMEOUT_SECONDS)

    def ic0_call_cycles_add128(self, high: int, low: int) -> None:
        self._add_cycles("ic0_call_cycles_add128", (high << 64) | low)

    def ic0_call_cycles_add(self, amount: int) -> None:
        self._add_cycles("ic0_call_cycles_add", amount)

    def _add_cycles(self, function: str, amount: int) -> None:
        call = self._call_in_prep(function)
        if amount > self.balance:
            raise HostError(
                ErrorCode.CANISTER_CONTRACT_VIOLATION, f"Canister {self._canister_text()} is out of cycles"
            )
        self.balance -= amount
        self.sent += amount
        call.cycles += amount

    def _canister_text(self) -> str:
        return principal_text(self.ctx.canister_id)

    def ic0_call_perform(self) -> int:
        call = self._call_in_prep("ic0.call_perform")
        self.calls.append(call.done())
        self.call = None
        return 0

    # -- stable memory ----------------------------------------------------------------------------

    def ic0_stable64_size(self) -> int:
        return self.stable.size

    def ic0_stable64_grow(self, pages: int) -> int:
        return self.stable.grow(pages)

    def ic0_stable64_write(self, offset: int, src: int, size: int) -> None:
        if not self.heap_fits(src, size):
            raise HostError.trapped("heap out of bounds")
        data = self.read("ic0.stable64_write", src, size)
        try:
            self.stable.write(offset, data)
        except StableOutOfBounds as exc:
            raise HostError.trapped("stable memory out of bounds") from exc

    def ic0_stable64_read(self, dst: int, offset: int, size: int) -> None:
        if not self.heap_fits(dst, size):
            raise HostError.trapped("heap out of bounds")
        try:
            data = self.stable.read(offset, size)
        except StableOutOfBounds as exc:
            raise HostError.trapped("stable memory out of bounds") from exc
        self.write("ic0.stable64_read", dst, data)

    def _check_stable32(self) -> None:
        if self.stable.size > _MAX_32BIT_STABLE_PAGES:
            raise HostError.trapped("32 bit stable memory api used on a memory larger than 4GB")

    def ic0_stable_size(self) -> int:
        self._check_stable32()
        return self.stable.size

    def ic0_stable_grow(self, pages: int) -> int:
        self._check_stable32()
        return self.stable.grow(pages, _MAX_32BIT_STABLE_PAGES)

    def ic0_stable_write(self, offset: int, src: int, size: int) -> None:
        self._check_stable32()
        self.ic0_stable64_write(offset, src, size)

    def ic0_stable_read(self, dst: int, offset: int, size: int) -> None:
        self._check_stable32()
        self.ic0_stable64_read(dst, offset, size)

    # -- time, timer, counters, status ------------------------------------------------------------

    def ic0_time(self) -> int:
        return self.ctx.time_ns

    def ic0_global_timer_set(self, timestamp: int) -> int:
        previous = self.timer
        self.timer = timestamp
        self.timer_set = True
        return previous

    def ic0_performance_counter(self, counter_type: int) -> int:
        if counter_type == 0:
            return self.instructions_used()
        if counter_type == 1:
            return self.ctx.call_context_instructions + self.instructions_used()
        raise HostError.user(f"Error getting performance counter type {counter_type}")

    def ic0_in_replicated_execution(self) -> int:
        return int(self.mode.replicated)

    def ic0_is_controller(self, src: int, size: int) -> int:
        principal = self.read("ic0.is_controller", src, size)
        if len(principal) > MAX_PRINCIPAL:
            raise HostError.invalid_principal()
        return int(principal in self.ctx.controllers)

    # -- certified data ---------------------------------------------------------------------------

    def ic0_certified_data_set(self, src: int, size: int) -> None:
        if size > _CERTIFIED_DATA_MAX:
            raise HostError.user(
                f"ic0_certified_data_set failed because the passed data must be no larger than {_CERTIFIED_DATA_MAX} "
                f"bytes. Found {size} bytes.",
                "Try certifying just the hash of your data instead of the full contents.",
                "certified_data_set-payload-too-large",
            )
        length = self.memory_size()
        if src + size > length:
            raise HostError.toolchain(
                f"ic0_certified_data_set failed because src + size is out of bounds. Found src = {src} and size = "
                f"{size} while src + size must be <= {length}"
            )
        self.certified_data = self.read("ic0.certified_data_set", src, size)

    def ic0_data_certificate_present(self) -> int:
        certified_modes = (ApiMode.NON_REPLICATED_QUERY, ApiMode.COMPOSITE_QUERY)
        return int(self.ctx.certificate is not None and self.mode in certified_modes)

    def _certificate(self, function: str) -> bytes:
        if self.ctx.certificate is None:
            raise HostError.wrong_mode(f"ic0_{function}", self.mode.error_name)
        return self.ctx.certificate

    def ic0_data_certificate_size(self) -> int:
        return len(self._certificate("data_certificate_size"))

    def ic0_data_certificate_copy(self, dst: int, offset: int, size: int) -> None:
        self.copy_out("data_certificate_copy", self._certificate("data_certificate_copy"), dst, offset, size)

    # -- environment variables --------------------------------------------------------------------

    def _env(self) -> list[tuple[str, str]]:
        return sorted(self.ctx.env_vars)

    def _env_name(self, index: int) -> str:
        env = self._env()
        if index >= len(env):
            raise HostError(
                ErrorCode.CANISTER_CONTRACT_VIOLATION,
                f"Environment variable index {index} is out of bounds. "
                f"The number of environment variables is {len(env)}.",
            )
        return env[index][0]

    def _env_value(self, function: str, src: int, size: int) -> str:
        if size > _MAX_ENV_NAME:
            raise HostError.user(f"ic0.{function}: Variable name is too large.")
        raw = self.read(f"ic0.{function} heap", src, size)
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HostError.user(
                f"ic0.{function}: Variable name is not a valid UTF-8 string.",
                "Provide a valid UTF-8 string for the environment variable name.",
            ) from exc
        values = dict(self.ctx.env_vars)
        if name not in values:
            raise HostError(ErrorCode.CANISTER_CONTRACT_VIOLATION, f"Environment variable {name} not found.")
        return values[name]

    def ic0_env_var_count(self) -> int:
        return len(self.ctx.env_vars)

    def ic0_env_var_name_size(self, index: int) -> int:
        return len(self._env_name(index).encode())

    def ic0_env_var_name_copy(self, index: int, dst: int, offset: int, size: int) -> None:
        self.copy_out("env_var_name_copy", self._env_name(index).encode(), dst, offset, size)

    def ic0_env_var_name_exists(self, src: int, size: int) -> int:
        try:
            self._env_value("env_var_name_exists", src, size)
        except HostError as exc:
            if "not found" in exc.what:
                return 0
            raise
        return 1

    def ic0_env_var_value_size(self, src: int, size: int) -> int:
        return len(self._env_value("env_var_value_size", src, size).encode())

    def ic0_env_var_value_copy(self, src: int, size: int, dst: int, offset: int, length: int) -> None:
        value = self._env_value("env_var_value_copy", src, size).encode()
        self.copy_out("env_var_value_copy", value, dst, offset, length)

    # -- cost estimates (13-node application subnet fees) -----------------------------------------

    def ic0_cost_call(self, method_name_size: int, payload_size: int, dst: int) -> None:
        self.write_cycles("cost_call", fees.cost_call(method_name_size, payload_size), dst)

    def ic0_cost_create_canister(self, dst: int) -> None:
        self.write_cycles("cost_create_canister", fees.CANISTER_CREATION_FEE, dst)

    def ic0_cost_http_request(self, request_size: int, max_res_bytes: int, dst: int) -> None:
        cost = (
            fees.HTTP_BASE_FEE
            + fees.HTTP_REQUEST_BYTE_FEE * request_size
            + fees.HTTP_RESPONSE_BYTE_FEE * max_res_bytes
        )
        self.write_cycles("cost_http_request", cost, dst)

    def _cost_sign(self, function: str, src: int, size: int, variant: int, dst: int, variants: int) -> int:
        raw = self.read(f"ic0.{function} heap", src, size)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HostError.toolchain(f"Failed to decode key name {raw.decode('utf-8', 'replace')}") from exc
        if variant >= variants:
            return 1
        self.write_cycles(function, fees.SIGN_FEE, dst)
        return 0

    def ic0_cost_sign_with_ecdsa(self, src: int, size: int, curve: int, dst: int) -> int:
        return self._cost_sign("cost_sign_with_ecdsa", src, size, curve, dst, 1)

    def ic0_cost_sign_with_schnorr(self, src: int, size: int, algorithm: int, dst: int) -> int:
        return self._cost_sign("cost_sign_with_schnorr", src, size, algorithm, dst, 2)

    def ic0_cost_vetkd_derive_key(self, src: int, size: int, curve: int, dst: int) -> int:
        return self._cost_sign("cost_vetkd_derive_key", src, size, curve, dst, 1)

    # -- debugging --------------------------------------------------------------------------------

    def ic0_debug_print(self, src: int, size: int) -> None:
        size = min(size, _MAX_LOG)
        if self.heap_fits(src, size):
            self.logs.append(self.read("ic0.debug_print", src, size).decode("utf-8", "replace"))
        else:
            self.logs.append("(debug message out of memory bounds)")

    def ic0_trap(self, src: int, size: int) -> None:
        size = min(size, _MAX_LOG)
        if self.heap_fits(src, size):
            message = self.read("trap", src, size).decode("utf-8", "replace")
        else:
            message = "(trap message out of memory bounds)"
        raise HostError.called_trap(message)
