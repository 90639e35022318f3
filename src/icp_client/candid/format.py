"""Printing values: ``format_values`` (Candid text that :func:`parse_values` reads back) and ``to_json``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from icp_client.candid.errors import CandidEncodeError, too_deep_as
from icp_client.candid.types import (
    BOOL,
    FIXED_INTS,
    FLOAT32,
    FLOAT64,
    INT,
    NAT,
    NAT8,
    NULL,
    PRINCIPAL,
    RESERVED,
    TEXT,
    Field,
    FuncType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VecType,
    is_identifier,
    resolve,
)
from icp_client.candid.values import FuncRef, Some
from icp_client.principal import Principal

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def format_values(values: Sequence[Any], types: Sequence[Type]) -> str:
    """Candid text for an argument list, e.g. ``(record { upload_id = 1 : nat64 }, blob "\\de\\ad")``.

    Fixed-width numbers carry their type (``1 : nat64``) so the text reads back at the same types.

    Raises:
        CandidEncodeError: the counts differ or a value does not fit its type.
    """
    if len(values) != len(types):
        raise CandidEncodeError(f"expected {len(types)} values, got {len(values)}")
    with too_deep_as(CandidEncodeError, "the value"):
        return "(" + ", ".join(format_value(v, t) for v, t in zip(values, types, strict=True)) + ")"


def format_value(value: Any, type_: Type, *, annotate: bool = True) -> str:
    """Candid text for one value at ``type_`` (``annotate=False`` parenthesises number annotations).

    Raises:
        CandidEncodeError: the value does not fit the type.
    """
    t = resolve(type_)
    if isinstance(t, PrimType):
        return _prim(value, t, annotate)
    if isinstance(t, OptType):
        if value is None:
            return "null"
        inner = value.value if isinstance(value, Some) else value
        return "opt " + format_value(inner, t.inner, annotate=False)
    if isinstance(t, VecType):
        return _vec(value, t)
    if isinstance(t, RecordType):
        return _record(value, t)
    if isinstance(t, VariantType):
        return _variant(value, t)
    if isinstance(t, ServiceType):
        return f'service "{_principal(value).to_text()}"'
    if isinstance(t, FuncType):
        return _func(value)
    raise CandidEncodeError(f"cannot format a value of {t}")


def _bad(value: Any, t: Type) -> CandidEncodeError:
    return CandidEncodeError(f"expected {t}, got {type(value).__name__} {value!r:.60}")


def _prim(value: Any, t: PrimType, annotate: bool) -> str:
    if t in FIXED_INTS or t in (NAT, INT):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(value, t)
        return _annotated(str(value), t, annotate)
    if t in (FLOAT32, FLOAT64):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _bad(value, t)
        return _annotated(_float(float(value)), t, annotate)
    if t == TEXT:
        if not isinstance(value, str):
            raise _bad(value, t)
        return quote(value)
    if t == BOOL:
        if not isinstance(value, bool):
            raise _bad(value, t)
        return "true" if value else "false"
    if t in (NULL, RESERVED):
        return "null"
    if t == PRINCIPAL:
        return f'principal "{_principal(value).to_text()}"'
    raise CandidEncodeError(f"type {t} has no values")


def _annotated(text: str, t: PrimType, annotate: bool) -> str:
    """``text : t`` for fixed-width numbers (parenthesised where a bare annotation cannot go)."""
    if t in (NAT, INT, FLOAT64):
        return text
    return f"{text} : {t}" if annotate else f"({text} : {t})"


def _float(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def quote(text: str) -> str:
    """A Candid text literal for ``text``, escaping quotes, backslashes and control characters."""
    parts = []
    for ch in text:
        if ch in _ESCAPES:
            parts.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0:
            parts.append(f"\\u{{{ord(ch):x}}}")
        else:
            parts.append(ch)
    return '"' + "".join(parts) + '"'


def _principal(value: Any) -> Principal:
    if isinstance(value, str):
        return Principal.from_text(value)
    if not isinstance(value, Principal):
        raise _bad(value, PRINCIPAL)
    return value


def _vec(value: Any, t: VecType) -> str:
    if resolve(t.inner) == NAT8:
        if isinstance(value, list | tuple):
            value = bytes(value)
        if not isinstance(value, bytes | bytearray):
            raise _bad(value, t)
        return 'blob "' + "".join(f"\\{b:02x}" for b in value) + '"'
    if not isinstance(value, list | tuple):
        raise _bad(value, t)
    return _braced("vec", [format_value(item, t.inner) for item in value])


def _braced(keyword: str, parts: list[str]) -> str:
    return f"{keyword} {{ {'; '.join(parts)} }}" if parts else f"{keyword} {{}}"


def _label(f: Field) -> str:
    if f.name is None:
        return str(f.id)
    return f.name if is_identifier(f.name) else quote(f.name)


def _record(value: Any, t: RecordType) -> str:
    if isinstance(value, list | tuple) and t.is_tuple():
        items = dict(enumerate(value))
    elif isinstance(value, Mapping):
        items = dict(value)
    else:
        raise _bad(value, t)
    if t.is_tuple() and t.fields:
        return _braced("record", [format_value(_get(items, f), f.type) for f in t.fields])
    return _braced("record", [f"{_label(f)} = {format_value(_get(items, f), f.type)}" for f in t.fields])


def _get(items: Mapping[Any, Any], f: Field) -> Any:
    if f.name is not None and f.name in items:
        return items[f.name]
    return items.get(f.id)


def _variant(value: Any, t: VariantType) -> str:
    if isinstance(value, str):
        value = {value: None}
    if not isinstance(value, Mapping) or len(value) != 1:
        raise _bad(value, t)
    ((key, payload),) = value.items()
    f = next((f for f in t.fields if key in (f.name, f.id)), None)
    if f is None:
        raise CandidEncodeError(f"unknown variant tag {key!r} for {t}")
    if resolve(f.type) == NULL:
        return f"variant {{ {_label(f)} }}"
    return f"variant {{ {_label(f)} = {format_value(payload, f.type)} }}"


def _func(value: Any) -> str:
    if isinstance(value, tuple) and len(value) == 2:
        value = FuncRef(*value)
    if not isinstance(value, FuncRef):
        raise _bad(value, FuncType((), ()))
    method = value.method if is_identifier(value.method) else quote(value.method)
    return f'func "{_principal(value.principal).to_text()}".{method}'


def to_json(value: Any, type_: Type) -> Any:
    """A JSON-ready structure: ints stay ints, principals become text, blobs lowercase hex, records
    objects keyed by field name (or id as text), variants ``{"Tag": payload}``, none and null ``None``.

    Raises:
        CandidEncodeError: the value does not fit the type.
    """
    t = resolve(type_)
    if isinstance(t, OptType):
        if value is None:
            return None
        return to_json(value.value if isinstance(value, Some) else value, t.inner)
    if isinstance(t, VecType):
        if resolve(t.inner) == NAT8:
            return bytes(value).hex()
        return [to_json(item, t.inner) for item in value]
    if isinstance(t, RecordType):
        items = dict(enumerate(value)) if isinstance(value, list | tuple) else dict(value)
        return {str(f.key): to_json(_get(items, f), f.type) for f in t.fields}
    if isinstance(t, VariantType):
        return _variant_json(value, t)
    if isinstance(t, ServiceType) or t == PRINCIPAL:
        return _principal(value).to_text()
    if isinstance(t, FuncType):
        ref = FuncRef(*value) if isinstance(value, tuple) else value
        return {"principal": _principal(ref.principal).to_text(), "method": ref.method}
    if t in (NULL, RESERVED):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return _float(value)
    return value


def _variant_json(value: Any, t: VariantType) -> dict[str, Any]:
    if isinstance(value, str):
        value = {value: None}
    ((key, payload),) = value.items()
    f = next((f for f in t.fields if key in (f.name, f.id)), None)
    if f is None:
        raise CandidEncodeError(f"unknown variant tag {key!r} for {t}")
    return {str(f.key): to_json(payload, f.type)}
