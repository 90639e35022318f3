"""The execution core on the real Motoko counter (memory64, enhanced orthogonal persistence)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from icp_local.execution import (
    CanisterInstance,
    ErrorCode,
    ExecutionEngine,
    MessageContext,
    RejectCode,
    UpgradeOptions,
    WasmMemoryPersistence,
    query_call,
    update_call,
)
from tests.unit.local_ic.execution.conftest import CONTROLLER, EMPTY_ARGS, decode_nat, nat_arg

Ctx = Callable[..., MessageContext]


def _installed(engine: ExecutionEngine, wasm: bytes, ctx: Ctx, start: int = 42) -> CanisterInstance:
    installed = engine.install(wasm, ctx(arg=nat_arg(start)))
    assert installed.outcome.error is None
    assert installed.instance is not None
    return installed.instance


def _get(instance: CanisterInstance, ctx: Ctx) -> int:
    execution = query_call(instance, "get", ctx(arg=EMPTY_ARGS))
    assert execution.outcome.error is None
    assert execution.delta is None
    return decode_nat(execution.outcome.effects.reply)


def _inc(instance: CanisterInstance, ctx: Ctx, by: int) -> int:
    execution = update_call(instance, "inc", ctx(arg=nat_arg(by)))
    assert execution.outcome.error is None
    execution.commit()
    return decode_nat(execution.outcome.effects.reply)


def test_init_with_42_then_get_returns_42(engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx) -> None:
    instance = _installed(engine, counter_wasm, ctx)

    assert _get(instance, ctx) == 42


def test_install_returns_the_whole_state(engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx) -> None:
    installed = engine.install(counter_wasm, ctx(arg=nat_arg(42)))

    assert installed.state is not None
    assert installed.state.heap_size >= 65
    assert installed.state.heap_pages
    assert installed.outcome.effects.instructions > 0


def test_inc_persists_and_reports_its_delta(engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx) -> None:
    instance = _installed(engine, counter_wasm, ctx)
    execution = update_call(instance, "inc", ctx(arg=nat_arg(5)))

    assert decode_nat(execution.outcome.effects.reply) == 47
    assert execution.delta is not None and execution.pending
    assert 0 < len(execution.delta.heap_pages) < 64
    assert all(len(page) == 4096 for page in execution.delta.heap_pages.values())
    execution.commit()
    assert _get(instance, ctx) == 47
    assert _inc(instance, ctx, 3) == 50


def test_an_update_rolled_back_by_the_router_leaves_no_change(
    engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx
) -> None:
    instance = _installed(engine, counter_wasm, ctx)
    execution = update_call(instance, "inc", ctx(arg=nat_arg(5)))

    execution.rollback()

    assert _get(instance, ctx) == 42
    assert _inc(instance, ctx, 1) == 43


def test_queries_change_nothing_and_a_second_query_works(
    engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx
) -> None:
    instance = _installed(engine, counter_wasm, ctx)

    results = [_get(instance, ctx) for _ in range(5)]

    assert results == [42] * 5
    assert instance.heap is not None and instance.heap.written() == []
    assert _inc(instance, ctx, 1) == 43


def test_whoami_sees_the_caller(engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx) -> None:
    instance = _installed(engine, counter_wasm, ctx)

    execution = query_call(instance, "whoami", ctx(arg=EMPTY_ARGS, caller=CONTROLLER))

    reply = execution.outcome.effects.reply
    assert reply is not None and reply.endswith(bytes([len(CONTROLLER)]) + CONTROLLER)


def test_an_update_call_to_a_query_runs_it_replicated_and_keeps_nothing(
    engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx
) -> None:
    instance = _installed(engine, counter_wasm, ctx)

    execution = update_call(instance, "get", ctx(arg=EMPTY_ARGS))

    assert decode_nat(execution.outcome.effects.reply) == 42
    assert execution.delta is None


def test_unknown_methods_are_ic0536(engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx) -> None:
    instance = _installed(engine, counter_wasm, ctx)

    update = update_call(instance, "nope", ctx())
    query = query_call(instance, "inc", ctx())

    assert (
        update.outcome.error is not None and update.outcome.error.code == ErrorCode.CANISTER_METHOD_NOT_FOUND
    )
    assert "Canister has no update method 'nope'." in update.outcome.error.description
    assert query.outcome.error is not None and "has no query method 'inc'" in query.outcome.error.description


@pytest.mark.parametrize("arg", [b"DIDL\x00\x01\x71\x02hi", b"", b"not candid"])
def test_a_wrongly_typed_init_argument_fails_the_install(
    engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx, arg: bytes
) -> None:
    installed = engine.install(counter_wasm, ctx(arg=arg))

    assert not installed.ok and installed.state is None
    error = installed.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_CALLED_TRAP
    assert error.reject_code == RejectCode.CANISTER_ERROR
    assert error.description.startswith(
        "Error from Canister rrkah-fqaaa-aaaaa-aaaaq-cai: Canister called `ic0.trap`"
    )


def test_a_trapping_update_leaves_no_change(engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx) -> None:
    instance = _installed(engine, counter_wasm, ctx)

    execution = update_call(instance, "inc", ctx(arg=b"DIDL\x00\x01\x71\x01x"))

    assert execution.outcome.error is not None
    assert execution.outcome.error.code == ErrorCode.CANISTER_CALLED_TRAP
    assert execution.delta is None
    assert execution.outcome.effects.logs  # the trap message is logged
    assert instance.heap is not None and instance.heap.written() == []
    assert _get(instance, ctx) == 42
    assert _inc(instance, ctx, 2) == 44


def test_out_of_instructions_is_ic0522_and_rolls_back(
    engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx
) -> None:
    instance = _installed(engine, counter_wasm, ctx)

    execution = update_call(instance, "inc", ctx(arg=nat_arg(1), instruction_limit=500))

    error = execution.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_INSTRUCTION_LIMIT_EXCEEDED
    assert (
        "Canister exceeded the limit of 500 instructions for single message execution." in error.description
    )
    assert _get(instance, ctx) == 42


def test_a_stored_state_loads_into_a_new_instance(
    engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx
) -> None:
    installed = engine.install(counter_wasm, ctx(arg=nat_arg(42)))
    assert installed.instance is not None and installed.state is not None
    state = installed.state
    for by in (1, 2, 3):
        execution = update_call(installed.instance, "inc", ctx(arg=nat_arg(by)))
        assert execution.delta is not None
        state = state.apply(execution.delta)
        execution.commit()

    reloaded = engine.load(counter_wasm, state)

    assert _get(reloaded, ctx) == 48
    assert _inc(reloaded, ctx, 2) == 50


def test_an_eop_upgrade_without_the_persistence_option_is_refused(
    engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx
) -> None:
    instance = _installed(engine, counter_wasm, ctx)

    upgraded = engine.upgrade(instance, counter_wasm, ctx(arg=nat_arg(0)))

    error = upgraded.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_CONTRACT_VIOLATION
    assert error.description == (
        "Missing upgrade option: Enhanced orthogonal persistence requires the `wasm_memory_persistence` "
        "upgrade option."
    )
    assert _get(instance, ctx) == 42


def test_an_eop_upgrade_keeping_the_memory_keeps_the_count(
    engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx
) -> None:
    instance = _installed(engine, counter_wasm, ctx)
    _inc(instance, ctx, 8)
    options = UpgradeOptions(wasm_memory_persistence=WasmMemoryPersistence.KEEP)

    upgraded = engine.upgrade(instance, counter_wasm, ctx(arg=nat_arg(0)), options)

    assert upgraded.outcome.error is None and upgraded.instance is not None
    assert _get(upgraded.instance, ctx) == 50
    assert _inc(upgraded.instance, ctx, 1) == 51


def test_an_eop_upgrade_replacing_the_memory_drops_the_heap_state(
    engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx
) -> None:
    instance = _installed(engine, counter_wasm, ctx)
    options = UpgradeOptions(wasm_memory_persistence=WasmMemoryPersistence.REPLACE)

    upgraded = engine.upgrade(instance, counter_wasm, ctx(arg=nat_arg(7)), options)

    # The Wasm memory is discarded: the actor starts again from the upgrade argument.
    assert upgraded.outcome.error is None and upgraded.instance is not None
    assert _get(upgraded.instance, ctx) == 7
