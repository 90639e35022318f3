"""The README's integration example: a Python back end creates a canister per user through a served factory."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from canister_factory._core.config import InitArg
from canister_factory.api import ServiceOptions, create_app
from canister_factory.bootstrap import App, open_app
from icp_client.identity import generate_identity, load_or_create_identity
from icp_client.principal import Principal
from tests.integration.api.serving import ROOT, serve_in_thread

COUNTER = ROOT / "src" / "canister_factory" / "_data" / "counter.wasm"


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[tuple[str, App]]:
    app = open_app(database_url=f"sqlite:///{tmp_path / 'factory.sqlite3'}")
    app.factory.deploy(generate_identity().principal, InitArg(max_canisters_per_caller=10))
    app.fund(100 * 10**12)
    with serve_in_thread(create_app(app, ServiceOptions())) as url:
        yield url, app
    app.close()


def test_python_backend_gives_each_user_a_canister(factory: tuple[str, App], tmp_path: Path) -> None:
    url, app = factory
    users = [generate_identity().principal for _ in range(3)]
    pem = tmp_path / "backend.pem"
    cmd = [
        sys.executable,
        str(ROOT / "examples" / "python_backend.py"),
        "--url",
        url,
        "--identity",
        str(pem),
        "--module",
        str(COUNTER),
    ]
    for user in users:
        cmd += ["--user", user.to_text()]
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    lines = [line.split() for line in done.stdout.splitlines()]
    assert [Principal.from_text(u) for u, _ in lines] == users
    backend = load_or_create_identity(pem).principal
    assert app.embedded is not None
    for user_text, canister_text in lines:
        user, canister = Principal.from_text(user_text), Principal.from_text(canister_text)
        assert set(app.embedded.read_controllers(canister)) == {backend, user}  # handed off: not the factory
    page = app.factory.list_my_canisters(backend)
    assert len(page.canisters) == 3 and {r.state for r in page.canisters} == {"READY"}
    assert app.factory.get_factory_stats().total_uploads == 1  # uploaded once
