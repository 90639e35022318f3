"""Admin rules through every backend: emergency stop, allowlist, the admin set."""

from __future__ import annotations

import pytest

from canister_factory._core.errors import Conflict, EmergencyStop, PermissionDenied
from icp_client.identity import Identity, generate_identity
from tests.scenarios._helpers import request, upload
from tests.support.backends import Backend
from tests.support.wasm_modules import counter_wasm

WASM = counter_wasm()


def test_emergency_stop_blocks_callers_not_admins(backend: Backend, alice: Identity) -> None:
    api, admin = backend.as_caller(alice), backend.as_admin()
    committed = upload(api, WASM)
    open_upload = api.create_upload()
    admin.set_emergency_stop(True)
    assert admin.get_config().emergency_stop is True
    for attempt in (
        lambda: api.put_chunk(open_upload, WASM, 0),
        lambda: api.create_upload(),
        lambda: api.commit_upload(open_upload, "00" * 32),
        lambda: api.create_and_install_with(request(committed)),
    ):
        with pytest.raises(EmergencyStop) as err:
            attempt()
        assert str(err.value) == "Factory is in emergency stop mode"
    # admin methods still work while stopped
    carol = generate_identity().principal
    admin.add_admin(carol)
    admin.set_allowlist([alice.principal])
    admin.set_allowlist(None)
    admin.remove_admin(carol)
    assert admin.list_canisters().canisters == ()
    assert admin.cleanup_expired_uploads_manual() == 0
    assert admin.get_config().admins == (backend.admin.principal,)
    admin.set_emergency_stop(False)
    assert admin.get_config().emergency_stop is False
    api.put_chunk(open_upload, WASM, 0)
    created = api.create_and_install_with(request(committed))
    assert backend.ic_controllers(created.canister_id) == {alice.principal}


def test_allowlist(backend: Backend, alice: Identity, bob: Identity) -> None:
    admin = backend.as_admin()
    admin.set_allowlist([alice.principal])
    assert admin.get_config().allowlist == (alice.principal,)
    api, other = backend.as_caller(alice), backend.as_caller(bob)
    uid = upload(api, WASM)
    with pytest.raises(PermissionDenied) as err:
        other.create_upload()
    assert str(err.value) == "Caller not in allowlist"
    admin.set_allowlist([bob.principal])
    with pytest.raises(PermissionDenied) as err:
        api.create_and_install_with(request(uid))
    assert str(err.value) == "Caller not in allowlist"
    admin.set_allowlist(None)
    assert admin.get_config().allowlist is None
    api.create_and_install_with(request(uid))
    other.create_upload()


def test_admin_access_required(backend: Backend, alice: Identity) -> None:
    api = backend.as_caller(alice)
    for attempt in (
        lambda: api.set_emergency_stop(True),
        lambda: api.set_allowlist([alice.principal]),
        lambda: api.add_admin(alice.principal),
        lambda: api.remove_admin(backend.admin.principal),
        lambda: api.cleanup_expired_uploads_manual(),
        lambda: api.list_canisters(),
    ):
        with pytest.raises(PermissionDenied) as err:
            attempt()
        assert str(err.value) == "Admin access required"
    config = api.get_config()
    assert (config.emergency_stop, config.allowlist, config.admins) == (
        False,
        None,
        (backend.admin.principal,),
    )


def test_admins_come_and_go_but_the_last_stays(backend: Backend, alice: Identity) -> None:
    admin = backend.as_admin()
    with pytest.raises(Conflict) as err:
        admin.remove_admin(backend.admin.principal)
    assert str(err.value) == "Cannot remove the last admin"
    admin.add_admin(alice.principal)
    assert set(admin.get_config().admins) == {backend.admin.principal, alice.principal}
    newcomer = backend.as_caller(alice)
    newcomer.set_emergency_stop(True)
    newcomer.set_emergency_stop(False)
    newcomer.remove_admin(backend.admin.principal)
    assert admin.get_config().admins == (alice.principal,)
    with pytest.raises(PermissionDenied) as denied:
        admin.set_emergency_stop(True)
    assert str(denied.value) == "Admin access required"
    with pytest.raises(Conflict) as err:
        newcomer.remove_admin(alice.principal)
    assert str(err.value) == "Cannot remove the last admin"
