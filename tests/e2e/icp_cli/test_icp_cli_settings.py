"""icp-cli reads back every setting it writes, and status visibility lets a non-controller read the status."""

from __future__ import annotations

import re

from icp_client.management import Visibility, VisibilityKind
from icp_local import LocalIc
from tests.e2e.icp_cli.conftest import Icp
from tests.e2e.icp_cli.test_icp_cli import _factory_canister

MIB = 1024 * 1024


def _field(out: str, name: str) -> str:
    match = re.search(rf"^\s*{re.escape(name)}: (.*)$", out, re.MULTILINE)
    assert match is not None, f"{name!r} not in:\n{out}"
    return match.group(1).strip()


def test_settings_update_then_show_reads_back_what_was_set(icp: Icp, engine: LocalIc) -> None:
    canister, _factory = _factory_canister(engine, icp.identity.principal)
    target = canister.to_text()
    icp.run(
        "canister", "settings", "update", target, "-f",
        "--compute-allocation", "1", "--memory-allocation", "10mib",
        "--log-visibility", "public", "--status-visibility", "public",
        "--wasm-memory-limit", "1234", "--freezing-threshold", "7d",
    )  # fmt: skip
    shown = icp.run("canister", "settings", "show", target).stdout
    assert _field(shown, "Compute allocation") == "1"
    assert _field(shown, "Memory allocation") == "10_485_760"
    assert _field(shown, "Log visibility") == "Public"
    assert _field(shown, "Status visibility") == "Public"
    assert _field(shown, "Snapshot visibility") == "Controllers"
    assert _field(shown, "Wasm memory limit") == "1_234"
    assert _field(shown, "Freezing threshold") == "604_800"
    settings = engine.canister_status(icp.identity.principal, canister).settings
    assert (settings.compute_allocation, settings.memory_allocation) == (1, 10 * MIB)
    assert settings.log_visibility == settings.status_visibility == Visibility.public()


def test_a_non_controller_reads_the_status_once_it_is_public(icp: Icp, engine: LocalIc) -> None:
    canister, _factory = _factory_canister(engine, icp.identity.principal)
    stranger = icp.another("stranger")
    # Refused canister_status, icp-cli falls back to the public part of the state tree (no cycles, no settings).
    public_only = stranger.run("canister", "status", canister.to_text()).stdout
    assert "Cycles:" not in public_only and "Module hash: <none>" in public_only
    icp.run("canister", "settings", "update", canister.to_text(), "-f", "--status-visibility", "public")
    out = stranger.run("canister", "status", canister.to_text()).stdout
    assert _field(out, "Status") == "Running"
    assert _field(out, "Cycles") == "1_000_000_000_000"
    assert _field(out, "Status visibility") == "Public"
    status = engine.canister_status(stranger.identity.principal, canister)
    assert status.settings.status_visibility.kind is VisibilityKind.PUBLIC


def test_log_viewers_and_environment_variables_are_kept(icp: Icp, engine: LocalIc) -> None:
    canister, _factory = _factory_canister(engine, icp.identity.principal)
    viewer = icp.another("viewer").identity.principal
    icp.run(
        "canister", "settings", "update", canister.to_text(), "-f",
        "--add-log-viewer", viewer.to_text(), "--log-memory-limit", "8kib",
    )  # fmt: skip
    settings = engine.canister_status(icp.identity.principal, canister).settings
    assert settings.log_visibility == Visibility.allowed_viewers(viewer)
    assert settings.log_memory_limit == 8 * 1024
    shown = icp.run("canister", "settings", "show", canister.to_text()).stdout
    assert viewer.to_text() in shown
