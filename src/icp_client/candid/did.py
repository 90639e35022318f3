"""Parsing Candid types and .did service descriptions: ``parse_did(text) -> DidFile``, ``parse_type``.

Supports the full type grammar with its shorthands (named and tuple fields, enum cases, ``blob``, named
arguments), nested ``/* */`` comments, mutually recursive definitions, ``service : {...}``,
``service : Name`` and ``service : (init) -> ...``. ``import`` is rejected: this package reads one file.
Undefined names and definitions that only refer to themselves (``type A = B; type B = A``) are errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from icp_client.candid._lexer import Token, TokenStream, text_value
from icp_client.candid.errors import CandidError, CandidParseError, too_deep_as
from icp_client.candid.types import (
    ANNOTATIONS,
    BLOB,
    MAX_FIELD_ID,
    PRIMITIVES,
    Field,
    FuncType,
    NamedType,
    OptType,
    RecordType,
    ServiceType,
    Type,
    TypeEnv,
    VariantType,
    VecType,
    field_hash,
    is_keyword,
    resolve,
)


@dataclass(frozen=True, slots=True)
class DidFile:
    """A parsed .did file: its type definitions, its service's methods and, for a service constructor,
    the init argument types (None when the service takes no init arguments clause)."""

    env: TypeEnv
    service_methods: dict[str, FuncType]
    init_args: list[Type] | None
    service: ServiceType | None = None


def parse_did(text: str) -> DidFile:
    """Parse a .did file.

    Raises:
        CandidParseError: a syntax error, an ``import``, an undefined or vacuous type name, or a service
            whose type is not a service type (the message gives the offset).
    """
    with too_deep_as(CandidParseError, "the .did file"):
        return _parse_did(text)


def _parse_did(text: str) -> DidFile:
    ts = TokenStream(text)
    env = TypeEnv()
    parser = TypeParser(ts, env)
    parser.definitions()
    service: Type | None = None
    init_args: list[Type] | None = None
    if ts.accept("service"):
        init_args, service = parser.actor()
        ts.accept(";")
    if not ts.at("eof"):
        raise ts.error("expected a type definition or the service")
    check_env(env)
    resolved = _service_type(service) if service is not None else None
    methods = {name: _method_func(name, t) for name, t in resolved.methods} if resolved else {}
    return DidFile(env, methods, init_args, resolved)


def parse_type(text: str, env: TypeEnv | None = None) -> Type:
    """Parse one Candid type such as ``record { a : nat; b : opt text }``, resolving names in ``env``.

    Raises:
        CandidParseError: a syntax error or an undefined name.
    """
    with too_deep_as(CandidParseError, "the type"):
        ts = TokenStream(text)
        env = env if env is not None else TypeEnv()
        type_ = TypeParser(ts, env).datatype()
        if not ts.at("eof"):
            raise ts.error("unexpected input after the type")
        _check_names(type_, env)
        return type_


def parse_label(ts: TokenStream) -> tuple[int, str | None]:
    """A record or variant field's label: a number (the id itself), or a name or text (hashed), with the name."""
    token = ts.next()
    if token.kind == "num":
        value = parse_nat(token)
        if value > MAX_FIELD_ID:
            raise CandidParseError(f"field id {value} at offset {token.pos} is larger than 2**32-1")
        return value, None
    name = token.text if token.kind == "id" else text_value(token)
    return field_hash(name), name


def parse_nat(token: Token) -> int:
    """The value of a natural number literal (decimal or ``0x`` hex, underscores allowed).

    Raises:
        CandidParseError: the literal is not a natural number.
    """
    text = token.text.replace("_", "")
    try:
        return int(text[2:], 16) if text[:2] in ("0x", "0X") else int(text, 10)
    except ValueError:
        raise CandidParseError(
            f"expected a natural number at offset {token.pos}, found {token.text!r}"
        ) from None


class TypeParser:
    """Recursive-descent parser for the type grammar; named types refer into ``env``."""

    def __init__(self, ts: TokenStream, env: TypeEnv) -> None:
        self.ts = ts
        self.env = env

    def definitions(self) -> None:
        """Parse ``(type X = T; | import ...;)*``."""
        while self.ts.at_keyword("type") or self.ts.at_keyword("import"):
            if self.ts.at_keyword("import"):
                raise self.ts.error("import is not supported; inline the imported definitions")
            self.ts.next()
            name = self._ident("a type name")
            self.ts.expect("=")
            if name in self.env:
                raise CandidParseError(f"type {name} is defined twice")
            self.env.define(name, self.datatype())
            self.ts.expect(";")

    def actor(self) -> tuple[list[Type] | None, Type]:
        """After ``service``: ``<id>? : (<tuptype> ->)? (<actortype> | <id>)``."""
        if self.ts.at("id") and not self.ts.at_punct(":"):
            self._ident("a service name")
        self.ts.expect(":")
        init_args = None
        if self.ts.at_punct("("):
            init_args = list(self.tuptype())
            self.ts.expect("->")
        if self.ts.at_punct("{"):
            return init_args, self.actortype()
        return init_args, self.env.ref(self._ident("a service type name"))

    def datatype(self) -> Type:
        """One ``<datatype>``."""
        token = self.ts.expect_kind("id", "a type")
        word = token.text
        if word in PRIMITIVES:
            return PRIMITIVES[word]
        constructor = _CONSTRUCTORS.get(word)
        if constructor is not None:
            return constructor(self)
        if is_keyword(word):
            raise CandidParseError(f"unexpected keyword {word!r} at offset {token.pos}")
        return self.env.ref(word)

    def tuptype(self) -> tuple[Type, ...]:
        """``( <argtype>,* )``, where an argument may be named (``name : T``); names must be unique."""
        self.ts.expect("(")
        types: list[Type] = []
        names: set[str] = set()
        while not self.ts.accept(")"):
            if (self.ts.at("id") or self.ts.at("text")) and self.ts.at_punct(":", 1):
                name = self._name()
                if name in names:
                    raise CandidParseError(f"duplicate argument name {name!r}")
                names.add(name)
                self.ts.expect(":")
            types.append(self.datatype())
            if not self.ts.accept(","):
                self.ts.expect(")")
                break
        return tuple(types)

    def functype(self) -> FuncType:
        """``<tuptype> -> <tuptype> <funcann>*``."""
        args = self.tuptype()
        self.ts.expect("->")
        results = self.tuptype()
        anns: list[str] = []
        while self.ts.peek().kind == "id" and self.ts.peek().value in ANNOTATIONS:
            anns.append(self.ts.next().text)
        if "oneway" in anns and results:
            raise CandidParseError("a oneway function cannot have results")
        return FuncType(args, results, tuple(anns))

    def actortype(self) -> ServiceType:
        """``{ <methtype>;* }``."""
        self.ts.expect("{")
        methods: list[tuple[str, Type]] = []
        while not self.ts.accept("}"):
            name = self._name()
            self.ts.expect(":")
            method = self.functype() if self.ts.at_punct("(") else self.env.ref(self._ident("a type name"))
            methods.append((name, method))
            if not self.ts.accept(";"):
                self.ts.expect("}")
                break
        try:
            return ServiceType(tuple(methods))
        except CandidError as exc:
            raise CandidParseError(str(exc)) from None

    def fields(self, is_record: bool) -> tuple[Field, ...]:
        """``{ <fieldtype>;* }`` of a record or variant, with the shorthands."""
        self.ts.expect("{")
        fields: list[Field] = []
        while not self.ts.accept("}"):
            fields.append(self._field(is_record, fields[-1].id + 1 if fields else 0))
            if not self.ts.accept(";"):
                self.ts.expect("}")
                break
        return tuple(fields)

    def _field(self, is_record: bool, next_id: int) -> Field:
        ts = self.ts
        labelled = ts.peek().kind in ("num", "text") or (ts.at("id") and not is_keyword(ts.peek().text))
        if labelled and (ts.at_punct(":", 1) or not is_record):
            field_id, name = parse_label(self.ts)
            type_ = self.datatype() if ts.accept(":") else PRIMITIVES["null"]
            return Field(field_id, name, type_)
        if ts.at("id") and ts.at_punct(":", 1):  # a keyword used as a field name, e.g. ``text : nat``
            name = ts.next().text
            ts.expect(":")
            return Field(field_hash(name), name, self.datatype())
        if not is_record:
            raise ts.error("expected a variant case")
        return Field(next_id, None, self.datatype())

    def _name(self) -> str:
        token = self.ts.next()
        if token.kind == "id":
            return token.text
        if token.kind == "text":
            return text_value(token)
        raise CandidParseError(f"expected a name at offset {token.pos}, found {token.value!r}")

    def _ident(self, what: str) -> str:
        token = self.ts.expect_kind("id", what)
        if is_keyword(token.text):
            raise CandidParseError(f"expected {what} at offset {token.pos}, found keyword {token.text!r}")
        return token.text


def _record(p: TypeParser) -> Type:
    fields = p.fields(True)
    try:
        return RecordType(fields)
    except CandidError as exc:
        raise CandidParseError(str(exc)) from None


def _variant(p: TypeParser) -> Type:
    fields = p.fields(False)
    try:
        return VariantType(fields)
    except CandidError as exc:
        raise CandidParseError(str(exc)) from None


_CONSTRUCTORS: dict[str, Callable[[TypeParser], Type]] = {
    "opt": lambda p: OptType(p.datatype()),
    "vec": lambda p: VecType(p.datatype()),
    "blob": lambda p: BLOB,
    "record": _record,
    "variant": _variant,
    "func": lambda p: p.functype(),
    "service": lambda p: p.actortype(),
}


def check_env(env: TypeEnv) -> None:
    """Check every definition: names are defined and no definition is vacuous.

    Raises:
        CandidParseError: an undefined name or a cycle of bare names.
    """
    for name in env:
        try:
            resolve(env[name])
        except CandidError as exc:
            raise CandidParseError(f"type {name}: {exc}") from None
        _check_names(env[name], env)


def _check_names(type_: Type, env: TypeEnv) -> None:
    for t in _walk(type_, set()):
        if isinstance(t, NamedType) and t.name not in env:
            raise CandidParseError(f"undefined type {t.name}")


def _walk(type_: Type, seen: set[int]) -> Iterator[Type]:
    if id(type_) in seen:
        return
    seen.add(id(type_))
    yield type_
    children: tuple[Type, ...] = ()
    if isinstance(type_, OptType | VecType):
        children = (type_.inner,)
    elif isinstance(type_, RecordType | VariantType):
        children = tuple(f.type for f in type_.fields)
    elif isinstance(type_, FuncType):
        children = type_.args + type_.results
    elif isinstance(type_, ServiceType):
        children = tuple(t for _, t in type_.methods)
    for child in children:
        yield from _walk(child, seen)


def _service_type(service: Type) -> ServiceType:
    try:
        resolved = resolve(service)
    except CandidError as exc:
        raise CandidParseError(str(exc)) from None
    if not isinstance(resolved, ServiceType):
        raise CandidParseError(f"the service's type {service} is not a service type")
    return resolved


def _method_func(name: str, type_: Type) -> FuncType:
    resolved = resolve(type_)
    if not isinstance(resolved, FuncType):
        raise CandidParseError(f"method {name}: type {type_} is not a function type")
    return resolved
