"""Every `dfx canister call canister_factory ...` of the reference README works as `canister-factory call ...`.

The argument texts are the README's, verbatim, except where the README has placeholders (`your-admin-principal`,
`your_calculated_sha256_hex`, the `wasm_chunk_data` blob), which are replaced by real values.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from canister_factory import interface
from canister_factory.cli import cli
from icp_client.identity import generate_identity
from tests.support.wasm_modules import counter_wasm

README_DEPLOY = """(
  opt record {
    max_canisters_per_caller = opt (50 : nat32);
    min_factory_cycles = opt (10_000_000_000_000 : nat);
    admins = opt vec { principal "ADMIN" };
    max_upload_size = opt (100_000_000 : nat64);
    upload_ttl_seconds = opt (86400 : nat64);
  }
)"""

README_COMMIT = """(
  1,
  record { expected_sha256_hex = "SHA" }
)"""

README_CREATE = """(
  record {
    upload_id = 1 : nat64;
    extra_controllers = null;
    init_arg = blob "candid_encoded_init_args";
    mode = variant { Install };
    cycles = 1_000_000_000_000 : nat;
    handoff = true;
  }
)"""

README_ALLOWLIST = """(
  opt vec {
    principal "USER1";
    principal "USER2";
  }
)"""


class Factory:
    """Runs the CLI against one state folder as one identity."""

    def __init__(self, state: Path, pem: Path) -> None:
        self.runner = CliRunner()
        self.base = ["--state", str(state), "--identity", str(pem)]

    def run(self, *args: str, ok: bool = True) -> Result:
        result = self.runner.invoke(cli, [*self.base, *args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def call(self, method: str, *args: str, ok: bool = True) -> str:
        return self.run("call", method, *args, ok=ok).stdout.strip()


@pytest.fixture
def admin(tmp_path: Path) -> tuple[Factory, str]:
    identity = generate_identity("ed25519")
    pem = tmp_path / "admin.pem"
    pem.write_bytes(identity.to_pem())
    factory = Factory(tmp_path / "state", pem)
    principal = identity.principal.to_text()
    factory.run(
        "deploy", "--cycles", "100000000000000", "--argument", README_DEPLOY.replace("ADMIN", principal)
    )
    return factory, principal


def test_deploy_argument_is_the_readmes(admin: tuple[Factory, str]) -> None:
    factory, principal = admin
    config = json.loads(factory.run("--json", "get-config").stdout)
    assert config["max_canisters_per_caller"] == 50
    assert config["min_factory_cycles"] == 10_000_000_000_000
    assert config["admins"] == [principal]
    assert config["max_upload_size"] == 100_000_000
    assert config["upload_ttl_ns"] == 86_400_000_000_000


def test_upload_commands(admin: tuple[Factory, str]) -> None:
    factory, _ = admin
    assert factory.call("create_upload") == "(variant { Ok = 1 : nat64 })"
    assert factory.call("put_chunk", '(1, blob "wasm_chunk_data")') == "(variant { Ok = 15 : nat64 })"
    # ours: the optional index makes a retry harmless
    assert factory.call("put_chunk", '(1, blob "wasm_chunk_data", opt 0)') == "(variant { Ok = 15 : nat64 })"
    wrong = factory.call("commit_upload", README_COMMIT.replace("SHA", "00" * 32), ok=False)
    assert "hash mismatch: expected " + "00" * 32 in wrong
    readme_placeholder = factory.call(
        "commit_upload", README_COMMIT.replace("SHA", "your_calculated_sha256_hex"), ok=False
    )
    assert "expected_sha256_hex" in readme_placeholder


def test_create_and_install_with(admin: tuple[Factory, str], tmp_path: Path) -> None:
    factory, _ = admin
    wasm = counter_wasm()
    tmp_wasm = tmp_path / "counter.wasm"
    tmp_wasm.write_bytes(wasm)
    factory.run("upload", str(tmp_wasm))
    # The README's init_arg is a placeholder blob; the counter needs Candid (nat), so give it real bytes.
    text = README_CREATE.replace('blob "candid_encoded_init_args"', 'blob "DIDL\\00\\01\\7d\\2a"')
    out = factory.call("create_and_install_with", text)
    assert out.startswith("(variant { Ok = record {")
    assert f'module_hash_hex = "{hashlib.sha256(wasm).hexdigest()}"' in out
    assert "cycles_used = 1_000_100_000_000" in out or "cycles_used = 1000100000000" in out


def test_admin_commands(admin: tuple[Factory, str]) -> None:
    factory, _ = admin
    assert factory.call("set_emergency_stop", "(true)") == "(variant { Ok })"
    assert (
        factory.call("create_upload", ok=False) == '(variant { Err = "Factory is in emergency stop mode" })'
    )
    assert factory.call("set_emergency_stop", "(false)") == "(variant { Ok })"
    users = [generate_identity().principal.to_text() for _ in range(2)]
    allow = README_ALLOWLIST.replace("USER1", users[0]).replace("USER2", users[1])
    assert factory.call("set_allowlist", allow) == "(variant { Ok })"
    assert factory.call("create_upload", ok=False) == '(variant { Err = "Caller not in allowlist" })'
    new_admin = generate_identity().principal.to_text()
    assert factory.call("add_admin", f'(principal "{new_admin}")') == "(variant { Ok })"
    assert new_admin in factory.call("get_config")
    assert factory.call("cleanup_expired_uploads_manual") == "(variant { Ok = 0 : nat32 })"


def test_monitoring_commands(admin: tuple[Factory, str]) -> None:
    factory, principal = admin
    assert factory.call("health_check") == '("Healthy")'
    stats = factory.call("get_factory_stats")
    assert "factory_cycles_balance = 100_000_000_000_000" in stats or "100000000000000" in stats
    assert factory.call("my_stats") == "(record { created_count = 0 : nat32; last_created_at = null })"
    assert f'principal "{principal}"' in factory.call("get_config")
    assert factory.call("version") == '("0.1.0")'


def test_json_output_of_call(admin: tuple[Factory, str]) -> None:
    factory, _ = admin
    assert json.loads(factory.run("--json", "call", "create_upload").stdout) == {"Ok": 1}


def test_the_factory_serves_exactly_its_did() -> None:
    served = {m.name for m in interface.METHODS} | set(interface.BUILTINS)
    assert served == set(interface.did().service_methods)


def test_candid_command_prints_the_did(admin: tuple[Factory, str]) -> None:
    factory, _ = admin
    assert factory.run("candid").stdout == interface.did_text()


def test_unknown_method_and_bad_arguments(admin: tuple[Factory, str]) -> None:
    factory, _ = admin
    assert factory.run("call", "no_such_method", ok=False).exit_code == 1
    bad = factory.run("call", "put_chunk", '(1, "not a blob")', ok=False)
    assert bad.exit_code == 1
    assert "arguments of put_chunk" in bad.stderr


def test_init_arg_candid_is_typed_by_the_module(admin: tuple[Factory, str], tmp_path: Path) -> None:
    factory, _ = admin
    wasm_file = tmp_path / "counter.wasm"
    wasm_file.write_bytes(counter_wasm())
    factory.run("upload", str(wasm_file))
    created = factory.run(
        "--json",
        "create-and-install-with",
        "--upload-id",
        "1",
        "--cycles",
        "2000000000000",
        "--init-arg-candid",
        "(42)",
    )
    assert json.loads(created.stdout)["canister_id"]
    wrong = factory.run(
        "create-and-install-with",
        "--upload-id",
        "1",
        "--cycles",
        "2000000000000",
        "--init-arg-candid",
        '("forty-two")',
        ok=False,
    )
    assert wrong.exit_code == 1
    assert "expected nat" in wrong.stderr
