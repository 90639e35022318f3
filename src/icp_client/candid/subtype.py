"""The Candid subtyping relation ``t1 <: t2`` (spec section "Upgrading and Subtyping", rule by rule).

Recursive types are handled coinductively: a pair of types already being compared is assumed related.
"""

from __future__ import annotations

from icp_client.candid.types import (
    EMPTY,
    INT,
    NAT,
    PRINCIPAL,
    RESERVED,
    Field,
    FuncType,
    OptType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VecType,
    is_null_like,
    resolve,
)

_Pair = tuple[int, int]


def is_subtype(t1: Type, t2: Type) -> bool:
    """True when a value of type ``t1`` may be read at type ``t2``.

    Raises:
        CandidError: a named type is undefined.
    """
    return _Checker().sub(t1, t2)


class _Checker:
    def __init__(self) -> None:
        self.assumed: set[_Pair] = set()

    def sub(self, t1: Type, t2: Type) -> bool:
        r1, r2 = resolve(t1), resolve(t2)
        if r2 == RESERVED or r1 == EMPTY or isinstance(r2, OptType):
            return True  # every type is a subtype of an opt type, by the four opt rules together
        if r1 == r2 or (r1 == NAT and r2 == INT):
            return True
        pair = (id(r1), id(r2))
        if pair in self.assumed:
            return True
        self.assumed.add(pair)
        ok = self._structural(r1, r2)
        if not ok:
            self.assumed.discard(pair)
        return ok

    def _structural(self, r1: Type, r2: Type) -> bool:
        if isinstance(r1, VecType) and isinstance(r2, VecType):
            return self.sub(r1.inner, r2.inner)
        if isinstance(r1, RecordType) and isinstance(r2, RecordType):
            return self._fields_covered(r1.fields, r2.fields)
        if isinstance(r1, VariantType) and isinstance(r2, VariantType):
            return all(self._case_ok(f, r2) for f in r1.fields)
        if isinstance(r1, FuncType) and isinstance(r2, FuncType):
            return self._func(r1, r2)
        if isinstance(r1, ServiceType):
            return r2 == PRINCIPAL or (isinstance(r2, ServiceType) and self._service(r1, r2))
        return False

    def _fields_covered(self, have: tuple[Field, ...], want: tuple[Field, ...]) -> bool:
        by_id = {f.id: f for f in have}
        for f in want:
            mine = by_id.get(f.id)
            if mine is None and not is_null_like(f.type):
                return False
            if mine is not None and not self.sub(mine.type, f.type):
                return False
        return True

    def _case_ok(self, case: Field, target: VariantType) -> bool:
        theirs = target.field_by_id(case.id)
        return theirs is not None and self.sub(case.type, theirs.type)

    def _tuple(self, have: tuple[Type, ...], want: tuple[Type, ...]) -> bool:
        """``record {have} <: record {want}`` for tuple-like records (ordered, extensible at the end)."""
        for i, t in enumerate(want):
            if i < len(have):
                if not self.sub(have[i], t):
                    return False
            elif not is_null_like(t):
                return False
        return True

    def _func(self, f1: FuncType, f2: FuncType) -> bool:
        if f1.annotations != f2.annotations:
            return False
        return self._tuple(f2.args, f1.args) and self._tuple(f1.results, f2.results)

    def _service(self, s1: ServiceType, s2: ServiceType) -> bool:
        for name, t2 in s2.methods:
            t1 = s1.method(name)
            if t1 is None or not self.sub(t1, t2):
                return False
        return True
