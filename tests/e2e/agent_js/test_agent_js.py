"""agent-js (npm ``@icp-sdk/core``) calls a canister on the local IC's HTTP front as on a replica.

The update's reply is accepted by agent-js only with a certificate that verifies against the front's root key,
and its queries only with node signatures that verify: a client given another root key is refused. agent-js is
installed from npm by ``scripts/install-agent-js.sh`` into ``.tools/agent-js`` (once; reused afterwards); the
tests are skipped, visibly, only when Node.js or npm is missing.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from icp_client.principal import Principal
from icp_local import LocalIc
from icp_local.db import IcDatabase
from icp_local.front import RunningFront, generate_front_keys, running_front

ROOT = Path(__file__).resolve().parents[3]
CLIENT = Path(__file__).with_name("client.mjs")
COUNTER = ROOT / "src" / "canister_factory" / "_data" / "counter.wasm"
VERSION = "6.1.0"


@functools.cache
def _agent_js() -> str | None:
    """The directory holding agent-js's node_modules, installing it if needed (None: Node.js or npm missing)."""
    if shutil.which("node") is None:
        return None
    installed = ROOT / ".tools" / "agent-js" / VERSION
    if (installed / "node_modules" / "@icp-sdk" / "core" / "package.json").exists():
        return str(installed)
    if shutil.which("npm") is None:
        return None
    done = subprocess.run(
        [str(ROOT / "scripts" / "install-agent-js.sh"), VERSION], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"installing agent-js failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def agent_js() -> str:
    modules = _agent_js()
    if modules is None:
        pytest.skip(
            "agent-js is not installed and Node.js or npm is missing (run scripts/install-agent-js.sh)"
        )
    return modules


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalIc]:
    ic = LocalIc(IcDatabase.open(f"sqlite:///{tmp_path / 'ic.sqlite3'}"))
    yield ic
    ic.close()


@pytest.fixture
def front(engine: LocalIc) -> Iterator[RunningFront]:
    with running_front(engine, generate_front_keys()) as running:
        yield running


def _client(agent_js: str, front: RunningFront, root_key: bytes, canister: Principal) -> dict[str, str]:
    done = subprocess.run(
        ["node", str(CLIENT), f"{agent_js}/node_modules", front.url, root_key.hex(), canister.to_text()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    result: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    assert (done.returncode == 0) == ("error" not in result), done.stdout + done.stderr
    return result


def _counter(engine: LocalIc) -> Principal:
    canister = engine.create_canister()
    engine.install_canister(canister, COUNTER.read_bytes(), bytes.fromhex("4449444c00017d0a"))  # (10 : nat)
    return canister


def test_an_update_and_a_query_with_verified_replies(
    agent_js: str, engine: LocalIc, front: RunningFront
) -> None:
    counter = _counter(engine)
    result = _client(agent_js, front, front.root_key_der, counter)
    assert (result["inc"], result["get"]) == ("15", "15")
    assert result["whoami"] == result["me"]
    assert engine.query_call(counter, "get", b"DIDL\x00\x00") == bytes.fromhex("4449444c00017d0f")


def test_a_client_with_another_root_key_refuses_the_reply(
    agent_js: str, engine: LocalIc, front: RunningFront
) -> None:
    counter = _counter(engine)
    result = _client(agent_js, front, generate_front_keys().root_key_der, counter)
    assert "error" in result and "ertificate" in result["error"], result
