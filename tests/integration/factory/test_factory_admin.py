"""Admin methods and read-only views through ``Factory``: texts, guards, config, stats, health, version."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from canister_factory._core.config import InitArg
from canister_factory._core.errors import (
    Conflict,
    EmergencyStop,
    InsufficientCycles,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from canister_factory._version import __version__
from canister_factory.bootstrap import open_app
from canister_factory.service.factory import Factory
from icp_client.principal import Principal
from tests.support.factory import FUNDING, Harness, new_principal, request, upload_module
from tests.support.wasm_modules import counter_wasm


@pytest.mark.parametrize(
    "call",
    [
        lambda f, c: f.set_emergency_stop(c, True),
        lambda f, c: f.set_allowlist(c, None),
        lambda f, c: f.add_admin(c, c),
        lambda f, c: f.remove_admin(c, c),
        lambda f, c: f.cleanup_expired_uploads_manual(c),
        lambda f, c: f.list_canisters(c),
    ],
    ids=["set_emergency_stop", "set_allowlist", "add_admin", "remove_admin", "cleanup", "list_canisters"],
)
def test_admin_methods_refuse_non_admins(
    factory: Factory, alice: Principal, call: Callable[..., object]
) -> None:
    with pytest.raises(PermissionDenied) as err:
        call(factory, alice)
    assert str(err.value) == "Admin access required"


def test_deployer_is_the_admin_by_default(h: Harness) -> None:
    assert h.factory.get_config().admins == (h.admin,)


def test_deploy_twice_is_refused(h: Harness) -> None:
    with pytest.raises(Conflict, match=r"already deployed"):
        h.factory.deploy(h.admin)


def test_deploy_validates_options(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = open_app(tmp_path)
    try:
        with pytest.raises(InvalidArgument, match=r"^max_upload_size:"):
            app.factory.deploy(new_principal(), InitArg(max_upload_size=0))
        with pytest.raises(Conflict, match=r"not deployed"):
            app.factory.get_config()
    finally:
        app.close()


def test_emergency_stop_blocks_callers_and_not_admins(h: Harness, alice: Principal) -> None:
    uid = upload_module(h.factory, alice, counter_wasm())
    h.factory.set_emergency_stop(h.admin, True)
    assert h.factory.get_config().emergency_stop is True
    for call in (
        lambda: h.factory.create_upload(alice),
        lambda: h.factory.commit_upload(alice, uid, "0" * 64),
        lambda: h.factory.clear_upload(alice, uid),
        lambda: h.factory.create_and_install_with(alice, request(uid)),
    ):
        with pytest.raises(EmergencyStop) as err:
            call()
        assert str(err.value) == "Factory is in emergency stop mode"
    # admin methods still work during the stop
    h.factory.set_allowlist(h.admin, [alice])
    h.factory.add_admin(h.admin, alice)
    assert h.factory.cleanup_expired_uploads_manual(h.admin) == 0
    h.factory.set_emergency_stop(h.admin, False)
    assert h.factory.create_and_install_with(alice, request(uid)).canister_id is not None


def test_emergency_stop_checked_before_allowlist(h: Harness, alice: Principal) -> None:
    h.factory.set_allowlist(h.admin, [new_principal()])
    h.factory.set_emergency_stop(h.admin, True)
    with pytest.raises(EmergencyStop, match=r"^Factory is in emergency stop mode$"):
        h.factory.create_upload(alice)


def test_allowlist(h: Harness, alice: Principal, bob: Principal) -> None:
    h.factory.set_allowlist(h.admin, [alice])
    assert h.factory.get_config().allowlist == (alice,)
    h.factory.create_upload(alice)
    for call in (
        lambda: h.factory.create_upload(bob),
        lambda: h.factory.create_and_install_with(bob, request(1)),
    ):
        with pytest.raises(PermissionDenied) as err:
            call()
        assert str(err.value) == "Caller not in allowlist"
    h.factory.set_allowlist(h.admin, None)
    assert h.factory.get_config().allowlist is None
    h.factory.create_upload(bob)


def test_empty_allowlist_allows_nobody(h: Harness, alice: Principal) -> None:
    h.factory.set_allowlist(h.admin, [])
    assert h.factory.get_config().allowlist == ()
    with pytest.raises(PermissionDenied, match=r"^Caller not in allowlist$"):
        h.factory.create_upload(alice)


def test_anonymous_cannot_write(factory: Factory) -> None:
    with pytest.raises(PermissionDenied, match=r"Anonymous"):
        factory.create_upload(Principal.anonymous())


def test_add_and_remove_admins(h: Harness, alice: Principal, bob: Principal) -> None:
    h.factory.add_admin(h.admin, alice)
    assert set(h.factory.get_config().admins) == {h.admin, alice}
    h.factory.remove_admin(alice, h.admin)
    assert h.factory.get_config().admins == (alice,)
    with pytest.raises(PermissionDenied, match=r"^Admin access required$"):
        h.factory.add_admin(h.admin, bob)
    with pytest.raises(Conflict) as err:
        h.factory.remove_admin(alice, alice)
    assert str(err.value) == "Cannot remove the last admin"
    # Unlike the reference (which said "Cannot remove the last admin" here too), the error says what is wrong.
    with pytest.raises(NotFound, match=rf"^{bob.to_text()} is not an admin: nothing to remove$"):
        h.factory.remove_admin(alice, bob)
    with pytest.raises(InvalidArgument, match=r"anonymous"):
        h.factory.add_admin(alice, Principal.anonymous())


def test_get_config_reports_every_field(make: Callable[..., Harness]) -> None:
    allowed = new_principal()
    h = make(
        InitArg(
            max_canisters_per_caller=7,
            min_factory_cycles=123,
            allowlist=(allowed,),
            max_upload_size=4096,
            upload_ttl_seconds=30,
            max_creations_per_day=3,
        )
    )
    h.factory.create_upload(allowed)
    cfg = h.factory.get_config()
    assert cfg.max_canisters_per_caller == 7
    assert cfg.min_factory_cycles == 123
    assert cfg.max_upload_size == 4096
    assert cfg.upload_ttl_ns == 30 * 10**9
    assert cfg.allowlist == (allowed,)
    assert cfg.admins == (h.admin,)
    assert cfg.next_upload_id == 2
    assert cfg.emergency_stop is False
    assert cfg.max_creations_per_day == 3


def test_stats(h: Harness, alice: Principal, bob: Principal) -> None:
    assert h.factory.my_stats(alice).created_count == 0
    assert h.factory.my_stats(alice).last_created_at is None
    uid = upload_module(h.factory, alice, counter_wasm())
    h.factory.create_upload(bob)
    h.clock.advance(5)
    created = h.factory.create_and_install_with(alice, request(uid))
    mine = h.factory.my_stats(alice)
    assert (mine.created_count, mine.last_created_at) == (1, h.clock.now_ns())
    stats = h.factory.get_factory_stats()
    assert stats.total_canisters_created == 1
    assert stats.total_uploads == 2
    assert stats.active_uploads == 2
    assert stats.unique_callers == 1
    assert stats.factory_cycles_balance == FUNDING - created.cycles_used
    assert stats.factory_cycles_balance == h.balance()


def test_health_check_and_version(make: Callable[..., Harness]) -> None:
    h = make(InitArg(min_factory_cycles=FUNDING))
    assert h.factory.health_check() == f"Low cycles: {FUNDING} (min {FUNDING})"
    h.app.fund(1)
    assert h.factory.health_check() == "Healthy"
    assert h.factory.version() == __version__


def test_create_upload_refused_when_low_on_cycles(make: Callable[..., Harness]) -> None:
    h = make(InitArg(min_factory_cycles=FUNDING))
    with pytest.raises(InsufficientCycles) as err:
        h.factory.create_upload(new_principal())
    assert str(err.value) == (
        f"Factory low on cycles: the balance of {FUNDING} is not above the floor of {FUNDING} (min_factory_cycles), "
        "so the factory can create no canister; an admin must add cycles first"
    )
