"""Access rules: emergency stop before the allowlist, admins during a stop, anonymous refused for writes."""

from __future__ import annotations

import pytest

from canister_factory._core.access import is_admin, require_admin, require_caller, require_signed
from canister_factory._core.config import InitArg, resolve_init
from canister_factory._core.errors import EmergencyStop, PermissionDenied
from icp_client.principal import Principal

ADMIN = Principal.self_authenticating(b"admin key")
ALICE = Principal.self_authenticating(b"alice key")
BOB = Principal.self_authenticating(b"bob key")
ANON = Principal.anonymous()


def settings(*, allowlist: tuple[Principal, ...] | None = None, stopped: bool = False):  # type: ignore[no-untyped-def]
    return resolve_init(InitArg(allowlist=allowlist), ADMIN).with_emergency_stop(stopped)


def test_open_factory_allows_any_signed_caller() -> None:
    require_caller(settings(), ALICE)


def test_allowlist_refuses_others() -> None:
    s = settings(allowlist=(ALICE,))
    require_caller(s, ALICE)
    with pytest.raises(PermissionDenied, match=r"^Caller not in allowlist$"):
        require_caller(s, BOB)


def test_emergency_stop_is_checked_before_the_allowlist() -> None:
    s = settings(allowlist=(ALICE,), stopped=True)
    for caller in (ALICE, BOB):
        with pytest.raises(EmergencyStop, match=r"^Factory is in emergency stop mode$"):
            require_caller(s, caller)


def test_admin_methods_work_during_emergency_stop() -> None:
    s = settings(stopped=True)
    require_admin(s, ADMIN)
    assert is_admin(s, ADMIN)


def test_non_admin_refused() -> None:
    with pytest.raises(PermissionDenied, match=r"^Admin access required$"):
        require_admin(settings(), ALICE)
    assert not is_admin(settings(), ALICE)


def test_anonymous_refused_for_writes_even_when_open() -> None:
    with pytest.raises(PermissionDenied, match=r"Anonymous"):
        require_caller(settings(), ANON)
    with pytest.raises(PermissionDenied, match=r"Anonymous"):
        require_signed(ANON)
    require_signed(ALICE)
