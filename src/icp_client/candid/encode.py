"""Binary encoding: ``encode(types, values) -> bytes`` (spec section "Binary Format").

The type table holds one entry per distinct composite type object (named types are shared, so recursive
types work); fields are written sorted by id, methods by name. The table and a writer per argument
(:mod:`._encoding`) are built once per list of types and reused while the types (and the environments their
names point into) stay the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from icp_client.candid._cache import BoundedCache, Revisions, current
from icp_client.candid._codes import (
    ANNOTATION_CODES,
    FUNC,
    OPT,
    RECORD,
    SERVICE,
    VARIANT,
    VEC,
)
from icp_client.candid._encoding import Compiler, Fault, Output, Write, where
from icp_client.candid._wire import leb128, sleb128
from icp_client.candid.errors import CandidEncodeError, CandidError, too_deep_as
from icp_client.candid.types import (
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

MAGIC = b"DIDL"


def encode(types: Sequence[Type], values: Sequence[Any]) -> bytes:
    """Encode ``values`` (one per argument) at ``types`` as a Candid message ``DIDL ...``.

    Raises:
        CandidEncodeError: the counts differ, or a value does not fit its type (the message names where).
    """
    if len(types) != len(values):
        raise CandidEncodeError(f"expected {len(types)} values, got {len(values)}")
    with too_deep_as(CandidEncodeError, "the value or type"):
        program = _program(types)
        out = Output(program.prefix)
        for index, (write, value) in enumerate(zip(program.writers, values, strict=True)):
            try:
                write(out, value)
            except Fault as fault:
                raise CandidEncodeError(f"{where(index, fault.path)}: {fault.detail}") from None
        return out.getvalue()


@dataclass(frozen=True, slots=True)
class _Program:
    """What encoding at one list of types needs: the message's start (magic, type table, argument types)
    and a writer per argument."""

    prefix: bytes
    writers: tuple[Write, ...]
    types: tuple[Type, ...]  # kept so that the ids in the cache key stay unique
    revisions: Revisions


_PROGRAMS: BoundedCache[tuple[int, ...], _Program] = BoundedCache(256)


def _program(types: Sequence[Type]) -> _Program:
    key = tuple(map(id, types))
    program = _PROGRAMS.get(key)
    if program is None or not current(program.revisions):
        program = _compile(tuple(types))
        _PROGRAMS.put(key, program)
    return program


def _compile(types: tuple[Type, ...]) -> _Program:
    table = _TypeTable()
    try:
        refs = [table.ref(t) for t in types]
    except CandidEncodeError:
        raise
    except CandidError as exc:
        raise CandidEncodeError(str(exc)) from None
    prefix = bytearray(MAGIC)
    prefix += table.serialise()
    prefix += leb128(len(refs))
    for ref in refs:
        prefix += sleb128(ref)
    compiler = Compiler()
    writers = tuple(compiler.writer(t) for t in types)
    return _Program(bytes(prefix), writers, types, tuple(compiler.envs.values()))


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
