"""The first hour at the command line: the example module, identities by name, the default key announced,
usage errors, -v, environment and completion in --help, output for people and --json everywhere."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from canister_factory.cli import cli
from tests.support.factory import Cli
from tests.support.wasm_modules import counter_wasm

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@pytest.fixture
def home(tmp_path: Path) -> Callable[..., Result]:
    """The command line with its own config and data folders (nothing from the user running the tests)."""
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "CANISTER_FACTORY_STATE": None,
        "CANISTER_FACTORY_IDENTITY": None,
        "CANISTER_FACTORY_URL": None,
    }

    def run(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=env)  # type: ignore[arg-type]

    return run


def test_example_counter_writes_the_module_and_its_did(home: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "out" / "counter.wasm"
    done = home("--json", "example", "counter", "--output", str(out))
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == counter_wasm()
    assert out.with_suffix(".did").read_text().startswith("service : {")
    assert json.loads(done.stdout) == {
        "example": "counter",
        "wasm": str(out),
        "did": str(out.with_suffix(".did")),
        "total_len": len(counter_wasm()),
        "sha256_hex": hashlib.sha256(counter_wasm()).hexdigest(),
    }
    again = home("example", "counter", "--output", str(out))
    assert again.exit_code == 1 and "exists already; give --force" in again.stderr
    assert home("example", "counter", "--output", str(out), "--force").exit_code == 0
    assert (
        "next: canister-factory upload"
        in home("example", "counter", "--output", str(tmp_path / "c.wasm")).stdout
    )


def test_identity_new_and_identity_by_name(home: Callable[..., Result], tmp_path: Path) -> None:
    made = home("--json", "identity", "new", "alice", "--key-type", "secp256k1")
    assert made.exit_code == 0, made.output
    alice = json.loads(made.stdout)
    pem = tmp_path / "config" / "canister-factory" / "identities" / "alice.pem"
    assert alice == {"name": "alice", "principal": alice["principal"], "pem": str(pem)}
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert json.loads(home("--json", "--identity", "alice", "whoami").stdout) == {
        "principal": alice["principal"]
    }
    assert json.loads(home("--json", "--identity", str(pem), "whoami").stdout) == {
        "principal": alice["principal"]
    }
    human = home("identity", "new", "bob")
    assert human.stdout.startswith("identity bob: principal ") and "(use: --identity bob)" in human.stdout
    twice = home("identity", "new", "alice")
    assert twice.exit_code == 1 and f"exists already (principal {alice['principal']})" in twice.stderr
    assert home("identity", "new", "../evil").exit_code == 1
    missing = home("--identity", "carol", "whoami")
    assert missing.exit_code == 2
    assert (
        "no identity named 'carol'" in missing.stderr
        and "canister-factory identity new carol" in missing.stderr
    )
    listed = home("identity", "list").stdout.splitlines()
    assert listed[0].split() == ["NAME", "PRINCIPAL", "PEM"]
    assert [line.split()[0] for line in listed[1:]] == ["alice", "bob"]


def test_the_default_key_is_announced_once(home: Callable[..., Result], tmp_path: Path) -> None:
    first = home("whoami")
    path = tmp_path / "config" / "canister-factory" / "identity.pem"
    principal = first.stdout.split(": ")[1].strip()
    assert first.stderr.startswith(f"Created your identity {principal} (an Ed25519 key in {path}).")
    second = home("whoami")
    assert second.stdout == first.stdout and second.stderr == ""
    assert home("--identity", "default", "whoami").stdout == first.stdout


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "localhost:8080", "ftp://example.com"])
def test_a_url_without_an_http_scheme_is_a_usage_error(home: Callable[..., Result], url: str) -> None:
    done = home("--url", url, "version")
    assert done.exit_code == 2
    assert "is not an http:// or https:// URL" in done.stderr
    if "://" not in url:
        assert f"did you mean http://{url}?" in done.stderr


@pytest.mark.parametrize("command", [["deploy"], ["serve"], ["local-network"], ["top-up", "--cycles", "1"]])
def test_only_the_local_state_commands_refuse_url(home: Callable[..., Result], command: list[str]) -> None:
    done = home("--url", "http://127.0.0.1:9", *command)
    assert done.exit_code == 1 and "run it without --url" in done.stderr


def test_help_documents_the_environment_and_completion(home: Callable[..., Result]) -> None:
    text = home("--help").stdout
    for name in ("CANISTER_FACTORY_STATE", "CANISTER_FACTORY_IDENTITY", "CANISTER_FACTORY_DATABASE",
                 "CANISTER_FACTORY_NETWORK", "CANISTER_FACTORY_ROOT_KEY", "CANISTER_FACTORY_URL",
                 "CANISTER_FACTORY_DEBUG", "XDG_CONFIG_HOME", "completion bash", "-v, --verbose"):  # fmt: skip
        assert name in text, name
    script = home("completion", "bash")
    assert script.exit_code == 0 and "_CANISTER_FACTORY_COMPLETE=bash_complete" in script.stdout


def test_verbose_says_what_it_does(deployed: Cli) -> None:
    quiet = deployed.run("my-stats", as_json=False)
    assert quiet.stderr == ""
    loud = deployed.run("-v", "my-stats", as_json=False)
    assert f"opening the factory in {deployed.state}" in loud.stderr
    assert f"identity {deployed.admin.principal} from {deployed.admin.pem}" in loud.stderr


def test_deploy_says_how_to_fund_a_factory_below_its_floor(cli_env: Cli) -> None:
    done = cli_env.run("deploy", as_json=False)
    assert done.exit_code == 0
    assert "factory_cycles_balance: 0" in done.stdout.splitlines()
    assert (
        "Warning: the factory has 0 cycles, not above min_factory_cycles (5000000000000): it refuses uploads and "
        "creations until it has more; add cycles: canister-factory top-up --cycles 100000000000000"
    ) in done.stderr
    funded = cli_env.run(
        "--state", str(cli_env.state) + "2", "deploy", "--cycles", "6000000000000", as_json=False
    )
    assert "not above min_factory_cycles" not in funded.stderr


def test_output_for_people(deployed: Cli, wasm_file: Callable[..., Path]) -> None:
    env = deployed
    uploaded = env.ok("upload", str(wasm_file(counter_wasm())), who=env.alice)
    env.ok("create-and-install-with", "--upload-id", str(uploaded["upload_id"]), "--cycles", "2000000000000",
           "--init-arg-candid", "(7)", who=env.alice)  # fmt: skip
    lines = env.run("list-my-canisters", who=env.alice, as_json=False).stdout.splitlines()
    assert lines[0].split() == ["CANISTER", "STATE", "MODULE", "CYCLES", "CREATED"]
    cells = lines[1].split()
    assert cells[1:4] == ["READY", hashlib.sha256(counter_wasm()).hexdigest()[:12], "2000000000000"]
    assert ISO.fullmatch(cells[4])
    assert lines[0].index("STATE") == lines[1].index("READY")  # aligned
    stats = env.run("my-stats", who=env.alice, as_json=False).stdout
    assert ISO.search(stats.splitlines()[1].split(": ")[1])
    assert "upload_ttl_ns: 1d" in env.run("get-config", as_json=False).stdout.splitlines()
    assert env.run("list-my-canisters", as_json=False).stdout == "no canisters\n"
    assert env.run("list-my-uploads", as_json=False).stdout == "no open uploads\n"
    created = env.run(
        "create-and-install-with", "--upload-id", "1", "--cycles", "2000000000000", "--init-arg-candid", "(1)",
        who=env.alice, as_json=False,
    ).stdout  # fmt: skip
    assert "canister_cycles: 1500000000000 (what the canister received: the 2000000000000 asked less the creation " \
           "fee; it pays for its install from them)" in created.splitlines()  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [["candid"], ["version"], ["whoami"], ["health-check"], ["get-config"], ["list-canisters"], ["list-my-uploads"],
     ["set-emergency-stop", "false"], ["cleanup-expired-uploads-manual"]],
)  # fmt: skip
def test_json_is_json_for_every_command(deployed: Cli, args: list[str]) -> None:
    done = deployed.run(*args)
    assert done.exit_code == 0, done.output
    assert isinstance(json.loads(done.stdout), dict)
