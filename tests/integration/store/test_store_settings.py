"""The store port's settings and counters, on every backend."""

from __future__ import annotations

from dataclasses import replace

from canister_factory.unit_of_work import UnitOfWork
from icp_client.principal import Principal
from tests.integration.store._records import ADMIN, ALICE, BOB, SETTINGS, deploy


def test_nothing_before_deploy(uow: UnitOfWork) -> None:
    with uow.read() as tx:
        assert not tx.settings.is_deployed()
        assert tx.settings.load() is None
        assert tx.settings.network() is None


def test_the_settings_read_back_as_deployed(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
    with uow.read() as tx:
        assert tx.settings.load(lock="share") == SETTINGS
        assert tx.settings.network() == "embedded"
        counters = tx.counters.read()
    assert (counters.next_upload_id, counters.total_canisters_created, counters.stored_bytes) == (1, 0, 0)


def test_a_callers_view_holds_only_that_caller_and_no_admins(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
    stranger = Principal(b"\x99\x01")
    with uow.read() as tx:
        mine = tx.settings.load(for_caller=ALICE, admins=False)
        theirs = tx.settings.load(for_caller=stranger, admins=False)
    assert mine is not None and theirs is not None
    assert (mine.allowlist, mine.admins) == (frozenset({ALICE}), frozenset())
    assert theirs.allowlist == frozenset()


def test_stop_allowlist_and_admins_change(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        tx.settings.set_emergency_stop(True)
        tx.settings.set_admins(frozenset({ADMIN, BOB}))
        tx.settings.set_allowlist(None)
    with uow.read() as tx:
        assert tx.settings.load(lock="update") == replace(
            SETTINGS, emergency_stop=True, admins=frozenset({ADMIN, BOB}), allowlist=None
        )
    with uow.write() as tx:
        tx.settings.set_allowlist(frozenset())  # on, and nobody on it
    with uow.read() as tx:
        settings = tx.settings.load()
        assert settings is not None and settings.allowlist == frozenset()


def test_the_factory_key_is_made_once(uow: UnitOfWork) -> None:
    made: list[str] = []

    def make() -> str:
        made.append(f"pem {len(made)}")
        return made[-1]

    with uow.write() as tx:
        first = tx.settings.factory_key(make)
    with uow.write() as tx:
        assert tx.settings.factory_key(make) == first == "pem 0"
    assert made == ["pem 0"]


def test_counters(uow: UnitOfWork) -> None:
    with uow.write() as tx:
        deploy(tx)
        assert [tx.counters.allocate_upload_id() for _ in range(3)] == [1, 2, 3]
        assert tx.counters.next_created_at_time(50) == 50
        assert tx.counters.next_created_at_time(50) == 51  # never the same twice
        assert tx.counters.next_created_at_time(10) == 52  # nor going back
        assert tx.counters.claim_storage(60, 100) == 60
        assert tx.counters.claim_storage(41, 100) is None  # past the limit: nothing counted
        assert tx.counters.claim_storage(40, 100) == 100
        tx.counters.bump(
            total_canisters_created=2, active_uploads=3, unique_callers=1, overhead_cycles_used=7
        )
        tx.counters.bump(stored_bytes=-30, active_uploads=-1)
    with uow.read() as tx:
        counters = tx.counters.read()
    assert counters.next_upload_id == 4
    assert counters.last_created_at_time_ns == 52
    assert (counters.total_canisters_created, counters.active_uploads, counters.unique_callers) == (2, 2, 1)
    assert (counters.overhead_cycles_used, counters.stored_bytes) == (7, 70)
