"""The installed ``canister-factory`` command in real subprocesses: the quick start, env vars, failures."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.factory import write_identity, write_sec1_secp256k1
from tests.support.wasm_modules import counter_wasm

BIN = Path(sys.executable).with_name("canister-factory")


def run(
    *args: str, env: dict[str, str] | None = None, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(BIN), *args], capture_output=True, timeout=60, env=env, input=input)


def test_quick_start_in_subprocesses(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    admin = write_identity(tmp_path / "admin.pem")
    alice = write_sec1_secp256k1(tmp_path / "alice.pem")
    wasm = tmp_path / "counter.wasm"
    wasm.write_bytes(counter_wasm())

    def ok(*args: str, who: Path = admin.pem) -> dict[str, object]:
        done = run("--state", state, "--identity", str(who), "--json", *args)
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    ok("deploy", "--cycles", str(100 * 10**12))
    up = ok("upload", str(wasm), who=alice.pem)
    assert up["sha256_hex"] == hashlib.sha256(counter_wasm()).hexdigest()
    created = ok(
        "create_and_install_with", "--upload-id", str(up["upload_id"]), "--cycles", str(10**12),
        "--init-arg-hex", "4449444c00017d2a", who=alice.pem,
    )  # fmt: skip
    status = ok("canister-status", str(created["canister_id"]), who=alice.pem)
    assert status["controllers"] == [alice.principal]
    assert status["status"] == "running"
    assert ok("my-stats", who=alice.pem)["created_count"] == 1


def test_env_vars_and_failure(tmp_path: Path) -> None:
    admin = write_identity(tmp_path / "admin.pem")
    env = {
        **os.environ,
        "CANISTER_FACTORY_STATE": str(tmp_path / "state"),
        "CANISTER_FACTORY_IDENTITY": str(admin.pem),
    }
    assert run("--json", "deploy", env=env).returncode == 0
    done = run("--json", "whoami", env=env)
    assert json.loads(done.stdout) == {"principal": admin.principal}
    done = run("--json", "put-chunk", "1", "-", "--index", "0", env=env, input=b"x")
    assert done.returncode == 1
    assert json.loads(done.stdout) == {"error": "upload_id not found", "code": "not_found"}
    assert done.stderr.decode().strip() == "Error: upload_id not found"


def test_demo_and_module_entry_point(tmp_path: Path) -> None:
    done = run("demo")
    assert done.returncode == 0, done.stderr.decode()
    assert f"module_hash_hex: {hashlib.sha256(counter_wasm()).hexdigest()}" in done.stdout.decode()
    module = subprocess.run(
        [sys.executable, "-m", "canister_factory", "--help"], capture_output=True, timeout=60
    )
    assert module.returncode == 0 and b"create-and-install-with" in module.stdout
