"""The command line on the network backend: deploy records the network, later commands reuse it.

The network is our HTTP-interface front serving an embedded IC on loopback (certificates verified against its
root key), as a local replica would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from canister_factory.cli import cli
from icp_client.identity import generate_identity
from icp_local import LocalIc
from icp_local.db import IcDatabase
from icp_local.front import FrontOptions, generate_front_keys, running_front
from tests.support.wasm_modules import counter_wasm


@pytest.fixture
def front(tmp_path: Path) -> Iterator[tuple[str, str, LocalIc]]:
    db = IcDatabase.for_state_dir(tmp_path / "ic")
    engine = LocalIc(db)
    keys = generate_front_keys()
    with running_front(engine, keys) as served:
        yield served.url, keys.root_key_der.hex(), engine
    db.dispose()


def run(state: Path, pem: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--state", str(state), "--identity", str(pem), "--json", *args])


@pytest.mark.parametrize("provisional", [False, True], ids=["cycles-ledger", "provisional"])
def test_deploy_on_a_network_then_create(
    front: tuple[str, str, LocalIc], tmp_path: Path, provisional: bool
) -> None:
    url, root_key, engine = front
    pem, wasm, state = tmp_path / "me.pem", tmp_path / "counter.wasm", tmp_path / "state"
    pem.write_bytes(generate_identity().to_pem())
    wasm.write_bytes(counter_wasm())
    flags = ["--network", url, "--root-key", root_key] + (["--provisional-create"] if provisional else [])
    deployed = CliRunner().invoke(
        cli,
        [
            "--state",
            str(state),
            "--identity",
            str(pem),
            "--json",
            *flags,
            "deploy",
            "--cycles",
            "10" + "0" * 13,
        ],
    )
    assert deployed.exit_code == 0, deployed.output
    assert json.loads(deployed.stdout)["network"] == url
    assert run(state, pem, "upload", str(wasm)).exit_code == 0  # no --network: the state remembers it
    created = run(state, pem, "create-and-install-with", "--upload-id", "1", "--cycles", "2000000000000",
                  "--init-arg-candid", "(42)")  # fmt: skip
    assert created.exit_code == 0, created.output
    reply = json.loads(created.stdout)
    canister = reply["canister_id"]
    assert reply["cycles_used"] == (0 if provisional else 2_000_100_000_000)
    status = json.loads(run(state, pem, "canister-status", canister).stdout)
    assert status["module_hash_hex"] == reply["module_hash_hex"]
    assert status["status"] == "running"  # we are the controller after handoff, so the IC tells us
    assert [str(p) for p in engine.read_controllers(engine.list_canisters()[-1])] == status["controllers"]


def test_a_different_network_later_is_refused(front: tuple[str, str, LocalIc], tmp_path: Path) -> None:
    url, root_key, _ = front
    pem, state = tmp_path / "me.pem", tmp_path / "state"
    pem.write_bytes(generate_identity().to_pem())
    base = ["--state", str(state), "--identity", str(pem)]
    assert CliRunner().invoke(cli, [*base, "--network", url, "--root-key", root_key, "deploy"]).exit_code == 0
    other = CliRunner().invoke(cli, [*base, "--network", "local", "--root-key", root_key, "get-config"])
    assert other.exit_code == 1
    assert "was deployed on" in other.stderr


def test_a_wrong_root_key_is_refused(front: tuple[str, str, LocalIc], tmp_path: Path) -> None:
    url, _, _ = front
    pem, state = tmp_path / "me.pem", tmp_path / "state"
    pem.write_bytes(generate_identity().to_pem())
    wrong = generate_front_keys().root_key_der.hex()
    result = CliRunner().invoke(
        cli, ["--state", str(state), "--identity", str(pem), "--network", url, "--root-key", wrong,
              "deploy", "--cycles", "1000000000000"]
    )  # fmt: skip
    assert result.exit_code == 4  # the IC's answer could not be trusted
    assert "certificate" in result.stderr.lower() or "signature" in result.stderr.lower()


def test_a_refused_top_up_at_deploy_leaves_nothing_deployed(tmp_path: Path) -> None:
    db = IcDatabase.for_state_dir(tmp_path / "ic")
    keys = generate_front_keys()
    pem, state = tmp_path / "me.pem", tmp_path / "state"
    pem.write_bytes(generate_identity().to_pem())
    with running_front(LocalIc(db), keys, options=FrontOptions(dev_mint=False)) as served:
        base = ["--state", str(state), "--identity", str(pem), "--network", served.url]
        base += ["--root-key", keys.root_key_der.hex()]
        refused = CliRunner().invoke(cli, [*base, "deploy", "--cycles", "1000000000000"])
        assert refused.exit_code == 1
        assert "does not allow provisional top-ups" in refused.stderr
        after = CliRunner().invoke(cli, [*base, "get-config"])
        assert after.exit_code != 0
        assert "not deployed" in after.stderr
        assert CliRunner().invoke(cli, [*base, "deploy"]).exit_code == 0  # and it can still be deployed
    db.dispose()


def test_bad_deploy_options_leave_nothing_behind(tmp_path: Path) -> None:
    pem, state = tmp_path / "me.pem", tmp_path / "state"
    pem.write_bytes(generate_identity().to_pem())
    base = ["--state", str(state), "--identity", str(pem)]
    bad = CliRunner().invoke(cli, [*base, "deploy", "--cycles", "5000", "--max-upload-size", "0"])
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Error: max_upload_size:")
    assert CliRunner().invoke(cli, [*base, "deploy"]).exit_code == 0
    stats = json.loads(CliRunner().invoke(cli, [*base, "--json", "get-factory-stats"]).stdout)
    assert stats["factory_cycles_balance"] == 0  # the refused deploy funded nothing
