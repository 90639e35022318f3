"""The codec's fast paths: whole blobs, fixed-width vectors in one step, reused readers and writers.

Each fast path must give the bytes, values, limits and error messages of the element-by-element path.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_client.candid import (
    BLOB,
    FLOAT32,
    FLOAT64,
    INT8,
    INT16,
    INT32,
    INT64,
    NAT,
    NAT16,
    NAT32,
    NAT64,
    NULL,
    TEXT,
    CandidDecodeError,
    CandidEncodeError,
    DecodeLimits,
    OptType,
    PrimType,
    Some,
    TypeEnv,
    VecType,
    decode,
    encode,
    parse_type,
    record,
)
from icp_client.candid._encoding import SPLICE_AT
from icp_client.candid._table import read_types, table_end
from icp_client.candid._wire import Reader, leb128, sleb128
from icp_client.candid.decode import _PROGRAMS
from icp_client.principal import Principal

if TYPE_CHECKING:
    from conftest import Refusal

Refused = Callable[[Callable[[], object]], "Refusal"]

# (type, struct format, smallest and largest value)
FIXED = [
    (NAT16, "H", 0, 2**16 - 1),
    (NAT32, "I", 0, 2**32 - 1),
    (NAT64, "Q", 0, 2**64 - 1),
    (INT8, "b", -(2**7), 2**7 - 1),
    (INT16, "h", -(2**15), 2**15 - 1),
    (INT32, "i", -(2**31), 2**31 - 1),
    (INT64, "q", -(2**63), 2**63 - 1),
]
VEC_NULL_BOMB = b"DIDL\x01\x6d\x7f\x01\x00\x80\xad\xe2\x04"  # vec null claiming 10,000,000 elements


def _vec_message(inner: PrimType, body: bytes, n: int) -> bytes:
    return b"DIDL\x01\x6d" + sleb128(inner.opcode) + b"\x01\x00" + leb128(n) + body


# -- blobs -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 127, 128, SPLICE_AT - 1, SPLICE_AT, 100_000])
@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_blob_is_written_whole(size: int, kind: Callable[[bytes], object]) -> None:
    raw = bytes(i % 251 for i in range(size))
    data = encode([BLOB], [kind(raw)])
    assert data == b"DIDL\x01\x6d\x7b\x01\x00" + leb128(size) + raw
    assert decode(data, [BLOB]) == [raw]


def test_large_blobs_land_in_place_among_other_fields() -> None:
    t = parse_type("record { a : blob; b : text; c : vec blob; d : nat8 }")
    big, other = b"\x01" * (SPLICE_AT * 2), b"\x02" * SPLICE_AT
    value = {"a": big, "b": "between", "c": [other, b"small", other], "d": 7}
    data = encode([t], [value])
    assert decode(data, [t]) == [value]
    assert encode([t], [{**value, "a": bytearray(big)}]) == data


def test_blob_from_a_list_of_numbers_keeps_its_checks() -> None:
    assert encode([BLOB], [[1, 2]]) == encode([BLOB], [b"\x01\x02"])
    with pytest.raises(CandidEncodeError, match=r"argument 0\[1\]: 256 is out of range for nat8"):
        encode([BLOB], [[1, 256]])


# -- vectors of fixed-width numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("t", "fmt", "low", "high"), FIXED)
def test_fixed_width_vectors_in_one_step(t: PrimType, fmt: str, low: int, high: int) -> None:
    values = [low, high, 0, 1, low + 1, high - 1]
    data = encode([VecType(t)], [values])
    body = b"".join(struct.pack("<" + fmt, v) for v in values)
    assert data == _vec_message(t, body, len(values))
    assert decode(data, [VecType(t)]) == [values]
    assert decode(data) == [values]


@pytest.mark.parametrize(("t", "fmt"), [(FLOAT32, "f"), (FLOAT64, "d")])
def test_float_vectors_in_one_step(t: PrimType, fmt: str) -> None:
    values = [0.0, -1.5, 3, 1e30, float("inf")]
    data = encode([VecType(t)], [values])
    assert data == _vec_message(t, b"".join(struct.pack("<" + fmt, v) for v in values), len(values))
    assert decode(data, [VecType(t)]) == [
        [struct.unpack("<" + fmt, struct.pack("<" + fmt, v))[0] for v in values]
    ]


@pytest.mark.parametrize(
    ("t", "values", "message"),
    [
        (NAT64, [1, 2, -1], r"argument 0\[2\]: -1 is out of range for nat64"),
        (INT8, [0, 128], r"argument 0\[1\]: 128 is out of range for int8"),
        (NAT32, [1, True], r"argument 0\[1\]: expected nat32, got bool True"),
        (NAT16, [1, 2.0], r"argument 0\[1\]: expected nat16, got float 2.0"),
        (FLOAT32, [1.0, 1e300], r"argument 0\[1\]: 1e\+300 is out of range for float32"),
        (FLOAT64, [1.0, "x"], r"argument 0\[1\]: expected float64, got str 'x'"),
        (FLOAT64, [False], r"argument 0\[0\]: expected float64, got bool False"),
    ],
)
def test_fixed_width_vector_errors_name_the_element(t: PrimType, values: list[object], message: str) -> None:
    with pytest.raises(CandidEncodeError, match=message):
        encode([VecType(t)], [values])


def test_fixed_width_vector_takes_int_subclasses() -> None:
    class Level(enum.IntEnum):
        LOW = 1
        HIGH = 2

    assert encode([VecType(NAT32)], [[Level.LOW, Level.HIGH]]) == encode([VecType(NAT32)], [[1, 2]])


def test_fixed_width_vector_decoding_keeps_the_limits() -> None:
    data = encode([VecType(NAT64)], [list(range(100))])
    with pytest.raises(CandidDecodeError, match="cost limit"):
        decode(data, limits=DecodeLimits(base_cost=100, cost_per_byte=0))
    with pytest.raises(CandidDecodeError, match="depth"):
        decode(data, limits=DecodeLimits(max_depth=1))
    assert decode(encode([VecType(NAT64)], [[]]), limits=DecodeLimits(max_depth=1)) == [[]]
    with pytest.raises(CandidDecodeError, match="larger than the remaining input"):
        decode(_vec_message(NAT64, b"\x00" * 8, 20))
    with pytest.raises(CandidDecodeError, match="need 16 bytes at byte 10, only 8 left"):
        decode(_vec_message(NAT64, b"\x00" * 8, 2))


def test_vec_null_bomb_is_refused_cheaply(refused: Refused) -> None:
    result = refused(lambda: decode(VEC_NULL_BOMB))
    assert "cost limit" in str(result.error)
    assert result.calls < 200
    assert result.peak_bytes < 64 * 1024


# -- records and recovery ------------------------------------------------------------------------------


def test_many_records_round_trip() -> None:
    t = parse_type("vec record { id : nat64; name : text; owner : principal }")
    value = [{"id": i, "name": f"n{i}", "owner": Principal.from_canister_index(i)} for i in range(500)]
    assert decode(encode([t], [value]), [t]) == [value]


def test_recovery_under_opt_restores_the_depth() -> None:
    """A vector of values that each fail to coerce under ``opt`` must not add up depth."""
    data = encode([VecType(OptType(TEXT))], [["x"] * 300])
    limits = DecodeLimits(max_depth=3)
    assert decode(data, [VecType(OptType(NAT))], limits=limits) == [[None] * 300]


def test_record_mismatch_names_the_field_under_vec() -> None:
    data = encode([VecType(record({"a": NAT, "b": TEXT}))], [[{"a": 1, "b": "x"}]])
    with pytest.raises(CandidDecodeError, match="field b: expected nat, got text"):
        decode(data, [VecType(record({"a": NAT, "b": NAT}))])


# -- reuse of readers and writers ----------------------------------------------------------------------


def test_redefining_a_name_is_noticed() -> None:
    env = TypeEnv({"T": NAT})
    t = env.ref("T")
    as_nat = encode([t], [5])
    assert decode(as_nat, [t]) == [5]
    env.define("T", TEXT)
    assert decode(encode([t], ["five"]), [t]) == ["five"]
    with pytest.raises(CandidDecodeError, match="expected text, got nat"):
        decode(as_nat, [t])


def test_same_table_other_types_or_limits() -> None:
    data = encode([OptType(OptType(NAT))], [5])
    assert decode(data, [OptType(OptType(NAT))]) == [Some(5)]
    assert decode(data, [OptType(NULL)]) == [None]
    with pytest.raises(CandidDecodeError, match="depth"):
        decode(data, [OptType(OptType(NAT))], limits=DecodeLimits(max_depth=2))


def test_the_cache_stays_bounded() -> None:
    for i in range(600):
        t = record({f"f{i}": NAT})
        decode(encode([t], [{f"f{i}": i}]), [t])
    assert len(_PROGRAMS) <= 256


def test_threads_share_the_readers() -> None:
    t = parse_type("vec record { id : nat64; name : text }")
    messages = [encode([t], [[{"id": i, "name": str(j)} for i in range(j)]]) for j in range(40)]

    def check(j: int) -> bool:
        return decode(messages[j], [t]) == [[{"id": i, "name": str(j)} for i in range(j)]]

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(check, list(range(40)) * 5))


# -- finding the end of the type table ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (
            "record { a : nat; b : vec opt text; c : variant { x; y : blob } }",
            {"a": 1, "b": [None, "x"], "c": "x"},
        ),
        ("func (nat) -> (text) query", (Principal.anonymous(), "m")),
        ("service { f : (nat) -> (); g : () -> (opt nat) composite_query }", Principal.anonymous()),
        (
            "record { nat; int; float64; principal; reserved; null }",
            (1, -1, 0.5, Principal.anonymous(), 0, None),
        ),
    ],
)
def test_table_end_matches_the_table_reader(text: str, value: object) -> None:
    data = encode([parse_type(text), NAT], [value, 1])
    reader = Reader(data, 4)
    read_types(reader, 2000, 1000)
    assert table_end(data, 4) == reader.pos


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=64))
def test_table_end_agrees_whenever_the_table_reads(data: bytes) -> None:
    message = b"DIDL" + data
    reader = Reader(message, 4)
    try:
        read_types(reader, 2000, 1000)
    except ValueError:
        return
    assert table_end(message, 4) == reader.pos
