"""A Motoko canister calling the Motoko counter: 64-bit callbacks through the table, traps, Regions.

``examples/exec_caller/caller.wasm`` (built from ``Main.mo`` beside it) calls ``inc`` on the canister
``rrkah-fqaaa-aaaaa-aaaaq-cai``; the test plays the router: it delivers the call to the counter and
the counter's reply back to the caller's callback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from icp_local.execution import (
    CanisterInstance,
    ErrorCode,
    ExecutionEngine,
    MessageContext,
    UpgradeOptions,
    WasmMemoryPersistence,
    query_call,
    response,
    update_call,
)
from tests.unit.local_ic.execution.conftest import CANISTER_ID, EMPTY_ARGS, decode_nat, nat_arg

Ctx = Callable[..., MessageContext]
CALLER_WASM = Path(__file__).resolve().parents[4] / "examples" / "exec_caller" / "caller.wasm"
CALLER_ID = bytes.fromhex("00000000000000020101")


@pytest.fixture
def counter(engine: ExecutionEngine, counter_wasm: bytes, ctx: Ctx) -> CanisterInstance:
    installed = engine.install(counter_wasm, ctx(arg=nat_arg(42)))
    assert installed.instance is not None
    return installed.instance


@pytest.fixture
def caller(engine: ExecutionEngine, ctx: Ctx) -> CanisterInstance:
    installed = engine.install(CALLER_WASM.read_bytes(), ctx(canister_id=CALLER_ID, arg=EMPTY_ARGS))
    assert installed.instance is not None, installed.outcome.error
    return installed.instance


def _as_caller(ctx: Ctx, **fields: object) -> MessageContext:
    return ctx(canister_id=CALLER_ID, cycles_balance=10**12, **fields)


def test_a_call_to_another_canister_and_its_reply_callback(
    counter: CanisterInstance, caller: CanisterInstance, ctx: Ctx
) -> None:
    started = update_call(caller, "call_inc", _as_caller(ctx, arg=nat_arg(5)))
    assert started.outcome.error is None and started.outcome.effects.reply is None
    (call,) = started.outcome.effects.calls
    assert (call.callee, call.method) == (CANISTER_ID, "inc")
    started.commit()

    delivered = update_call(counter, "inc", ctx(arg=call.arg, caller=CALLER_ID))
    assert decode_nat(delivered.outcome.effects.reply) == 47
    delivered.commit()

    answered = response(caller, call, _as_caller(ctx), reply=delivered.outcome.effects.reply)
    assert answered.outcome.error is None
    assert decode_nat(answered.outcome.effects.reply) == 47
    answered.commit()
    assert (
        decode_nat(query_call(caller, "get_last", _as_caller(ctx, arg=EMPTY_ARGS)).outcome.effects.reply)
        == 47
    )


def test_a_rejected_call_makes_the_motoko_method_reject(caller: CanisterInstance, ctx: Ctx) -> None:
    started = update_call(caller, "call_inc", _as_caller(ctx, arg=nat_arg(5)))
    (call,) = started.outcome.effects.calls
    started.commit()

    answered = response(caller, call, _as_caller(ctx, reject_code=3, reject_message="no such canister"))

    assert answered.outcome.error is None
    assert (
        answered.outcome.effects.reject is not None and "no such canister" in answered.outcome.effects.reject
    )


def test_a_motoko_trap_keeps_nothing(caller: CanisterInstance, ctx: Ctx) -> None:
    trapped = update_call(caller, "boom", _as_caller(ctx, arg=EMPTY_ARGS))

    error = trapped.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_CALLED_TRAP
    assert "'boom'" in error.description
    assert (
        decode_nat(query_call(caller, "get_last", _as_caller(ctx, arg=EMPTY_ARGS)).outcome.effects.reply) == 0
    )


def test_a_region_in_stable_memory_survives_an_upgrade(
    engine: ExecutionEngine, caller: CanisterInstance, ctx: Ctx
) -> None:
    saved = update_call(caller, "save", _as_caller(ctx, arg=b"DIDL\x00\x01\x78" + (77).to_bytes(8, "little")))
    assert saved.outcome.error is None and saved.delta is not None
    assert saved.delta.stable_pages  # the Region lives in stable memory
    saved.commit()
    options = UpgradeOptions(wasm_memory_persistence=WasmMemoryPersistence.KEEP)

    upgraded = engine.upgrade(caller, CALLER_WASM.read_bytes(), _as_caller(ctx, arg=EMPTY_ARGS), options)

    assert upgraded.instance is not None, upgraded.outcome.error
    loaded = query_call(upgraded.instance, "load", _as_caller(ctx, arg=EMPTY_ARGS)).outcome.effects.reply
    assert loaded is not None and loaded.endswith((77).to_bytes(8, "little"))
