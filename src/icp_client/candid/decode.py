"""Binary decoding with subtyping: ``decode(data, types=None, *, limits=DecodeLimits()) -> list``.

Values are read in one pass, directed by the wire type and the expected type together, applying the spec's
coercion rules (section "Coercion") as they go. A mismatch under ``opt`` is recovered by rewinding and
skipping the value, which then reads as none; any other error (malformed bytes, a limit) is final.

Limits (:class:`DecodeLimits`) keep hostile input cheap to reject: every value read or skipped costs one
unit from a budget proportional to the input size, and a vector's length is charged up front, so a
13-byte ``vec null`` claiming millions of elements fails at once; nesting depth and table size are capped;
lengths are checked against the bytes left before anything is allocated.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from icp_client.candid._table import read_types
from icp_client.candid._wire import Reader
from icp_client.candid.errors import CandidDecodeError, CandidError, _MismatchError
from icp_client.candid.subtype import is_subtype
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
    is_null_like,
    resolve,
)
from icp_client.candid.values import FuncRef, make_some
from icp_client.principal import Principal, PrincipalError

MAGIC = b"DIDL"
_FIXED_SIZES = {FLOAT32: 4, FLOAT64: 8, **{t: bits // 8 for t, (bits, _) in FIXED_INTS.items()}}


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Bounds on the work one message may cause.

    ``max_depth``: nesting of values (and of skipped values); ``max_number_bytes``: LEB128 bytes in one
    ``nat``/``int``; ``max_type_table``: entries in the type table;
    ``max_args``: number of arguments; the cost budget is ``base_cost + cost_per_byte * len(data)`` units,
    one unit per value decoded or skipped and one per vector element (charged before reading).
    """

    max_depth: int = 100
    max_number_bytes: int = 1024
    max_type_table: int = 2_000
    max_args: int = 1_000
    base_cost: int = 10_000
    cost_per_byte: int = 64


def decode(
    data: bytes, types: Sequence[Type] | None = None, *, limits: DecodeLimits | None = None
) -> list[Any]:
    """Decode a Candid message; with ``types``, read it at those types (applying subtyping).

    Without ``types`` the values are read at their wire types (record fields keyed by numeric id).
    Missing trailing arguments of types null/opt/reserved read as None; extra arguments are skipped.

    Raises:
        CandidDecodeError: bad magic, malformed type table or values, trailing bytes, a limit exceeded, or a
            value that does not fit the expected type (the message says where and why).
    """
    limits = limits or DecodeLimits()
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise CandidDecodeError("not a Candid message: missing DIDL magic number")
    decoder = _Decoder(data, limits)
    try:
        return decoder.message(types)
    except RecursionError:
        raise CandidDecodeError("message is too deeply nested to decode") from None
    except _MismatchError as exc:
        raise CandidDecodeError(str(exc)) from None
    except CandidDecodeError:
        raise
    except CandidError as exc:
        raise CandidDecodeError(str(exc)) from None


def _mismatch(expected: Type, wire: Type) -> _MismatchError:
    return _MismatchError(f"expected {expected}, got {resolve(wire)}")


class _Decoder:
    def __init__(self, data: bytes, limits: DecodeLimits) -> None:
        self.r = Reader(data, len(MAGIC), limits.max_number_bytes)
        self.limits = limits
        self.budget = limits.base_cost + limits.cost_per_byte * len(data)
        self.depth = 0
        self.subtype_cache: dict[tuple[int, int], bool] = {}
        self.nonzero_cache: dict[int, bool] = {}
        self.field_maps: dict[int, dict[int, Field]] = {}

    def message(self, types: Sequence[Type] | None) -> list[Any]:
        wire = read_types(self.r, self.limits.max_type_table, self.limits.max_args)
        expected = list(types) if types is not None else list(wire.args)
        values = [self._argument(i, wire.args, t) for i, t in enumerate(expected)]
        for extra in wire.args[len(expected) :]:
            self.skip(extra)
        if self.r.remaining:
            raise CandidDecodeError(f"{self.r.remaining} unexpected trailing byte(s) after the arguments")
        return values

    def _argument(self, index: int, wire_args: tuple[Type, ...], expected: Type) -> Any:
        if index >= len(wire_args):
            if is_null_like(expected):
                return None
            raise CandidDecodeError(f"argument {index}: missing (expected {expected})")
        try:
            return self.value(wire_args[index], expected)
        except _MismatchError as exc:
            raise _MismatchError(f"argument {index}: {exc}") from None

    # -- budget and depth ---------------------------------------------------------------------------------

    def charge(self, units: int) -> None:
        self.budget -= units
        if self.budget < 0:
            raise CandidDecodeError("decoding cost limit exceeded (too many values for the message size)")

    def _enter(self) -> None:
        self.charge(1)
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise CandidDecodeError(f"nesting depth limit ({self.limits.max_depth}) exceeded")

    # -- reading at an expected type ---------------------------------------------------------------------

    def value(self, wire: Type, expected: Type) -> Any:
        self._enter()
        try:
            return self._value(resolve(wire), resolve(expected))
        finally:
            self.depth -= 1

    def _value(self, w: Type, e: Type) -> Any:
        if e == RESERVED:
            self._skip(w)
            return None
        if w == EMPTY:
            raise CandidDecodeError("cannot decode a value of type empty")
        if isinstance(e, OptType):
            return self._opt(w, e)
        if isinstance(e, PrimType):
            return self._prim(w, e)
        if isinstance(e, VecType) and isinstance(w, VecType):
            return self._vec(w, e)
        if isinstance(e, RecordType) and isinstance(w, RecordType):
            return self._record(w, e)
        if isinstance(e, VariantType) and isinstance(w, VariantType):
            return self._variant(w, e)
        if isinstance(e, FuncType | ServiceType) and type(w) is type(e) and self._subtype(w, e):
            return self._func() if isinstance(e, FuncType) else self._principal()
        raise _mismatch(e, w)

    def _subtype(self, w: Type, e: Type) -> bool:
        key = (id(w), id(e))
        if key not in self.subtype_cache:
            self.subtype_cache[key] = is_subtype(w, e)
        return self.subtype_cache[key]

    def _prim(self, w: Type, e: PrimType) -> Any:
        if w == e or (w == NAT and e == INT):
            return self._read_prim(e if w == e else NAT)
        if e == PRINCIPAL and isinstance(w, ServiceType):
            return self._principal()
        raise _mismatch(e, w)

    def _read_prim(self, p: PrimType) -> Any:
        if p == NAT:
            return self.r.leb()
        if p == INT:
            return self.r.sleb()
        if p in FIXED_INTS:
            bits, signed = FIXED_INTS[p]
            return int.from_bytes(self.r.take(bits // 8), "little", signed=signed)
        if p in (FLOAT32, FLOAT64):
            fmt = "<f" if p == FLOAT32 else "<d"
            return float(struct.unpack(fmt, self.r.take(_FIXED_SIZES[p]))[0])
        if p == BOOL:
            return self._bool()
        if p == TEXT:
            return self._text()
        if p == PRINCIPAL:
            return self._principal()
        if p in (NULL, RESERVED):
            return None
        raise CandidDecodeError(f"cannot decode a value of type {p}")

    def _bool(self) -> bool:
        b = self.r.byte()
        if b > 1:
            raise CandidDecodeError(f"invalid bool byte {b:#04x}")
        return b == 1

    def _text(self) -> str:
        raw = self.r.take(self.r.size("text length"))
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CandidDecodeError("text is not valid UTF-8") from None

    def _principal(self) -> Principal:
        tag = self.r.byte()
        if tag != 1:
            what = "opaque references are not supported" if tag == 0 else f"invalid reference tag {tag}"
            raise CandidDecodeError(f"principal: {what}")
        raw = self.r.take(self.r.size("principal length"))
        try:
            return Principal(raw)
        except PrincipalError as exc:
            raise CandidDecodeError(str(exc)) from None

    def _func(self) -> FuncRef:
        tag = self.r.byte()
        if tag != 1:
            what = "opaque references are not supported" if tag == 0 else f"invalid reference tag {tag}"
            raise CandidDecodeError(f"func: {what}")
        principal = self._principal()
        return FuncRef(principal, self._text())

    def _opt(self, w: Type, e: OptType) -> Any:
        if w in (NULL, RESERVED):
            return None
        if isinstance(w, OptType):
            flag = self.r.byte()
            if flag == 0:
                return None
            if flag != 1:
                raise CandidDecodeError(f"invalid opt tag byte {flag:#04x}")
            return self._recover(w.inner, e.inner)
        _check_opt_chain(e)
        return self._recover(w, e.inner)

    def _recover(self, w: Type, e_inner: Type) -> Any:
        """``opt v`` at ``opt e_inner``: the coerced value, or None if ``v`` does not coerce."""
        saved = self.r.pos
        try:
            value = self.value(w, e_inner)
        except _MismatchError:
            self.r.pos = saved
            self.skip(w)
            return None
        return make_some(value, e_inner)

    def _vec(self, w: VecType, e: VecType) -> Any:
        n = self._vec_length(w)
        if resolve(w.inner) == NAT8 and resolve(e.inner) == NAT8:
            return self.r.take(n)
        return [self.value(w.inner, e.inner) for _ in range(n)]

    def _vec_length(self, w: VecType) -> int:
        n = self.r.size("vector length")
        if self._nonzero(w.inner) and n > self.r.remaining:
            raise CandidDecodeError(f"vector length {n} is larger than the remaining input")
        self.charge(n)
        return n

    def _nonzero(self, t: Type) -> bool:
        """True when every value of wire type ``t`` takes at least one byte."""
        r = resolve(t)
        key = id(r)
        if key not in self.nonzero_cache:
            self.nonzero_cache[key] = False  # assumed while computing, for recursive records
            self.nonzero_cache[key] = _nonzero_uncached(r, self._nonzero)
        return self.nonzero_cache[key]

    def _fields_of(self, t: RecordType | VariantType) -> dict[int, Field]:
        key = id(t)
        if key not in self.field_maps:
            self.field_maps[key] = {f.id: f for f in t.fields}
        return self.field_maps[key]

    def _record(self, w: RecordType, e: RecordType) -> dict[str | int, Any]:
        wanted = self._fields_of(e)
        out: dict[str | int, Any] = {}
        for wf in w.fields:
            ef = wanted.get(wf.id)
            if ef is None:
                self.skip(wf.type)
            else:
                out[ef.key] = self._field(wf.type, ef)
        for ef in e.fields:
            if ef.key not in out:
                if not is_null_like(ef.type):
                    raise _MismatchError(f"field {ef.key}: missing (expected {ef.type})")
                out[ef.key] = None
        return {ef.key: out[ef.key] for ef in e.fields}

    def _field(self, wire: Type, ef: Field) -> Any:
        try:
            return self.value(wire, ef.type)
        except _MismatchError as exc:
            raise _MismatchError(f"field {ef.key}: {exc}") from None

    def _variant(self, w: VariantType, e: VariantType) -> dict[str | int, Any]:
        index = self.r.size("variant index")
        if index >= len(w.fields):
            raise CandidDecodeError(f"variant index {index} out of range ({len(w.fields)} cases)")
        wf = w.fields[index]
        ef = self._fields_of(e).get(wf.id)
        if ef is None:
            raise _MismatchError(f"unexpected variant tag {wf.id} for {e}")
        return {ef.key: self._field(wf.type, ef)}

    # -- skipping ---------------------------------------------------------------------------------------

    def skip(self, wire: Type) -> None:
        self._enter()
        try:
            self._skip(resolve(wire))
        finally:
            self.depth -= 1

    def _skip(self, w: Type) -> None:
        if isinstance(w, PrimType):
            if w == EMPTY:
                raise CandidDecodeError("cannot decode a value of type empty")
            self._read_prim(w)
        elif isinstance(w, OptType):
            flag = self.r.byte()
            if flag > 1:
                raise CandidDecodeError(f"invalid opt tag byte {flag:#04x}")
            if flag:
                self.skip(w.inner)
        elif isinstance(w, VecType):
            self._skip_vec(w)
        elif isinstance(w, RecordType):
            for f in w.fields:
                self.skip(f.type)
        else:
            self._skip_other(w)

    def _skip_vec(self, w: VecType) -> None:
        n = self._vec_length(w)
        if resolve(w.inner) == NAT8:
            self.r.skip(n)
            return
        for _ in range(n):
            self.skip(w.inner)

    def _skip_other(self, w: Type) -> None:
        if isinstance(w, VariantType):
            index = self.r.size("variant index")
            if index >= len(w.fields):
                raise CandidDecodeError(f"variant index {index} out of range ({len(w.fields)} cases)")
            self.skip(w.fields[index].type)
        elif isinstance(w, FuncType):
            self._func()
        elif isinstance(w, ServiceType):
            self._principal()
        elif isinstance(w, FutureType):
            size = self.r.size("future value length")
            refs = self.r.size("future value reference count")
            self.r.skip(size)
            if refs:
                raise CandidDecodeError("future values with references are not supported")
        else:  # pragma: no cover - every wire type is handled above
            raise CandidDecodeError(f"cannot skip a value of {w}")


def _check_opt_chain(e: OptType) -> None:
    """Reject coercing a non-optional value into an infinitely nested ``opt`` (``type Opt = opt Opt``)."""
    seen: set[int] = set()
    current: Type = e
    while isinstance(current, OptType):
        if id(current) in seen:
            raise CandidDecodeError(f"cannot coerce a non-optional value to the infinitely nested {e}")
        seen.add(id(current))
        current = resolve(current.inner)


def _nonzero_uncached(r: Type, nonzero: Any) -> bool:
    if isinstance(r, PrimType):
        return r not in (NULL, RESERVED, EMPTY)
    if isinstance(r, RecordType):
        return any(nonzero(f.type) for f in r.fields)
    return True
