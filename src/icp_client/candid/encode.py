"""Binary encoding: ``encode(types, values) -> bytes`` (spec section "Binary Format").

The type table holds one entry per distinct composite type object (named types are shared, so recursive
types work); fields are written sorted by id, methods by name.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

from icp_client.candid._codes import (
    ANNOTATION_CODES,
    FUNC,
    OPT,
    RECORD,
    SERVICE,
    VARIANT,
    VEC,
)
from icp_client.candid._wire import leb128, sleb128
from icp_client.candid.errors import CandidEncodeError, CandidError, too_deep_as
from icp_client.candid.types import (
    BOOL,
    EMPTY,
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
    FutureType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VecType,
    resolve,
)
from icp_client.candid.values import FuncRef, Some
from icp_client.principal import Principal, PrincipalError

MAGIC = b"DIDL"


def encode(types: Sequence[Type], values: Sequence[Any]) -> bytes:
    """Encode ``values`` (one per argument) at ``types`` as a Candid message ``DIDL ...``.

    Raises:
        CandidEncodeError: the counts differ, or a value does not fit its type (the message names where).
    """
    if len(types) != len(values):
        raise CandidEncodeError(f"expected {len(types)} values, got {len(values)}")
    with too_deep_as(CandidEncodeError, "the value or type"):
        return _encode(types, values)


def _encode(types: Sequence[Type], values: Sequence[Any]) -> bytes:
    table = _TypeTable()
    try:
        refs = [table.ref(t) for t in types]
    except CandidEncodeError:
        raise
    except CandidError as exc:
        raise CandidEncodeError(str(exc)) from None
    out = bytearray(MAGIC)
    out += table.serialise()
    out += leb128(len(refs))
    for ref in refs:
        out += sleb128(ref)
    for i, (t, v) in enumerate(zip(types, values, strict=True)):
        _write(out, t, v, f"argument {i}")
    return bytes(out)


class _TypeTable:
    """Assigns table indices to composite types, keyed by object identity of the resolved type."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.index: dict[int, int] = {}
        self.keep: list[Type] = []  # keeps keyed objects alive so ids stay unique

    def ref(self, type_: Type) -> int:
        resolved = resolve(type_)
        if isinstance(resolved, PrimType):
            return resolved.opcode
        if isinstance(resolved, FutureType):
            raise CandidEncodeError("cannot encode a future type")
        key = id(resolved)
        if key in self.index:
            return self.index[key]
        slot = len(self.entries)
        self.index[key] = slot
        self.keep.append(resolved)
        self.entries.append(b"")
        self.entries[slot] = self._body(resolved)
        return slot

    def _body(self, t: Type) -> bytes:
        if isinstance(t, OptType):
            return sleb128(OPT) + sleb128(self.ref(t.inner))
        if isinstance(t, VecType):
            return sleb128(VEC) + sleb128(self.ref(t.inner))
        if isinstance(t, RecordType | VariantType):
            code = RECORD if isinstance(t, RecordType) else VARIANT
            parts = [leb128(f.id) + sleb128(self.ref(f.type)) for f in t.fields]
            return sleb128(code) + leb128(len(parts)) + b"".join(parts)
        if isinstance(t, FuncType):
            return sleb128(FUNC) + self._func(t)
        assert isinstance(t, ServiceType)
        return sleb128(SERVICE) + self._service(t)

    def _func(self, t: FuncType) -> bytes:
        args = b"".join(sleb128(self.ref(a)) for a in t.args)
        results = b"".join(sleb128(self.ref(r)) for r in t.results)
        anns = bytes(ANNOTATION_CODES[a] for a in t.annotations)
        return leb128(len(t.args)) + args + leb128(len(t.results)) + results + leb128(len(anns)) + anns

    def _service(self, t: ServiceType) -> bytes:
        parts = []
        for name, method in t.methods:
            if not isinstance(resolve(method), FuncType):
                raise CandidEncodeError(f"service method {name}: type {method} is not a function type")
            raw = name.encode("utf-8")
            parts.append(leb128(len(raw)) + raw + sleb128(self.ref(method)))
        return leb128(len(parts)) + b"".join(parts)

    def serialise(self) -> bytes:
        return leb128(len(self.entries)) + b"".join(self.entries)


def _fail(where: str, type_: Type, value: Any) -> CandidEncodeError:
    return CandidEncodeError(f"{where}: expected {type_}, got {type(value).__name__} {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _write(out: bytearray, type_: Type, value: Any, where: str) -> None:
    t = resolve(type_)
    if isinstance(t, PrimType):
        _write_prim(out, t, value, where)
    elif isinstance(t, OptType):
        _write_opt(out, t, value, where)
    elif isinstance(t, VecType):
        _write_vec(out, t, value, where)
    elif isinstance(t, RecordType):
        _write_record(out, t, value, where)
    elif isinstance(t, VariantType):
        _write_variant(out, t, value, where)
    elif isinstance(t, FuncType):
        _write_func(out, t, value, where)
    elif isinstance(t, ServiceType):
        out += b"\x01" + _principal_bytes(value, t, where)
    else:
        raise CandidEncodeError(f"{where}: cannot encode a value of {t}")


def _write_prim(out: bytearray, t: PrimType, value: Any, where: str) -> None:
    if t in FIXED_INTS:
        bits, signed = FIXED_INTS[t]
        n = _integer(t, value, where)
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1)) if signed else (0, 2**bits)
        if not low <= n < high:
            raise CandidEncodeError(f"{where}: {n} is out of range for {t}")
        out += n.to_bytes(bits // 8, "little", signed=signed)
    elif t == NAT:
        n = _integer(t, value, where)
        if n < 0:
            raise CandidEncodeError(f"{where}: {n} is negative, expected nat")
        out += leb128(n)
    elif t == INT:
        out += sleb128(_integer(t, value, where))
    elif t in (FLOAT32, FLOAT64):
        out += _float(t, value, where)
    else:
        _write_other_prim(out, t, value, where)


def _write_other_prim(out: bytearray, t: PrimType, value: Any, where: str) -> None:
    if t == BOOL:
        if not isinstance(value, bool):
            raise _fail(where, t, value)
        out.append(1 if value else 0)
    elif t == TEXT:
        if not isinstance(value, str):
            raise _fail(where, t, value)
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError:
            raise CandidEncodeError(f"{where}: text contains a lone surrogate") from None
        out += leb128(len(raw)) + raw
    elif t == NULL:
        if value is not None:
            raise _fail(where, t, value)
    elif t == PRINCIPAL:
        out += b"\x01" + _principal_bytes(value, t, where)
    elif t == EMPTY:
        raise CandidEncodeError(f"{where}: type empty has no values")
    elif t != RESERVED:
        raise CandidEncodeError(f"{where}: cannot encode {t}")


def _integer(t: Type, value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, t, value)
    return value


def _float(t: PrimType, value: Any, where: str) -> bytes:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, t, value)
    if t == FLOAT64:
        return struct.pack("<d", float(value))
    try:
        return struct.pack("<f", float(value))
    except OverflowError:
        if math.isfinite(float(value)):
            raise CandidEncodeError(f"{where}: {value} is out of range for float32") from None
        raise


def _principal_bytes(value: Any, t: Type, where: str) -> bytes:
    if isinstance(value, str):
        try:
            value = Principal.from_text(value)
        except PrincipalError as exc:
            raise CandidEncodeError(f"{where}: {exc}") from None
    if not isinstance(value, Principal):
        raise _fail(where, t, value)
    return leb128(len(value.raw)) + value.raw


def _write_opt(out: bytearray, t: OptType, value: Any, where: str) -> None:
    if value is None:
        out.append(0)
        return
    out.append(1)
    _write(out, t.inner, value.value if isinstance(value, Some) else value, where)


def _write_vec(out: bytearray, t: VecType, value: Any, where: str) -> None:
    if resolve(t.inner) == NAT8 and isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        out += leb128(len(raw)) + raw
        return
    if not isinstance(value, list | tuple):
        raise _fail(where, t, value)
    out += leb128(len(value))
    for i, item in enumerate(value):
        _write(out, t.inner, item, f"{where}[{i}]")


def _write_record(out: bytearray, t: RecordType, value: Any, where: str) -> None:
    if isinstance(value, list | tuple) and t.is_tuple():
        if len(value) != len(t.fields):
            raise CandidEncodeError(f"{where}: expected a tuple of {len(t.fields)}, got {len(value)} items")
        for f, item in zip(t.fields, value, strict=True):
            _write(out, f.type, item, f"{where}.{f.id}")
        return
    if not isinstance(value, Mapping):
        raise _fail(where, t, value)
    _check_keys(t.fields, value, where)
    for f in t.fields:
        item = _field_value(f, value, where)
        _write(out, f.type, item, _field_where(where, f))


def _field_where(where: str, f: Field) -> str:
    return f"field {f.key}" if where.startswith("argument") else f"{where}.{f.key}"


def _check_keys(fields: tuple[Field, ...], value: Mapping[Any, Any], where: str) -> None:
    known: set[Any] = {f.id for f in fields} | {f.name for f in fields if f.name is not None}
    unknown = [k for k in value if k not in known]
    if unknown:
        raise CandidEncodeError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")


def _field_value(f: Field, value: Mapping[Any, Any], where: str) -> Any:
    if f.name is not None and f.name in value:
        return value[f.name]
    if f.id in value:
        return value[f.id]
    t = resolve(f.type)
    if t in (NULL, RESERVED) or isinstance(t, OptType):
        return None
    raise CandidEncodeError(f"{_field_where(where, f)}: missing (type {f.type})")


def _write_variant(out: bytearray, t: VariantType, value: Any, where: str) -> None:
    if isinstance(value, str):
        value = {value: None}
    if not isinstance(value, Mapping) or len(value) != 1:
        raise CandidEncodeError(
            f"{where}: a variant value must be a dict with exactly one key, got {value!r}"
        )
    ((key, payload),) = value.items()
    for index, f in enumerate(t.fields):
        if key in (f.name, f.id) and not (isinstance(key, bool)):
            out += leb128(index)
            _write(out, f.type, payload, f"{where}.{f.key}")
            return
    raise CandidEncodeError(f"{where}: unknown variant tag {key!r} for {t}")


def _write_func(out: bytearray, t: FuncType, value: Any, where: str) -> None:
    if isinstance(value, tuple) and len(value) == 2:
        value = FuncRef(*value)
    if not isinstance(value, FuncRef) or not isinstance(value.method, str):
        raise _fail(where, t, value)
    out += b"\x01\x01" + _principal_bytes(value.principal, t, where)
    raw = value.method.encode("utf-8")
    out += leb128(len(raw)) + raw
