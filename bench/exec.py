"""Execution figures: canister calls through the local IC (persisted, in process) against a bare wasmtime call,
and how a query's latency grows with the heap.  ``python -m bench.exec [--quick]``.

- ``exec_query_us``, ``exec_update_us``: p50 of the Motoko counter's ``get`` (a query: a read transaction, the
  live instance checked against the stored version, the call, the rollback) and ``inc`` (an update: a write
  transaction, the call, its changed pages and globals written and committed with ``synchronous=FULL``) through
  ``LocalIc.query_call`` / ``update_call`` on SQLite in a temporary folder.
- ``exec_bare_call_us``: p50 of calling the counter's ``canister_update inc`` export on a ready wasmtime instance
  with a System API host and nothing else: no transaction, no rollback, no database (a Motoko query cannot be
  repeated without a rollback, it traps "unexpected state entering InQuery", so the bare baseline is the update
  export). Same process, same run.
- ``exec_query_ratio`` = ``exec_query_us`` / ``exec_bare_call_us`` (target <= 10).
- ``exec_heap_ratio``: p50 of a WAT query touching 4 pages through ``LocalIc.query_call``, on a canister with
  256 MiB of written (and stored) Wasm memory over one with 8 MiB (target <= 3).
- ``exec_install_ms``: p50 of ``create_canister`` then ``install_canister`` of the counter through LocalIc
  (module already compiled): instantiation, start, ``canister_init`` and the state written.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import wasmtime

from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.db import IcDatabase
from icp_local.execution import ApiMode, ExecutionEngine, MessageContext
from icp_local.execution.host import SystemApi

HERE = Path(__file__).resolve().parent
COUNTER = HERE.parent / "src" / "canister_factory" / "_data" / "counter.wasm"
CANISTER = bytes.fromhex("00000000000000010101")
MIB = 1024 * 1024
EMPTY = b"DIDL\x00\x00"

HEAP_WAT = """(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (memory 1)
  (func (export "canister_update fill") (local $i i32)
    (call $arg_copy (i32.const 0) (i32.const 0) (i32.const 4))
    (drop (memory.grow (i32.sub (i32.load (i32.const 0)) (memory.size))))
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


@contextmanager
def _local_ic() -> Iterator[LocalIc]:
    """A local IC on SQLite in a temporary folder on the project's disk."""
    with tempfile.TemporaryDirectory(prefix="exec-bench-", dir=HERE) as tmp:
        ic = LocalIc(IcDatabase.open(f"sqlite:///{Path(tmp) / 'ic.sqlite3'}"))
        try:
            yield ic
        finally:
            ic.close()


def _counter(ic: LocalIc) -> Principal:
    canister = ic.create_canister()
    ic.install_canister(canister, COUNTER.read_bytes(), _nat(42))
    return canister


def _bare(engine: ExecutionEngine) -> Callable[[], object]:
    """Calls the counter's ``inc`` export on a ready instance with a host but no rollback, no delta, no commit."""
    installed = engine.install(COUNTER.read_bytes(), MessageContext(CANISTER, arg=_nat(42)))
    instance = installed.instance
    assert instance is not None, installed.outcome.error
    func = instance._exports["canister_update inc"]
    assert isinstance(func, wasmtime.Func)
    ctx = MessageContext(CANISTER, arg=_nat(1))

    def call() -> object:
        host = SystemApi(ApiMode.UPDATE, ctx, instance.stable, 10**10)
        host.attach(instance.store, instance.memory)
        instance._slot.host = host
        instance.store.set_fuel(10**10)
        return func(instance.store)

    return call


def counter_figures(rounds: int) -> dict[str, float]:
    """Query, update, bare call and install of the Motoko counter."""
    with _local_ic() as ic:
        counter = _counter(ic)
        query = _p50_us(lambda: ic.query_call(counter, "get", EMPTY), rounds)
        update = _p50_us(lambda: ic.update_call(counter, "inc", _nat(1)), rounds)
        install = _p50_us(lambda: _counter(ic), max(rounds // 20, 10)) / 1000
    bare = _p50_us(_bare(ExecutionEngine()), rounds)
    return {
        "exec_query_us": round(query, 1),
        "exec_update_us": round(update, 1),
        "exec_bare_call_us": round(bare, 1),
        "exec_query_ratio": round(query / bare, 2),
        "exec_install_ms": round(install, 2),
    }


def _heap_canister(ic: LocalIc, mib: int) -> Principal:
    canister = ic.create_canister()
    ic.install_canister(canister, wasmtime.wat2wasm(HEAP_WAT))
    ic.update_call(canister, "fill", (mib * MIB // 65536).to_bytes(4, "little"))
    return canister


def heap_figures(rounds: int) -> dict[str, float]:
    """The WAT query through LocalIc with an 8 MiB and a 256 MiB written heap."""
    with _local_ic() as ic:
        small, large = _heap_canister(ic, 8), _heap_canister(ic, 256)
        small_us = _p50_us(lambda: ic.query_call(small, "touch"), rounds)
        large_us = _p50_us(lambda: ic.query_call(large, "touch"), rounds)
    return {
        "exec_query_8mib_us": round(small_us, 1),
        "exec_query_256mib_us": round(large_us, 1),
        "exec_heap_ratio": round(large_us / small_us, 2),
    }


def run(quick: bool = False) -> dict[str, float]:
    """All execution figures (``quick``: fewer rounds)."""
    rounds = 200 if quick else 2000
    return {**counter_figures(rounds), **heap_figures(rounds)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.exec", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
