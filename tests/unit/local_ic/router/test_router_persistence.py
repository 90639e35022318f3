"""Canister state is durable and shared: restarts, other processes on the same database (SQLite and PostgreSQL),
SIGKILL right after an acknowledged call or in the middle of a call between canisters, and a bounded number of
live instances."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.db import IcDatabase
from tests.unit.local_ic.router.conftest import COUNTER_WASM, EMPTY, ROOT, nat, one
from tests.unit.local_ic.router.wat_canisters import CALLEE, RELAY

POSTGRES = os.environ.get("CANISTER_FACTORY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL two local ICs can share: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ic.sqlite3'}"
        return
    psycopg = pytest.importorskip("psycopg")
    schema = f"ic_router_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES}: {exc}")
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES}{'&' if '?' in POSTGRES else '?'}options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def open_ic(url: str, **options: int) -> LocalIc:
    return LocalIc(IcDatabase.open(url), **options)  # type: ignore[arg-type]


def test_state_survives_a_restart(shared_url: str) -> None:
    first = open_ic(shared_url)
    counter = first.create_canister()
    first.install_canister(counter, COUNTER_WASM.read_bytes(), nat(10))
    first.update_call(counter, "inc", nat(5))
    first.close()
    second = open_ic(shared_url)
    assert one(second.query_call(counter, "get", EMPTY)) == 15
    assert one(second.update_call(counter, "inc", nat(1))) == 16
    second.close()


def test_two_processes_share_canisters_and_catch_up_page_by_page(shared_url: str) -> None:
    a, b = open_ic(shared_url), open_ic(shared_url)
    counter = a.create_canister()
    a.install_canister(counter, COUNTER_WASM.read_bytes(), nat(1))
    assert one(b.query_call(counter, "get", EMPTY)) == 1
    live = a.router.runtime.live.get(counter)
    assert live is not None
    for _ in range(3):
        b.update_call(counter, "inc", nat(2))
    with b.router.read(None) as (tx, _env):
        written = tx.exec.pages(counter, after_version=live.version)
    assert 0 < len(written["h"]) < 20  # b's three updates wrote a few pages, not the 5 MiB heap
    assert one(a.query_call(counter, "get", EMPTY)) == 7
    assert a.router.runtime.live.get(counter) is live, "a caught up in place: no reload"
    assert one(a.update_call(counter, "inc", nat(1))) == 8
    assert one(b.query_call(counter, "get", EMPTY)) == 8
    a.close()
    b.close()


CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, sys.argv[3])
    from icp_client.principal import Principal
    from icp_local import LocalIc, execute
    from icp_local.db import IcDatabase
    from tests.unit.local_ic.router.wat_canisters import relay_arg
    ic = LocalIc(IcDatabase.open(sys.argv[1]))
    what, canister = sys.argv[2], Principal.from_text(sys.argv[4])
    if what == "ack":
        reply = ic.update_call(canister, "inc", bytes.fromhex("4449444c00017d05"))
        print("acknowledged", reply.hex(), flush=True)
    else:
        callee = Principal.from_text(sys.argv[5])
        arg = relay_arg(callee.raw, "count")
        with ic.router.write(None) as (tx, env):
            execute.ingress_update(tx, env, ic.sender, canister, "relay", arg, os.urandom(32))
        print("first message committed", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _killed_child(url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, args[0], str(ROOT), *args[1:]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -9, done.stdout + done.stderr
    return done.stdout


def test_an_acknowledged_update_survives_sigkill(shared_url: str) -> None:
    ic = open_ic(shared_url)
    counter = ic.create_canister()
    ic.install_canister(counter, COUNTER_WASM.read_bytes(), nat(10))
    ic.close()
    assert "acknowledged" in _killed_child(shared_url, "ack", counter.to_text())
    reopened = open_ic(shared_url)
    assert one(reopened.query_call(counter, "get", EMPTY)) == 15
    reopened.close()


def test_a_call_cut_by_sigkill_is_carried_on_by_the_next_process(shared_url: str) -> None:
    ic = open_ic(shared_url)
    relay, callee = ic.create_canister(), ic.create_canister()
    ic.install_canister(relay, RELAY)
    ic.install_canister(callee, CALLEE)
    ic.close()
    assert "first message committed" in _killed_child(shared_url, "cut", relay.to_text(), callee.to_text())
    reopened = open_ic(shared_url)  # drains what it finds: the request, then the response to the relay
    assert reopened.query_call(callee, "peek") == b"\x01"
    with reopened.router.read(None) as (tx, _env):
        assert tx.exec.queue_length() == 0 and tx.exec.contexts_of(relay) == []
    reopened.close()


def test_live_instances_are_bounded(tmp_path: Path) -> None:
    ic = open_ic(f"sqlite:///{tmp_path / 'ic.sqlite3'}", live_instances=2)
    canisters = []
    for value in range(5):
        canister = ic.create_canister()
        ic.install_canister(canister, COUNTER_WASM.read_bytes(), nat(value))
        canisters.append(canister)
    for value, canister in enumerate(canisters):
        assert one(ic.update_call(canister, "inc", nat(100))) == value + 100
        assert len(ic.router.runtime.live) <= 2
    for value, canister in enumerate(canisters):
        assert one(ic.query_call(canister, "get", EMPTY)) == value + 100
    ic.close()


def test_a_deleted_canister_leaves_no_execution_state(ic: LocalIc) -> None:
    canister = ic.create_canister()
    ic.install_canister(canister, COUNTER_WASM.read_bytes(), nat(3))
    ic.stop_canister(ic.sender, canister)
    ic.delete_canister(ic.sender, canister)
    with ic.router.read(None) as (tx, _env):
        assert tx.exec.get_exec(canister) is None and tx.exec.pages(canister) == {"h": {}, "s": {}}
    assert ic.router.runtime.live.get(canister) is None
    assert not ic.canister_exists(Principal.from_text(canister.to_text()))


def test_threads_calling_one_canister_lose_no_update(ic: LocalIc) -> None:
    counter = ic.create_canister()
    ic.install_canister(counter, COUNTER_WASM.read_bytes(), nat(0))

    def work(_: int) -> None:
        for _ in range(10):
            ic.update_call(counter, "inc", nat(1))
            ic.query_call(counter, "get", EMPTY)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(work, range(6)))
    assert one(ic.query_call(counter, "get", EMPTY)) == 60
