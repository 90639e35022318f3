"""The README's integration example: a Python back end creates a canister per user through a served factory.

The example does what it says: each user is the only controller of their canister (owner + handoff), sees it in
their own ``list-my-canisters``, and the back end's quota counts every creation.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from canister_factory._core.config import InitArg
from canister_factory.api import ServiceOptions, create_app
from canister_factory.bootstrap import App, open_app
from canister_factory.cli import cli
from icp_client.identity import generate_identity
from icp_client.principal import Principal
from tests.integration.api.serving import ROOT, serve_in_thread
from tests.support.factory import Who, write_identity

COUNTER = ROOT / "src" / "canister_factory" / "_data" / "counter.wasm"
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[tuple[str, App]]:
    app = open_app(database_url=f"sqlite:///{tmp_path / 'factory.sqlite3'}")
    app.factory.deploy(generate_identity().principal, InitArg(max_canisters_per_caller=10))
    app.fund(100 * 10**12)
    with serve_in_thread(create_app(app, ServiceOptions())) as url:
        yield url, app
    app.close()


def _backend(url: str, pem: Path, users: list[Who]) -> dict[Principal, Principal]:
    cmd = [sys.executable, str(ROOT / "examples" / "python_backend.py"), "--url", url, "--identity", str(pem)]
    cmd += ["--module", str(COUNTER)]
    for user in users:
        cmd += ["--user", user.principal]
    done = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    pairs = [line.split() for line in done.stdout.splitlines()]
    return {Principal.from_text(u): Principal.from_text(c) for u, c in pairs}


def _cli(url: str, who: Who, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["--url", url, "--identity", str(who.pem), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_python_backend_gives_each_user_a_canister_they_alone_control(
    factory: tuple[str, App], tmp_path: Path
) -> None:
    url, app = factory
    users = [write_identity(tmp_path / f"user{i}.pem") for i in range(3)]
    backend = write_identity(tmp_path / "backend.pem", "secp256k1")
    created = _backend(url, backend.pem, users)
    assert [u.to_text() for u in created] == [u.principal for u in users]
    assert app.embedded is not None
    for user in users:
        canister = created[Principal.from_text(user.principal)]
        assert set(app.embedded.read_controllers(canister)) == {Principal.from_text(user.principal)}
        mine = _cli(url, user, "list-my-canisters")["canisters"]
        assert [(c["canister_id"], c["owner"], c["caller"]) for c in mine] == [  # type: ignore[index, union-attr]
            (canister.to_text(), user.principal, backend.principal)
        ]
        assert _cli(url, user, "my-stats")["created_count"] == 0
    assert _cli(url, backend, "my-stats")["created_count"] == 3  # the back end's quota counted them
    assert _cli(url, backend, "list-my-canisters")["canisters"] == []  # it owns none
    made = _cli(url, backend, "list-my-canisters", "--created-for-others")["canisters"]
    assert len(made) == 3  # type: ignore[arg-type]
    assert app.factory.get_factory_stats().total_uploads == 1  # uploaded once


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_import_only_public_names(example: Path) -> None:
    for node in ast.walk(ast.parse(example.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(alias.name for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        private = [n for n in names for part in n.split(".") if part.startswith("_") and part != "__future__"]
        assert private == [], f"{example.name} imports private names: {private}"
