"""Module validation in the replica's words, and the binary rewriting the engine relies on."""

from __future__ import annotations

import gzip

import pytest
import wasmtime

from icp_client.wasm import parse
from icp_local.execution import ErrorCode, ExecutionEngine, ModuleError
from icp_local.execution.validation import check
from icp_local.execution.wasm_binary import EXPORT_START, rewrite


def _error(engine: ExecutionEngine, text: str) -> str:
    with pytest.raises(ModuleError) as info:
        engine.prepare(wasmtime.wat2wasm(text))
    assert info.value.error.code == ErrorCode.CANISTER_INVALID_WASM
    return info.value.error.what


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (
            '(module (import "ic0" "nope" (func)))',
            "Canister's Wasm module is not valid: Wasm module has an invalid import section. Module imports "
            "function 'nope' from 'ic0' that is not exported by the runtime.",
        ),
        (
            '(module (import "env" "msg_reply" (func)))',
            'Module imports function "msg_reply" from "env", expected to be imported from one of ["ic0"] instead.',
        ),
        (
            '(module (import "ic0" "msg_reply" (func (param i32))))',
            "Wasm module has an invalid function signature. Expected input params [] for 'msg_reply', got [I32].",
        ),
        (
            '(module (import "ic0" "msg_arg_data_size" (func (result i32))) (memory i64 1))',
            "Expected return type [I64] for 'msg_arg_data_size', got [I32].",
        ),
        (
            '(module (import "ic0" "stable_size" (func (result i32))) (memory i64 1))',
            "Module imports function 'stable_size' from 'ic0' that is not exported by the runtime.",
        ),
        (
            '(module (func $f) (export "canister_update a" (func $f)) (export "canister_query a" (func $f)))',
            "Duplicate function 'a' exported multiple times with different call types: update, query, or "
            "composite_query.",
        ),
        (
            '(module (func $f) (export "canister_foo" (func $f)))',
            "Exporting reserved function 'canister_foo' with \"canister_\" prefix",
        ),
        (
            '(module (func $f) (export "canister_start" (func $f)))',
            "Exporting reserved symbol canister_start not allowed.",
        ),
        (
            '(module (func $f (param i32)) (export "canister_init" (func $f)))',
            "Expected input params [] for 'canister_init', got [I32].",
        ),
        ("(module (memory 1) (memory 1))", "Wasm module has 2 memory sections but should have had 1"),
        (
            '(module (@custom "icp:secret x" "a"))',
            "Custom section 'icp:secret x' has no public/private scope",
        ),
        (
            '(module (@custom "icp:public a" "1") (@custom "icp:private a" "2"))',
            "Invalid custom section: name a already exists",
        ),
    ],
)
def test_invalid_modules_are_refused_with_the_replica_text(
    engine: ExecutionEngine, module: str, expected: str
) -> None:
    assert expected in _error(engine, module)


def test_too_many_globals_is_refused(engine: ExecutionEngine) -> None:
    globals_ = " ".join("(global i32 (i32.const 0))" for _ in range(1001))

    assert "Wasm module defined 1001 globals which exceeds the maximum number allowed 1000." in _error(
        engine, f"(module {globals_})"
    )


def test_too_many_custom_sections_is_refused(engine: ExecutionEngine) -> None:
    sections = " ".join(f'(@custom "icp:public s{i}" "x")' for i in range(17))

    assert "17 custom sections which exceeds the maximum number allowed 16." in _error(
        engine, f"(module {sections})"
    )


def test_what_wasmtime_refuses_is_a_validation_error(engine: ExecutionEngine) -> None:
    with pytest.raises(ModuleError) as info:
        engine.prepare(b"\x00asm\x01\x00\x00\x00\x01\x05\x01\x60\x00\x01")

    assert "Canister's Wasm module is not valid:" in info.value.error.what


def test_gzipped_modules_are_accepted(engine: ExecutionEngine) -> None:
    raw = wasmtime.wat2wasm('(module (func (export "canister_update x")))')

    prepared = engine.prepare(gzip.compress(raw))

    assert prepared.info.updates == {"x"}


def test_the_rewrite_exports_start_memory_and_mutable_globals() -> None:
    raw = wasmtime.wat2wasm(
        """(module (memory 1) (global (mut i32) (i32.const 1)) (global i32 (i32.const 2))
           (func $s) (start $s) (func (export "canister_update x")))"""
    )
    checked = check(raw)
    info = checked.facts

    rewritten = parse(rewrite(raw, checked.parsed))

    names = {name for name, _, _ in rewritten.exports}
    assert {EXPORT_START, "canister memory", "canister global 0", "canister_update x"} <= names
    assert "canister global 1" not in names
    assert rewritten.start is None
    assert info.has_start and info.mutable_globals == (0,)


def test_the_counter_is_a_64_bit_eop_module(engine: ExecutionEngine, counter_wasm: bytes) -> None:
    info = engine.prepare(counter_wasm).info

    assert info.is64 and info.enhanced_persistence and info.has_start
    assert {"inc"} <= info.updates and {"get", "whoami"} <= info.queries
    assert "canister_init" in info.system
