"""The command line against a served factory (`--url`): same commands, same output, signed with --identity."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from canister_factory.cli import cli
from icp_client.identity import generate_identity
from tests.support.wasm_modules import counter_wasm


def run(url: str, pem: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--url", url, "--identity", str(pem), "--json", *args])


def test_the_quick_start_through_the_service(served: tuple[str, Path, Path], tmp_path: Path) -> None:
    url, _, alice = served
    wasm = tmp_path / "counter.wasm"
    wasm.write_bytes(counter_wasm())
    uploaded = run(url, alice, "upload", str(wasm))
    assert uploaded.exit_code == 0, uploaded.output
    assert json.loads(uploaded.stdout)["upload_id"] == 1
    created = run(url, alice, "create-and-install-with", "--upload-id", "1", "--cycles", "2000000000000",
                  "--init-arg-hex", "4449444c00017d2a")  # fmt: skip
    assert created.exit_code == 0, created.output
    reply = json.loads(created.stdout)
    assert set(reply) == {"canister_id", "module_hash_hex", "cycles_used", "canister_cycles"}
    assert reply["canister_cycles"] == 2_000_000_000_000 - 500_000_000_000  # less the creation fee
    mine = json.loads(run(url, alice, "list-my-canisters").stdout)
    assert [c["state"] for c in mine["canisters"]] == ["READY"]
    assert json.loads(run(url, alice, "call", "my_stats").stdout)["created_count"] == 1


def test_errors_keep_their_text_and_exit_status(served: tuple[str, Path, Path], tmp_path: Path) -> None:
    url, admin, alice = served
    refused = run(url, alice, "set-emergency-stop", "true")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout) == {"error": "Admin access required", "code": "permission_denied"}
    alice_principal = json.loads(run(url, alice, "whoami").stdout)["principal"]
    logged = (tmp_path / "serve.log").read_text()  # the service wrote the line before it replied
    assert (
        f"canister_factory.api.access: PUT /v1/admin/emergency-stop caller={alice_principal} status=403 "
        "code=permission_denied" in logged
    )
    assert run(url, admin, "set-emergency-stop", "true").exit_code == 0
    stopped = run(url, alice, "create-upload")
    assert (stopped.exit_code, json.loads(stopped.stdout)["error"]) == (
        1,
        "Factory is in emergency stop mode",
    )


def test_state_commands_say_they_need_the_state(served: tuple[str, Path, Path]) -> None:
    url, admin, _ = served
    result = run(url, admin, "deploy")
    assert result.exit_code == 1
    assert "without --url" in result.stderr


def test_canister_status_and_init_arg_candid_over_http(
    served: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url, admin, alice = served
    wasm = tmp_path / "counter.wasm"
    wasm.write_bytes(counter_wasm())
    assert run(url, alice, "upload", str(wasm)).exit_code == 0
    created = run(url, alice, "create-and-install-with", "--upload-id", "1", "--cycles", "2000000000000",
                  "--init-arg-candid", "(42)")  # fmt: skip
    assert created.exit_code == 0, created.output
    canister = json.loads(created.stdout)["canister_id"]
    status = json.loads(run(url, alice, "canister-status", canister).stdout)
    assert status["controllers"] == [json.loads(run(url, alice, "whoami").stdout)["principal"]]
    assert status["status"] == "running" and status["cycles"] > 0  # the embedded IC: asked as alice
    assert status["owner"] == status["controllers"][0]
    human = CliRunner().invoke(cli, ["--url", url, "--identity", str(admin), "canister-status", canister])
    assert human.exit_code == 0  # an admin sees the registry's canisters: what is public
    assert "cycles: unknown (not a controller)" in human.stdout.splitlines()
    bob = tmp_path / "bob.pem"
    bob.write_bytes(generate_identity().to_pem())
    stranger = CliRunner().invoke(cli, ["--url", url, "--identity", str(bob), "canister-status", canister])
    assert stranger.exit_code == 1
    assert "you neither control it nor own it" in stranger.stderr
    metadata = json.loads(run(url, alice, "get-module-metadata", "1").stdout)
    assert metadata["candid_args"] is not None or metadata["candid_service"] is not None
