"""The execution core on hand-written 32-bit modules: stable memory, traps, calls, growth, upgrades."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from icp_local.execution import (
    ApiMode,
    CanisterInstance,
    ErrorCode,
    ExecutionEngine,
    MessageContext,
    UpgradeOptions,
    inspect_message,
    query_call,
    response,
    system_task,
    update_call,
)
from tests.unit.local_ic.execution.conftest import wat

Ctx = Callable[..., MessageContext]

# A 32-bit canister. Stable memory: "put" writes its argument at stable offset 0 (growing it to one
# page first), "get" replies with the first N stable bytes (N = the argument's first byte).  The
# global $count counts "put"s; "count" replies with it.  Heap byte 1000 mirrors the last "put".
STABLE = wat(
    """
  (import "ic0" "stable_size" (func $ssize (result i32)))
  (import "ic0" "stable_grow" (func $sgrow (param i32) (result i32)))
  (import "ic0" "stable_write" (func $swrite (param i32 i32 i32)))
  (import "ic0" "stable_read" (func $sread (param i32 i32 i32)))
  (import "ic0" "global_timer_set" (func $timer (param i64) (result i64)))
  (global $count (mut i32) (i32.const 0))
  (data (i32.const 0) "trap!pre")
  (func $put
    (if (i32.eqz (call $ssize)) (then (drop (call $sgrow (i32.const 1)))))
    (call $arg_copy (i32.const 2000) (i32.const 0) (call $arg_size))
    (call $swrite (i32.const 0) (i32.const 2000) (call $arg_size))
    (i32.store8 (i32.const 1000) (i32.load8_u (i32.const 2000)))
    (global.set $count (i32.add (global.get $count) (i32.const 1))))
  (func (export "canister_update put") (call $put) (call $reply))
  (func (export "canister_update put_then_trap") (call $put) (call $trap (i32.const 0) (i32.const 5)))
  (func (export "canister_update read_oob") (call $sread (i32.const 0) (i32.const 65530) (i32.const 10)))
  (func (export "canister_update arg_oob") (call $arg_copy (i32.const 65535) (i32.const 0) (i32.const 2)))
  (func (export "canister_query get")
    (call $arg_copy (i32.const 3000) (i32.const 0) (i32.const 1))
    (call $sread (i32.const 4000) (i32.const 0) (i32.load8_u (i32.const 3000)))
    (call $reply_append (i32.const 4000) (i32.load8_u (i32.const 3000)))
    (call $reply))
  (func (export "canister_query heap") (call $reply_append (i32.const 1000) (i32.const 1)) (call $reply))
  (func (export "canister_query count")
    (i32.store (i32.const 3000) (global.get $count))
    (call $reply_append (i32.const 3000) (i32.const 4)) (call $reply))
  (func (export "canister_query query_writes")
    (global.set $count (i32.const 99)) (i32.store8 (i32.const 1000) (i32.const 99)) (call $reply))
  (func (export "canister_update timer") (drop (call $timer (i64.const 12345))) (call $reply))
  (func (export "canister_init") (call $print (i32.const 5) (i32.const 3)))
  (func (export "canister_pre_upgrade")
    (if (i32.eq (i32.load8_u (i32.const 1000)) (i32.const 84)) (then (call $trap (i32.const 5) (i32.const 3))))
    (call $swrite (i32.const 100) (i32.const 5) (i32.const 3)))
"""
)


def _install(engine: ExecutionEngine, wasm: bytes, ctx: Ctx) -> CanisterInstance:
    installed = engine.install(wasm, ctx())
    assert installed.outcome.error is None, installed.outcome.error
    assert installed.instance is not None
    return installed.instance


def _update(instance: CanisterInstance, method: str, ctx: Ctx, arg: bytes = b"") -> bytes | None:
    execution = update_call(instance, method, ctx(arg=arg))
    assert execution.outcome.error is None, execution.outcome.error
    execution.commit()
    return execution.outcome.effects.reply


def _query(instance: CanisterInstance, method: str, ctx: Ctx, arg: bytes = b"") -> bytes | None:
    execution = query_call(instance, method, ctx(arg=arg))
    assert execution.outcome.error is None, execution.outcome.error
    return execution.outcome.effects.reply


def test_init_runs_and_its_debug_print_is_an_effect(engine: ExecutionEngine, ctx: Ctx) -> None:
    installed = engine.install(STABLE, ctx())

    assert installed.outcome.effects.logs == ("pre",)


def test_32_bit_stable_memory_persists_across_messages(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, STABLE, ctx)
    execution = update_call(instance, "put", ctx(arg=b"hello"))

    assert execution.delta is not None
    assert execution.delta.stable_size == 1
    assert execution.delta.stable_pages[0][:5] == b"hello"
    assert execution.delta.globals == {0: 1}
    execution.commit()
    assert _query(instance, "get", ctx, bytes([5])) == b"hello"
    assert _query(instance, "count", ctx) == (1).to_bytes(4, "little")


def test_a_trap_rolls_back_heap_globals_and_stable_memory(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, STABLE, ctx)
    _update(instance, "put", ctx, b"first")

    execution = update_call(instance, "put_then_trap", ctx(arg=b"SECOND"))

    error = execution.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_CALLED_TRAP
    assert "Canister called `ic0.trap` with message: 'trap!'" in error.description
    assert execution.delta is None
    assert _query(instance, "get", ctx, bytes([5])) == b"first"
    assert _query(instance, "heap", ctx) == b"f"
    assert _query(instance, "count", ctx) == (1).to_bytes(4, "little")


def test_a_query_writing_memory_and_globals_is_discarded(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, STABLE, ctx)

    assert _query(instance, "query_writes", ctx) == b""

    assert _query(instance, "heap", ctx) == b"\x00"
    assert _query(instance, "count", ctx) == bytes(4)


def test_stable_memory_out_of_bounds_traps_as_the_replica(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, STABLE, ctx)
    _update(instance, "put", ctx, b"x")

    execution = update_call(instance, "read_oob", ctx())

    error = execution.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_TRAPPED
    assert "Canister trapped: stable memory out of bounds" in error.description


def test_heap_out_of_bounds_in_a_copy_is_a_contract_violation(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, STABLE, ctx)

    execution = update_call(instance, "arg_oob", ctx(arg=b"ab"))

    error = execution.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_CONTRACT_VIOLATION
    assert (
        "ic0.msg_arg_data_copy heap: src=65535 + length=2 exceeds the slice size=65536" in error.description
    )


def test_the_timer_set_by_an_update_is_an_effect(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, STABLE, ctx)

    execution = update_call(instance, "timer", ctx(global_timer=7))

    assert execution.outcome.effects.global_timer == 12345


def test_an_upgrade_keeps_stable_memory_and_runs_pre_upgrade(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, STABLE, ctx)
    _update(instance, "put", ctx, b"state")

    upgraded = engine.upgrade(instance, STABLE, ctx())

    assert upgraded.outcome.error is None and upgraded.instance is not None
    assert _query(upgraded.instance, "get", ctx, bytes([5])) == b"state"
    assert upgraded.instance.stable.read(100, 3) == b"pre"
    assert _query(upgraded.instance, "heap", ctx) == b"\x00"  # the Wasm memory is new
    assert _query(upgraded.instance, "count", ctx) == bytes(4)  # and so are the globals


def test_a_trapping_pre_upgrade_fails_the_upgrade_and_the_old_instance_answers(
    engine: ExecutionEngine, ctx: Ctx
) -> None:
    instance = _install(engine, STABLE, ctx)
    _update(instance, "put", ctx, b"Trap")

    upgraded = engine.upgrade(instance, STABLE, ctx())

    assert not upgraded.ok
    assert upgraded.outcome.error is not None
    assert upgraded.outcome.error.code == ErrorCode.CANISTER_CALLED_TRAP
    assert _query(instance, "get", ctx, bytes([4])) == b"Trap"
    assert instance.stable.read(100, 3) == bytes(3)
    skipped = engine.upgrade(instance, STABLE, ctx(), UpgradeOptions(skip_pre_upgrade=True))
    assert skipped.ok


FORBIDDEN = wat(
    """
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "global_timer_set" (func $timer (param i64) (result i64)))
  (func (export "canister_init") (call $reply))
  (func (export "canister_query call") (call $call_new (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "canister_query timer") (drop (call $timer (i64.const 1))))
"""
)


def test_a_forbidden_call_in_init_fails_the_install_with_the_replica_text(
    engine: ExecutionEngine, ctx: Ctx
) -> None:
    installed = engine.install(FORBIDDEN, ctx())

    error = installed.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_CONTRACT_VIOLATION
    assert error.description.startswith(
        'Error from Canister rrkah-fqaaa-aaaaa-aaaaq-cai: Canister violated contract: "ic0_msg_reply" cannot be '
        "executed in init mode.\nCheck the ICP documentation"
    )


@pytest.mark.parametrize(
    ("method", "function"), [("call", "ic0_call_new"), ("timer", "ic0_global_timer_set")]
)
def test_forbidden_calls_in_a_query_trap(
    engine: ExecutionEngine, ctx: Ctx, method: str, function: str
) -> None:
    module = engine.prepare(FORBIDDEN)
    instance = CanisterInstance(engine.engine, module)

    non_replicated = query_call(instance, method, ctx())
    replicated = update_call(instance, method, ctx())

    assert non_replicated.outcome.error is not None
    assert (
        f'"{function}" cannot be executed in non replicated query mode'
        in non_replicated.outcome.error.description
    )
    assert replicated.outcome.error is not None
    assert f'"{function}" cannot be executed in replicated query mode' in replicated.outcome.error.description


# Calls: "call" calls canister bytes 0..4 (b"\x01\x02\x03\x04") method "m" with argument "arg" and
# 100 cycles; reply callback (table 0, env 42) replies with the reply's bytes, reject callback (table 1)
# replies with the reject message, reply callback "bad" (table 2) traps, cleanup (table 3) sets the
# global to the env it gets.
CALLER = wat(
    """
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_data_append" (func $call_data (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $call_cycles (param i64 i64)))
  (import "ic0" "call_on_cleanup" (func $on_cleanup (param i32 i32)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "msg_reject_msg_size" (func $rej_size (result i32)))
  (import "ic0" "msg_reject_msg_copy" (func $rej_copy (param i32 i32 i32)))
  (import "ic0" "msg_reject_code" (func $rej_code (result i32)))
  (import "ic0" "msg_cycles_accept128" (func $accept (param i64 i64 i32)))
  (import "ic0" "canister_cycle_balance128" (func $balance (param i32)))
  (global $cleaned (mut i32) (i32.const 0))
  (table 4 funcref)
  (elem (i32.const 0) $on_reply $on_reject $bad $cleanup)
  (data (i32.const 0) "\\01\\02\\03\\04marg")
  (func $on_reply (param $env i32)
    (call $arg_copy (i32.const 100) (i32.const 0) (call $arg_size))
    (call $reply_append (i32.const 100) (call $arg_size)) (call $reply))
  (func $on_reject (param $env i32)
    (call $rej_copy (i32.const 100) (i32.const 0) (call $rej_size))
    (call $reply_append (i32.const 100) (call $rej_size)) (call $reply))
  (func $bad (param $env i32) (global.set $cleaned (i32.const 1)) (unreachable))
  (func $cleanup (param $env i32) (global.set $cleaned (local.get $env)))
  (func $start_call (param $reply_fun i32)
    (call $call_new (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 1)
      (local.get $reply_fun) (i32.const 42) (i32.const 1) (i32.const 43))
    (call $call_data (i32.const 5) (i32.const 3))
    (call $call_cycles (i64.const 0) (i64.const 100))
    (call $on_cleanup (i32.const 3) (i32.const 77))
    (drop (call $perform)))
  (func (export "canister_update call") (call $start_call (i32.const 0)))
  (func (export "canister_update call_bad") (call $start_call (i32.const 2)))
  (func (export "canister_update call_then_trap") (call $start_call (i32.const 0)) (unreachable))
  (func (export "canister_update take")
    (call $accept (i64.const 0) (i64.const 30) (i32.const 200))
    (call $balance (i32.const 216))
    (call $reply_append (i32.const 200) (i32.const 32)) (call $reply))
  (func (export "canister_query cleaned")
    (i32.store (i32.const 300) (global.get $cleaned))
    (call $reply_append (i32.const 300) (i32.const 4)) (call $reply))
"""
)


def test_an_outgoing_call_is_recorded_with_its_callbacks_and_cycles(
    engine: ExecutionEngine, ctx: Ctx
) -> None:
    instance = _install(engine, CALLER, ctx)

    execution = update_call(instance, "call", ctx(cycles_balance=1000))

    effects = execution.outcome.effects
    assert effects.reply is None
    (call,) = effects.calls
    assert (call.callee, call.method, call.arg, call.cycles) == (b"\x01\x02\x03\x04", "m", b"arg", 100)
    assert (call.reply.fun, call.reply.env, call.reject.fun, call.reject.env) == (0, 42, 1, 43)
    assert call.cleanup is not None and (call.cleanup.fun, call.cleanup.env) == (3, 77)
    assert effects.cycles_sent == 100


def test_the_reply_callback_runs_later_with_the_reply(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, CALLER, ctx)
    execution = update_call(instance, "call", ctx(cycles_balance=1000))
    (call,) = execution.outcome.effects.calls
    execution.commit()

    replied = response(instance, call, ctx(), reply=b"pong")
    replied.rollback()
    rejected = response(instance, call, ctx(reject_code=4, reject_message="no"))

    assert replied.outcome.effects.reply == b"pong"
    assert rejected.outcome.effects.reply == b"no"


def test_a_trapping_callback_runs_the_cleanup_and_keeps_only_its_changes(
    engine: ExecutionEngine, ctx: Ctx
) -> None:
    instance = _install(engine, CALLER, ctx)
    execution = update_call(instance, "call_bad", ctx(cycles_balance=1000))
    (call,) = execution.outcome.effects.calls
    execution.commit()

    result = response(instance, call, ctx(), reply=b"pong")

    assert result.outcome.error is not None and result.outcome.error.code == ErrorCode.CANISTER_TRAPPED
    assert result.delta is not None and result.delta.globals == {0: 77}
    result.commit()
    assert _query(instance, "cleaned", ctx) == (77).to_bytes(4, "little")


def test_calls_of_a_trapping_message_are_dropped(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, CALLER, ctx)

    execution = update_call(instance, "call_then_trap", ctx(cycles_balance=1000))

    assert execution.outcome.error is not None
    assert execution.outcome.effects.calls == ()
    assert execution.outcome.effects.cycles_sent == 0


def test_cycles_accepted_show_in_the_balance(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, CALLER, ctx)

    execution = update_call(instance, "take", ctx(cycles_available=50, cycles_balance=1000))

    reply = execution.outcome.effects.reply
    assert reply is not None
    assert int.from_bytes(reply[:16], "little") == 30
    assert int.from_bytes(reply[16:], "little") == 1030
    assert execution.outcome.effects.cycles_accepted == 30


GROWER = wat(
    """
  (func (export "canister_update grow")
    (drop (memory.grow (i32.const 2)))
    (i32.store8 (i32.const 131073) (i32.const 7)) (call $reply))
  (func (export "canister_update grow_trap") (drop (memory.grow (i32.const 2))) (unreachable))
  (func (export "canister_query size")
    (i32.store (i32.const 0) (memory.size)) (call $reply_append (i32.const 0) (i32.const 4)) (call $reply))
  (func (export "canister_query peek") (call $reply_append (i32.const 131073) (i32.const 1)) (call $reply))
"""
)


def test_memory_growth_is_kept_by_an_update_and_dropped_by_a_trap(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, GROWER, ctx)

    trapped = update_call(instance, "grow_trap", ctx())
    assert trapped.outcome.error is not None
    assert _query(instance, "size", ctx) == (1).to_bytes(4, "little")

    grown = update_call(instance, "grow", ctx())
    assert grown.delta is not None and grown.delta.heap_size == 3
    assert list(grown.delta.heap_pages) == [32]
    grown.commit()
    assert _query(instance, "size", ctx) == (3).to_bytes(4, "little")
    assert _query(instance, "peek", ctx) == b"\x07"


def test_the_wasm_memory_limit_fails_an_update_that_grows_past_it(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, GROWER, ctx)

    execution = update_call(instance, "grow", ctx(wasm_memory_limit=2 * 65536))

    error = execution.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_WASM_MEMORY_LIMIT_EXCEEDED
    assert "Canister exceeded its current Wasm memory limit of 131072 bytes." in error.description
    assert _query(instance, "size", ctx) == (1).to_bytes(4, "little")


INSPECTOR = wat(
    """
  (import "ic0" "accept_message" (func $accept))
  (import "ic0" "msg_method_name_size" (func $name_size (result i32)))
  (func (export "canister_inspect_message") (if (i32.eq (call $name_size) (i32.const 2)) (then (call $accept))))
  (func (export "canister_heartbeat") (call $print (i32.const 0) (i32.const 0)))
"""
)


def test_inspect_message_accepts_or_rejects(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, INSPECTOR, ctx)

    accepted = inspect_message(instance, "ok", ctx())
    refused = inspect_message(instance, "nope", ctx())

    assert accepted.outcome.error is None and accepted.outcome.effects.accepted
    assert refused.outcome.error is not None
    assert refused.outcome.error.code == ErrorCode.CANISTER_REJECTED_MESSAGE
    assert refused.outcome.error.description.endswith("Canister rejected the message")


def test_system_tasks_run_if_exported(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = _install(engine, INSPECTOR, ctx)

    heartbeat = system_task(instance, ApiMode.HEARTBEAT, ctx())
    timer = system_task(instance, ApiMode.GLOBAL_TIMER, ctx())

    assert heartbeat.outcome.effects.logs == ("",)
    assert timer.outcome.error is None and timer.outcome.effects.instructions == 0
    heartbeat.commit()


COMPOSITE = wat(
    """
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (global $seen (mut i32) (i32.const 0))
  (table 1 funcref)
  (elem (i32.const 0) $on_reply)
  (data (i32.const 0) "\\01\\02m")
  (func $on_reply (param $env i32)
    (i32.store (i32.const 100) (global.get $seen)) (call $reply_append (i32.const 100) (i32.const 4)) (call $reply))
  (func (export "canister_composite_query ask")
    (global.set $seen (i32.const 5))
    (call $call_new (i32.const 0) (i32.const 2) (i32.const 2) (i32.const 1)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (drop (call $perform)))
  (func (export "canister_query seen")
    (i32.store (i32.const 100) (global.get $seen)) (call $reply_append (i32.const 100) (i32.const 4)) (call $reply))
"""
)


def test_a_composite_query_keeps_its_state_for_its_callbacks_until_the_graph_ends(
    engine: ExecutionEngine, ctx: Ctx
) -> None:
    instance = _install(engine, COMPOSITE, ctx)

    asked = query_call(instance, "ask", ctx())
    (call,) = asked.outcome.effects.calls
    assert asked.speculative and asked.delta is None
    answered = response(instance, call, ctx(), reply=b"", composite=True)
    assert answered.outcome.effects.reply == (5).to_bytes(4, "little")
    answered.rollback()

    assert _query(instance, "seen", ctx) == bytes(4)
