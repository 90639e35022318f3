"""Configuration: the reference's defaults, our additions, and validation errors naming the option."""

from __future__ import annotations

import pytest

from canister_factory._core.config import (
    InitArg,
    resolve_init,
    validate_allowlist,
)
from canister_factory._core.errors import InvalidArgument
from icp_client.principal import Principal

DEPLOYER = Principal.self_authenticating(b"deployer key")
ALICE = Principal.self_authenticating(b"alice key")
ANON = Principal.anonymous()


def test_defaults_are_the_references() -> None:
    s = resolve_init(None, DEPLOYER)
    assert s.max_canisters_per_caller == 100
    assert s.min_factory_cycles == 5_000_000_000_000
    assert s.allowlist is None
    assert s.admins == frozenset({DEPLOYER})
    assert s.max_upload_size == 50_000_000
    assert s.upload_ttl_ns == 24 * 60 * 60 * 1_000_000_000
    assert s.upload_ttl_seconds == 86_400
    assert s.emergency_stop is False
    assert s.max_creations_per_day is None


def test_empty_init_arg_same_as_none() -> None:
    assert resolve_init(InitArg(), DEPLOYER) == resolve_init(None, DEPLOYER)


def test_given_options_override_defaults() -> None:
    s = resolve_init(
        InitArg(
            max_canisters_per_caller=3,
            min_factory_cycles=7,
            allowlist=(ALICE,),
            admins=(ALICE,),
            max_upload_size=1000,
            upload_ttl_seconds=60,
            max_creations_per_day=2,
        ),
        DEPLOYER,
    )
    assert (s.max_canisters_per_caller, s.min_factory_cycles, s.max_upload_size) == (3, 7, 1000)
    assert s.upload_ttl_ns == 60 * 1_000_000_000
    assert s.allowlist == frozenset({ALICE})
    assert s.admins == frozenset({ALICE}), "given admins replace the deployer"
    assert s.max_creations_per_day == 2


def test_empty_allowlist_allows_nobody_not_everybody() -> None:
    assert resolve_init(InitArg(allowlist=()), DEPLOYER).allowlist == frozenset()


@pytest.mark.parametrize(
    ("init", "option"),
    [
        (InitArg(max_canisters_per_caller=-1), "max_canisters_per_caller"),
        (InitArg(max_canisters_per_caller=2**32), "max_canisters_per_caller"),
        (InitArg(min_factory_cycles=-5), "min_factory_cycles"),
        (InitArg(min_factory_cycles=2**128), "min_factory_cycles"),
        (InitArg(max_upload_size=0), "max_upload_size"),
        (InitArg(max_upload_size=200 * 1024 * 1024), "max_upload_size"),
        (InitArg(upload_ttl_seconds=0), "upload_ttl_seconds"),
        (InitArg(upload_ttl_seconds=2**64), "upload_ttl_seconds"),
        (InitArg(max_creations_per_day=0), "max_creations_per_day"),
        (InitArg(max_active_uploads_per_caller=0), "max_active_uploads_per_caller"),
        (InitArg(max_modules_per_caller=0), "max_modules_per_caller"),
        (InitArg(admins=()), "admins"),
        (InitArg(admins=(ANON,)), "admins"),
        (InitArg(allowlist=(ANON,)), "allowlist"),
        (InitArg(max_canisters_per_caller="5"), "max_canisters_per_caller"),  # type: ignore[arg-type]
        (InitArg(max_canisters_per_caller=True), "max_canisters_per_caller"),
    ],
)
def test_bad_value_names_the_option(init: InitArg, option: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        resolve_init(init, DEPLOYER)
    assert str(err.value).startswith(f"{option}:")


def test_too_many_admins() -> None:
    admins = tuple(Principal.self_authenticating(bytes([i])) for i in range(101))
    with pytest.raises(InvalidArgument, match=r"^admins: at most 100 principals, got 101$"):
        resolve_init(InitArg(admins=admins), DEPLOYER)


def test_validate_allowlist() -> None:
    assert validate_allowlist(None) is None
    assert validate_allowlist([ALICE, ALICE]) == frozenset({ALICE})
    with pytest.raises(InvalidArgument, match=r"^allowlist:"):
        validate_allowlist([ANON])


def test_with_emergency_stop_returns_a_copy() -> None:
    s = resolve_init(None, DEPLOYER)
    stopped = s.with_emergency_stop(True)
    assert stopped.emergency_stop and not s.emergency_stop
