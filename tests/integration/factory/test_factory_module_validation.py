"""commit_upload refuses a module the IC would refuse, naming what is wrong (icp_client.wasm's one validator)."""

from __future__ import annotations

import gzip

import pytest
import wasmtime

from canister_factory._core.errors import InvalidArgument
from canister_factory.service.factory import Factory
from canister_factory.wasm_stream import FULL_CHECK_MAX
from icp_client.principal import Principal
from tests.support.factory import sha256_hex, upload_module
from tests.support.wasm_modules import WASM_HEADER, counter_wasm, custom_section, section


def _commit(factory: Factory, caller: Principal, data: bytes) -> str:
    upload_id = factory.create_upload(caller)
    for index, start in enumerate(range(0, len(data), 1_000_000)):
        factory.put_chunk(caller, upload_id, data[start : start + 1_000_000], index)
    return factory.commit_upload(caller, upload_id, sha256_hex(data))


def _refused(factory: Factory, caller: Principal, data: bytes) -> str:
    with pytest.raises(InvalidArgument) as info:
        _commit(factory, caller, data)
    return str(info.value)


def test_the_counter_and_its_gzip_are_accepted(factory: Factory, alice: Principal) -> None:
    assert _commit(factory, alice, counter_wasm()) == sha256_hex(counter_wasm())
    upload_module(factory, alice, gzip.compress(counter_wasm(), mtime=0))


@pytest.mark.parametrize(
    ("wat", "text"),
    [
        (
            '(module (import "ic0" "msg_reply_v2" (func)))',
            "Module imports function 'msg_reply_v2' from 'ic0'",
        ),
        ('(module (import "env" "time" (func (result i64))))', 'expected to be imported from one of ["ic0"]'),
        (
            '(module (func $f (param i32)) (export "canister_update go" (func $f)))',
            "Expected input params []",
        ),
        (
            '(module (func $f) (export "canister_mine" (func $f)))',
            "Exporting reserved function 'canister_mine'",
        ),
    ],
)
def test_a_module_breaking_the_ics_rules_is_refused_at_commit(
    factory: Factory, alice: Principal, wat: str, text: str
) -> None:
    message = _refused(factory, alice, wasmtime.wat2wasm(wat))
    assert message.startswith("the IC would refuse this module: ") and text in message


def test_code_that_does_not_validate_is_refused_at_commit(factory: Factory, alice: Principal) -> None:
    types, functions = section(1, b"\x01\x60\x00\x00"), section(3, b"\x01\x00")
    code = section(10, b"\x01\x03\x00\x6a\x0b")  # i32.add on an empty stack
    message = _refused(factory, alice, WASM_HEADER + types + functions + code)
    assert "Wasmtime failed to validate wasm module" in message


def test_a_header_followed_by_zeros_is_refused(factory: Factory, alice: Principal) -> None:
    assert "custom section name length" in _refused(factory, alice, WASM_HEADER + bytes(64))


def test_seventeen_metadata_sections_are_refused(factory: Factory, alice: Principal) -> None:
    many = WASM_HEADER + b"".join(custom_section(f"icp:public s{i}", b"") for i in range(17))
    assert "17 custom sections which exceeds the maximum number allowed 16" in _refused(factory, alice, many)


def test_a_module_too_big_to_hold_gets_the_streamed_checks_only(factory: Factory, alice: Principal) -> None:
    bad_import = wasmtime.wat2wasm('(module (import "ic0" "nope" (func)))')
    padded = bad_import + custom_section("padding", bytes(FULL_CHECK_MAX))
    assert _commit(factory, alice, padded) == sha256_hex(padded)  # the IC refuses it at install instead
