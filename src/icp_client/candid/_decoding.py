"""Readers built once per pair of wire type and expected type, then run on every value of that pair.

The choices that an interpreting decoder makes for every value (which rule of the coercion applies, which
record fields to keep, whether an ``opt`` payload may be ``Some``) are made here once, when the pair is first
met; what runs per value is a small function that only reads. Types are told apart by class and opcode.

Accounting is that of the spec-following interpreter it replaces: one unit of the cost budget per value read
or skipped, one per vector element charged with the length, and the nesting depth checked for every value.
A *fixed* plan (a primitive, or a record of fixed plans) has a known number of values and nesting height and
can never mismatch, so its parent charges for it and checks its depth in one step: a vector of 10,000
records costs one check, not 40,000. Other plans (*dynamic*: opt, vec, variant, references, mismatches, and
anything recursive) charge for themselves.

Errors are built only when they happen: a mismatch under a record field or variant case is prefixed with
the field's name as it propagates, from the loop variable that was current when it was raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from icp_client.candid._readers import (
    EMPTY_CODE,
    FIXED_FORMATS,
    NAT8_CODE,
    NULL_CODE,
    RESERVED_CODE,
    Read,
    State,
    fixed_vector,
    primitive_reader,
    read_empty,
    read_func,
    read_none,
    read_principal,
    size,
    take,
)
from icp_client.candid.errors import CandidDecodeError, CandidError, _MismatchError
from icp_client.candid.subtype import is_subtype
from icp_client.candid.types import (
    INT,
    NAT,
    PRINCIPAL,
    FuncType,
    FutureType,
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
from icp_client.candid.values import Some


class Plan:
    """How to read one value: ``read``, and for a fixed plan its ``units`` and ``height`` (else None, 0).

    ``accounted`` reads with the plan's own accounting done: the plain reader for a dynamic plan, a wrapper
    that checks depth and charges first for a fixed one (for parents that cannot batch the accounting).
    """

    __slots__ = ("accounted", "height", "read", "units")

    def __init__(self, read: Read, units: int | None = None, height: int = 0) -> None:
        self.read = read
        self.units = units
        self.height = height
        self.accounted = read if units is None else _accounted(read, units, height)

    @property
    def fixed(self) -> bool:
        return self.units is not None


def _accounted(read: Read, units: int, height: int) -> Read:
    def accounted(st: State) -> Any:
        if st.depth + height > st.max_depth:
            raise st.too_deep()
        st.charge(units)
        return read(st)

    return accounted


def _enter(st: State, units: int, height: int) -> int:
    """Start a dynamic value: charge it (and its fixed children), check depth; the value's depth."""
    depth = st.depth + 1
    if depth + height > st.max_depth:
        raise st.too_deep()
    st.charge(units)
    return depth


def _raising(error: type[CandidError], message: str) -> Plan:
    """A plan that fails when (and only when) a value is read with it, as the interpreter did."""

    def read(st: State) -> Any:
        _enter(st, 1, 0)
        raise error(message)

    return Plan(read)


def _mismatch(expected: Type, wire: Type) -> Plan:
    return _raising(_MismatchError, f"expected {expected}, got {wire}")


def _fixed_primitive(code: int) -> Plan:
    return Plan(primitive_reader(code), 1, 1)


#: Budget units charged per plan built for a pair of types (a message pays for the plans it needs).
PLAN_COST = 1


class Compiler:
    """Builds the plans of one wire type table against one set of expected types.

    ``built`` counts the plans made, at ``PLAN_COST`` units each against an allowance of ``budget`` (that of
    the message, apart from what reading its values costs): past it, building stops with the cost-limit
    error, so hostile type tables cannot make much work either. ``envs`` are the type environments whose
    names were followed, with their revision (a change makes the plans stale).
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.plans: dict[tuple[int, int], Plan] = {}
        self.skips: dict[int, Plan] = {}
        self.pending: dict[Any, list[Read]] = {}
        self.nonzero_cache: dict[int, bool] = {}
        self.envs: dict[int, tuple[TypeEnv, int]] = {}
        self.built = 0

    def resolve(self, t: Type) -> Type:
        seen: set[str] = set()
        while isinstance(t, NamedType):
            name, env = t.name, t.env
            if name in seen:
                raise CandidError(f"type {name} is defined only in terms of itself")
            seen.add(name)
            self.envs[id(env)] = (env, env.revision)
            try:
                t = env[name]
            except KeyError:
                raise CandidError(f"undefined type {name}") from None
        return t

    def null_like(self, t: Type) -> bool:
        """True when ``null <: t`` (as :func:`is_null_like`, following names through :meth:`resolve`)."""
        r = self.resolve(t)
        return isinstance(r, OptType) or (isinstance(r, PrimType) and r.opcode in (NULL_CODE, RESERVED_CODE))

    # -- memoised entry points -------------------------------------------------------------------------

    def value(self, wire: Type, expected: Type) -> Plan:
        """The plan reading a value of ``wire`` type at ``expected`` type."""
        try:
            w, e = self.resolve(wire), self.resolve(expected)
        except CandidError as exc:
            return _raising(CandidError, str(exc))
        return self._memo(self.plans, (id(w), id(e)), lambda: self._value(w, e))

    def skip(self, wire: Type) -> Plan:
        """The plan skipping a value of ``wire`` type (it reads the value and returns None)."""
        try:
            w = self.resolve(wire)
        except CandidError as exc:
            return _raising(CandidError, str(exc))
        return self._memo(self.skips, id(w), lambda: self._skip(w))

    def _memo(self, plans: dict[Any, Plan], key: Any, build: Callable[[], Plan]) -> Plan:
        plan = plans.get(key)
        if plan is not None:
            return plan
        building = self.pending.get((id(plans), key))
        if building is not None:  # a recursive type: read through the plan being built (always dynamic)
            return Plan(lambda st: building[0](st))
        slot: list[Read] = [read_empty]
        self.pending[id(plans), key] = slot
        plan = plans[key] = build()
        slot[0] = plan.accounted
        del self.pending[id(plans), key]
        self.built += 1
        if self.built * PLAN_COST > self.budget:
            raise CandidDecodeError("decoding cost limit exceeded (too many values for the message size)")
        return plan

    # -- reading at an expected type -------------------------------------------------------------------

    def _value(self, w: Type, e: Type) -> Plan:
        if isinstance(e, PrimType) and e.opcode == RESERVED_CODE:
            skip = self.skip(w)
            return Plan(_discarding(skip.read), skip.units, skip.height)
        if isinstance(w, PrimType) and w.opcode == EMPTY_CODE:
            return _raising(CandidDecodeError, "cannot decode a value of type empty")
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
        if isinstance(e, FuncType | ServiceType) and type(w) is type(e):
            return _reference(w, e)
        return _mismatch(e, w)

    def _prim(self, w: Type, e: PrimType) -> Plan:
        if isinstance(w, PrimType) and (w.opcode == e.opcode or (w == NAT and e == INT)):
            return _fixed_primitive(w.opcode)
        if e == PRINCIPAL and isinstance(w, ServiceType):
            return Plan(read_principal, 1, 1)
        return _mismatch(e, w)

    def _opt(self, w: Type, e: OptType) -> Plan:
        if isinstance(w, PrimType) and w.opcode in (NULL_CODE, RESERVED_CODE):
            return Plan(read_none, 1, 1)
        try:
            some = self.null_like(e.inner)
            if not isinstance(w, OptType):
                _check_opt_chain(e, self.resolve)
        except CandidError as exc:
            return _raising(type(exc), str(exc))
        if isinstance(w, OptType):
            inner, skip = self.value(w.inner, e.inner), self.skip(w.inner)
            return Plan(_opt_reader(inner, skip, some))
        inner, skip = self.value(w, e.inner), self.skip(w)
        return Plan(_coerced_reader(inner, skip, some))

    def _vec(self, w: VecType, e: VecType) -> Plan:
        try:
            wi, ei = self.resolve(w.inner), self.resolve(e.inner)
        except CandidError as exc:
            return _raising(CandidError, str(exc))
        code = _opcode(wi)
        if code == NAT8_CODE and _opcode(ei) == NAT8_CODE:
            return Plan(_blob_reader)
        if code in FIXED_FORMATS and code == _opcode(ei):
            return Plan(_numbers_reader(code))
        return Plan(_vec_reader(self.value(wi, ei), self.nonzero(wi)))

    def _record(self, w: RecordType, e: RecordType) -> Plan:
        wanted = {f.id: f for f in e.fields}
        steps: list[tuple[Any, Plan]] = []
        for wf in w.fields:
            ef = wanted.pop(wf.id, None)
            steps.append(
                (_SKIPPED, self.skip(wf.type)) if ef is None else (ef.key, self.value(wf.type, ef.type))
            )
        try:
            missing = next((f for f in wanted.values() if not self.null_like(f.type)), None)
        except CandidError as exc:
            return _raising(CandidError, str(exc))
        order = [f.key for f in e.fields] if wanted or len(steps) != len(e.fields) else None
        return _record_plan(steps, order, missing)

    def _variant(self, w: VariantType, e: VariantType) -> Plan:
        wanted = {f.id: f for f in e.fields}
        cases: list[tuple[Any, Plan] | str] = []
        for wf in w.fields:
            ef = wanted.get(wf.id)
            cases.append(
                f"unexpected variant tag {wf.id} for {e}"
                if ef is None
                else (ef.key, self.value(wf.type, ef.type))
            )
        return Plan(_variant_reader(cases, _tagged))

    # -- skipping --------------------------------------------------------------------------------------

    def _skip(self, w: Type) -> Plan:
        if isinstance(w, PrimType) and w.opcode == EMPTY_CODE:
            return _raising(CandidDecodeError, "cannot decode a value of type empty")
        if isinstance(w, PrimType):
            return _fixed_primitive(w.opcode)
        if isinstance(w, OptType):
            return Plan(_opt_skipper(self.skip(w.inner)))
        if isinstance(w, VecType):
            return self._skip_vec(w)
        if isinstance(w, RecordType):
            return _record_plan([(_SKIPPED, self.skip(f.type)) for f in w.fields], None, None)
        if isinstance(w, VariantType):
            return Plan(_variant_reader([(_SKIPPED, self.skip(f.type)) for f in w.fields], _untagged))
        if isinstance(w, FuncType):
            return Plan(read_func, 1, 1)
        if isinstance(w, ServiceType):
            return Plan(read_principal, 1, 1)
        assert isinstance(w, FutureType)
        return Plan(_skip_future, 1, 1)

    def _skip_vec(self, w: VecType) -> Plan:
        try:
            inner = self.resolve(w.inner)
        except CandidError as exc:
            return _raising(CandidError, str(exc))
        if _opcode(inner) == NAT8_CODE:
            return Plan(_blob_skipper)
        return Plan(_vec_reader(self.skip(inner), self.nonzero(inner), discard=True))

    def nonzero(self, t: Type) -> bool:
        """True when every value of wire type ``t`` takes at least one byte."""
        r = self.resolve(t)
        key = id(r)
        if key not in self.nonzero_cache:
            self.nonzero_cache[key] = False  # assumed while computing, for recursive records
            if isinstance(r, PrimType):
                self.nonzero_cache[key] = r.opcode not in (NULL_CODE, RESERVED_CODE, EMPTY_CODE)
            elif isinstance(r, RecordType):
                self.nonzero_cache[key] = any(self.nonzero(f.type) for f in r.fields)
            else:
                self.nonzero_cache[key] = True
        return self.nonzero_cache[key]


_SKIPPED = object()  # the key of a wire-only record field, read and dropped


def _opcode(t: Type) -> int | None:
    return t.opcode if isinstance(t, PrimType) else None


def _discarding(read: Read) -> Read:
    def discard(st: State) -> None:
        read(st)

    return discard


def _check_opt_chain(e: OptType, resolve: Callable[[Type], Type]) -> None:
    """Reject coercing a non-optional value into an infinitely nested ``opt`` (``type Opt = opt Opt``)."""
    seen: set[int] = set()
    current: Type = e
    while isinstance(current, OptType):
        if id(current) in seen:
            raise CandidDecodeError(f"cannot coerce a non-optional value to the infinitely nested {e}")
        seen.add(id(current))
        current = resolve(current.inner)


# -- dynamic readers -----------------------------------------------------------------------------------------


def _recover(st: State, depth: int, inner: Plan, skip: Plan, some: bool) -> Any:
    """``opt v`` at ``opt e``: the coerced value, or None if ``v`` does not coerce (then it is skipped)."""
    saved = st.pos
    st.depth = depth
    try:
        value = inner.accounted(st)
    except _MismatchError:
        st.pos, st.depth = saved, depth
        skip.accounted(st)
        value = None
    else:
        value = Some(value) if some else value
    st.depth = depth - 1
    return value


def _opt_reader(inner: Plan, skip: Plan, some: bool) -> Read:
    def read(st: State) -> Any:
        depth = _enter(st, 1, 0)
        flag = st.byte()
        if flag == 0:
            return None
        if flag != 1:
            raise CandidDecodeError(f"invalid opt tag byte {flag:#04x}")
        return _recover(st, depth, inner, skip, some)

    return read


def _coerced_reader(inner: Plan, skip: Plan, some: bool) -> Read:
    def read(st: State) -> Any:
        return _recover(st, _enter(st, 1, 0), inner, skip, some)

    return read


def _opt_skipper(inner: Plan) -> Read:
    def read(st: State) -> None:
        depth = _enter(st, 1, 0)
        flag = st.byte()
        if flag > 1:
            raise CandidDecodeError(f"invalid opt tag byte {flag:#04x}")
        if flag:
            st.depth = depth
            inner.accounted(st)
            st.depth = depth - 1

    return read


def _vec_length(st: State, nonzero: bool) -> int:
    n = size(st, "vector length")
    if nonzero and n > st.end - st.pos:
        raise CandidDecodeError(f"vector length {n} is larger than the remaining input")
    st.charge(n)
    return n


def _blob_reader(st: State) -> bytes:
    _enter(st, 1, 0)
    return take(st, _vec_length(st, True))


def _blob_skipper(st: State) -> None:
    _enter(st, 1, 0)
    st.skip(_vec_length(st, True))


def _numbers_reader(code: int) -> Read:
    def read(st: State) -> list[Any]:
        depth = _enter(st, 1, 0)
        n = _vec_length(st, True)
        if n:
            if depth + 1 > st.max_depth:
                raise st.too_deep()
            st.charge(n)
        return fixed_vector(code, n, st)

    return read


def _vec_reader(element: Plan, nonzero: bool, discard: bool = False) -> Read:
    units, height, each = element.units, element.height, element.read

    def read(st: State) -> Any:
        depth = _enter(st, 1, 0)
        n = _vec_length(st, nonzero)
        if units is not None and n:
            if depth + height > st.max_depth:
                raise st.too_deep()
            st.charge(n * units)
        st.depth = depth
        values = [each(st) for _ in range(n)]
        st.depth = depth - 1
        return None if discard else values

    return read


def _record_plan(steps: list[tuple[Any, Plan]], order: list[Any] | None, missing: Any) -> Plan:
    """A record read field by field; fixed when every field is fixed and none is missing."""
    fixed = [p for _, p in steps if p.fixed]
    height = max((p.height for p in fixed), default=0)
    units = sum(p.units or 0 for p in fixed)
    pairs = [(key, p.read) for key, p in steps]
    if missing is None and len(fixed) == len(steps):
        return Plan(_fixed_record(pairs, order), units + 1, height + 1)
    return Plan(_dynamic_record(pairs, order, missing, units + 1, height))


def _fixed_record(pairs: list[tuple[Any, Read]], order: list[Any] | None) -> Read:
    if order is None and all(key is not _SKIPPED for key, _ in pairs):
        return lambda st: {key: read(st) for key, read in pairs}

    def read(st: State) -> dict[Any, Any]:
        out = dict.fromkeys(order) if order is not None else {}
        for key, field in pairs:
            value = field(st)
            if key is not _SKIPPED:
                out[key] = value
        return out

    return read


def _dynamic_record(
    pairs: list[tuple[Any, Read]], order: list[Any] | None, missing: Any, units: int, height: int
) -> Read:
    def read(st: State) -> dict[Any, Any]:
        depth = _enter(st, units, height)
        st.depth = depth
        out = dict.fromkeys(order) if order is not None else {}
        key = None
        try:
            for key, field in pairs:
                value = field(st)
                if key is not _SKIPPED:
                    out[key] = value
        except _MismatchError as exc:
            raise _MismatchError(f"field {key}: {exc}") from None
        st.depth = depth - 1
        if missing is not None:
            raise _MismatchError(f"field {missing.key}: missing (expected {missing.type})")
        return out

    return read


def _tagged(key: Any, value: Any) -> dict[Any, Any]:
    return {key: value}


def _untagged(key: Any, value: Any) -> None:
    return None


def _variant_reader(cases: list[tuple[Any, Plan] | str], result: Callable[[Any, Any], Any]) -> Read:
    count = len(cases)

    def read(st: State) -> Any:
        depth = _enter(st, 1, 0)
        index = size(st, "variant index")
        if index >= count:
            raise CandidDecodeError(f"variant index {index} out of range ({count} cases)")
        case = cases[index]
        if isinstance(case, str):
            raise _MismatchError(case)
        key, plan = case
        st.depth = depth
        try:
            value = plan.accounted(st)
        except _MismatchError as exc:
            raise _MismatchError(f"field {key}: {exc}") from None
        st.depth = depth - 1
        return result(key, value)

    return read


def _reference(w: Type, e: Type) -> Plan:
    """A func or service reference, read when the wire type is a subtype (checked on first use)."""
    verdict: list[bool] = []
    value = read_func if isinstance(e, FuncType) else read_principal

    def read(st: State) -> Any:
        _enter(st, 1, 0)
        if not verdict:
            verdict.append(is_subtype(w, e))
        if not verdict[0]:
            raise _MismatchError(f"expected {e}, got {w}")
        return value(st)

    return Plan(read)


def _skip_future(st: State) -> None:
    length = st.size("future value length")
    refs = st.size("future value reference count")
    st.skip(length)
    if refs:
        raise CandidDecodeError("future values with references are not supported")
