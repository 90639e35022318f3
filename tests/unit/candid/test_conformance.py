"""The official Candid conformance suite (``*.test.did``), one pytest case per assertion.

Test grammar (from the suite's README)::

    <enctest> ::= <def>;* <test>;*
    <test>    ::= assert <input> : <tuptype> <desc>     | assert <input> !: <tuptype> <desc>
                | assert <input> == <input> : <tuptype> <desc> | assert <input> != <input> : <tuptype> <desc>
    <input>   ::= <text> | blob <text>
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from icp_client.candid import CandidError, Type, TypeEnv, decode, parse_values, values_equal
from icp_client.candid._lexer import TokenStream
from icp_client.candid.did import TypeParser, check_env

if TYPE_CHECKING:
    from conftest import Refusal


SUITE = Path(__file__).resolve().parents[2] / "vendor" / "candid-conformance"

#: Assertions that cannot pass, by id ("file:line"), with the reason. Kept empty on purpose.
SKIPS: dict[str, str] = {}


@dataclass(frozen=True)
class Input:
    is_blob: bool
    data: bytes

    def run(self, types: tuple[Type, ...], env: TypeEnv) -> list[Any]:
        if self.is_blob:
            return decode(self.data, types)
        return parse_values(self.data.decode("utf-8"), types, env)


@dataclass(frozen=True)
class Assertion:
    id: str
    kind: str  # "ok", "fail", "eq" or "ne"
    left: Input
    right: Input | None
    types: tuple[Type, ...]
    env: TypeEnv
    desc: str


def _input(ts: TokenStream) -> Input:
    is_blob = ts.accept("blob")
    token = ts.expect_kind("text", "a test input string")
    assert isinstance(token.value, bytes)
    return Input(is_blob, token.value)


def _assertion(ts: TokenStream, env: TypeEnv, name: str, source: str) -> Assertion:
    start = ts.expect("assert")
    left = _input(ts)
    right = None
    if ts.accept(":"):
        kind = "ok"
    elif ts.accept("!:"):
        kind = "fail"
    else:
        kind = "eq" if ts.accept("==") else "ne"
        if kind == "ne":
            ts.expect("!=")
        right = _input(ts)
        ts.expect(":")
    types = TypeParser(ts, env).tuptype()
    desc = ts.next().value if ts.at("text") else b""
    ts.accept(";")
    line = source.count("\n", 0, start.pos) + 1
    text = desc.decode() if isinstance(desc, bytes) else desc
    return Assertion(f"{name}:{line}", kind, left, right, types, env, text)


def parse_test_file(path: Path) -> list[Assertion]:
    """All assertions of one ``.test.did`` file, sharing the file's type environment."""
    source = path.read_text(encoding="utf-8")
    ts = TokenStream(source)
    env = TypeEnv()
    TypeParser(ts, env).definitions()
    check_env(env)
    assertions = []
    while not ts.at("eof"):
        assertions.append(_assertion(ts, env, path.name, source))
    return assertions


def _collect() -> list[Assertion]:
    if not SUITE.is_dir():
        return []
    return [a for path in sorted(SUITE.glob("*.test.did")) for a in parse_test_file(path)]


ASSERTIONS = _collect()


def _params() -> list[Any]:
    if not ASSERTIONS:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"conformance suite not found at {SUITE}"))]
    return [pytest.param(a, id=f"{a.id} {a.desc}".strip(), marks=_marks(a.id)) for a in ASSERTIONS]


def _marks(assertion_id: str) -> list[Any]:
    reason = SKIPS.get(assertion_id)
    return [pytest.mark.skip(reason=reason)] if reason else []


@pytest.mark.parametrize("assertion", _params())
def test_assertion(assertion: Assertion) -> None:
    if assertion.kind == "fail":
        with pytest.raises(CandidError):
            assertion.left.run(assertion.types, assertion.env)
        return
    left = assertion.left.run(assertion.types, assertion.env)
    if assertion.right is None:
        return
    right = assertion.right.run(assertion.types, assertion.env)
    if assertion.kind == "eq":
        assert values_equal(left, right), f"{left!r} != {right!r}"
    else:
        assert not values_equal(left, right), f"{left!r} == {right!r}"


def test_counts() -> None:
    """Print how many assertions ran, per file and kind, and how many are skipped."""
    per_file: dict[str, int] = {}
    for a in ASSERTIONS:
        per_file[a.id.split(":")[0]] = per_file.get(a.id.split(":")[0], 0) + 1
    print(f"\nconformance: {len(ASSERTIONS)} assertions, {len(SKIPS)} skipped; per file: {per_file}")
    assert len(ASSERTIONS) == 467, f"the vendored suite at {SUITE} should hold 467 assertions"
    assert set(SKIPS) <= {a.id for a in ASSERTIONS}


@pytest.mark.skipif(not SUITE.is_dir(), reason="conformance suite not found")
def test_hostile_blobs_are_refused_cheaply(refused: Callable[[Callable[[], object]], Refusal]) -> None:
    """Every ``!:`` blob (the spacebombs among them) is refused after little work and little memory.

    Counted in Python calls and allocated bytes rather than seconds, so that the bound does not depend on the
    machine's load: the largest today are about 3,000 calls and 65 KB.
    """
    hostile = [a for a in ASSERTIONS if a.kind == "fail" and a.left.is_blob]
    assert len(hostile) == 185
    for a in hostile:
        result = refused(lambda a=a: a.left.run(a.types, a.env))
        assert result.calls < 10_000, a.id
        assert result.peak_bytes < 1024 * 1024, a.id
