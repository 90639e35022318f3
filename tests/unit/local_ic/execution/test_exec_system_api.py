"""The System API table, the host's coverage of it, and individual functions on both pointer widths."""

from __future__ import annotations

import ctypes
import mmap
import os
from collections.abc import Callable

import pytest
import wasmtime

from icp_local.execution import (
    ApiMode,
    CanisterInstance,
    ErrorCode,
    ExecutionEngine,
    MessageContext,
    pagemap,
    query_call,
    update_call,
)
from icp_local.execution.api_table import API, allowed, signature
from icp_local.execution.host import SystemApi
from tests.unit.local_ic.execution.conftest import CONTROLLER, wat

Ctx = Callable[..., MessageContext]


def test_every_api_function_has_a_host_method() -> None:
    missing = [name for name in API if not hasattr(SystemApi, f"ic0_{name}")]

    assert missing == []


def test_the_availability_table_follows_the_specification() -> None:
    assert allowed(API["msg_reply"], ApiMode.UPDATE)
    assert not allowed(API["msg_reply"], ApiMode.INIT)
    assert allowed(API["call_new"], ApiMode.COMPOSITE_QUERY)
    assert not allowed(API["call_new"], ApiMode.NON_REPLICATED_QUERY)
    assert allowed(API["stable64_read"], ApiMode.START)
    assert not allowed(API["time"], ApiMode.START)
    assert allowed(API["msg_caller_size"], ApiMode.POST_UPGRADE)
    assert not allowed(API["global_timer_set"], ApiMode.COMPOSITE_REPLY_CALLBACK)


def _import_everything(is64: bool) -> str:
    lines = []
    for name, function in API.items():
        if function.only32 and is64:
            continue
        wasm_type = signature(function, is64)
        params = " ".join(wasm_type.params)
        results = " ".join(wasm_type.results)
        lines.append(
            f'(import "ic0" "{name}" (func (param {params}) (result {results})))'.replace(
                "(param )", ""
            ).replace("(result )", "")
        )
    memory = "(memory i64 1)" if is64 else "(memory 1)"
    return f'(module {" ".join(lines)} {memory} (func (export "canister_update x")))'


@pytest.mark.parametrize("is64", [False, True])
def test_a_module_importing_the_whole_api_installs(engine: ExecutionEngine, ctx: Ctx, is64: bool) -> None:
    installed = engine.install(wasmtime.wat2wasm(_import_everything(is64)), ctx())

    assert installed.ok, installed.outcome.error


PROBE = wat(
    """
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (import "ic0" "time" (func $time (result i64)))
  (import "ic0" "performance_counter" (func $perf (param i32) (result i64)))
  (import "ic0" "is_controller" (func $is_controller (param i32 i32) (result i32)))
  (import "ic0" "in_replicated_execution" (func $replicated (result i32)))
  (import "ic0" "canister_version" (func $version (result i64)))
  (import "ic0" "certified_data_set" (func $certify (param i32 i32)))
  (import "ic0" "data_certificate_present" (func $cert_present (result i32)))
  (import "ic0" "env_var_count" (func $env_count (result i32)))
  (import "ic0" "msg_caller_copy" (func $caller_copy (param i32 i32 i32)))
  (import "ic0" "msg_caller_size" (func $caller_size (result i32)))
  (import "ic0" "canister_cycle_balance" (func $balance (result i64)))
  (func (export "canister_query facts")
    (call $self_copy (i32.const 0) (i32.const 0) (call $self_size))
    (i64.store (i32.const 100) (call $time))
    (i64.store (i32.const 108) (call $perf (i32.const 0)))
    (call $caller_copy (i32.const 200) (i32.const 0) (call $caller_size))
    (i32.store (i32.const 116) (call $is_controller (i32.const 200) (call $caller_size)))
    (i32.store (i32.const 120) (call $replicated))
    (i64.store (i32.const 124) (call $version))
    (i32.store (i32.const 132) (call $cert_present))
    (i32.store (i32.const 136) (call $env_count))
    (i64.store (i32.const 140) (call $balance))
    (call $reply_append (i32.const 0) (i32.const 204)) (call $reply))
  (func (export "canister_update certify") (call $certify (i32.const 0) (i32.const 4)) (call $reply))
  (func (export "canister_update certify_too_much") (call $certify (i32.const 0) (i32.const 33)))
  (func (export "canister_update bad_counter") (drop (call $perf (i32.const 9))))
"""
)


def test_the_probe_sees_the_context(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = CanisterInstance(engine.engine, engine.prepare(PROBE))
    context = ctx(
        time_ns=123, canister_version=4, env_vars=(("A", "1"),), cycles_balance=77, certificate=b"c"
    )

    reply = query_call(instance, "facts", context).outcome.effects.reply

    assert reply is not None
    assert reply[:10] == context.canister_id
    assert int.from_bytes(reply[100:108], "little") == 123
    assert 0 < int.from_bytes(reply[108:116], "little") < 1000
    assert int.from_bytes(reply[116:120], "little") == 1  # the caller is a controller
    assert int.from_bytes(reply[120:124], "little") == 0  # a query call is not replicated
    assert int.from_bytes(reply[124:132], "little") == 4
    assert int.from_bytes(reply[132:136], "little") == 1
    assert int.from_bytes(reply[136:140], "little") == 1
    assert int.from_bytes(reply[140:148], "little") == 77
    assert reply[200 : 200 + len(CONTROLLER)] == CONTROLLER


def test_certified_data_is_an_effect_and_limited_to_32_bytes(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = CanisterInstance(engine.engine, engine.prepare(PROBE))

    certified = update_call(instance, "certify", ctx())
    certified.commit()
    too_much = update_call(instance, "certify_too_much", ctx())

    assert certified.outcome.effects.certified_data == b"\x00\x00\x00\x00"
    error = too_much.outcome.error
    assert error is not None and error.code == ErrorCode.CANISTER_CONTRACT_VIOLATION
    assert (
        "ic0_certified_data_set failed because the passed data must be no larger than 32 bytes. Found 33"
        in (error.description)
    )


def test_an_unknown_performance_counter_traps(engine: ExecutionEngine, ctx: Ctx) -> None:
    instance = CanisterInstance(engine.engine, engine.prepare(PROBE))

    execution = update_call(instance, "bad_counter", ctx())

    assert execution.outcome.error is not None
    assert "Error getting performance counter type 9" in execution.outcome.error.description


def test_signed_i64_pointers_are_masked_and_bounds_checked(engine: ExecutionEngine, ctx: Ctx) -> None:
    module = wasmtime.wat2wasm(
        """(module (import "ic0" "msg_arg_data_copy" (func $copy (param i64 i64 i64))) (memory i64 1)
           (func (export "canister_update x") (call $copy (i64.const -1) (i64.const 0) (i64.const 1))))"""
    )
    instance = CanisterInstance(engine.engine, engine.prepare(module))

    execution = update_call(instance, "x", ctx(arg=b"a"))

    assert execution.outcome.error is not None
    assert (
        "src=18446744073709551615 + length=1 exceeds the slice size=65536"
        in execution.outcome.error.description
    )


def test_the_pagemap_fallback_finds_the_same_written_pages() -> None:
    fd = os.memfd_create("test")
    os.ftruncate(fd, 64 * mmap.PAGESIZE)
    area = mmap.mmap(-1, 64 * mmap.PAGESIZE)
    base = ctypes.addressof(ctypes.c_char.from_buffer(area))
    try:
        pagemap.map_file_private(base, 64 * mmap.PAGESIZE, fd, 0)
        for page in (3, 4, 40):
            ctypes.memset(base + page * mmap.PAGESIZE + 7, 1, 1)
        _ = ctypes.string_at(base + 10 * mmap.PAGESIZE, 1)  # a read is not a write

        assert pagemap.written_pages(base, 64 * mmap.PAGESIZE) == [3, 4, 40]
        assert pagemap._scan_proc(base, 64 * mmap.PAGESIZE) == [3, 4, 40]
        pagemap.discard(base + 3 * mmap.PAGESIZE, 2 * mmap.PAGESIZE)
        assert pagemap.written_pages(base, 64 * mmap.PAGESIZE) == [40]
    finally:
        os.close(fd)
