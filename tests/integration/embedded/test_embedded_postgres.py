"""The embedded IC on PostgreSQL: the same rules, row locks under concurrent writers, restarts.

Each test module run creates a fresh schema in the test database and drops it at the end. The server is taken
from ``CANISTER_FACTORY_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``); the tests are
skipped, with the reason shown, when it cannot be reached.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from canister_factory.ports import CanisterSettings, FakeClock, InstallMode
from icp_client.errors import Reject
from icp_client.principal import Principal
from icp_local import CreateCanisterOk, LedgerErr, LocalIc
from icp_local.db import IcDatabase

pytestmark = pytest.mark.postgres

URL = os.environ.get("CANISTER_FACTORY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
T = 10**12
FEE = 100_000_000
HEADER = b"\x00asm\x01\x00\x00\x00"
R = TypeVar("R")


def wasm(tag: bytes) -> bytes:
    """A valid module with a public metadata section ``tag``."""
    name = b"icp:public tag"
    payload = bytes([len(name)]) + name + tag
    return HEADER + b"\x00" + bytes([len(payload)]) + payload


@pytest.fixture(scope="module")
def schema_url() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    schema = f"ic_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {URL}: {exc}")
    admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in URL else "?"
    try:
        yield f"{URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def db(schema_url: str) -> Iterator[IcDatabase]:
    database = IcDatabase.open(schema_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ic(db: IcDatabase, clock: FakeClock) -> LocalIc:
    return LocalIc(db, clock=clock)


@pytest.fixture
def alice() -> Principal:
    return Principal.self_authenticating(uuid.uuid4().bytes)


def test_runs_on_postgresql(db: IcDatabase) -> None:
    assert db.dialect == "postgresql"


def test_create_install_update(ic: LocalIc, alice: Principal) -> None:
    module = wasm(b"one")
    canister = ic.provisional_create_canister_with_cycles(alice, 2**80)
    ic.install_code(alice, canister, InstallMode.INSTALL, module)
    ic.update_settings(alice, canister, CanisterSettings(freezing_threshold=7, reserved_cycles_limit=2**100))
    status = ic.canister_status(alice, canister)
    assert status.module_hash == hashlib.sha256(module).digest()
    assert status.freezing_threshold == 7
    assert status.cycles > 2**79
    assert ic.read_metadata(canister, "tag", alice) == b"one"
    with pytest.raises(Reject) as info:
        ic.install_code(alice, canister, InstallMode.INSTALL, module)
    assert info.value.error_code == "IC0514"
    assert ic.canister_status(alice, canister).version == 2


def test_ledger_dedup(ic: LocalIc, clock: FakeClock, alice: Principal) -> None:
    ic.mint(alice, 2**70)
    when = clock.now_ns()
    first = ic.ledger_create_canister(alice, T, None, when)
    again = ic.ledger_create_canister(alice, T, None, when)
    assert isinstance(first, CreateCanisterOk)
    assert again == LedgerErr("Duplicate", {"duplicate_of": first.block_id, "canister_id": first.canister_id})
    assert ic.icrc1_balance_of(alice) == 2**70 - T - FEE


def test_chunked_install_and_module_dedup(ic: LocalIc, alice: Principal) -> None:
    module = wasm(b"chunked")
    store = ic.provisional_create_canister_with_cycles(alice)
    targets = [ic.provisional_create_canister_with_cycles(alice) for _ in range(3)]
    hashes = [ic.upload_chunk(alice, store, module[i : i + 8]) for i in range(0, len(module), 8)]
    before = ic.count_modules()
    for target in targets:
        ic.install_chunked_code(
            alice, target, store, hashes, hashlib.sha256(module).digest(), InstallMode.INSTALL
        )
    assert ic.count_modules() == before + 1
    ic.clear_chunk_store(alice, store)
    assert ic.stored_chunks(alice, store) == []


def test_restart(schema_url: str, clock: FakeClock, alice: Principal) -> None:
    first_db = IcDatabase.open(schema_url)
    canister = LocalIc(first_db, clock=clock).provisional_create_canister_with_cycles(alice, 5)
    first_db.dispose()
    second_db = IcDatabase.open(schema_url)
    again = LocalIc(second_db, clock=clock)
    assert again.canister_status(alice, canister).cycles == 5
    second_db.dispose()


def in_parallel(schema_url: str, clock: FakeClock, work: Callable[[LocalIc, int], R], n: int) -> list[R]:
    """Run ``work`` on ``n`` engines, each with its own database engine (as separate processes would)."""
    databases = [IcDatabase.open(schema_url) for _ in range(n)]
    engines = [LocalIc(db, clock=clock) for db in databases]
    try:
        with ThreadPoolExecutor(n) as pool:
            return list(pool.map(work, engines, range(n)))
    finally:
        for db in databases:
            db.dispose()


def test_concurrent_creations_get_distinct_ids_and_exact_balances(
    schema_url: str, ic: LocalIc, clock: FakeClock, alice: Principal
) -> None:
    ic.mint(alice, 100 * T)
    when = clock.now_ns()

    def create(engine: LocalIc, worker: int) -> list[Principal]:
        results = [engine.ledger_create_canister(alice, T, None, when + worker * 100 + i) for i in range(8)]
        return [r.canister_id for r in results if isinstance(r, CreateCanisterOk)]

    created = [c for batch in in_parallel(schema_url, clock, create, 4) for c in batch]
    assert len(set(created)) == 32
    assert ic.icrc1_balance_of(alice) == 100 * T - 32 * (T + FEE)


def test_concurrent_installs_of_one_new_module(
    schema_url: str, ic: LocalIc, clock: FakeClock, alice: Principal
) -> None:
    module = wasm(uuid.uuid4().bytes)
    canisters = [ic.provisional_create_canister_with_cycles(alice) for _ in range(4)]
    before = ic.count_modules()

    def install(engine: LocalIc, worker: int) -> None:
        engine.install_code(alice, canisters[worker], InstallMode.INSTALL, module)

    in_parallel(schema_url, clock, install, 4)
    assert ic.count_modules() == before + 1
    assert all(ic.read_module_hash(c) == hashlib.sha256(module).digest() for c in canisters)


def test_concurrent_top_ups_are_not_lost(
    schema_url: str, ic: LocalIc, clock: FakeClock, alice: Principal
) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice, 0)

    def top_up(engine: LocalIc, worker: int) -> None:
        for _ in range(10):
            engine.provisional_top_up_canister(alice, canister, 1)

    in_parallel(schema_url, clock, top_up, 4)
    assert ic.canister_status(alice, canister).cycles == 40
