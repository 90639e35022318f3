"""Property tests: random types and values round-trip through binary and through text."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icp_client.candid import (
    BOOL,
    FLOAT32,
    FLOAT64,
    INT,
    INT8,
    INT16,
    INT32,
    INT64,
    NAT,
    NAT8,
    NAT16,
    NAT32,
    NAT64,
    NULL,
    PRINCIPAL,
    RESERVED,
    TEXT,
    CandidDecodeError,
    Field,
    OptType,
    RecordType,
    Type,
    VariantType,
    VecType,
    decode,
    encode,
    field_hash,
    format_values,
    is_subtype,
    parse_values,
    values_equal,
)
from icp_client.candid.values import make_some
from icp_client.principal import Principal

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_INT_RANGES = {
    NAT: (0, 2**80),
    INT: (-(2**80), 2**80),
    NAT8: (0, 2**8 - 1),
    NAT16: (0, 2**16 - 1),
    NAT32: (0, 2**32 - 1),
    NAT64: (0, 2**64 - 1),
    INT8: (-(2**7), 2**7 - 1),
    INT16: (-(2**15), 2**15 - 1),
    INT32: (-(2**31), 2**31 - 1),
    INT64: (-(2**63), 2**63 - 1),
}
PRIMS = st.sampled_from([NULL, BOOL, TEXT, RESERVED, PRINCIPAL, FLOAT32, FLOAT64, *_INT_RANGES])

labels = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).map(lambda n: (field_hash(n), n)),
    st.integers(0, 2**32 - 1).map(lambda i: (i, None)),
)


def _fields(children: st.SearchStrategy[Type], min_size: int) -> st.SearchStrategy[tuple[Field, ...]]:
    entries = st.lists(
        st.tuples(labels, children), min_size=min_size, max_size=4, unique_by=lambda e: e[0][0]
    )
    return entries.map(lambda es: tuple(Field(i, n, t) for (i, n), t in es))


def _compound(children: st.SearchStrategy[Type]) -> st.SearchStrategy[Type]:
    return st.one_of(
        children.map(OptType),
        children.map(VecType),
        _fields(children, 0).map(RecordType),
        st.lists(children, max_size=3).map(
            lambda ts: RecordType(tuple(Field(i, None, t) for i, t in enumerate(ts)))
        ),
        _fields(children, 1).map(VariantType),
    )


TYPES = st.recursive(PRIMS, _compound, max_leaves=8)


def values_of(t: Type) -> st.SearchStrategy[Any]:
    if t in _INT_RANGES:
        low, high = _INT_RANGES[t]  # type: ignore[index]
        return st.integers(low, high)
    simple: dict[Type, st.SearchStrategy[Any]] = {
        NULL: st.none(),
        RESERVED: st.none(),
        BOOL: st.booleans(),
        TEXT: st.text(max_size=8),
        PRINCIPAL: st.binary(max_size=29).map(Principal),
        FLOAT32: st.floats(width=32),
        FLOAT64: st.floats(),
    }
    if t in simple:
        return simple[t]
    if isinstance(t, OptType):
        inner = t.inner
        return st.one_of(st.none(), values_of(inner).map(lambda v: make_some(v, inner)))
    if isinstance(t, VecType):
        return st.binary(max_size=8) if t.inner == NAT8 else st.lists(values_of(t.inner), max_size=3)
    if isinstance(t, RecordType):
        return st.fixed_dictionaries({f.key: values_of(f.type) for f in t.fields})
    assert isinstance(t, VariantType)
    return st.one_of([values_of(f.type).map(lambda v, k=f.key: {k: v}) for f in t.fields])


typed_values = TYPES.flatmap(lambda t: st.tuples(st.just(t), values_of(t)))


@SETTINGS
@given(typed_values)
def test_binary_roundtrip(tv: tuple[Type, Any]) -> None:
    t, v = tv
    data = encode([t], [v])
    assert values_equal(decode(data, [t]), [v])
    decode(data)  # untyped decoding accepts whatever we encode


@SETTINGS
@given(typed_values)
def test_text_roundtrip(tv: tuple[Type, Any]) -> None:
    t, v = tv
    text = format_values([v], [t])
    assert values_equal(parse_values(text, [t]), [v]), text


@SETTINGS
@given(typed_values, TYPES)
def test_decoding_at_opt_or_reserved_never_fails(tv: tuple[Type, Any], other: Type) -> None:
    t, v = tv
    data = encode([t], [v])
    assert decode(data, [RESERVED]) == [None]
    decode(data, [OptType(other)])


@SETTINGS
@given(typed_values, TYPES)
def test_subtype_implies_decodable(tv: tuple[Type, Any], other: Type) -> None:
    t, v = tv
    assert is_subtype(t, t)
    data = encode([t], [v])
    if is_subtype(t, other):
        decode(data, [other])
    else:
        with contextlib.suppress(CandidDecodeError):
            decode(data, [other])
