"""Fixtures for the router's tests: a local IC on SQLite, the Motoko example canisters, Candid helpers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from icp_client.candid import decode, encode
from icp_client.candid.types import NAT, PRINCIPAL, Type
from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.db import IcDatabase

ROOT = Path(__file__).resolve().parents[4]
COUNTER_WASM = ROOT / "src" / "canister_factory" / "_data" / "counter.wasm"
PROBE_WASM = ROOT / "examples" / "exec_probe" / "probe.wasm"
CALLER_WASM = ROOT / "examples" / "exec_caller" / "caller.wasm"
EMPTY = b"DIDL\x00\x00"
T = 1_000_000_000_000


def nat(value: int) -> bytes:
    """The Candid encoding of ``(value : nat)``."""
    return encode([NAT], [value])


def args(*pairs: tuple[Type, Any]) -> bytes:
    """The Candid encoding of several typed values."""
    return encode([t for t, _ in pairs], [v for _, v in pairs])


def one(reply: bytes, candid_type: Type = NAT) -> Any:
    """The one value of a reply."""
    return decode(reply, [candid_type])[0]


__all__ = ["EMPTY", "NAT", "PRINCIPAL", "T", "args", "nat", "one"]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ic.sqlite3'}"


@pytest.fixture
def ic(db_url: str) -> Iterator[LocalIc]:
    local = LocalIc(IcDatabase.open(db_url))
    yield local
    local.close()


@pytest.fixture(scope="session")
def counter_wasm() -> bytes:
    return COUNTER_WASM.read_bytes()


@pytest.fixture(scope="session")
def probe_wasm() -> bytes:
    return PROBE_WASM.read_bytes()


@pytest.fixture
def counter(ic: LocalIc, counter_wasm: bytes) -> Principal:
    """A counter canister installed with ``(10 : nat)``."""
    canister = ic.create_canister()
    ic.install_canister(canister, counter_wasm, nat(10))
    return canister


@pytest.fixture
def probe(ic: LocalIc, probe_wasm: bytes) -> Principal:
    """The probe canister installed in mode 0."""
    canister = ic.create_canister()
    ic.install_canister(canister, probe_wasm, nat(0))
    return canister
