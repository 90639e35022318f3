"""One Candid codec for the management canister's settings, status and install modes (icp_client.management)."""

from __future__ import annotations

from icp_client import interfaces
from icp_client.candid import decode, encode
from icp_client.management import (
    CanisterRunStatus,
    CanisterSettings,
    CanisterStatus,
    DefiniteSettings,
    EnvironmentVariable,
    InstallMode,
    MemoryMetrics,
    QueryStats,
    UpgradeFlags,
    Visibility,
    WasmMemoryPersistence,
    install_mode_from_candid,
    install_mode_to_candid,
    settings_from_candid,
    settings_to_candid,
    status_from_candid,
    status_to_candid,
)
from icp_client.principal import Principal

ALICE = Principal.self_authenticating(b"alice")


def _through_candid(method: str, value: object, *, reply: bool = False) -> object:
    func = interfaces.management().methods[method]
    types = func.results if reply else func.args
    return decode(encode(types, [value]), types)[0]


def test_settings_survive_encoding_at_the_ic_did_type() -> None:
    settings = CanisterSettings(
        controllers=(ALICE,),
        compute_allocation=1,
        log_visibility=Visibility.public(),
        status_visibility=Visibility.allowed_viewers(ALICE),
        environment_variables=(EnvironmentVariable("K", "V"),),
        log_memory_limit=8192,
    )
    arg = {"canister_id": ALICE, "settings": settings_to_candid(settings), "sender_canister_version": None}
    decoded = _through_candid("update_settings", arg)
    assert isinstance(decoded, dict)
    assert settings_from_candid(decoded["settings"]) == settings


def test_unset_settings_are_left_out() -> None:
    assert settings_to_candid(CanisterSettings(freezing_threshold=5)) == {"freezing_threshold": 5}
    assert settings_to_candid(None) is None and settings_from_candid(None) is None


def test_status_survives_encoding_at_the_widened_type() -> None:
    status = CanisterStatus(
        status=CanisterRunStatus.STOPPING,
        settings=DefiniteSettings(controllers=(ALICE,), snapshot_visibility=Visibility.public()),
        module_hash=b"\x01" * 32,
        cycles=10**20,
        memory_size=77,
        memory_metrics=MemoryMetrics(wasm_memory_size=65536, wasm_binary_size=12),
        reserved_cycles=3,
        idle_cycles_burned_per_day=4,
        query_stats=QueryStats(num_calls_total=2),
        version=9,
    )
    decoded = _through_candid("canister_status", status_to_candid(status), reply=True)
    assert isinstance(decoded, dict)
    assert status_from_candid(decoded) == status
    assert (status.controllers, status.freezing_threshold) == ((ALICE,), 2_592_000)


def test_install_modes_and_upgrade_flags() -> None:
    flags = UpgradeFlags(skip_pre_upgrade=True, wasm_memory_persistence=WasmMemoryPersistence.KEEP)
    for mode, given in [
        (InstallMode.INSTALL, None),
        (InstallMode.REINSTALL, None),
        (InstallMode.UPGRADE, None),
        (InstallMode.UPGRADE, flags),
    ]:
        arg = {
            "mode": install_mode_to_candid(mode, given),
            "canister_id": ALICE,
            "wasm_module": b"",
            "arg": b"",
            "sender_canister_version": None,
        }
        decoded = _through_candid("install_code", arg)
        assert isinstance(decoded, dict)
        assert install_mode_from_candid(decoded["mode"]) == (mode, given)
