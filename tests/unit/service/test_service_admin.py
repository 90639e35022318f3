"""Deploy and the admin methods, on the in-memory store."""

from __future__ import annotations

import pytest

from canister_factory._core.access import ADMIN_REQUIRED, EMERGENCY_STOP, NOT_IN_ALLOWLIST
from canister_factory._core.config import InitArg
from canister_factory._core.errors import Conflict, EmergencyStop, InvalidArgument, NotFound, PermissionDenied
from canister_factory.service import admin, uploads
from canister_factory.service.context import NOT_DEPLOYED
from icp_client.principal import Principal
from tests.unit.service.helpers import Env


def test_every_method_refuses_before_deploy(env: Env, alice: Principal) -> None:
    for call in (
        lambda: admin.get_config(env.ctx),
        lambda: admin.health_check(env.ctx),
        lambda: uploads.create_upload(env.ctx, alice),
        lambda: admin.set_emergency_stop(env.ctx, env.admin, True),
    ):
        with pytest.raises(Conflict, match=NOT_DEPLOYED):
            call()


def test_deploy_records_the_options_and_the_deployer_as_admin(env: Env, alice: Principal) -> None:
    env.deploy(InitArg(max_canisters_per_caller=7, allowlist=(alice,), upload_ttl_seconds=60))
    config = admin.get_config(env.ctx)
    assert (config.max_canisters_per_caller, config.allowlist, config.admins) == (7, (alice,), (env.admin,))
    assert (config.upload_ttl_ns, config.next_upload_id, config.emergency_stop) == (60 * 10**9, 1, False)


def test_deploy_twice_is_refused_and_changes_nothing(deployed: Env, alice: Principal) -> None:
    with pytest.raises(Conflict, match="already deployed"):
        admin.deploy(deployed.ctx, alice, InitArg(max_canisters_per_caller=1), network="embedded")
    assert admin.get_config(deployed.ctx).admins == (deployed.admin,)


def test_anonymous_cannot_deploy(env: Env) -> None:
    with pytest.raises(PermissionDenied):
        admin.deploy(env.ctx, Principal.anonymous(), None, network="embedded")


def test_emergency_stop_blocks_callers_not_admins(deployed: Env, alice: Principal) -> None:
    with pytest.raises(PermissionDenied, match=ADMIN_REQUIRED):
        admin.set_emergency_stop(deployed.ctx, alice, True)
    admin.set_emergency_stop(deployed.ctx, deployed.admin, True)
    with pytest.raises(EmergencyStop, match=EMERGENCY_STOP):
        uploads.create_upload(deployed.ctx, alice)
    admin.set_allowlist(deployed.ctx, deployed.admin, [alice])  # admins still work
    admin.set_emergency_stop(deployed.ctx, deployed.admin, False)
    assert uploads.create_upload(deployed.ctx, alice) == 1


def test_the_allowlist_admits_only_those_on_it(deployed: Env, alice: Principal, bob: Principal) -> None:
    admin.set_allowlist(deployed.ctx, deployed.admin, [alice])
    uploads.create_upload(deployed.ctx, alice)
    with pytest.raises(PermissionDenied, match=NOT_IN_ALLOWLIST):
        uploads.create_upload(deployed.ctx, bob)
    admin.set_allowlist(deployed.ctx, deployed.admin, None)
    uploads.create_upload(deployed.ctx, bob)
    assert admin.get_config(deployed.ctx).allowlist is None


def test_admins_are_added_and_removed_but_never_the_last(
    deployed: Env, alice: Principal, bob: Principal
) -> None:
    admin.add_admin(deployed.ctx, deployed.admin, alice)
    admin.remove_admin(deployed.ctx, alice, deployed.admin)
    assert admin.get_config(deployed.ctx).admins == (alice,)
    with pytest.raises(NotFound):
        admin.remove_admin(deployed.ctx, alice, bob)
    with pytest.raises(Conflict, match=admin.LAST_ADMIN):
        admin.remove_admin(deployed.ctx, alice, alice)
    with pytest.raises(InvalidArgument):
        admin.add_admin(deployed.ctx, alice, Principal.anonymous())
    with pytest.raises(PermissionDenied):
        admin.add_admin(deployed.ctx, deployed.admin, bob)  # no longer an admin
    assert admin.get_config(deployed.ctx).admins == (alice,)
