"""The ``canister-factory`` command line: a thin face over ``canister_factory.Factory``.

Each module registers its commands on the group when imported; then every method of the interface table that
none of them covers gets a generic command (``_generated``), so the command line has every method.
"""

from __future__ import annotations

from canister_factory.cli import (  # noqa: F401  (they register commands)
    _admin,
    _candid,
    _canisters,
    _demo,
    _first_steps,
    _ic,
    _network,
    _serve,
    _uploads,
)
from canister_factory.cli._generated import add_missing_commands
from canister_factory.cli._main import cli

add_missing_commands(cli)


def main() -> None:
    """Entry point of the ``canister-factory`` command."""
    cli(prog_name="canister-factory")


__all__ = ["cli", "main"]
