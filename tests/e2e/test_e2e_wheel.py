"""From a wheel installed outside the clone, the first steps work with no file from the repository.

The wheel is built once per session (``pip wheel`` of a copy of the sources, so the clone gets no build
folders) and installed, without its dependencies, into a fresh virtual environment in a temporary folder; the
dependencies come from the test environment's site-packages through a path file, which adds their folder but
runs none of the path files inside it (so the editable install of this clone stays out). Every command then
runs with that environment's ``canister-factory``, in an empty folder, with empty config and data folders.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.api.serving import ROOT

FIRST_CANISTER = "wwc2m-2qaaa-aaaac-qaaaa-cai"


@dataclass(frozen=True)
class Installed:
    """A virtual environment outside the clone with the wheel installed: how to run its command."""

    bin: Path
    home: Path

    def env(self) -> dict[str, str]:
        keep = {
            k: v for k, v in os.environ.items() if not k.startswith(("CANISTER_FACTORY_", "XDG_", "PYTHON"))
        }
        return keep | {
            "PATH": f"{self.bin}{os.pathsep}/usr/bin{os.pathsep}/bin",
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
        }

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / "canister-factory"), *args]
        return subprocess.run(command, cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=300)

    def ok(self, *args: str, cwd: Path) -> str:
        done = self.run(*args, cwd=cwd)
        assert done.returncode == 0, f"{args}: {done.stderr}"
        return done.stdout


def _build_wheel(sources: Path, dist: Path) -> Path:
    """``pip wheel`` of a copy of the project (build isolation: setuptools >= 77 from the configured index)."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, sources / name)
    shutil.copytree(ROOT / "src", sources / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(sources)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and "satisfies the requirement setuptools" in done.stderr:
        pytest.skip(
            f"cannot build a wheel here: pip finds no setuptools to build with: {done.stderr.strip()[-300:]}"
        )
    assert done.returncode == 0, done.stderr
    [wheel] = dist.glob("canister_factory-*.whl")
    return wheel


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    (base / "sources").mkdir()
    wheel = _build_wheel(base / "sources", base / "dist")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "install",
        "-q",
        "--no-deps",
        "--no-index",
    ]
    subprocess.run([*install, str(wheel)], check=True, timeout=300, capture_output=True)
    site = Path(subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        text=True).strip())  # fmt: skip
    (site / "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    home = base / "home"
    home.mkdir()
    return Installed(bin=venv / "bin", home=home)


def test_the_installed_packages_are_the_wheels(installed: Installed, tmp_path: Path) -> None:
    code = "import canister_factory, icp_client, icp_local; print(canister_factory.__file__, icp_client.__file__)"
    found = subprocess.run(
        [str(installed.bin / "python"), "-c", code], cwd=tmp_path, env=installed.env(), capture_output=True,
        text=True, check=True,
    ).stdout.split()  # fmt: skip
    venv = installed.bin.parent
    assert all(Path(path).is_relative_to(venv) for path in found), found
    assert not any(Path(path).is_relative_to(ROOT) for path in found)


@pytest.fixture
def served(installed: Installed, tmp_path: Path) -> Iterator[str]:
    """The wheel's `canister-factory serve` on a deployed, funded factory (deployed by the wheel's command)."""
    installed.ok("deploy", "--cycles", "100000000000000", cwd=tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    command = [str(installed.bin / "canister-factory"), "serve", "--port", str(port)]
    server = subprocess.Popen(
        command, cwd=tmp_path, env=installed.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("the wheel's service did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(installed.home / ".local", ignore_errors=True)  # the next test deploys afresh


def test_first_steps_from_the_wheel(installed: Installed, served: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    example = installed.ok("example", "counter", "--output", "counter.wasm", cwd=work)
    assert "wrote counter.wasm" in example and (work / "counter.did").exists()
    alice = json.loads(installed.ok("--json", "identity", "new", "alice", cwd=work))
    assert Path(alice["pem"]).is_relative_to(installed.home / ".config" / "canister-factory" / "identities")
    remote = ["--url", served, "--identity", "alice", "--json"]
    uploaded = json.loads(installed.ok(*remote, "upload", "counter.wasm", cwd=work))
    assert uploaded["upload_id"] == 1
    created = json.loads(
        installed.ok(
            *remote,
            "create-and-install-with",
            "--upload-id",
            "1",
            "--cycles",
            "2000000000000",
            "--init-arg-candid",
            "(42)",
            cwd=work,
        )
    )
    assert created["canister_id"] == FIRST_CANISTER
    status = json.loads(installed.ok(*remote, "canister-status", FIRST_CANISTER, cwd=work))
    assert status["controllers"] == [alice["principal"]] and status["owner"] == alice["principal"]
    assert status["status"] == "running"
    assert sorted(p.name for p in work.iterdir()) == [
        "counter.did",
        "counter.wasm",
    ]  # nothing else was needed
