"""Parsing Candid textual values: ``parse_values(text, types=None) -> list`` (spec section "Values").

The text is first parsed into a small untyped tree, then checked and converted at the expected types
(or, without types, at types inferred from the text: integers as ``int``, decimals as ``float64``).
Record fields that the type does not have are ignored, missing null/opt/reserved fields read as None, as
in binary coercion; anything else that does not fit (a negative ``nat``, ``(5 : nat32)`` where ``nat64`` is
expected, a principal where a service is expected) is an error.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from icp_client.candid._lexer import Token, TokenStream, text_value
from icp_client.candid.did import TypeParser, parse_label
from icp_client.candid.errors import CandidError, CandidParseError, too_deep_as
from icp_client.candid.subtype import is_subtype
from icp_client.candid.types import (
    BLOB,
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
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    TypeEnv,
    VariantType,
    VecType,
    is_keyword,
    is_null_like,
    resolve,
)
from icp_client.candid.values import FuncRef, make_some
from icp_client.principal import Principal, PrincipalError


@dataclass(frozen=True, slots=True)
class _V:
    """An untyped textual value: ``kind`` says which form, ``data`` holds its parts, ``pos`` its offset."""

    kind: str
    data: Any
    pos: int


def parse_values(text: str, types: Sequence[Type] | None = None, env: TypeEnv | None = None) -> list[Any]:
    """Parse an argument list such as ``(1, "x", record { a = opt 5 })`` (or one bare value).

    With ``types`` each value is checked and converted at its type; missing trailing arguments of
    null/opt/reserved type read as None. ``env`` resolves type names used in annotations ``(v : T)``.

    Raises:
        CandidParseError: a syntax error, or a value that does not fit its type (the message says where).
    """
    with too_deep_as(CandidParseError, "the text"):
        return _parse_values(text, types, env)


def _parse_values(text: str, types: Sequence[Type] | None, env: TypeEnv | None) -> list[Any]:
    ts = TokenStream(text)
    parser = _ValueParser(ts, env if env is not None else TypeEnv())
    raw = parser.arguments()
    if not ts.at("eof"):
        raise ts.error("unexpected input after the values")
    if types is None:
        return [coerce(v, infer(v)) for v in raw]
    if len(raw) > len(types):
        raise CandidParseError(f"expected {len(types)} values, got {len(raw)}")
    return [_argument(raw, i, t) for i, t in enumerate(types)]


def _argument(raw: list[_V], index: int, type_: Type) -> Any:
    if index < len(raw):
        return _at(f"argument {index}", lambda: coerce(raw[index], type_))
    if is_null_like(type_):
        return None
    raise CandidParseError(f"argument {index}: missing (expected {type_})")


def _at(where: str, thunk: Any) -> Any:
    try:
        return thunk()
    except CandidParseError as exc:
        raise CandidParseError(f"{where}: {exc}") from None


class _ValueParser:
    def __init__(self, ts: TokenStream, env: TypeEnv) -> None:
        self.ts = ts
        self.types = TypeParser(ts, env)

    def arguments(self) -> list[_V]:
        if not self.ts.at_punct("("):
            return [self.annval()]
        self.ts.expect("(")
        values: list[_V] = []
        while not self.ts.accept(")"):
            values.append(self.annval())
            if not self.ts.accept(","):
                self.ts.expect(")")
                break
        return values

    def annval(self) -> _V:
        value = self.value()
        if self.ts.accept(":"):
            return _V("annot", (value, self.types.datatype()), value.pos)
        return value

    def value(self) -> _V:
        token = self.ts.peek()
        if token.kind == "punct" and token.value == "(":
            self.ts.next()
            inner = self.annval()
            self.ts.expect(")")
            return inner
        if token.kind == "punct" and token.value in ("-", "+"):
            self.ts.next()
            number = self.ts.next()
            if number.kind != "num" and not (number.kind == "id" and number.value in _SPECIAL_FLOATS):
                raise CandidParseError(f"expected a number after the sign at offset {token.pos}")
            return _V("num", token.text + number.text, token.pos)
        if token.kind == "num":
            return _V("num", self.ts.next().text, token.pos)
        if token.kind == "text":
            return _V("text", self.ts.next().value, token.pos)
        if token.kind == "id":
            return self._keyword_value(token)
        raise self.ts.error("expected a value")

    def _keyword_value(self, token: Token) -> _V:
        word = self.ts.next().text
        if word in _SPECIAL_FLOATS:
            return _V("num", word, token.pos)
        simple = {"true": ("bool", True), "false": ("bool", False), "null": ("null", None)}
        if word in simple:
            kind, data = simple[word]
            return _V(kind, data, token.pos)
        if word == "opt":
            return _V("opt", self.value(), token.pos)
        if word == "vec":
            return _V("vec", self._vec_items(), token.pos)
        if word == "blob":
            return _V("blob", self.ts.expect_kind("text", "a blob string").value, token.pos)
        if word == "record":
            return _V("record", self._fields(is_record=True), token.pos)
        if word == "variant":
            return self._variant(token)
        if word in ("principal", "service", "func"):
            return self._reference(word, token)
        raise CandidParseError(f"unexpected {word!r} at offset {token.pos}, expected a value")

    def _vec_items(self) -> list[_V]:
        self.ts.expect("{")
        items: list[_V] = []
        while not self.ts.accept("}"):
            items.append(self.annval())
            if not self.ts.accept(";"):
                self.ts.expect("}")
                break
        return items

    def _fields(self, is_record: bool) -> list[tuple[int, str | None, _V]]:
        self.ts.expect("{")
        fields: list[tuple[int, str | None, _V]] = []
        while not self.ts.accept("}"):
            fields.append(self._field(is_record, fields[-1][0] + 1 if fields else 0))
            if not self.ts.accept(";"):
                self.ts.expect("}")
                break
        return fields

    def _field(self, is_record: bool, next_id: int) -> tuple[int, str | None, _V]:
        ts = self.ts
        token = ts.peek()
        labelled = token.kind in ("num", "text") or (token.kind == "id" and not is_keyword(token.text))
        if labelled and (ts.at_punct("=", 1) or not is_record):
            field_id, name = parse_label(self.ts)
            value = self.annval() if ts.accept("=") else _V("null", None, token.pos)
            return field_id, name, value
        if not is_record:
            raise ts.error("expected a variant case")
        return next_id, None, self.annval()

    def _variant(self, token: Token) -> _V:
        fields = self._fields(is_record=False)
        if len(fields) != 1:
            raise CandidParseError(f"a variant value at offset {token.pos} needs exactly one case")
        return _V("variant", fields[0], token.pos)

    def _reference(self, word: str, token: Token) -> _V:
        principal = _principal(self.ts.expect_kind("text", f"the {word}'s principal text"))
        if word != "func":
            return _V(word, principal, token.pos)
        self.ts.expect(".")
        method = self.ts.next()
        if method.kind not in ("id", "text"):
            raise CandidParseError(f"expected a method name at offset {method.pos}")
        name = method.text if method.kind == "id" else text_value(method)
        return _V("func", FuncRef(principal, name), token.pos)


def _principal(token: Token) -> Principal:
    try:
        return Principal.from_text(text_value(token))
    except PrincipalError as exc:
        raise CandidParseError(f"at offset {token.pos}: {exc}") from None


# -- inference ---------------------------------------------------------------------------------------------


def infer(v: _V) -> Type:
    """The type a textual value has on its own (integers are ``int``, decimals ``float64``)."""
    kind = v.kind
    if kind in _INFER_SIMPLE:
        return _INFER_SIMPLE[kind]
    if kind == "num":
        return FLOAT64 if _is_float_literal(v.data) else INT
    if kind == "opt":
        return OptType(infer(v.data))
    if kind == "vec":
        return VecType(infer(v.data[0]) if v.data else EMPTY)
    if kind == "record":
        try:
            return RecordType(tuple(Field(i, n, infer(x)) for i, n, x in v.data))
        except CandidError as exc:
            raise CandidParseError(str(exc)) from None
    if kind == "variant":
        field_id, name, payload = v.data
        return VariantType((Field(field_id, name, infer(payload)),))
    assert kind == "annot"
    return v.data[1]  # type: ignore[no-any-return]


_INFER_SIMPLE: dict[str, Type] = {
    "text": TEXT,
    "bool": BOOL,
    "null": NULL,
    "blob": BLOB,
    "principal": PRINCIPAL,
    "service": ServiceType(()),
    "func": FuncType((), ()),
}


def _resolve(type_: Type) -> Type:
    try:
        return resolve(type_)
    except CandidError as exc:
        raise CandidParseError(str(exc)) from None


# -- coercion at a type ------------------------------------------------------------------------------------


def _mismatch(v: _V, t: Type) -> CandidParseError:
    return CandidParseError(f"expected {t}, got {_describe(v)} at offset {v.pos}")


def _describe(v: _V) -> str:
    if v.kind == "num":
        return f"number {v.data}"
    if v.kind == "text":
        return "text"
    return v.kind


def coerce(v: _V, type_: Type) -> Any:
    """The Python value of the textual value ``v`` at ``type_``.

    Raises:
        CandidParseError: the value does not fit the type.
    """
    t = _resolve(type_)
    if v.kind == "annot":
        return _annotated(v, t)
    if t == RESERVED:
        return None
    if isinstance(t, OptType):
        return _opt(v, t)
    if isinstance(t, PrimType):
        return _prim(v, t)
    if isinstance(t, VecType):
        return _vec(v, t)
    if isinstance(t, RecordType):
        return _record(v, t)
    if isinstance(t, VariantType):
        return _variant(v, t)
    if isinstance(t, ServiceType) and v.kind == "service":
        return v.data
    if isinstance(t, FuncType) and v.kind == "func":
        return v.data
    raise _mismatch(v, t)


def _annotated(v: _V, t: Type) -> Any:
    inner, annotation = v.data
    if not is_subtype(annotation, t):
        raise CandidParseError(f"annotation {annotation} at offset {v.pos} does not match the expected {t}")
    coerce(inner, annotation)
    return coerce(inner, t)


def _opt(v: _V, t: OptType) -> Any:
    if v.kind == "null":
        return None
    if v.kind == "opt":
        return make_some(coerce(v.data, t.inner), t.inner)
    if is_null_like(t.inner):
        raise CandidParseError(f"write opt explicitly for a value of {t} (at offset {v.pos})")
    return coerce(v, t.inner)


def _prim(v: _V, t: PrimType) -> Any:
    if v.kind == "num" and (t in FIXED_INTS or t in (NAT, INT, FLOAT32, FLOAT64)):
        return _number(v, t)
    if t == TEXT and v.kind == "text":
        return _text(v)
    if t == BOOL and v.kind == "bool":
        return v.data
    if t == NULL and v.kind == "null":
        return None
    if t == PRINCIPAL and v.kind in ("principal", "service"):
        return v.data
    raise _mismatch(v, t)


def _text(v: _V) -> str:
    try:
        return bytes(v.data).decode("utf-8")
    except UnicodeDecodeError:
        raise CandidParseError(f"text at offset {v.pos} is not valid UTF-8") from None


_SPECIAL_FLOATS = ("nan", "inf", "NaN")


def _is_float_literal(literal: str) -> bool:
    body = literal.lstrip("+-")
    if body in _SPECIAL_FLOATS:
        return True
    if body[:2] in ("0x", "0X"):
        return "." in body or "p" in body or "P" in body
    return "." in body or "e" in body or "E" in body


def _number(v: _V, t: PrimType) -> Any:
    literal: str = v.data
    if t in (FLOAT32, FLOAT64):
        return _float(v, literal, t)
    if _is_float_literal(literal):
        raise CandidParseError(f"expected {t}, got the non-integer {literal} at offset {v.pos}")
    body = literal.lstrip("+-").replace("_", "")
    try:
        n = int(body[2:], 16) if body[:2] in ("0x", "0X") else int(body)
    except ValueError:
        raise CandidParseError(f"number {literal[:20]}... at offset {v.pos} is too long") from None
    n = -n if literal.startswith("-") else n
    _check_range(n, t, v)
    return n


def _check_range(n: int, t: PrimType, v: _V) -> None:
    if t == NAT and n < 0:
        raise CandidParseError(f"expected nat, got the negative {v.data} at offset {v.pos}")
    if t in FIXED_INTS:
        bits, signed = FIXED_INTS[t]
        low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1)) if signed else (0, 2**bits)
        if not low <= n < high:
            raise CandidParseError(f"{v.data} at offset {v.pos} is out of range for {t}")


def _float(v: _V, literal: str, t: PrimType) -> float:
    sign = -1.0 if literal.startswith("-") else 1.0
    body = literal.lstrip("+-").replace("_", "")
    if body[:2] in ("0x", "0X"):
        value = float.fromhex(body if "p" in body.lower() else body + "p0")
    else:
        value = float(body)
    value *= sign
    if t == FLOAT32 and math.isfinite(value):
        try:
            value = struct.unpack("<f", struct.pack("<f", value))[0]
        except OverflowError:
            raise CandidParseError(f"{literal} at offset {v.pos} is out of range for float32") from None
    return value


def _vec(v: _V, t: VecType) -> Any:
    is_blob = resolve(t.inner) == NAT8
    if v.kind == "blob" and is_blob:
        return bytes(v.data)
    if v.kind != "vec":
        raise _mismatch(v, t)
    items = [_at(f"element {i}", lambda x=x: coerce(x, t.inner)) for i, x in enumerate(v.data)]
    return bytes(items) if is_blob else items


def _record(v: _V, t: RecordType) -> dict[str | int, Any]:
    if v.kind != "record":
        raise _mismatch(v, t)
    given: dict[int, _V] = {}
    for field_id, name, value in v.data:
        if field_id in given:
            raise CandidParseError(f"duplicate field {name or field_id} at offset {value.pos}")
        given[field_id] = value
    out: dict[str | int, Any] = {}
    for f in t.fields:
        if f.id in given:
            out[f.key] = _at(f"field {f.key}", lambda f=f: coerce(given[f.id], f.type))
        elif is_null_like(f.type):
            out[f.key] = None
        else:
            raise CandidParseError(f"field {f.key}: missing (expected {f.type}) at offset {v.pos}")
    return out


def _variant(v: _V, t: VariantType) -> dict[str | int, Any]:
    if v.kind != "variant":
        raise _mismatch(v, t)
    field_id, name, payload = v.data
    f = t.field_by_id(field_id)
    if f is None:
        raise CandidParseError(f"unknown variant case {name or field_id} for {t} at offset {v.pos}")
    return {f.key: _at(f"case {f.key}", lambda: coerce(payload, f.type))}
