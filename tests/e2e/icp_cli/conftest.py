"""icp-cli 1.5.0 (DFINITY's command line) against the embedded IC's HTTP front.

The binary is installed from npm by ``scripts/install-icp-cli.sh`` into ``.tools/icp-cli`` (once; reused
afterwards). The tests are skipped, visibly, only when npm is missing and the binary is not installed.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from icp_client.identity import Identity, generate_identity
from icp_local import LocalIc
from icp_local.db import IcDatabase
from icp_local.front import RunningFront, generate_front_keys, running_front

ROOT = Path(__file__).resolve().parents[3]
VERSION = "1.5.0"


@functools.cache
def _icp_binary() -> str | None:
    installed = ROOT / ".tools" / "icp-cli" / VERSION / "package" / "bin" / "icp"
    if installed.exists():
        return str(installed)
    if shutil.which("npm") is None:
        return None
    done = subprocess.run(
        [str(ROOT / "scripts" / "install-icp-cli.sh"), VERSION], capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"installing icp-cli failed:\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def icp_binary() -> str:
    binary = _icp_binary()
    if binary is None:
        pytest.skip("icp-cli is not installed and npm is missing (run scripts/install-icp-cli.sh)")
    return binary


@dataclass
class Icp:
    """Runs icp-cli against one front as one imported identity."""

    binary: str
    home: Path
    front: RunningFront
    identity: Identity
    name: str = "tester"

    def run(self, *args: str, network: bool = True, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "ICP_HOME": str(self.home), "DO_NOT_TRACK": "1", "ICP_TELEMETRY_DISABLED": "1"}
        env.pop("ICP_NETWORK", None)
        env.pop("ICP_ENVIRONMENT", None)
        command = [self.binary, *args]
        if network:
            command += ["-n", self.front.url, "-k", self.front.root_key_der.hex(), "--identity", self.name]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, cwd=self.home)
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done

    def another(self, name: str) -> Icp:
        """icp-cli as a second identity, ``name``, imported into the same home."""
        identity = generate_identity("ed25519")
        pem = self.home / f"{name}.pem"
        pem.write_bytes(identity.to_pem())
        other = Icp(self.binary, self.home, self.front, identity, name)
        other.run("identity", "import", "--storage", "plaintext", "--from-pem", str(pem), name, network=False)
        return other


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[LocalIc]:
    db = IcDatabase.open(f"sqlite:///{tmp_path / 'ic.sqlite3'}")
    yield LocalIc(db)
    db.dispose()


@pytest.fixture
def front(engine: LocalIc) -> Iterator[RunningFront]:
    with running_front(engine, generate_front_keys()) as running:
        yield running


@pytest.fixture
def icp(icp_binary: str, front: RunningFront, tmp_path: Path) -> Icp:
    home = tmp_path / "icp-home"
    home.mkdir()
    identity = generate_identity("ed25519")
    pem = tmp_path / "identity.pem"
    pem.write_bytes(identity.to_pem())
    tool = Icp(icp_binary, home, front, identity)
    tool.run("identity", "import", "--storage", "plaintext", "--from-pem", str(pem), tool.name, network=False)
    return tool
