"""Fixtures for the command line's end-to-end tests: a state folder, PEM identities, and a runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.factory import Cli, write_identity, write_sec1_secp256k1


@pytest.fixture
def cli_env(tmp_path: Path) -> Cli:
    return Cli(
        state=tmp_path / "state",
        admin=write_identity(tmp_path / "admin.pem", "ed25519"),
        alice=write_sec1_secp256k1(tmp_path / "alice.pem"),
        bob=write_identity(tmp_path / "bob.pem", "secp256k1"),
    )


@pytest.fixture
def deployed(cli_env: Cli) -> Cli:
    cli_env.ok("deploy", "--cycles", str(100 * 10**12))
    return cli_env


@pytest.fixture
def wasm_file(tmp_path: Path) -> Callable[[bytes], Path]:
    def _write(data: bytes, name: str = "module.wasm") -> Path:
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write
