"""Candid text values (parse and print, JSON) and .did files."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from canister_factory._core.principal import Principal
from canister_factory.candid import (
    BLOB,
    FLOAT32,
    FLOAT64,
    INT,
    NAT,
    NAT32,
    NAT64,
    PRINCIPAL,
    TEXT,
    CandidParseError,
    Field,
    FuncRef,
    FuncType,
    OptType,
    RecordType,
    Some,
    VecType,
    decode,
    encode,
    field_hash,
    format_values,
    parse_did,
    parse_type,
    parse_values,
    record,
    to_json,
    variant,
)

REFERENCE = next(
    (
        p / "shared" / "reference"
        for p in Path(__file__).resolve().parents
        if (p / "shared" / "reference").is_dir()
    ),
    Path(__file__).resolve().parents[4] / "shared" / "reference",
)


def test_parse_untyped_values() -> None:
    text = (
        '(1, blob "\\00\\ff", record { a = 1; 2 = "x" }, variant { Ok }, opt vec { principal "aaaaa-aa" },'
        ' (5 : nat32), -3, 1_000, 0x2A, 1.5, "escapes \\u{1F600}", null)'
    )
    values = parse_values(text)
    assert values == [
        1,
        b"\x00\xff",
        {"a": 1, 2: "x"},
        {"Ok": None},
        [Principal.management_canister()],
        5,
        -3,
        1000,
        42,
        1.5,
        "escapes \U0001f600",
        None,
    ]


def test_parse_typed_values() -> None:
    t = record({"upload_id": NAT64, "name": OptType(TEXT)})
    assert parse_values("(record { upload_id = 1 : nat64 })", [t]) == [{"upload_id": 1, "name": None}]
    assert parse_values("(5)", [NAT32]) == [5]
    assert parse_values("(opt 5)", [OptType(OptType(NAT))]) == [Some(5)]
    assert parse_values('(func "aaaaa-aa".m)', [FuncType((), ())]) == [FuncRef(Principal(b""), "m")]
    assert parse_values("(1e3, 0x1p4)", [FLOAT64, FLOAT32]) == [1000.0, 16.0]
    assert parse_values("()", [OptType(NAT)]) == [None]


@pytest.mark.parametrize(
    ("text", "types", "message"),
    [
        ("((5 : nat32))", [NAT64], "annotation nat32"),
        ("(-1)", [NAT], "negative"),
        ("(256)", [parse_type("nat8")], "out of range"),
        ('("x")', [NAT], "expected nat, got text"),
        ("(record { a = 1 })", [record({"a": NAT, "b": TEXT})], "field b: missing"),
        ("(record { a = -1 })", [record({"a": NAT})], "field a: expected nat"),
        ("(variant { C })", [variant(["A"])], "unknown variant case"),
        ("(1.5)", [INT], "non-integer"),
        ("(1, 2)", [NAT], "expected 1 values"),
        ('(principal "nope")', [PRINCIPAL], "principal"),
        ('("\\u{d800}")', [TEXT], "scalar"),
        ("(record {", None, "expected"),
        ("(variant {})", None, "exactly one"),
    ],
)
def test_text_errors(text: str, types: list[object] | None, message: str) -> None:
    with pytest.raises(CandidParseError, match=message):
        parse_values(text, types)  # type: ignore[arg-type]


def test_format_values() -> None:
    t = record({"upload_id": NAT64})
    assert format_values([{"upload_id": 1}], [t]) == "(record { upload_id = 1 : nat64 })"
    assert format_values([b"\xde\xad"], [BLOB]) == '(blob "\\de\\ad")'
    assert format_values([Principal(b"")], [PRINCIPAL]) == '(principal "aaaaa-aa")'
    assert format_values([5], [OptType(NAT32)]) == "(opt (5 : nat32))"
    assert format_values([{"Ok": None}], [variant(["Ok"])]) == "(variant { Ok })"
    assert format_values([{0: 1, 1: "a"}], [record([NAT, TEXT])]) == '(record { 1; "a" })'
    assert format_values(['a"\n'], [TEXT]) == '("a\\"\\n")'
    t2 = RecordType((Field(field_hash("type"), "type", NAT),))
    assert format_values([{"type": 1}], [t2]) == '(record { "type" = 1 })'


def test_format_parses_back() -> None:
    t = parse_type("record { a : vec opt int8; b : variant { x : float32; y }; c : opt opt text }")
    value = {"a": [1, None, -3], "b": {"x": 0.5}, "c": Some(None)}
    text = format_values([value], [t])
    assert parse_values(text, [t]) == [value]
    assert math.isnan(parse_values(format_values([math.nan], [FLOAT64]), [FLOAT64])[0])


def test_to_json() -> None:
    t = parse_type(
        "record { id : nat64; owner : principal; data : blob; tag : variant { Ok : nat; Err }; o : opt nat;"
        " 5 : vec text }"
    )
    value = {
        "id": 2**64 - 1,
        "owner": Principal(b""),
        "data": b"\xab",
        "tag": {"Err": None},
        "o": None,
        5: ["a"],
    }
    assert to_json(value, t) == {
        "id": 2**64 - 1,
        "owner": "aaaaa-aa",
        "data": "ab",
        "tag": {"Err": None},
        "o": None,
        "5": ["a"],
    }


def test_did_basics() -> None:
    did = parse_did(
        """
        // a comment
        /* a /* nested */ comment */
        type List = opt record { head : int; tail : List };
        type F = func (List) -> (List) query;
        type S = service { get : F };
        service : (init : nat) -> {
          put : (List, blob) -> () oneway;
          get : F;
          "quoted name" : () -> (text) composite_query;
          peer : () -> (S);
        }
        """
    )
    assert did.init_args == [NAT]
    assert set(did.service_methods) == {"put", "get", "quoted name", "peer"}
    assert did.service_methods["get"].annotations == ("query",)
    assert did.service_methods["quoted name"].annotations == ("composite_query",)
    lst = did.env["List"]
    value = {"head": 1, "tail": {"head": 2, "tail": None}}
    assert decode(encode([lst], [value]), [lst]) == [value]


def test_did_service_by_name() -> None:
    did = parse_did("type S = service { f : () -> () }; service : S")
    assert list(did.service_methods) == ["f"]
    assert did.init_args is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('import "other.did"; service : {}', "import"),
        ("type A = Missing; service : {}", "undefined type Missing"),
        ("type A = B; type B = A;", "itself"),
        ("service : { f : (nat) -> (nat) oneway }", "oneway"),
        ("type A = nat; service : A", "not a service"),
        ("type A = record { a : nat; a : text };", "duplicate"),
        ("service : { f : () -> (); f : () -> () }", "duplicate method"),
        ("type A = nat", "expected ';'"),
        ("/* unterminated", "unterminated"),
    ],
)
def test_did_errors(text: str, message: str) -> None:
    with pytest.raises(CandidParseError, match=message):
        parse_did(text)


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference .did files not found")
def test_reference_did_files() -> None:
    ic = parse_did((REFERENCE / "ic.did").read_text())
    assert {"create_canister", "install_code", "canister_status"} <= set(ic.service_methods)
    ledger = parse_did((REFERENCE / "cycles-ledger.did").read_text())
    assert ledger.init_args is not None and len(ledger.init_args) == 1
    assert "icrc1_balance_of" in ledger.service_methods
    status = ic.service_methods["canister_status"]
    assert status.annotations == ("query",)
    assert isinstance(ic.env["wasm_module"], VecType)
