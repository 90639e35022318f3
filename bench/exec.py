"""Execution core figures: message latency through the engine against a bare wasmtime call, and how a
query's latency grows with the heap.  ``python -m bench.exec [--quick]``.

- ``exec_query_us``, ``exec_update_us``: p50 of the counter's ``get`` (query, rolled back) and ``inc``
  (update, delta collected and committed) through :mod:`icp_local.execution`.
- ``exec_bare_call_us``: p50 of calling ``canister_update inc`` on a ready instance with no transaction
  at all (a Motoko query cannot be repeated without rollback: it traps "unexpected state entering
  InQuery", so the bare baseline is the update export).
- ``exec_query_ratio`` = ``exec_query_us`` / ``exec_bare_call_us`` (target <= 10).
- ``exec_wat_query_ratio``: the same for a WAT query touching 4 pages, against the same export called bare.
- ``exec_heap_ratio``: p50 of that WAT query with 256 MiB of written heap over 8 MiB (target <= 3).
- ``exec_install_ms``: p50 of installing the counter (module already compiled).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import wasmtime

from icp_local.execution import (
    ApiMode,
    CanisterInstance,
    ExecutionEngine,
    MessageContext,
    query_call,
    update_call,
)
from icp_local.execution.host import SystemApi

COUNTER = Path(__file__).resolve().parents[1] / "src" / "canister_factory" / "_data" / "counter.wasm"
CANISTER = bytes.fromhex("00000000000000010101")
MIB = 1024 * 1024

HEAP_WAT = """(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (memory 1)
  (func (export "canister_update fill") (param) (local $i i32) (local $pages i32)
    (local.set $pages (i32.sub (i32.load (i32.const 0)) (memory.size)))
    (drop (memory.grow (local.get $pages)))
    (local.set $i (i32.const 65536))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.mul (memory.size) (i32.const 65536))))
      (i32.store8 (local.get $i) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 4096)))
      (br $next)))
    (call $reply))
  (func (export "canister_query touch")
    (i32.store (i32.const 4096) (i32.const 1)) (i32.store (i32.const 8192) (i32.const 2))
    (i32.store (i32.const 12288) (i32.const 3)) (i32.store (i32.const 40000) (i32.const 4))
    (call $append (i32.const 4096) (i32.const 8)) (call $reply)))"""


def _p50_us(action: Callable[[], object], rounds: int) -> float:
    for _ in range(min(rounds, 20)):
        action()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def _nat(value: int) -> bytes:
    return b"DIDL\x00\x01\x7d" + bytes([value])


def _counter(engine: ExecutionEngine) -> CanisterInstance:
    installed = engine.install(COUNTER.read_bytes(), MessageContext(CANISTER, arg=_nat(42)))
    assert installed.instance is not None, installed.outcome.error
    return installed.instance


def _bare(
    instance: CanisterInstance, export: str, mode: ApiMode, ctx: MessageContext
) -> Callable[[], object]:
    """Calls ``export`` on the ready instance with a host but no rollback, no delta, no commit."""
    func = instance._exports[export]
    assert isinstance(func, wasmtime.Func)

    def call() -> object:
        host = SystemApi(mode, ctx, instance.stable, 10**10)
        host.attach(instance.store, instance.memory)
        instance._slot.host = host
        instance.store.set_fuel(10**10)
        return func(instance.store)

    return call


def _update(instance: CanisterInstance, ctx: MessageContext) -> None:
    execution = update_call(instance, "inc", ctx)
    assert execution.outcome.error is None
    execution.commit()


def counter_figures(engine: ExecutionEngine, rounds: int) -> dict[str, float]:
    """Query, update, bare call and install of the Motoko counter."""
    instance = _counter(engine)
    query_ctx = MessageContext(CANISTER, arg=b"DIDL\x00\x00")
    inc_ctx = MessageContext(CANISTER, arg=_nat(1))
    query = _p50_us(lambda: query_call(instance, "get", query_ctx), rounds)
    update = _p50_us(lambda: _update(instance, inc_ctx), rounds)
    bare = _p50_us(_bare(_counter(engine), "canister_update inc", ApiMode.UPDATE, inc_ctx), rounds)
    install = _p50_us(lambda: _counter(engine).close(), max(rounds // 20, 10)) / 1000
    return {
        "exec_query_us": round(query, 1),
        "exec_update_us": round(update, 1),
        "exec_bare_call_us": round(bare, 1),
        "exec_query_ratio": round(query / bare, 2),
        "exec_install_ms": round(install, 2),
    }


def _heap_instance(engine: ExecutionEngine, mib: int) -> CanisterInstance:
    installed = engine.install(wasmtime.wat2wasm(HEAP_WAT), MessageContext(CANISTER))
    instance = installed.instance
    assert instance is not None and instance.memory is not None
    instance.memory.write(instance.store, (mib * MIB // 65536).to_bytes(4, "little"), 0)
    fill = update_call(instance, "fill", MessageContext(CANISTER))
    assert fill.outcome.error is None and fill.delta is not None
    fill.commit()
    return instance


def heap_figures(engine: ExecutionEngine, rounds: int) -> dict[str, float]:
    """The WAT query with an 8 MiB and a 256 MiB written heap, and its bare call."""
    ctx = MessageContext(CANISTER)
    small = _heap_instance(engine, 8)
    large = _heap_instance(engine, 256)
    small_us = _p50_us(lambda: query_call(small, "touch", ctx), rounds)
    large_us = _p50_us(lambda: query_call(large, "touch", ctx), rounds)
    bare = _p50_us(_bare(small, "canister_query touch", ApiMode.NON_REPLICATED_QUERY, ctx), rounds)
    small.close()
    large.close()
    return {
        "exec_wat_query_8mib_us": round(small_us, 1),
        "exec_wat_query_256mib_us": round(large_us, 1),
        "exec_wat_bare_call_us": round(bare, 1),
        "exec_wat_query_ratio": round(small_us / bare, 2),
        "exec_heap_ratio": round(large_us / small_us, 2),
    }


def run(quick: bool = False) -> dict[str, float]:
    """All execution figures (``quick``: fewer rounds)."""
    engine = ExecutionEngine()
    rounds = 200 if quick else 2000
    return {**counter_figures(engine, rounds), **heap_figures(engine, rounds)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.exec", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
