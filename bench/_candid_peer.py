"""The peer side of the Candid benchmark: icp-py-core 2.3.1, run in its own environment by ``bench.candid``.

``python -m bench._candid_peer [MEMORY_LIMIT_MIB]`` answers the requests of :mod:`bench.candid_common`:

- ``("setup", {case: bytes})``: build the cases in icp-py-core's representation, check that it decodes our
  bytes of each case to exactly those values, and answer with its own encoding of each case;
- ``("time", case, "encode" | "decode", reps)``: seconds for ``reps`` operations (decoding our bytes);
- ``("hostile", blob, types, env)``: decode one blob at types given in the neutral form of ``bench.candid``;
  answers ``"refused"`` (an exception) or ``"accepted"``; ``"memory"`` when the memory limit was hit.
"""

from __future__ import annotations

import sys
from typing import Any

from icp_candid import Types, decode, encode  # type: ignore[import-not-found]
from icp_principal.principal import Principal  # type: ignore[import-not-found]

from bench import candid_common

_PRIMS = {
    "null": Types.Null,
    "bool": Types.Bool,
    "nat": Types.Nat,
    "int": Types.Int,
    "nat8": Types.Nat8,
    "nat16": Types.Nat16,
    "nat32": Types.Nat32,
    "nat64": Types.Nat64,
    "int8": Types.Int8,
    "int16": Types.Int16,
    "int32": Types.Int32,
    "int64": Types.Int64,
    "float32": Types.Float32,
    "float64": Types.Float64,
    "text": Types.Text,
    "reserved": Types.Reserved,
    "empty": Types.Empty,
    "principal": Types.Principal,
}


def _request_type() -> Any:
    mode = Types.Variant({"Install": Types.Null, "Reinstall": Types.Null, "Upgrade": Types.Null})
    return Types.Record(
        {
            "upload_id": Types.Nat64,
            "extra_controllers": Types.Opt(Types.Vec(Types.Principal)),
            "init_arg": Types.Vec(Types.Nat8),
            "mode": mode,
            "cycles": Types.Nat,
            "handoff": Types.Bool,
            "canister_id": Types.Opt(Types.Principal),
            "idempotency_key": Types.Opt(Types.Text),
        }
    )


def _request_value() -> dict[str, Any]:
    value = candid_common.request()
    value["extra_controllers"] = [[Principal(raw) for raw in value["extra_controllers"]]]
    value["canister_id"] = [Principal(value["canister_id"])]
    value["idempotency_key"] = [value["idempotency_key"]]
    value["mode"] = {value["mode"]: None}
    return value


def _records_value() -> list[dict[str, Any]]:
    return [{**r, "owner": Principal(r["owner"])} for r in candid_common.records()]


def _cases() -> dict[str, tuple[Any, Any]]:
    record = Types.Record({"id": Types.Nat64, "name": Types.Text, "owner": Types.Principal})
    return {
        "request": (_request_type(), _request_value()),
        "blob": (Types.Vec(Types.Nat8), candid_common.blob()),
        "records": (Types.Vec(record), _records_value()),
    }


class Peer:
    def __init__(self) -> None:
        self.cases = _cases()
        self.ours: dict[str, bytes] = {}

    def setup(self, ours: dict[str, bytes]) -> dict[str, bytes]:
        self.ours = ours
        for name, (type_, value) in self.cases.items():
            decoded = decode(ours[name], [type_])[0]["value"]
            if decoded != value:
                raise AssertionError(f"icp-py-core reads our {name} bytes differently")
        return {name: encode([{"type": t, "value": v}]) for name, (t, v) in self.cases.items()}

    def time(self, name: str, op: str, reps: int) -> float:
        type_, value = self.cases[name]
        if op == "encode":
            arg = [{"type": type_, "value": value}]
            return candid_common.timed_loop(lambda: encode(arg), reps)
        data, types = self.ours[name], [type_]
        return candid_common.timed_loop(lambda: decode(data, types), reps)


def hostile(blob: bytes, types: list[Any], env: dict[str, Any]) -> str:
    """Decode one hostile blob; ``"refused"`` when icp-py-core raises, as it should."""
    built = _Builder(env)
    try:
        decode(blob, [built.type(t) for t in types])
    except MemoryError:
        return "memory"
    except Exception:  # icp-py-core has no error class of its own: any exception is a refusal
        return "refused"
    return "accepted"


class _Builder:
    """icp-py-core types from the neutral form: ("prim", name), ("opt", t), ("record", [(id, name, t)]), ..."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.names = {name: Types.Rec() for name in env}
        for name, neutral in env.items():
            self.names[name].fill(self.type(neutral))

    def type(self, t: Any) -> Any:
        kind = t[0]
        if kind == "prim":
            return _PRIMS[t[1]]
        if kind == "ref":
            return self.names[t[1]]
        if kind in ("opt", "vec"):
            return (Types.Opt if kind == "opt" else Types.Vec)(self.type(t[1]))
        if kind in ("record", "variant"):
            fields = {(name if name is not None else fid): self.type(ft) for fid, name, ft in t[1]}
            return Types.Record(fields) if kind == "record" else Types.Variant(fields)
        if kind == "func":
            return Types.Func([self.type(a) for a in t[1]], [self.type(r) for r in t[2]], list(t[3]))
        return Types.Service({name: self.type(m) for name, m in t[1]})


def main() -> None:
    peer: Peer | None = None

    def handle(request: tuple[Any, ...]) -> Any:
        nonlocal peer
        if request[0] == "hostile":
            return hostile(*request[1:])
        if request[0] == "setup":
            peer = Peer()
            return peer.setup(request[1])
        assert peer is not None
        return peer.time(*request[1:])

    candid_common.serve(handle, int(sys.argv[1]) if len(sys.argv) > 1 else None)


if __name__ == "__main__":
    main()
