"""candid_*: our Candid codec against icp-py-core 2.3.1, the Python peer, in the same run.

- ``candid_<case>_<encode|decode>_ratio``: our operations per second over icp-py-core's, on the same values
  and, for decoding, the same bytes (ours), for the three cases of :mod:`bench.candid_common`. Each side's
  time is its best of several rounds, the two sides alternating.
- ``candid_hostile_refused``: of the official conformance suite's ``!:`` blobs, how many our decoder refuses
  with its own error, each case in a worker process under a time limit and a memory limit;
  ``candid_hostile_blobs`` is how many there are, ``candid_hostile_max_ms`` our slowest refusal, and
  ``candid_hostile_refused_peer`` icp-py-core's count under the same limits (for information).

icp-py-core is not a dependency of the product: it is installed on first use into its own environment
(``.tools/candid-peer``) and runs there, in a worker process (:mod:`bench._candid_peer`).
"""

from __future__ import annotations

import pickle
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import candid_common
from canister_factory import interface
from icp_client.candid import (
    BLOB,
    FuncType,
    NamedType,
    OptType,
    PrimType,
    RecordType,
    ServiceType,
    Type,
    VariantType,
    VecType,
    decode,
    encode,
    parse_type,
    values_equal,
)
from icp_client.principal import Principal

ROOT = Path(__file__).resolve().parent.parent
PEER_PACKAGE = "icp-py-core==2.3.1"
PEER_ENV = ROOT / ".tools" / "candid-peer"
TIME_LIMIT_S = 1.0
MEMORY_LIMIT_MIB = 512
OPS = ("encode", "decode")
CASES = tuple(candid_common.CASES)
#: The ``!:`` blob assertions of the official suite (tests/vendor/candid-conformance), the target of refusals.
HOSTILE_BLOBS = 185


class WorkerTimeout(Exception):
    """The worker did not answer within the time limit (it has been killed)."""


class Worker:
    """A process speaking the protocol of :mod:`bench.candid_common`, restarted when it dies or is killed."""

    def __init__(self, argv: list[str]) -> None:
        self.argv = argv
        self.process: subprocess.Popen[bytes] | None = None

    def ask(self, request: tuple[Any, ...], timeout: float) -> Any:
        process = self._running()
        assert process.stdin is not None and process.stdout is not None
        pickle.dump(request, process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        if not ready:
            self.close()
            raise WorkerTimeout
        try:
            return pickle.load(process.stdout)
        except EOFError:
            self.close()
            raise WorkerTimeout from None

    def _running(self) -> subprocess.Popen[bytes]:
        if self.process is None:
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE
            )
        return self.process

    def close(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def peer_python() -> Path:
    """The Python of icp-py-core's own environment, created on first use."""
    python = PEER_ENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_ENV)], check=True)
    probe = subprocess.run([str(python), "-c", "import icp_candid"], capture_output=True)
    if probe.returncode != 0:
        pip = [str(python), "-m", "pip", "install", "-q", PEER_PACKAGE]
        subprocess.run(pip, check=True, stdout=subprocess.DEVNULL)
    return python


# -- the cases, our side ----------------------------------------------------------------------------------


def our_cases() -> dict[str, tuple[list[Type], Any]]:
    """Each case's argument types (the factory's own .did for the request) and our value."""
    request = candid_common.request()
    request["extra_controllers"] = [Principal(raw) for raw in request["extra_controllers"]]
    request["canister_id"] = Principal(request["canister_id"])
    request["mode"] = {request["mode"]: None}
    records = [{**r, "owner": Principal(r["owner"])} for r in candid_common.records()]
    return {
        "request": (list(interface.method_type("create_and_install_with").args), request),
        "blob": ([BLOB], candid_common.blob()),
        "records": ([parse_type("vec record { id : nat64; name : text; owner : principal }")], records),
    }


def _our_op(types: list[Type], value: Any, data: bytes, op: str) -> Callable[[], object]:
    if op == "encode":
        return lambda: encode(types, [value])
    return lambda: decode(data, types)


def _check_same(cases: dict[str, tuple[list[Type], Any]], theirs: dict[str, bytes]) -> None:
    for name, (types, value) in cases.items():
        if not values_equal(decode(theirs[name], types), [value]):
            raise AssertionError(f"we read icp-py-core's {name} bytes differently")


def ratios(rounds: int, min_batch_s: float) -> dict[str, float]:
    """``candid_<case>_<op>_ratio`` for every case and operation (ours per second over the peer's)."""
    cases = our_cases()
    ours = {name: encode(types, [value]) for name, (types, value) in cases.items()}
    if len(ours["request"]) != 233:
        raise AssertionError(f"the request case should be 233 bytes, not {len(ours['request'])}")
    peer = Worker([str(peer_python()), "-m", "bench._candid_peer"])
    try:
        _check_same(cases, peer.ask(("setup", ours), 300))
        best = _best_times(cases, ours, peer, rounds, min_batch_s)
    finally:
        peer.close()
    return {
        f"candid_{name}_{op}_ratio": best[name, op, "peer"] / best[name, op, "ours"] for name, op, _ in best
    }


def _best_times(
    cases: dict[str, tuple[list[Type], Any]],
    ours: dict[str, bytes],
    peer: Worker,
    rounds: int,
    min_batch_s: float,
) -> dict[tuple[str, str, str], float]:
    best: dict[tuple[str, str, str], float] = {}
    for name, (types, value) in cases.items():
        for op in OPS:
            fn = _our_op(types, value, ours[name], op)
            reps = max(1, round(min_batch_s / max(candid_common.timed_loop(fn, 1), 1e-9)))
            for _ in range(rounds):
                mine = candid_common.timed_loop(fn, reps) / reps
                theirs = peer.ask(("time", name, op, reps), 600) / reps
                best[name, op, "ours"] = min(best.get((name, op, "ours"), mine), mine)
                best[name, op, "peer"] = min(best.get((name, op, "peer"), theirs), theirs)
    return best


# -- hostile blobs ------------------------------------------------------------------------------------------


def hostile_cases() -> list[tuple[bytes, tuple[Type, ...]]]:
    """The conformance suite's ``!:`` assertions on blobs: (bytes, types)."""
    from tests.unit.candid.test_conformance import ASSERTIONS, SUITE

    cases = [(a.left.data, a.types) for a in ASSERTIONS if a.kind == "fail" and a.left.is_blob]
    if not cases:
        raise RuntimeError(f"no conformance suite at {SUITE}")
    return cases


def hostile(cases: list[tuple[bytes, tuple[Type, ...]]]) -> dict[str, float]:
    """How many hostile blobs our decoder refuses (and icp-py-core's count), each under the limits."""
    ours = Worker([sys.executable, "-m", "bench._candid_ours", str(MEMORY_LIMIT_MIB)])
    theirs = Worker([str(peer_python()), "-m", "bench._candid_peer", str(MEMORY_LIMIT_MIB)])
    refused = peer_refused = 0
    slowest = 0.0
    try:
        for blob, types in cases:
            verdict, seconds = _limited(ours, ("hostile", blob, list(types)), ("timeout", TIME_LIMIT_S))
            refused += verdict == "refused"
            slowest = max(slowest, seconds)
            if verdict.startswith("crashed"):
                print(f"# our decoder crashed on {blob!r}: {verdict}", file=sys.stderr)
            neutral = _Neutral()
            request = ("hostile", blob, [neutral.type(t) for t in types], neutral.env)
            peer_refused += _limited(theirs, request, "timeout") == "refused"
    finally:
        ours.close()
        theirs.close()
    return {
        "candid_hostile_blobs": len(cases),
        "candid_hostile_refused": refused,
        "candid_hostile_max_ms": slowest * 1000,
        "candid_hostile_refused_peer": peer_refused,
    }


def _limited(worker: Worker, request: tuple[Any, ...], on_timeout: Any) -> Any:
    try:
        return worker.ask(request, TIME_LIMIT_S)
    except WorkerTimeout:
        return on_timeout


class _Neutral:
    """Our types in the neutral form the peer worker builds its own from; names go into ``env``."""

    def __init__(self) -> None:
        self.env: dict[str, Any] = {}

    def type(self, t: Type) -> Any:
        if isinstance(t, NamedType):
            if t.name not in self.env:
                self.env[t.name] = None  # reserved first: recursive types refer to themselves
                self.env[t.name] = self.type(t.env[t.name])
            return ("ref", t.name)
        if isinstance(t, PrimType):
            return ("prim", t.name)
        if isinstance(t, OptType | VecType):
            return ("opt" if isinstance(t, OptType) else "vec", self.type(t.inner))
        if isinstance(t, RecordType | VariantType):
            kind = "record" if isinstance(t, RecordType) else "variant"
            return (kind, [(f.id, f.name, self.type(f.type)) for f in t.fields])
        if isinstance(t, FuncType):
            return ("func", [self.type(a) for a in t.args], [self.type(r) for r in t.results], t.annotations)
        assert isinstance(t, ServiceType)
        return ("service", [(name, self.type(m)) for name, m in t.methods])


def run(rounds: int = 5, min_batch_s: float = 0.2) -> dict[str, float]:
    return {**ratios(rounds, min_batch_s), **hostile(hostile_cases())}
