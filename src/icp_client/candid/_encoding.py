"""Writers built once per type, then run on every value of that type.

A writer is ``write(out, value)``: it checks the value against the type and appends its bytes to ``out``.
What a writer decides per type (which primitive, which record fields, whether a ``blob`` may be taken whole)
is decided here once; types are told apart by class and opcode. The common values take the shortest path
(``type(v) is int``, a one-byte length); anything else goes the long way, which also makes the errors.

Errors are built only when they happen: a writer raises :class:`Fault` with what is wrong, and each
container on the way out adds where (a field, an index), so the path costs nothing while all goes well.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

from icp_client.candid._readers import FIXED_FORMATS, NAT8_CODE, NULL_CODE, RESERVED_CODE
from icp_client.candid._wire import leb128, sleb128
from icp_client.candid.types import (
    FuncType,
    NamedType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    TypeEnv,
    VariantType,
    VecType,
)
from icp_client.candid.values import FuncRef, Some
from icp_client.principal import Principal, PrincipalError

#: Blobs at least this long are not copied into the output buffer but joined in at the end (one copy).
SPLICE_AT = 4096
FIELD, DOT, INDEX = "field", "dot", "index"


class Output(bytearray):
    """The message being written; large blobs are kept aside (``spliced``) and joined in by :meth:`getvalue`."""

    __slots__ = ("spliced",)

    def __init__(self, start: bytes) -> None:
        super().__init__(start)
        self.spliced: list[tuple[int, bytes | bytearray]] = []

    def getvalue(self) -> bytes:
        if not self.spliced:
            return bytes(self)
        with memoryview(self) as view:
            parts: list[Any] = []
            done = 0
            for at, blob in self.spliced:
                parts += (view[done:at], blob)
                done = at
            parts.append(view[done:])
            return b"".join(parts)


Write = Callable[[Output, Any], None]


class Fault(Exception):
    """Why a value does not fit (``detail``) and where, as (kind, label) steps from the innermost out."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.path: list[tuple[str, Any]] = []


def where(index: int, path: list[tuple[str, Any]]) -> str:
    """The place of a fault in argument ``index``, e.g. ``argument 0[3]`` or ``field upload_id``."""
    text = f"argument {index}"
    for kind, label in reversed(path):
        if kind == INDEX:
            text = f"{text}[{label}]"
        elif kind == FIELD and text.startswith("argument"):
            text = f"field {label}"
        else:
            text = f"{text}.{label}"
    return text


def mismatch(t: Type, value: Any) -> Fault:
    text = repr(value)
    short = text if len(text) <= 60 else text[:57] + "..."
    return Fault(f"expected {t}, got {type(value).__name__} {short}")


class Compiler:
    """Builds the writers of a set of types; ``envs`` are the environments whose names were followed."""

    def __init__(self) -> None:
        self.writers: dict[int, Write] = {}
        self.pending: dict[int, list[Write]] = {}
        self.envs: dict[int, tuple[TypeEnv, int]] = {}

    def resolve(self, t: Type) -> Type:
        while isinstance(t, NamedType):
            self.envs[id(t.env)] = (t.env, t.env.revision)
            t = t.env[t.name]  # the type table has already checked every name
        return t

    def writer(self, type_: Type) -> Write:
        t = self.resolve(type_)
        key = id(t)
        if key in self.writers:
            return self.writers[key]
        if key in self.pending:  # a recursive type: write through the writer being built
            slot = self.pending[key]
            return lambda out, value: slot[0](out, value)
        slot = self.pending[key] = [_unreachable]
        write = self.writers[key] = self._build(t)
        slot[0] = write
        del self.pending[key]
        return write

    def _build(self, t: Type) -> Write:
        if isinstance(t, PrimType):
            return primitive_writer(t)
        if isinstance(t, OptType):
            return _opt_writer(self.writer(t.inner))
        if isinstance(t, VecType):
            return self._vec(t)
        if isinstance(t, RecordType):
            return _record_writer(t, [(f, self.writer(f.type), self._nullable(f.type)) for f in t.fields])
        if isinstance(t, VariantType):
            return _variant_writer(t, [self.writer(f.type) for f in t.fields])
        if isinstance(t, FuncType):
            return _func_writer(t)
        if isinstance(t, ServiceType):
            return _service_writer(t)
        return _failing(f"cannot encode a value of {t}")

    def _vec(self, t: VecType) -> Write:
        inner = self.resolve(t.inner)
        element = self.writer(inner)
        code = inner.opcode if isinstance(inner, PrimType) else None
        if code == NAT8_CODE:
            return _blob_writer(t, element)
        if code in FIXED_FORMATS:
            return _numbers_writer(t, FIXED_FORMATS[code], element)
        return _vec_writer(t, element)

    def _nullable(self, t: Type) -> bool:
        r = self.resolve(t)
        return isinstance(r, OptType) or (isinstance(r, PrimType) and r.opcode in (NULL_CODE, RESERVED_CODE))


def _unreachable(out: Output, value: Any) -> None:  # pragma: no cover - replaced before any use
    raise AssertionError("writer used before it was built")


def _failing(detail: str) -> Write:
    def write(out: Output, value: Any) -> None:
        raise Fault(detail)

    return write


# -- primitives ------------------------------------------------------------------------------------------


def _integer(t: Type, value: Any) -> int:
    """The slow path of the integer writers: int subclasses pass, bool and the rest do not."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise mismatch(t, value)
    return value


def _nat_writer(t: PrimType) -> Write:
    def write(out: Output, v: Any) -> None:
        if type(v) is not int:
            v = _integer(t, v)
        if 0 <= v < 0x80:
            out.append(v)
        elif v < 0:
            raise Fault(f"{v} is negative, expected nat")
        else:
            out += leb128(v)

    return write


def _int_writer(t: PrimType) -> Write:
    def write(out: Output, v: Any) -> None:
        if type(v) is not int:
            v = _integer(t, v)
        out += sleb128(v)

    return write


def _fixed_writer(t: PrimType, fmt: str) -> Write:
    pack = struct.Struct("<" + fmt).pack

    def write(out: Output, v: Any) -> None:
        if type(v) is not int:
            v = _integer(t, v)
        try:
            out += pack(v)
        except struct.error:
            raise Fault(f"{v} is out of range for {t}") from None

    return write


def _float_writer(t: PrimType, fmt: str) -> Write:
    pack = struct.Struct("<" + fmt).pack

    def write(out: Output, v: Any) -> None:
        if type(v) is not float:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise mismatch(t, v)
            v = float(v)
        try:
            out += pack(v)
        except OverflowError:
            if math.isfinite(v):
                raise Fault(f"{v} is out of range for {t}") from None
            raise

    return write


def _bool_writer(t: PrimType) -> Write:
    def write(out: Output, v: Any) -> None:
        if v is True:
            out.append(1)
        elif v is False:
            out.append(0)
        else:
            raise mismatch(t, v)

    return write


def _text_writer(t: PrimType) -> Write:
    def write(out: Output, v: Any) -> None:
        if not isinstance(v, str):
            raise mismatch(t, v)
        try:
            raw = v.encode("utf-8")
        except UnicodeEncodeError:
            raise Fault("text contains a lone surrogate") from None
        n = len(raw)
        if n < 0x80:
            out.append(n)
        else:
            out += leb128(n)
        out += raw

    return write


def principal_raw(value: Any, t: Type) -> bytes:
    """The bytes of a principal given as :class:`Principal` or as text."""
    if type(value) is Principal:
        return value.raw
    if isinstance(value, str):
        try:
            value = Principal.from_text(value)
        except PrincipalError as exc:
            raise Fault(str(exc)) from None
    if not isinstance(value, Principal):
        raise mismatch(t, value)
    return value.raw


def _principal_writer(t: PrimType) -> Write:
    def write(out: Output, v: Any) -> None:
        raw = v.raw if type(v) is Principal else principal_raw(v, t)
        out.append(1)
        out.append(len(raw))  # at most 29 bytes: one LEB128 byte
        out += raw

    return write


def _null_writer(t: PrimType) -> Write:
    def write(out: Output, v: Any) -> None:
        if v is not None:
            raise mismatch(t, v)

    return write


def _reserved_writer(out: Output, v: Any) -> None:
    return None


def primitive_writer(t: PrimType) -> Write:
    """The writer of a primitive type, chosen by opcode."""
    code = t.opcode
    if code in FIXED_FORMATS:
        fmt = FIXED_FORMATS[code]
        return _float_writer(t, fmt) if fmt in "fd" else _fixed_writer(t, fmt)
    makers: dict[int, Callable[[PrimType], Write]] = {
        -1: _null_writer,
        -2: _bool_writer,
        -3: _nat_writer,
        -4: _int_writer,
        -15: _text_writer,
        -24: _principal_writer,
    }
    if code in makers:
        return makers[code](t)
    if code == -16:
        return _reserved_writer
    return _failing("type empty has no values" if code == -17 else f"cannot encode {t}")


# -- constructed types ------------------------------------------------------------------------------------


def _opt_writer(inner: Write) -> Write:
    def write(out: Output, v: Any) -> None:
        if v is None:
            out.append(0)
            return
        out.append(1)
        inner(out, v.value if isinstance(v, Some) else v)

    return write


def _length(out: Output, n: int) -> None:
    if n < 0x80:
        out.append(n)
    else:
        out += leb128(n)


def _elements(out: Output, v: list[Any] | tuple[Any, ...], element: Write) -> None:
    try:
        for item in v:
            element(out, item)
    except Fault as fault:
        # writers are deterministic, so the first element that is this very object is the one that failed
        fault.path.append((INDEX, next(i for i, x in enumerate(v) if x is item)))
        raise


def _vec_writer(t: VecType, element: Write) -> Write:
    def write(out: Output, v: Any) -> None:
        if not isinstance(v, list | tuple):
            raise mismatch(t, v)
        _length(out, len(v))
        _elements(out, v, element)

    return write


def _blob_writer(t: VecType, element: Write) -> Write:
    """``vec nat8``: bytes-like values in one step (large ones joined in without a copy), lists as numbers."""

    def write(out: Output, v: Any) -> None:
        if isinstance(v, bytes | bytearray | memoryview):
            raw = v if isinstance(v, bytes | bytearray) else bytes(v)
            _length(out, len(raw))
            if len(raw) < SPLICE_AT:
                out += raw
            else:
                out.spliced.append((len(out), raw))
            return
        if not isinstance(v, list | tuple):
            raise mismatch(t, v)
        _length(out, len(v))
        _elements(out, v, element)

    return write


def _numbers_writer(t: VecType, fmt: str, element: Write) -> Write:
    """A vector of fixed-width numbers packed in one ``struct`` call (element by element if that fails)."""
    allowed = frozenset({float, int}) if fmt in "fd" else frozenset({int})

    def write(out: Output, v: Any) -> None:
        if not isinstance(v, list | tuple):
            raise mismatch(t, v)
        n = len(v)
        _length(out, n)
        if allowed.issuperset(map(type, v)):
            try:
                out += struct.pack(f"<{n}{fmt}", *v)
                return
            except (struct.error, OverflowError):
                pass  # out of range: the element writers say which and why
        _elements(out, v, element)

    return write


def _record_writer(t: RecordType, fields: list[tuple[Any, Write, bool]]) -> Write:
    known = frozenset({f.id for f, _, _ in fields} | {f.name for f, _, _ in fields if f.name is not None})
    steps = [(f.name if f.name is not None else f.id, f, write, nullable) for f, write, nullable in fields]
    as_tuple = _tuple_writer(t, [write for _, write, _ in fields]) if t.is_tuple() else None

    def write(out: Output, v: Any) -> None:
        if type(v) is not dict:
            if as_tuple is not None and isinstance(v, list | tuple):
                return as_tuple(out, v)
            if not isinstance(v, Mapping):
                raise mismatch(t, v)
            v = dict(v)  # plain lookups from here (a defaultdict must not grow a missing field)
        if not known.issuperset(v):
            raise Fault(f"unknown field(s) {', '.join(str(k) for k in v if k not in known)}")
        f = None
        try:
            for lookup, f, field, nullable in steps:
                try:
                    item = v[lookup]
                except KeyError:
                    item = _absent_field(v, f, nullable)
                field(out, item)
        except Fault as fault:
            fault.path.append((FIELD, f.key if f is not None else None))
            raise
        return None

    return write


def _absent_field(v: Mapping[Any, Any], f: Any, nullable: bool) -> Any:
    if f.name is not None and f.id in v:
        return v[f.id]
    if nullable:
        return None
    raise Fault(f"missing (type {f.type})")


def _tuple_writer(t: RecordType, writers: list[Write]) -> Write:
    count = len(writers)

    def write(out: Output, v: Any) -> None:
        if len(v) != count:
            raise Fault(f"expected a tuple of {count}, got {len(v)} items")
        index = 0
        try:
            for index, item in enumerate(v):
                writers[index](out, item)
        except Fault as fault:
            fault.path.append((DOT, index))
            raise

    return write


def _variant_writer(t: VariantType, writers: list[Write]) -> Write:
    cases: dict[Any, tuple[int, Any, Write]] = {}
    for index, (f, field) in enumerate(zip(t.fields, writers, strict=True)):
        cases[f.id] = (index, f.key, field)
        if f.name is not None:
            cases[f.name] = (index, f.key, field)

    def write(out: Output, v: Any) -> None:
        if isinstance(v, str):
            v = {v: None}
        if not isinstance(v, Mapping) or len(v) != 1:
            raise Fault(f"a variant value must be a dict with exactly one key, got {v!r}")
        ((key, payload),) = v.items()
        case = None if isinstance(key, bool) else cases.get(key)
        if case is None:
            raise Fault(f"unknown variant tag {key!r} for {t}")
        index, label, field = case
        _length(out, index)
        try:
            field(out, payload)
        except Fault as fault:
            fault.path.append((DOT, label))
            raise

    return write


def _func_writer(t: FuncType) -> Write:
    def write(out: Output, v: Any) -> None:
        if isinstance(v, tuple) and len(v) == 2:
            v = FuncRef(*v)
        if not isinstance(v, FuncRef) or not isinstance(v.method, str):
            raise mismatch(t, v)
        raw = principal_raw(v.principal, t)
        out += b"\x01\x01" + leb128(len(raw)) + raw
        method = v.method.encode("utf-8")
        out += leb128(len(method)) + method

    return write


def _service_writer(t: ServiceType) -> Write:
    def write(out: Output, v: Any) -> None:
        raw = principal_raw(v, t)
        out += b"\x01" + leb128(len(raw)) + raw

    return write
