"""Reading the type table and argument types of a binary message, with well-formedness checks.

Table entry ``i`` becomes the definition ``table{i}`` of a fresh :class:`TypeEnv`; references between
entries are :class:`NamedType` values, so recursive wire types need no special handling.
"""

from __future__ import annotations

from dataclasses import dataclass

from icp_client.candid._codes import ANNOTATION_BY_CODE, FUNC, OPT, RECORD, SERVICE, VARIANT, VEC
from icp_client.candid._wire import Reader
from icp_client.candid.errors import CandidDecodeError, CandidError
from icp_client.candid.types import (
    MAX_FIELD_ID,
    PRIMITIVE_BY_OPCODE,
    Field,
    FuncType,
    FutureType,
    OptType,
    RecordType,
    ServiceType,
    Type,
    TypeEnv,
    VariantType,
    VecType,
    resolve,
)

_LAST_KNOWN_OPCODE = -24


@dataclass(frozen=True, slots=True)
class WireTypes:
    """The decoded type table (as an environment) and the types of the arguments."""

    env: TypeEnv
    args: tuple[Type, ...]


def read_types(reader: Reader, max_table: int, max_args: int) -> WireTypes:
    """Read ``T*(<comptype>*) I*(<datatype>*)`` after the magic number.

    Raises:
        CandidDecodeError: the table or argument list is malformed, too large, or refers out of range.
    """
    count = reader.size("type table length")
    if count > max_table or count * 2 > reader.remaining:
        raise CandidDecodeError(f"type table length {count} is too large for the input or the limit")
    env = TypeEnv()
    parser = _EntryParser(reader, env, count)
    for i in range(count):
        env.define(f"table{i}", parser.entry(i))
    _check_methods(env)
    nargs = reader.size("argument count")
    if nargs > max_args or nargs > reader.remaining:
        raise CandidDecodeError(f"argument count {nargs} is too large for the input or the limit")
    args = tuple(parser.ref() for _ in range(nargs))
    return WireTypes(env, args)


class _EntryParser:
    def __init__(self, reader: Reader, env: TypeEnv, count: int) -> None:
        self.r = reader
        self.env = env
        self.count = count

    def ref(self) -> Type:
        """A type reference: a table index or a primitive opcode."""
        code = self.r.type_code()
        if code >= 0:
            if code >= self.count:
                raise CandidDecodeError(f"type index {code} out of range (table has {self.count} entries)")
            return self.env.ref(f"table{code}")
        prim = PRIMITIVE_BY_OPCODE.get(code)
        if prim is None:
            raise CandidDecodeError(f"type code {code} is not a primitive type or table index")
        return prim

    def entry(self, index: int) -> Type:
        code = self.r.type_code()
        try:
            return self._composite(code)
        except CandidDecodeError as exc:
            raise CandidDecodeError(f"type table entry {index}: {exc}") from None
        except CandidError as exc:  # duplicate ids and the like, raised by the type constructors
            raise CandidDecodeError(f"type table entry {index}: {exc}") from None

    def _composite(self, code: int) -> Type:
        if code == OPT:
            return OptType(self.ref())
        if code == VEC:
            return VecType(self.ref())
        if code in (RECORD, VARIANT):
            fields = self._fields()
            return RecordType(fields) if code == RECORD else VariantType(fields)
        if code == FUNC:
            return self._func()
        if code == SERVICE:
            return self._service()
        if code < _LAST_KNOWN_OPCODE:
            self.r.skip(self.r.size("future type length"))
            return FutureType(code)
        raise CandidDecodeError(f"type code {code} is not a composite type")

    def _counted(self, what: str, min_bytes: int) -> int:
        n = self.r.size(what)
        if n * min_bytes > self.r.remaining:
            raise CandidDecodeError(f"{what} {n} is larger than the remaining input")
        return n

    def _fields(self) -> tuple[Field, ...]:
        n = self._counted("field count", 2)
        fields: list[Field] = []
        for _ in range(n):
            field_id = self.r.size("field id")
            if field_id > MAX_FIELD_ID:
                raise CandidDecodeError(f"field id {field_id} is larger than 2**32-1")
            if fields and field_id <= fields[-1].id:
                raise CandidDecodeError(f"field ids not strictly increasing ({fields[-1].id}, {field_id})")
            fields.append(Field(field_id, None, self.ref()))
        return tuple(fields)

    def _func(self) -> FuncType:
        args = tuple(self.ref() for _ in range(self._counted("function argument count", 1)))
        results = tuple(self.ref() for _ in range(self._counted("function result count", 1)))
        anns = []
        for _ in range(self._counted("annotation count", 1)):
            code = self.r.byte()
            if code not in ANNOTATION_BY_CODE:
                raise CandidDecodeError(f"unknown function annotation {code}")
            anns.append(ANNOTATION_BY_CODE[code])
        return FuncType(args, results, tuple(anns))

    def _service(self) -> ServiceType:
        methods: list[tuple[str, Type]] = []
        for _ in range(self._counted("method count", 2)):
            raw = self.r.take(self.r.size("method name length"))
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise CandidDecodeError("method name is not valid UTF-8") from None
            if methods and name.encode() <= methods[-1][0].encode():
                raise CandidDecodeError(
                    f"method names not strictly increasing ({methods[-1][0]!r}, {name!r})"
                )
            methods.append((name, self.ref()))
        return ServiceType(tuple(methods))


def _check_methods(env: TypeEnv) -> None:
    for name in env:
        entry = env[name]
        if isinstance(entry, ServiceType):
            for method, t in entry.methods:
                if not isinstance(resolve(t), FuncType):
                    raise CandidDecodeError(f"{name}: method {method!r} does not have a function type")


def table_end(data: bytes, start: int) -> int | None:
    """Where the type table and argument types starting at ``start`` end, or None if they are malformed.

    Only walks the numbers (no types are built, no limit is checked), so that a message whose table was seen
    before can be recognised by its bytes; :func:`read_types` is what checks a table. Every step consumes
    input, so the walk is bounded by the input's length.
    """
    try:
        count, pos = _uleb(data, start)
        for _ in range(count):
            pos = _skip_entry(data, pos)
        count, pos = _uleb(data, pos)
        for _ in range(count):
            pos = _sleb(data, pos)[1]
    except (IndexError, _Malformed):
        return None
    return pos


class _Malformed(Exception):
    pass


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    b = data[pos]
    if b < 0x80:
        return b, pos + 1
    result, shift = b & 0x7F, 7
    while True:
        pos += 1
        b = data[pos]
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos + 1
        shift += 7
        if shift > 63:  # longer than 10 bytes: not a size
            raise _Malformed


def _sleb(data: bytes, pos: int) -> tuple[int, int]:
    b = data[pos]
    if b < 0x80:
        return (b - 0x80 if b & 0x40 else b), pos + 1
    value, end = _uleb(data, pos)
    bits = 7 * (end - pos)
    return (value - (1 << bits) if data[end - 1] & 0x40 else value), end


def _skip_entry(data: bytes, pos: int) -> int:
    code, pos = _sleb(data, pos)
    if code in (OPT, VEC):
        return _sleb(data, pos)[1]
    if code in (RECORD, VARIANT):
        count, pos = _uleb(data, pos)
        for _ in range(count):
            pos = _sleb(data, _uleb(data, pos)[1])[1]
        return pos
    if code == FUNC:
        for _ in range(2):
            count, pos = _uleb(data, pos)
            for _ in range(count):
                pos = _sleb(data, pos)[1]
        count, pos = _uleb(data, pos)
        return _within(data, pos + count)
    if code == SERVICE:
        count, pos = _uleb(data, pos)
        for _ in range(count):
            length, pos = _uleb(data, pos)
            pos = _sleb(data, _within(data, pos + length))[1]
        return pos
    if code < _LAST_KNOWN_OPCODE:
        length, pos = _uleb(data, pos)
        return _within(data, pos + length)
    raise _Malformed


def _within(data: bytes, pos: int) -> int:
    if pos > len(data):
        raise _Malformed
    return pos
