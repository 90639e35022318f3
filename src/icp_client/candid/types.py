"""The Candid type AST: primitive, constructed and reference types, and named types bound to an environment.

Every type is an immutable value. Records and variants keep their fields sorted by numeric id; each
:class:`Field` carries the id (the field hash of its name, or its position in a tuple) and the name when
known. Recursive and shared types are written with :class:`NamedType`, a reference by name into a
:class:`TypeEnv`; :func:`resolve` follows such references to the defining type.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from icp_client.candid.errors import CandidError

MAX_FIELD_ID = 2**32 - 1
ANNOTATIONS = ("query", "oneway", "composite_query")


@dataclass(frozen=True, slots=True)
class PrimType:
    """A primitive type such as ``nat`` or ``text``; ``opcode`` is its (negative) binary type code."""

    name: str
    opcode: int

    def __str__(self) -> str:
        return self.name


NULL = PrimType("null", -1)
BOOL = PrimType("bool", -2)
NAT = PrimType("nat", -3)
INT = PrimType("int", -4)
NAT8 = PrimType("nat8", -5)
NAT16 = PrimType("nat16", -6)
NAT32 = PrimType("nat32", -7)
NAT64 = PrimType("nat64", -8)
INT8 = PrimType("int8", -9)
INT16 = PrimType("int16", -10)
INT32 = PrimType("int32", -11)
INT64 = PrimType("int64", -12)
FLOAT32 = PrimType("float32", -13)
FLOAT64 = PrimType("float64", -14)
TEXT = PrimType("text", -15)
RESERVED = PrimType("reserved", -16)
EMPTY = PrimType("empty", -17)
PRINCIPAL = PrimType("principal", -24)

PRIMITIVES: dict[str, PrimType] = {
    p.name: p
    for p in (
        NULL,
        BOOL,
        NAT,
        INT,
        NAT8,
        NAT16,
        NAT32,
        NAT64,
        INT8,
        INT16,
        INT32,
        INT64,
        FLOAT32,
        FLOAT64,
        TEXT,
        RESERVED,
        EMPTY,
        PRINCIPAL,
    )
}
PRIMITIVE_BY_OPCODE: dict[int, PrimType] = {p.opcode: p for p in PRIMITIVES.values()}

#: (bits, signed) of the fixed-width integer types.
FIXED_INTS: dict[PrimType, tuple[int, bool]] = {
    NAT8: (8, False),
    NAT16: (16, False),
    NAT32: (32, False),
    NAT64: (64, False),
    INT8: (8, True),
    INT16: (16, True),
    INT32: (32, True),
    INT64: (64, True),
}


@dataclass(frozen=True, slots=True)
class OptType:
    """``opt inner``."""

    inner: Type

    def __str__(self) -> str:
        return f"opt {self.inner}"


@dataclass(frozen=True, slots=True)
class VecType:
    """``vec inner``; ``vec nat8`` is ``blob``."""

    inner: Type

    def __str__(self) -> str:
        return f"vec {self.inner}"


@dataclass(frozen=True, slots=True)
class Field:
    """A record field or variant case: numeric ``id``, optional source ``name`` and its ``type``."""

    id: int
    name: str | None
    type: Type

    @classmethod
    def named(cls, name: str, type_: Type) -> Field:
        """A field identified by ``name`` (its id is the Candid hash of the name)."""
        return cls(field_hash(name), name, type_)

    @property
    def key(self) -> str | int:
        """The key of this field in Python values: the name when known, else the numeric id."""
        return self.name if self.name is not None else self.id


def _sorted_fields(fields: Iterable[Field], what: str) -> tuple[Field, ...]:
    ordered = tuple(sorted(fields, key=lambda f: f.id))
    for prev, cur in itertools.pairwise(ordered):
        if prev.id == cur.id:
            raise CandidError(f"{what}: duplicate field id {cur.id} ({prev.key!r} and {cur.key!r})")
    for f in ordered:
        if not 0 <= f.id <= MAX_FIELD_ID:
            raise CandidError(f"{what}: field id {f.id} out of range")
    return ordered


@dataclass(frozen=True, slots=True)
class RecordType:
    """``record { ... }``; fields are kept sorted by id and ids must be unique."""

    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _sorted_fields(self.fields, "record"))

    def is_tuple(self) -> bool:
        """True when the ids are exactly 0, 1, ..., n-1 and no field has a name."""
        return all(f.id == i and f.name is None for i, f in enumerate(self.fields))

    def field_by_id(self, field_id: int) -> Field | None:
        """The field with this id, or None."""
        return _by_id(self.fields, field_id)

    def __str__(self) -> str:
        return f"record {{{_fields_str(self.fields, self.is_tuple())}}}"


@dataclass(frozen=True, slots=True)
class VariantType:
    """``variant { ... }``; cases are kept sorted by id and ids must be unique."""

    fields: tuple[Field, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _sorted_fields(self.fields, "variant"))

    def field_by_id(self, field_id: int) -> Field | None:
        """The case with this id, or None."""
        return _by_id(self.fields, field_id)

    def __str__(self) -> str:
        return f"variant {{{_fields_str(self.fields, False)}}}"


@dataclass(frozen=True, slots=True)
class FuncType:
    """``func (args) -> (results) annotations``; annotations are a sorted tuple of ``ANNOTATIONS`` names."""

    args: tuple[Type, ...]
    results: tuple[Type, ...]
    annotations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", tuple(self.args))
        object.__setattr__(self, "results", tuple(self.results))
        anns = tuple(sorted(set(self.annotations)))
        for ann in anns:
            if ann not in ANNOTATIONS:
                raise CandidError(f"unknown function annotation {ann!r}")
        object.__setattr__(self, "annotations", anns)

    def signature(self) -> str:
        """The function type without the ``func`` keyword, as written in a service."""
        args = ", ".join(str(t) for t in self.args)
        results = ", ".join(str(t) for t in self.results)
        anns = "".join(f" {a}" for a in self.annotations)
        return f"({args}) -> ({results}){anns}"

    def __str__(self) -> str:
        return f"func {self.signature()}"


@dataclass(frozen=True, slots=True)
class ServiceType:
    """``service { name : functype; ... }``; methods are kept sorted by name and names must be unique."""

    methods: tuple[tuple[str, Type], ...]

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.methods, key=lambda m: m[0]))
        for prev, cur in itertools.pairwise(ordered):
            if prev[0] == cur[0]:
                raise CandidError(f"service: duplicate method {cur[0]!r}")
        object.__setattr__(self, "methods", ordered)

    def method(self, name: str) -> Type | None:
        """The type of the method ``name``, or None."""
        return next((t for n, t in self.methods if n == name), None)

    def __str__(self) -> str:
        body = "; ".join(f"{_name_str(n)} : {_method_str(t)}" for n, t in self.methods)
        return f"service {{{body}}}"


@dataclass(frozen=True, slots=True)
class NamedType:
    """A reference to the definition ``name`` in ``env`` (compared and hashed by name only)."""

    name: str
    env: TypeEnv = field(compare=False, repr=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class FutureType:
    """A type with an opcode this decoder does not know (below -24); only ever comes from the wire."""

    opcode: int

    def __str__(self) -> str:
        return f"<future type {self.opcode}>"


Type = (
    PrimType | OptType | VecType | RecordType | VariantType | FuncType | ServiceType | NamedType | FutureType
)


class TypeEnv(Mapping[str, Type]):
    """Named type definitions, as in a .did file's ``type X = ...;`` lines; recursion goes through names."""

    def __init__(self, defs: Mapping[str, Type] | None = None) -> None:
        self._defs: dict[str, Type] = dict(defs or {})
        self._revision = 0

    def define(self, name: str, type_: Type) -> None:
        """Add or replace the definition of ``name``."""
        self._defs[name] = type_
        self._revision += 1

    @property
    def revision(self) -> int:
        """How many times :meth:`define` has been called: the codec's caches notice a change by it."""
        return self._revision

    def ref(self, name: str) -> NamedType:
        """A :class:`NamedType` for ``name`` bound to this environment (the name need not exist yet)."""
        return NamedType(name, self)

    def __getitem__(self, name: str) -> Type:
        return self._defs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._defs)

    def __len__(self) -> int:
        return len(self._defs)

    def __repr__(self) -> str:
        return f"TypeEnv({sorted(self._defs)})"


def resolve(type_: Type) -> Type:
    """Follow named references until a structural type is reached.

    Raises:
        CandidError: a name is undefined, or definitions form a cycle of bare names
            (``type A = B; type B = A``).
    """
    seen: set[str] = set()
    current = type_
    while isinstance(current, NamedType):
        name = current.name
        if name in seen:
            raise CandidError(f"type {name} is defined only in terms of itself")
        seen.add(name)
        try:
            current = current.env[name]
        except KeyError:
            raise CandidError(f"undefined type {name}") from None
    return current


def is_null_like(type_: Type) -> bool:
    """True when ``null <: type_``: the type resolves to ``null``, ``opt _`` or ``reserved``."""
    resolved = resolve(type_)
    return resolved in (NULL, RESERVED) or isinstance(resolved, OptType)


def field_hash(name: str) -> int:
    """The Candid id of a field name: ``h = (h * 223 + byte) mod 2**32`` over its UTF-8 bytes."""
    h = 0
    for byte in name.encode("utf-8"):
        h = (h * 223 + byte) % 2**32
    return h


def record(fields: Mapping[str, Type] | Iterable[Type]) -> RecordType:
    """A record from ``{name: type}`` (named fields) or from a sequence of types (a tuple, ids 0..n-1)."""
    if isinstance(fields, Mapping):
        return RecordType(tuple(Field.named(n, t) for n, t in fields.items()))
    return RecordType(tuple(Field(i, None, t) for i, t in enumerate(fields)))


def variant(cases: Mapping[str, Type] | Iterable[str]) -> VariantType:
    """A variant from ``{tag: type}``, or from tag names alone (each with a ``null`` payload)."""
    if isinstance(cases, Mapping):
        return VariantType(tuple(Field.named(n, t) for n, t in cases.items()))
    return VariantType(tuple(Field.named(n, NULL) for n in cases))


BLOB = VecType(NAT8)

_KEYWORDS = frozenset(
    {"type", "import", "service", "func", "opt", "vec", "record", "variant", "blob"}
    | {"query", "oneway", "composite_query", "true", "false", "null"}
    | set(PRIMITIVES)
)


def is_keyword(word: str) -> bool:
    """True when ``word`` is reserved by the Candid grammar."""
    return word in _KEYWORDS


def is_identifier(name: str) -> bool:
    """True when ``name`` can be written unquoted (an ASCII identifier that is not a keyword)."""
    if not name or is_keyword(name) or not (name[0].isascii() and (name[0].isalpha() or name[0] == "_")):
        return False
    return all(c.isascii() and (c.isalnum() or c == "_") for c in name)


def _name_str(name: str) -> str:
    if is_identifier(name):
        return name
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _method_str(type_: Type) -> str:
    return type_.signature() if isinstance(type_, FuncType) else str(type_)


def _fields_str(fields: tuple[Field, ...], is_tuple: bool) -> str:
    if not fields:
        return ""
    if is_tuple:
        parts = [str(f.type) for f in fields]
    else:
        parts = [f"{_name_str(f.name) if f.name is not None else f.id} : {f.type}" for f in fields]
    return " " + "; ".join(parts) + " "


def _by_id(fields: tuple[Field, ...], field_id: int) -> Field | None:
    return next((f for f in fields if f.id == field_id), None)
