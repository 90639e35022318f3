"""Every setting of ``canister_settings`` is stored and reported; ``status_visibility`` decides who reads status."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from icp_client.errors import Reject
from icp_client.management import (
    DEFAULT_WASM_MEMORY_LIMIT,
    CanisterSettings,
    EnvironmentVariable,
    Visibility,
)
from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.db import IcDatabase
from icp_local.state import ic_canisters

EVERYTHING = CanisterSettings(
    compute_allocation=50,
    memory_allocation=4096,
    freezing_threshold=7,
    reserved_cycles_limit=2**100,
    minimum_incoming_canister_call_cycles=123,
    log_visibility=Visibility.public(),
    snapshot_visibility=Visibility.allowed_viewers(Principal.anonymous()),
    status_visibility=Visibility.controllers(),
    wasm_memory_limit=1234,
    wasm_memory_threshold=99,
    environment_variables=(EnvironmentVariable("MODE", "test"), EnvironmentVariable("A", "b")),
    log_memory_limit=8192,
)


def reject(call: Callable[[], object], code: int, error_code: str, fragment: str = "") -> None:
    with pytest.raises(Reject) as info:
        call()
    assert (info.value.reject_code, info.value.error_code) == (code, error_code), info.value
    assert fragment in info.value.reject_message


def test_a_new_canister_has_the_replica_defaults(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    settings = ic.canister_status(alice, canister).settings
    assert settings.controllers == (alice,)
    assert settings.wasm_memory_limit == DEFAULT_WASM_MEMORY_LIMIT
    assert settings.log_visibility == settings.status_visibility == Visibility.controllers()
    assert settings.environment_variables == ()
    assert (settings.compute_allocation, settings.memory_allocation) == (0, 0)


def test_update_settings_keeps_every_field_it_was_given(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    ic.update_settings(alice, canister, EVERYTHING)
    settings = ic.canister_status(alice, canister).settings
    for name in EVERYTHING.__slots__:
        if name != "controllers":
            assert getattr(settings, name) == getattr(EVERYTHING, name), name
    ic.update_settings(alice, canister, CanisterSettings(freezing_threshold=8))
    again = ic.canister_status(alice, canister).settings
    assert again.freezing_threshold == 8 and again.wasm_memory_limit == 1234  # the others stay


def test_creation_takes_every_setting_too(ic: LocalIc, alice: Principal) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice, None, EVERYTHING)
    settings = ic.canister_status(alice, canister).settings
    assert settings.environment_variables == EVERYTHING.environment_variables
    assert settings.snapshot_visibility == EVERYTHING.snapshot_visibility


def test_status_visibility_decides_who_reads_the_status(
    ic: LocalIc, alice: Principal, bob: Principal
) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    reject(lambda: ic.canister_status(bob, canister), 5, "IC0512", "Only the controllers")
    ic.update_settings(alice, canister, CanisterSettings(status_visibility=Visibility.allowed_viewers(bob)))
    assert ic.canister_status(bob, canister).cycles == ic.canister_status(alice, canister).cycles
    reject(lambda: ic.canister_status(Principal.anonymous(), canister), 5, "IC0512")
    ic.update_settings(alice, canister, CanisterSettings(status_visibility=Visibility.public()))
    assert ic.canister_status(Principal.anonymous(), canister).controllers == (alice,)
    reject(lambda: ic.update_settings(bob, canister, CanisterSettings()), 5, "IC0512")


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        (
            CanisterSettings(log_visibility=Visibility.allowed_viewers(*[Principal.anonymous()] * 11)),
            "viewers",
        ),
        (CanisterSettings(environment_variables=(EnvironmentVariable("A", "1"),) * 2), "Duplicate"),
        (CanisterSettings(environment_variables=(EnvironmentVariable("A" * 129, "1"),)), "name exceeds"),
        (CanisterSettings(minimum_incoming_canister_call_cycles=2**128), "minimum_incoming"),
        (CanisterSettings(log_memory_limit=2 * 1024 * 1024 + 1), "log_memory_limit"),
    ],
)
def test_invalid_settings_are_refused(
    ic: LocalIc, alice: Principal, settings: CanisterSettings, fragment: str
) -> None:
    canister = ic.provisional_create_canister_with_cycles(alice)
    reject(lambda: ic.update_settings(alice, canister, settings), 5, "IC0504", fragment)


def test_migration_writes_out_settings_stored_by_version_1(db: IcDatabase, alice: Principal) -> None:
    ic = LocalIc(db)
    canister = ic.provisional_create_canister_with_cycles(alice)
    old = {"compute_allocation": 3, "freezing_threshold": 9, "memory_allocation": 0, "wasm_memory_limit": 0}
    with db.write() as conn:
        conn.execute(sa.update(ic_canisters).values(settings=json.dumps(old)))
        conn.execute(sa.text("UPDATE ic_schema_version SET version = 1"))
    reopened = LocalIc(IcDatabase(db.engine))
    settings = reopened.canister_status(alice, canister).settings
    assert (settings.compute_allocation, settings.freezing_threshold, settings.wasm_memory_limit) == (3, 9, 0)
    assert settings.log_visibility == Visibility.controllers()
    with db.read() as conn:
        stored = json.loads(conn.execute(sa.select(ic_canisters.c.settings)).scalar_one())
    assert "environment_variables" in stored and stored["compute_allocation"] == "3"
