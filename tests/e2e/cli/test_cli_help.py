"""Every command is documented: a help text with an example (sqlite-utils' habit), and the method list is complete."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from canister_factory.cli import cli

COMMANDS = sorted(cli.commands)
REFERENCE_METHODS = [
    "create_upload", "put_chunk", "commit_upload", "clear_upload", "get_upload_info", "create_and_install_with",
    "set_emergency_stop", "set_allowlist", "add_admin", "remove_admin", "cleanup_expired_uploads_manual",
    "get_config", "my_stats", "get_factory_stats", "health_check", "version",
]  # fmt: skip
OURS = [
    "deploy", "upload", "canister_status", "whoami", "list_my_canisters", "list_canisters", "demo", "candid", "call",
    "local_network", "top_up", "list_my_uploads", "get_module_metadata", "example", "identity", "completion",
]  # fmt: skip


def test_one_command_per_method() -> None:
    assert {m.replace("_", "-") for m in REFERENCE_METHODS + OURS} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_has_an_example(name: str) -> None:
    command = cli.commands[name]
    assert command.help and command.help.strip(), f"{name} has no help text"
    assert "Example" in command.help, f"{name}'s help has no example"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_underscore_spelling_resolves(name: str) -> None:
    group = cli
    assert isinstance(group, click.Group)
    ctx = click.Context(group)
    assert group.get_command(ctx, name.replace("-", "_")) is cli.commands[name]


def test_top_level_help_lists_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("create-upload", "create-and-install-with", "demo"):
        assert name in result.stdout
