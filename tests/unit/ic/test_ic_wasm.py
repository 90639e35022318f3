"""icp_client.wasm: the one section walker, the IC's rules on a module, and validate_canister_module."""

from __future__ import annotations

import gzip

import pytest
import wasmtime

from icp_client.errors import InvalidModule
from icp_client.wasm import (
    MAX_WASM_SIZE,
    SectionWalker,
    WasmFormatError,
    inspect_module,
    module_hash,
    validate_canister_module,
    walk,
)
from tests.support.wasm_modules import WASM_HEADER, counter_wasm, custom_section, section

COUNTER_METHODS = {"get", "inc", "whoami", "__motoko_stable_var_info"}


def module(*sections: bytes) -> bytes:
    return WASM_HEADER + b"".join(sections)


def test_the_counter_is_valid_and_its_facts_are_read() -> None:
    checked = validate_canister_module(counter_wasm())
    facts = checked.facts
    assert checked.module_hash == module_hash(counter_wasm()) and not checked.compressed
    assert facts.is64 and facts.enhanced_persistence and facts.has_start
    assert facts.methods >= COUNTER_METHODS
    assert {"canister_init", "canister_pre_upgrade", "canister_post_upgrade"} <= facts.system
    sections = {name: (public, payload) for name, public, payload in facts.custom_sections}
    assert sections["candid:args"] == (True, b"(init:\nnat)")
    assert sections["enhanced-orthogonal-persistence"][0] is False


def test_a_gzipped_module_is_hashed_as_given_and_checked_decompressed() -> None:
    compressed = gzip.compress(counter_wasm(), mtime=0)
    checked = validate_canister_module(compressed)
    assert checked.compressed and checked.wasm == counter_wasm()
    assert checked.module_hash == module_hash(compressed) != module_hash(counter_wasm())


def test_walking_in_pieces_finds_the_same_sections() -> None:
    whole = walk(counter_wasm())
    walker = SectionWalker()
    data = counter_wasm()
    for start in range(0, len(data), 997):
        walker.feed(data[start : start + 997])
    assert walker.finish() == whole
    assert [s.id for s in whole if s.id] == sorted(
        (s.id for s in whole if s.id), key=[1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11].index
    )


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (WASM_HEADER + bytes(8), "custom section name length at offset 10 is cut off"),
        (b"\x00asm\x02\x00\x00\x00", "unsupported Wasm version 2"),
        (module(section(1, b"\x01\x60\x00")), "unexpected end of data"),
        (module(section(2, b"\x01\x03ic0\x04nope\x00")), "unexpected end"),
        (gzip.compress(WASM_HEADER)[:-3], "truncated gzip module"),
    ],
)
def test_malformed_modules_are_format_errors(data: bytes, text: str) -> None:
    with pytest.raises(WasmFormatError, match=text):
        inspect_module(data)


@pytest.mark.parametrize(
    ("wat", "text"),
    [
        ('(module (import "ic0" "nope" (func)))', "that is not exported by the runtime"),
        ("(module (memory 1) (memory 1))", "has 2 memory sections"),
        (
            '(module (func $f) (export "canister_update a" (func $f)) (export "canister_query a" (func $f)))',
            "Duplicate",
        ),
        ('(module (@custom "icp:secret x" "a"))', "no public/private scope"),
    ],
)
def test_the_ics_rules_refuse_with_the_replica_text(wat: str, text: str) -> None:
    with pytest.raises(InvalidModule, match=text) as info:
        validate_canister_module(wasmtime.wat2wasm(wat))
    assert not isinstance(info.value, WasmFormatError)


def test_seventeen_icp_sections_are_refused() -> None:
    many = module(*(custom_section(f"icp:public s{i}", b"") for i in range(17)))
    with pytest.raises(InvalidModule, match="Wasm module defined 17 custom sections"):
        validate_canister_module(many)


def test_code_that_wasmtime_refuses_is_refused() -> None:
    bad_body = module(
        section(1, b"\x01\x60\x00\x00"), section(3, b"\x01\x00"), section(10, b"\x01\x03\x00\x6a\x0b")
    )
    with pytest.raises(InvalidModule, match="Wasmtime failed to validate wasm module") as info:
        validate_canister_module(bad_body)
    assert inspect_module(bad_body).facts.methods == frozenset()  # the rules alone do not look at code
    assert info.value.suggestion == ""


def test_a_module_over_the_limit_is_refused_decompressed_too() -> None:
    bomb = gzip.compress(module(custom_section("pad", bytes(MAX_WASM_SIZE))), mtime=0)
    with pytest.raises(WasmFormatError, match=f"gzip module decompresses to more than {MAX_WASM_SIZE} bytes"):
        inspect_module(bomb)
