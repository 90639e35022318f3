"""Binary decoding with subtyping: ``decode(data, types=None, *, limits=DecodeLimits()) -> list``.

Values are read in one pass, directed by the wire type and the expected type together, applying the spec's
coercion rules (section "Coercion"). The rules are applied once per pair of types, building a reader for the
pair (:mod:`._decoding`); messages with the same type table bytes and expected types reuse those readers. A
mismatch under ``opt`` is recovered by rewinding and skipping the value, which then reads as none; any other
error (malformed bytes, a limit) is final.

Limits (:class:`DecodeLimits`) keep hostile input cheap to reject: every value read or skipped costs one
unit from a budget proportional to the input size, and a vector's length is charged up front, so a
13-byte ``vec null`` claiming millions of elements fails at once; nesting depth and table size are capped;
lengths are checked against the bytes left before anything is allocated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from icp_client.candid._cache import BoundedCache, Revisions, current
from icp_client.candid._decoding import PLAN_COST, Compiler, Plan
from icp_client.candid._readers import State
from icp_client.candid._table import WireTypes, read_types, table_end
from icp_client.candid._wire import Reader
from icp_client.candid.errors import CandidDecodeError, CandidError, _MismatchError
from icp_client.candid.types import Type

MAGIC = b"DIDL"
_MAX_CACHED_TABLE = 4096  # bytes of type table worth remembering
_MAX_CACHED_PLANS = 16_384  # plans kept in all, so that the cache's memory stays small whatever comes in


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Bounds on the work one message may cause.

    ``max_depth``: nesting of values (and of skipped values); ``max_number_bytes``: LEB128 bytes in one
    ``nat``/``int``; ``max_type_table``: entries in the type table;
    ``max_args``: number of arguments; the cost budget is ``base_cost + cost_per_byte * len(data)`` units,
    one unit per value decoded or skipped and one per vector element (charged before reading). Building the
    readers for the message's pairs of wire and expected types has an allowance of the same size, at one unit
    per reader.
    """

    max_depth: int = 100
    max_number_bytes: int = 1024
    max_type_table: int = 2_000
    max_args: int = 1_000
    base_cost: int = 10_000
    cost_per_byte: int = 64


_DEFAULT_LIMITS = DecodeLimits()


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
    limits = limits or _DEFAULT_LIMITS
    data = bytes(data)
    if not data.startswith(MAGIC):
        raise CandidDecodeError("not a Candid message: missing DIDL magic number")
    try:
        return _program(data, types, limits).run(data, limits)
    except RecursionError:
        raise CandidDecodeError("message is too deeply nested to decode") from None
    except _MismatchError as exc:
        raise CandidDecodeError(str(exc)) from None
    except CandidDecodeError:
        raise
    except CandidError as exc:
        raise CandidDecodeError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class _Program:
    """The readers of one type table at one list of expected types, from where the values start."""

    start: int
    arguments: tuple[Plan | str | None, ...]  # a plan, None (absent, reads as None), or why it is missing
    extras: tuple[Plan, ...]  # skips for wire arguments beyond the expected ones
    cost: int
    expected: tuple[Type, ...] | None  # kept so that the ids in the cache key stay unique
    revisions: Revisions

    def run(self, data: bytes, limits: DecodeLimits) -> list[Any]:
        budget = _budget(data, limits)
        if self.cost > budget:  # as building the plans for this message would have found (see Compiler)
            raise CandidDecodeError("decoding cost limit exceeded (too many values for the message size)")
        st = State(data, self.start, limits.max_number_bytes, budget, limits.max_depth)
        values = [self._argument(st, i, plan) for i, plan in enumerate(self.arguments)]
        for extra in self.extras:
            extra.accounted(st)
        if st.end > st.pos:
            raise CandidDecodeError(f"{st.end - st.pos} unexpected trailing byte(s) after the arguments")
        return values

    @staticmethod
    def _argument(st: State, index: int, plan: Plan | str | None) -> Any:
        if plan is None:
            return None
        if isinstance(plan, str):
            raise CandidDecodeError(f"argument {index}: {plan}")
        try:
            return plan.accounted(st)
        except _MismatchError as exc:
            raise _MismatchError(f"argument {index}: {exc}") from None


def _budget(data: bytes, limits: DecodeLimits) -> int:
    return limits.base_cost + limits.cost_per_byte * len(data)


_PROGRAMS: BoundedCache[tuple[bytes, DecodeLimits, tuple[int, ...] | None], _Program] = BoundedCache(
    256, _MAX_CACHED_PLANS
)


def _program(data: bytes, types: Sequence[Type] | None, limits: DecodeLimits) -> _Program:
    """The readers for this message's type table and ``types``: remembered, or built now."""
    end = table_end(data, len(MAGIC))
    expected = None if types is None else tuple(types)
    key = None
    if end is not None and end - len(MAGIC) <= _MAX_CACHED_TABLE:
        key = (data[len(MAGIC) : end], limits, None if expected is None else tuple(map(id, expected)))
        program = _PROGRAMS.get(key)
        if program is not None and current(program.revisions):
            return program
    reader = Reader(data, len(MAGIC), limits.max_number_bytes)
    wire = read_types(reader, limits.max_type_table, limits.max_args)
    program = _compile(wire, expected, reader.pos, _budget(data, limits))
    if key is not None and reader.pos == end:
        _PROGRAMS.put(key, program, program.cost // PLAN_COST)
    return program


def _compile(wire: WireTypes, expected: tuple[Type, ...] | None, start: int, budget: int) -> _Program:
    compiler = Compiler(budget)
    targets = wire.args if expected is None else expected
    arguments = tuple(_argument(compiler, wire.args, i, t) for i, t in enumerate(targets))
    extras = tuple(compiler.skip(t) for t in wire.args[len(targets) :])
    cost = compiler.built * PLAN_COST
    return _Program(start, arguments, extras, cost, expected, tuple(compiler.envs.values()))


def _argument(
    compiler: Compiler, wire_args: tuple[Type, ...], index: int, expected: Type
) -> Plan | str | None:
    if index < len(wire_args):
        return compiler.value(wire_args[index], expected)
    try:
        return None if compiler.null_like(expected) else f"missing (expected {expected})"
    except CandidError as exc:
        return str(exc)
