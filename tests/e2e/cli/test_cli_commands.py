"""Every command through click's CliRunner: ``--json`` shapes (Candid field names), aliases, failures."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.factory import Cli, write_identity
from tests.support.wasm_modules import counter_wasm, large_module

WASM = counter_wasm()
SHA = hashlib.sha256(WASM).hexdigest()
CYCLES = str(10**12)
INIT = "4449444c00017d2a"


def upload(env: Cli, path: Path, **kw: object) -> int:
    return int(env.ok("upload", str(path), **kw)["upload_id"])  # type: ignore[arg-type]


def create(env: Cli, upload_id: int, *extra: str, who: object = None) -> dict[str, object]:
    return env.ok(  # type: ignore[no-any-return]
        "create-and-install-with",
        "--upload-id",
        str(upload_id),
        "--cycles",
        CYCLES,
        "--init-arg-hex",
        INIT,
        *extra,
        who=who,  # type: ignore[arg-type]
    )


def test_whoami_with_a_sec1_secp256k1_pem(cli_env: Cli) -> None:
    assert cli_env.ok("whoami", who=cli_env.alice) == {"principal": cli_env.alice.principal}
    assert cli_env.ok("whoami") == {"principal": cli_env.admin.principal}


def test_deploy_prints_the_factory_and_its_balance(cli_env: Cli) -> None:
    out = cli_env.ok("deploy", "--cycles", "7000000000000", "--max-canisters-per-caller", "3")
    assert set(out) == {
        "factory_principal",
        "factory_cycles_balance",
        "min_factory_cycles",
        "state",
        "network",
    }
    assert out["network"] == "embedded"
    assert out["factory_cycles_balance"] == 7_000_000_000_000
    config = cli_env.ok("get-config")
    assert config["max_canisters_per_caller"] == 3
    assert config["admins"] == [cli_env.admin.principal]


def test_deploy_with_every_option(cli_env: Cli) -> None:
    cli_env.ok(
        "deploy", "--max-canisters-per-caller", "4", "--min-factory-cycles", "9",
        "--allowlist", cli_env.alice.principal, "--allowlist", cli_env.bob.principal,
        "--admin", cli_env.bob.principal, "--max-upload-size", "1000",
        "--upload-ttl-seconds", "60", "--max-creations-per-day", "2",
    )  # fmt: skip
    config = cli_env.ok("get-config")
    assert config["min_factory_cycles"] == 9
    assert sorted(config["allowlist"]) == sorted([cli_env.alice.principal, cli_env.bob.principal])
    assert config["admins"] == [cli_env.bob.principal]
    assert (config["max_upload_size"], config["upload_ttl_ns"], config["max_creations_per_day"]) == (
        1000,
        60 * 10**9,
        2,
    )


def test_bad_deploy_option_names_it(cli_env: Cli) -> None:
    code, out, err = cli_env.fails("deploy", "--max-upload-size", "0")
    assert code == 1
    assert out["error"].startswith("max_upload_size:")
    assert "max_upload_size:" in err


def test_upload_flow_with_json_shapes(deployed: Cli, tmp_path: Path) -> None:
    env = deployed
    assert env.ok("create-upload", who=env.alice) == {"upload_id": 1}
    half = len(WASM) // 2
    (tmp_path / "a.bin").write_bytes(WASM[:half])
    assert env.ok("put-chunk", "1", str(tmp_path / "a.bin"), "--index", "0", who=env.alice) == {
        "total_len": half
    }
    assert env.ok("put-chunk", "1", "-", "--index", "1", who=env.alice, input=WASM[half:]) == {
        "total_len": len(WASM)
    }
    # a retried indexed chunk from stdin is not appended twice
    assert env.ok("put-chunk", "1", "-", "--index", "1", who=env.alice, input=WASM[half:]) == {
        "total_len": len(WASM)
    }
    assert env.ok("commit-upload", "1", SHA.upper(), who=env.alice) == {"sha256_hex": SHA}
    info = env.ok("get-upload-info", "1", who=env.alice)
    assert info == {
        "owner": env.alice.principal,
        "chunks": [hashlib.sha256(WASM[:half]).hexdigest(), hashlib.sha256(WASM[half:]).hexdigest()],
        "total_len": len(WASM),
        "committed_hash": SHA,
        "created_at_time_ns": info["created_at_time_ns"],
    }
    assert isinstance(info["created_at_time_ns"], int)
    assert env.ok("clear-upload", "1", who=env.alice) == {"upload_id": 1, "cleared": True}
    assert env.run("clear-upload", "1", who=env.alice, as_json=False).exit_code == 1  # gone


def test_put_chunk_without_index_appends(deployed: Cli) -> None:
    deployed.ok("create-upload")
    assert deployed.ok("put-chunk", "1", "-", input=b"ab") == {"total_len": 2}
    assert deployed.ok("put-chunk", "1", "-", input=b"ab") == {"total_len": 4}


def test_underscore_aliases(deployed: Cli) -> None:
    assert deployed.ok("create_upload") == {"upload_id": 1}
    assert deployed.ok("put_chunk", "1", "-", input=b"\x00asm") == {"total_len": 4}
    assert set(deployed.ok("get_factory_stats")) == {
        "total_canisters_created", "total_uploads", "active_uploads", "factory_cycles_balance", "unique_callers",
    }  # fmt: skip
    assert deployed.ok("cleanup_expired_uploads_manual") == {"removed": 0}


def test_upload_command(deployed: Cli, wasm_file: Callable[..., Path]) -> None:
    out = deployed.ok("upload", str(wasm_file(WASM)), who=deployed.alice)
    assert out == {"upload_id": 1, "sha256_hex": SHA, "total_len": len(WASM)}


def test_create_and_install_and_status(deployed: Cli, wasm_file: Callable[..., Path], tmp_path: Path) -> None:
    env = deployed
    uid = upload(env, wasm_file(WASM), who=env.alice)
    created = create(env, uid, "--extra-controller", env.bob.principal, who=env.alice)
    assert set(created) == {"canister_id", "module_hash_hex", "cycles_used", "canister_cycles"}
    assert created["module_hash_hex"] == SHA
    assert created["cycles_used"] == 10**12 + 100_000_000
    assert created["canister_cycles"] == 10**12 - 500_000_000_000  # less the creation fee
    status = env.ok("canister-status", str(created["canister_id"]), who=env.alice)
    assert sorted(status["controllers"]) == sorted([env.alice.principal, env.bob.principal])
    assert status["module_hash_hex"] == SHA
    assert isinstance(status["cycles"], int) and status["cycles"] > 0
    assert status["status"] == "running"
    admin = env.ok("canister-status", str(created["canister_id"]), who=env.admin)  # admins see the registry's
    assert admin["module_hash_hex"] == SHA and admin["controllers"] == status["controllers"]
    assert admin["cycles"] is None and admin["status"] is None
    human = env.run("canister-status", str(created["canister_id"]), who=env.admin, as_json=False)
    assert "cycles: unknown (not a controller)" in human.stdout.splitlines()
    assert "status: unknown (not a controller)" in human.stdout.splitlines()
    carol = write_identity(tmp_path / "carol.pem")
    code, out, _ = env.fails("canister-status", str(created["canister_id"]), who=carol)
    assert code == 1 and out["code"] == "permission_denied"
    mine = env.ok("list-my-canisters", who=env.alice)
    assert mine["next_cursor"] is None
    (row,) = mine["canisters"]
    assert (
        row["canister_id"] == created["canister_id"] and row["state"] == "READY" and row["mode"] == "Install"
    )
    assert env.ok("list-canisters")["canisters"] == mine["canisters"]
    assert env.ok("my-stats", who=env.alice)["created_count"] == 1


def test_no_handoff_upgrade_with_canister_id(
    deployed: Cli, wasm_file: Callable[..., Path], tmp_path: Path
) -> None:
    env = deployed
    uid = upload(env, wasm_file(WASM), who=env.alice)
    created = create(env, uid, "--no-handoff", who=env.alice)
    status = env.ok("canister-status", str(created["canister_id"]), who=env.alice)
    assert len(status["controllers"]) == 2
    v2 = large_module(5000, seed=1)
    uid2 = upload(env, wasm_file(v2, "v2.wasm"), who=env.alice)
    (tmp_path / "arg.bin").write_bytes(bytes.fromhex(INIT))
    out = env.ok(
        "create-and-install-with", "--upload-id", str(uid2), "--cycles", "0", "--mode", "upgrade",
        "--canister-id", str(created["canister_id"]), "--init-arg-file", str(tmp_path / "arg.bin"), who=env.alice,
    )  # fmt: skip
    assert out == {
        "canister_id": created["canister_id"],
        "module_hash_hex": hashlib.sha256(v2).hexdigest(),
        "cycles_used": 0,
        "canister_cycles": 0,
    }


def test_upgrade_without_canister_id_fails(deployed: Cli, wasm_file: Callable[..., Path]) -> None:
    uid = upload(deployed, wasm_file(WASM))
    code, out, err = deployed.fails(
        "create-and-install-with", "--upload-id", str(uid), "--cycles", CYCLES, "--mode", "upgrade"
    )
    assert code == 1
    assert out["error"].startswith("mode Upgrade needs canister_id")
    assert err.startswith("Error: mode Upgrade needs canister_id")


def test_admin_commands(deployed: Cli) -> None:
    env = deployed
    assert env.ok("set-allowlist", env.alice.principal) == {"allowlist": [env.alice.principal]}
    assert env.ok("get-config")["allowlist"] == [env.alice.principal]
    code, out, err = env.fails("create-upload", who=env.bob)
    assert (code, out["error"]) == (1, "Caller not in allowlist")
    assert "Caller not in allowlist" in err
    assert env.ok("set-allowlist", "--none") == {"allowlist": None}
    assert env.ok("get-config")["allowlist"] is None
    assert env.ok("add-admin", env.bob.principal) == {"admin": env.bob.principal, "added": True}
    assert sorted(env.ok("get-config")["admins"]) == sorted([env.admin.principal, env.bob.principal])
    assert env.ok("remove-admin", env.admin.principal, who=env.bob) == {
        "admin": env.admin.principal,
        "removed": True,
    }
    _, out, _ = env.fails("remove-admin", env.bob.principal, who=env.bob)
    assert out["error"] == "Cannot remove the last admin"
    _, out, _ = env.fails("add-admin", env.alice.principal, who=env.alice)
    assert out["error"] == "Admin access required"
    _, out, _ = env.fails("cleanup-expired-uploads-manual", who=env.alice)
    assert out["error"] == "Admin access required"


def test_emergency_stop(deployed: Cli) -> None:
    assert deployed.ok("set-emergency-stop", "true") == {"emergency_stop": True}
    assert deployed.ok("get-config")["emergency_stop"] is True
    code, out, err = deployed.fails("create-upload", who=deployed.alice)
    assert code == 1
    assert out == {"error": "Factory is in emergency stop mode", "code": "emergency_stop"}
    assert err.strip() == "Error: Factory is in emergency stop mode"
    assert deployed.ok("set-emergency-stop", "false") == {"emergency_stop": False}
    assert deployed.ok("create-upload", who=deployed.alice) == {"upload_id": 1}


def test_set_allowlist_needs_principals_or_none(deployed: Cli) -> None:
    _, out, _ = deployed.fails("set-allowlist")
    assert out["error"].startswith("allowlist:")
    _, out, _ = deployed.fails("set-allowlist", "--none", deployed.alice.principal)
    assert out["error"].startswith("allowlist:")


def test_records_as_they_are(deployed: Cli) -> None:
    config = deployed.ok("get-config")
    reference = {
        "max_canisters_per_caller": 100,
        "min_factory_cycles": 5_000_000_000_000,
        "max_upload_size": 50_000_000,
        "upload_ttl_ns": 86_400 * 10**9,
        "allowlist": None,
        "admins": [deployed.admin.principal],
        "next_upload_id": 1,
        "emergency_stop": False,
    }
    assert {k: config[k] for k in reference} == reference
    stats = deployed.ok("get-factory-stats")
    assert stats == {
        "total_canisters_created": 0,
        "total_uploads": 0,
        "active_uploads": 0,
        "factory_cycles_balance": 100 * 10**12,
        "unique_callers": 0,
    }
    assert deployed.ok("my-stats") == {"created_count": 0, "last_created_at": None}
    assert deployed.ok("health-check") == {"health": "Healthy"}
    assert set(deployed.ok("version")) == {"version"}


def test_top_up(deployed: Cli) -> None:
    assert deployed.ok("top-up", "--cycles", "5")["factory_cycles_balance"] == 100 * 10**12 + 5
    _, out, _ = deployed.fails("top-up", "--cycles", "5", who=deployed.alice)
    assert out["error"] == "Admin access required"


def test_failure_without_json(deployed: Cli) -> None:
    result = deployed.run("commit-upload", "9", "0" * 64, as_json=False)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip() == "Error: upload_id not found"


def test_hash_mismatch_text(deployed: Cli) -> None:
    deployed.ok("create-upload")
    deployed.ok("put-chunk", "1", "-", input=WASM)
    _, out, _ = deployed.fails("commit-upload", "1", "0" * 64)
    assert out["error"] == f"hash mismatch: expected {'0' * 64}, got {SHA}"


def test_usage_error_exit_2(deployed: Cli) -> None:
    result = deployed.run("create-and-install-with", "--cycles", "1")
    assert result.exit_code == 2
    result = deployed.run("canister-status", "not-a-principal")
    assert result.exit_code == 2


def test_low_cycles_exit_status(cli_env: Cli, wasm_file: Callable[..., Path]) -> None:
    cli_env.ok("deploy", "--cycles", str(6 * 10**12))
    uid = upload(cli_env, wasm_file(WASM))
    code, out, _ = cli_env.fails("create-and-install-with", "--upload-id", str(uid), "--cycles", CYCLES)
    assert code == 3
    assert out["error"].startswith("Factory low on cycles: this request plus fees (")
    assert f"would take the balance from {6 * 10**12} to " in out["error"]
    assert out["error"].endswith("below the floor of 5000000000000 (min_factory_cycles)")


def test_not_deployed(cli_env: Cli) -> None:
    _, out, _ = cli_env.fails("get-config")
    assert "not deployed" in out["error"]


def test_human_output(deployed: Cli) -> None:
    result = deployed.run("create-upload", as_json=False)
    assert result.exit_code == 0 and result.stdout == "upload_id: 1\n"


def test_demo_json(cli_env: Cli) -> None:
    out = cli_env.ok("demo")
    assert out["module_hash_hex"] == SHA
    assert out["canister_id"]
    assert out["status"] == "running"
    assert out["factory_stats"]["total_canisters_created"] == 1


def test_demo_plain(cli_env: Cli) -> None:
    result = cli_env.run("demo", as_json=False)
    assert result.exit_code == 0, result.stderr
    assert f"module_hash_hex: {SHA}" in result.stdout
    assert "canister_id: " in result.stdout


def test_demo_keep(cli_env: Cli, tmp_path: Path) -> None:
    keep = tmp_path / "kept"
    cli_env.ok("demo", "--keep", str(keep))
    assert (keep / "factory.sqlite3").exists()


@pytest.mark.parametrize("alias", ["get_config", "get-config"])
def test_alias_spellings_are_the_same_command(deployed: Cli, alias: str) -> None:
    assert deployed.ok(alias)["next_upload_id"] == 1
