"""Binary codec: value representation, subtyping, limits and error messages."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

import icp_client.candid as candid
from icp_client.candid import (
    BLOB,
    BOOL,
    FLOAT32,
    FLOAT64,
    INT,
    INT8,
    NAT,
    NAT8,
    NAT64,
    NULL,
    PRINCIPAL,
    RESERVED,
    TEXT,
    CandidDecodeError,
    CandidEncodeError,
    CandidError,
    DecodeLimits,
    FuncRef,
    FuncType,
    OptType,
    ServiceType,
    Some,
    TypeEnv,
    VecType,
    decode,
    encode,
    field_hash,
    parse_type,
    record,
    values_equal,
    variant,
)
from icp_client.principal import Principal

if TYPE_CHECKING:
    from conftest import Refusal

Refused = Callable[[Callable[[], object]], "Refusal"]

# The 13-byte reply from the python-ic-tools research: ``vec null`` claiming 10,000,000 elements.
VEC_NULL_BOMB = b"DIDL\x01\x6d\x7f\x01\x00\x80\xad\xe2\x04"
# The same with 5,000,000 elements.
VEC_NULL_5M = b"DIDL\x01\x6d\x7f\x01\x00\xc0\x96\xb1\x02"


def roundtrip(t: candid.Type, value: object) -> object:
    return decode(encode([t], [value]), [t])[0]


def test_public_api_is_curated() -> None:
    assert sorted(candid.__all__) == sorted(set(candid.__all__))
    for name in candid.__all__:
        assert hasattr(candid, name), name


def test_field_hash_matches_spec_examples() -> None:
    assert field_hash("foo") == 5097222
    assert field_hash("bar") == 4895187
    assert field_hash("") == 0


@pytest.mark.parametrize("bomb", [VEC_NULL_BOMB, VEC_NULL_5M])
@pytest.mark.parametrize("types", [None, [VecType(NULL)], [OptType(NAT)], []])
def test_vec_null_bomb_fails_fast(bomb: bytes, types: list[candid.Type] | None, refused: Refused) -> None:
    result = refused(lambda: decode(bomb, types))
    assert isinstance(result.error, CandidDecodeError)
    assert "cost limit" in str(result.error)
    assert result.calls < 1_000  # counted, not timed: the same on a loaded machine
    assert result.peak_bytes < 64 * 1024


def test_small_vec_null_is_fine() -> None:
    data = encode([VecType(NULL)], [[None] * 1000])
    assert decode(data) == [[None] * 1000]


def test_custom_limits() -> None:
    data = encode([VecType(NULL)], [[None] * 1000])
    with pytest.raises(CandidDecodeError, match="cost limit"):
        decode(data, limits=DecodeLimits(base_cost=10, cost_per_byte=1))
    nested = parse_type("opt opt opt opt opt nat")
    with pytest.raises(CandidDecodeError, match="depth"):
        decode(encode([nested], [5]), [nested], limits=DecodeLimits(max_depth=3))


def test_blob_and_vec_representation() -> None:
    assert roundtrip(BLOB, b"\x00\xff") == b"\x00\xff"
    assert roundtrip(BLOB, [1, 2]) == b"\x01\x02"
    assert roundtrip(VecType(NAT), (1, 2)) == [1, 2]


def test_opt_representation() -> None:
    assert roundtrip(OptType(NAT), 5) == 5
    assert roundtrip(OptType(NAT), Some(5)) == 5
    assert roundtrip(OptType(NAT), None) is None
    assert roundtrip(OptType(VecType(NAT)), [1, 2, 3]) == [1, 2, 3]
    assert roundtrip(OptType(OptType(NAT)), Some(None)) == Some(None)
    assert roundtrip(OptType(OptType(NAT)), 5) == Some(5)
    assert roundtrip(OptType(NULL), Some(None)) == Some(None)
    assert roundtrip(OptType(RESERVED), Some(None)) == Some(None)
    env = TypeEnv({"N": NULL})
    assert roundtrip(OptType(env.ref("N")), Some(None)) == Some(None)


def test_record_and_variant_representation() -> None:
    t = record({"a": NAT, "b": OptType(TEXT)})
    assert roundtrip(t, {"a": 1}) == {"a": 1, "b": None}
    assert roundtrip(t, {field_hash("a"): 1, "b": "x"}) == {"a": 1, "b": "x"}
    tup = record([NAT, TEXT])
    assert roundtrip(tup, (1, "x")) == {0: 1, 1: "x"}
    v = variant({"Ok": NAT, "Err": TEXT, "Gone": NULL})
    assert roundtrip(v, {"Ok": 3}) == {"Ok": 3}
    assert roundtrip(v, "Gone") == {"Gone": None}
    assert decode(encode([v], [{"Err": "e"}]))[0] == {field_hash("Err"): "e"}


def test_references() -> None:
    p = Principal.from_text("ryjl3-tyaaa-aaaaa-aaaba-cai")
    assert roundtrip(PRINCIPAL, p) == p
    assert roundtrip(PRINCIPAL, "aaaaa-aa") == Principal.management_canister()
    f = FuncType((TEXT,), (NAT,), ("query",))
    assert roundtrip(f, FuncRef(p, "greet")) == FuncRef(p, "greet")
    s = ServiceType((("greet", f),))
    assert roundtrip(s, p) == p
    assert decode(encode([s], [p]), [PRINCIPAL]) == [p]


def test_numbers() -> None:
    assert roundtrip(NAT, 2**100) == 2**100
    assert roundtrip(INT, -(2**100)) == -(2**100)
    assert roundtrip(INT8, -128) == -128
    assert roundtrip(NAT64, 2**64 - 1) == 2**64 - 1
    assert roundtrip(FLOAT32, 0.5) == 0.5
    assert roundtrip(FLOAT64, 3) == 3.0
    assert math.isnan(roundtrip(FLOAT64, math.nan))  # type: ignore[arg-type]
    assert decode(encode([NAT], [5]), [INT]) == [5]


def test_recursive_type_roundtrip() -> None:
    env = TypeEnv()
    env.define("List", OptType(record({"head": INT, "tail": env.ref("List")})))
    lst = env.ref("List")
    value = {"head": 1, "tail": {"head": 2, "tail": None}}
    data = encode([lst], [value])
    assert data.startswith(b"DIDL\x02")  # two table entries, shared through the name
    assert decode(data, [lst]) == [value]


@pytest.mark.parametrize(
    ("type_", "value", "message"),
    [
        (record({"upload_id": NAT64}), {"upload_id": "x"}, "field upload_id: expected nat64, got str"),
        (record({"upload_id": NAT64}), {}, "field upload_id: missing"),
        (record({"a": NAT}), {"a": 1, "b": 2}, "unknown field"),
        (NAT, -1, "negative"),
        (NAT8, 256, "out of range for nat8"),
        (NAT, True, "expected nat, got bool"),
        (BOOL, 1, "expected bool"),
        (TEXT, "\ud800", "surrogate"),
        (variant({"A": NULL}), {"B": None}, "unknown variant tag"),
        (variant({"A": NULL}), {"A": None, "B": None}, "exactly one key"),
        (PRINCIPAL, "not a principal", "argument 0"),
        (candid.EMPTY, None, "no values"),
        (FLOAT32, 1e300, "out of range for float32"),
    ],
)
def test_encode_errors(type_: candid.Type, value: object, message: str) -> None:
    with pytest.raises(CandidEncodeError, match=message):
        encode([type_], [value])


def test_encode_count_mismatch() -> None:
    with pytest.raises(CandidEncodeError, match="expected 1 values, got 2"):
        encode([NAT], [1, 2])


def test_decode_error_names_the_field() -> None:
    data = encode([record({"upload_id": TEXT})], [{"upload_id": "x"}])
    with pytest.raises(CandidDecodeError, match="field upload_id: expected nat64, got text"):
        decode(data, [record({"upload_id": NAT64})])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"DIDX\x00\x00", "magic"),
        (b"DIDL\x00\x00\x00", "trailing"),
        (b"DIDL\x00\x01\x7d", "end of input"),
        (b"DIDL\x01\x7f\x00", "not a composite"),
        (b"DIDL\x00\x01\x71\x02\xff\xfe", "UTF-8"),
    ],
)
def test_decode_errors(data: bytes, message: str) -> None:
    with pytest.raises(CandidDecodeError, match=message):
        decode(data)


def test_subtyping_on_decode() -> None:
    wide = record({"a": NAT, "extra": TEXT})
    narrow = record({"a": INT, "new": OptType(NAT)})
    assert decode(encode([wide], [{"a": 1, "extra": "x"}]), [narrow]) == [{"a": 1, "new": None}]
    # a mismatch under opt reads as none
    assert decode(encode([OptType(TEXT)], ["x"]), [OptType(NAT)]) == [None]
    assert decode(encode([NULL], [None]), [OptType(NAT)]) == [None]
    # variant subtyping: fewer cases decode at more cases
    assert decode(encode([variant(["A"])], ["A"]), [variant(["A", "B"])]) == [{"A": None}]
    # missing trailing opt arguments read as none
    assert decode(encode([], []), [OptType(NAT), RESERVED, NULL]) == [None, None, None]


def test_untyped_decode_uses_wire_types() -> None:
    t = record({"a": OptType(OptType(NAT))})
    assert decode(encode([t], [{"a": Some(None)}])) == [{field_hash("a"): Some(None)}]


def test_values_equal_nan_and_types() -> None:
    assert values_equal([math.nan], [math.nan])
    assert not values_equal(1, True)
    assert values_equal({"a": Some(math.nan)}, {"a": Some(math.nan)})


def test_errors_are_value_errors() -> None:
    assert issubclass(CandidError, ValueError)
    for cls in (CandidDecodeError, CandidEncodeError, candid.CandidParseError):
        assert issubclass(cls, CandidError)
